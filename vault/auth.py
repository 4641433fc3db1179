"""Who may call the vault.

- TokenService: a publishable key (`pk_test_…`/`pk_live_…`), looked up by its hash in the
  platform's `api_keys` (the one table of the platform's the vault may read), on every request:
  a revoked key is refused from the next request on. Its merchant and mode are the token's.
  A secret key or a dashboard token is refused: card numbers come from browsers, never through
  a merchant's server.
- VaultService: a service credential (a bearer token per calling service, compared in
  constant time). mTLS between the services is the production upgrade (docs/vault.md)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import api_keys, errors, ids
from edge.context import ServicerContext, request_header
from vault.db.models import api_keys as api_keys_table
from vault.store import Owner

_KEY_BY_HASH = select(api_keys_table).where(api_keys_table.c.key_hash == bindparam("key_hash"))
MODE_HEADER = "payloops-mode"
# Services whose credential reads what a receipt shows of a card, never the card itself: the
# edge saves cards for customers and never needs a number.
NO_CARD_SERVICES = frozenset({"edge"})


def bearer_token(context: ServicerContext) -> str:
    value = request_header(context.invocation_metadata(), "authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def publishable_key_owner(
    sessions: async_sessionmaker[AsyncSession], context: ServicerContext
) -> Owner:
    token = bearer_token(context)
    if not token:
        raise errors.PayLoopsError(
            errors.API_KEY_MISSING,
            "send your publishable key as 'Authorization: Bearer pk_test_…' (or pk_live_…)",
        )
    if not api_keys.is_publishable(token):
        raise errors.PayLoopsError(
            errors.PUBLISHABLE_KEY_REQUIRED,
            "cards are tokenized with a publishable key (pk_…), from the customer's browser; "
            "not with a secret key or a dashboard token",
        )
    async with sessions() as session:
        key = (
            await session.execute(_KEY_BY_HASH, {"key_hash": ids.hash_api_key(token)})
        ).one_or_none()
    if key is None or key.kind != api_keys.PUBLISHABLE_KIND:
        raise errors.PayLoopsError(errors.API_KEY_INVALID, "the API key is not valid")
    if key.revoked_at is not None:
        raise errors.PayLoopsError(errors.API_KEY_REVOKED, "the API key has been revoked")
    if key.expires_at is not None and key.expires_at <= datetime.now(UTC):
        raise errors.PayLoopsError(errors.API_KEY_EXPIRED, "the API key was rolled and has expired")
    _check_mode(context, bool(key.livemode))
    return Owner(merchant_id=str(key.merchant_id), livemode=bool(key.livemode))


def _check_mode(context: ServicerContext, livemode: bool) -> None:
    given = request_header(context.invocation_metadata(), MODE_HEADER)
    if given is None:
        return
    wanted = {"test": False, "live": True}.get(given.strip().lower())
    if wanted is None:
        raise errors.PayLoopsError(
            errors.MODE_INVALID, "the PayLoops-Mode header must be 'test' or 'live'"
        )
    if wanted != livemode:
        raise errors.PayLoopsError(
            errors.MODE_CONTRADICTS_API_KEY,
            "the PayLoops-Mode header contradicts the API key's own mode",
        )


def calling_service(context: ServicerContext, tokens: Sequence[tuple[str, str]]) -> str:
    """The name of the service whose credential the call carries. Every configured token is
    compared (no early exit), each in constant time."""
    given = bearer_token(context).encode()
    matched = [
        name for name, token in tokens if hmac.compare_digest(given, token.encode()) and given
    ]
    if not matched:
        raise errors.PayLoopsError(
            errors.SERVICE_CREDENTIAL_INVALID, "this call needs a service credential of the vault's"
        )
    return matched[0]
