"""The vault's settings, read once at start-up from the environment. None of the platform's
other settings: the vault has its own database credentials and keys, which no other
component holds."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from vault.crypto import Kek, KeyConfigError, parse_fingerprint_key, parse_keks

DATABASE_URL_VAR = "PAYLOOPS_VAULT_DATABASE_URL"
KEKS_VAR = "PAYLOOPS_VAULT_KEKS"
FINGERPRINT_KEY_VAR = "PAYLOOPS_VAULT_FINGERPRINT_KEY"
# The vault's side: `name=token,name=token` (several, so a credential can be rotated).
SERVICE_TOKENS_VAR = "PAYLOOPS_VAULT_SERVICE_TOKENS"
# A calling service's side (the worker): its own token, and where the vault listens.
SERVICE_TOKEN_VAR = "PAYLOOPS_VAULT_SERVICE_TOKEN"
TARGET_VAR = "PAYLOOPS_VAULT_TARGET"
PORT_VAR = "PAYLOOPS_VAULT_PORT"
CVC_TTL_VAR = "PAYLOOPS_VAULT_CVC_TTL_SECONDS"
DEFAULT_PORT = 50081


@dataclass(frozen=True, repr=False)
class VaultSettings:
    database_url: str
    keks: tuple[Kek, ...]
    fingerprint_key: bytes
    # Service name -> its bearer token, for the internal API.
    service_tokens: tuple[tuple[str, str], ...]
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # The CVC is kept at most this long, for the first authorization.
    cvc_ttl_seconds: float = 15 * 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VaultSettings:
        env = os.environ if env is None else env
        url = env.get(DATABASE_URL_VAR, "")
        if not url:
            raise SystemExit(f"{DATABASE_URL_VAR} is not set (payloops dev sets it for you)")
        try:
            keks = parse_keks(env.get(KEKS_VAR, ""))
            fingerprint_key = parse_fingerprint_key(env.get(FINGERPRINT_KEY_VAR, ""))
        except KeyConfigError as error:
            raise SystemExit(f"vault keys: {error}") from None
        return cls(
            database_url=url,
            keks=keks,
            fingerprint_key=fingerprint_key,
            service_tokens=parse_service_tokens(env.get(SERVICE_TOKENS_VAR, "")),
            port=int(env.get(PORT_VAR, DEFAULT_PORT)),
            cvc_ttl_seconds=float(env.get(CVC_TTL_VAR, cls.cvc_ttl_seconds)),
        )


def parse_service_tokens(value: str) -> tuple[tuple[str, str], ...]:
    tokens = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        name, _, token = part.partition("=")
        if not name.strip() or len(token.strip()) < 32:
            raise SystemExit(
                f"{SERVICE_TOKENS_VAR}: each entry is name=token, the token at least 32 characters"
            )
        tokens.append((name.strip(), token.strip()))
    return tuple(tokens)


def new_service_token() -> str:
    return secrets.token_urlsafe(32)
