"""The card vault: the only component of PayLoops that ever sees a card number (docs/vault.md).

It runs as a process of its own (`payloops serve vault`) with its own database schema and
credentials: it takes cards from browsers (TokenService, publishable keys), keeps them
envelope-encrypted, and hands one back only to a processor call that needs it (VaultService,
a service credential), auditing each time."""
