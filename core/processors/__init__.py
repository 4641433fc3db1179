"""Gateway registrations and calls: the registry, accounts and channels to the adapters."""
