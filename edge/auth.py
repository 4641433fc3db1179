"""API-key authentication: `Authorization: Bearer sk_test_…` resolves to one merchant, in one
mode. The key is looked up on every request (by its hash), so a revoked or expired key is
refused from the next request on, on every edge process, with no cache to invalidate."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import errors, ids
from core.db import models
from edge import key_usage
from edge.access import is_read_only
from edge.context import ServicerContext, rpc_method

# Built once: every request runs it (see orchestrator/activities/orders.py).
_KEY_BY_HASH = select(models.ApiKey).where(models.ApiKey.key_hash == bindparam("key_hash"))


@dataclass(frozen=True)
class Caller:
    """The merchant a request acts for. Every query the edge makes is scoped by it."""

    merchant_id: str
    livemode: bool
    # The key the request came with (a dashboard user's session will be another principal).
    api_key_id: str = ""


def _bearer_token(context: ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    raise errors.PayLoopsError(
        errors.API_KEY_MISSING, "send your secret API key as 'Authorization: Bearer sk_…'"
    )


async def authenticate(session: AsyncSession, context: ServicerContext) -> Caller:
    """The caller, looked up in the session the request's own work uses (one connection per
    request, not one per step)."""
    token = _bearer_token(context)
    if not token.startswith(("sk_test_", "sk_live_")):
        raise errors.PayLoopsError(errors.API_KEY_INVALID, "the API key is not valid")
    key = (
        await session.execute(_KEY_BY_HASH, {"key_hash": ids.hash_api_key(token)})
    ).scalar_one_or_none()
    if key is None:
        raise errors.PayLoopsError(errors.API_KEY_INVALID, "the API key is not valid")
    if key.revoked_at is not None:
        raise errors.PayLoopsError(errors.API_KEY_REVOKED, "the API key has been revoked")
    if key.expires_at is not None and key.expires_at <= datetime.now(UTC):
        raise errors.PayLoopsError(errors.API_KEY_EXPIRED, "the API key was rolled and has expired")
    if key.read_only and not is_read_only(rpc_method.get()):
        raise errors.PayLoopsError(
            errors.API_KEY_READ_ONLY, "this API key is read-only; this call changes data"
        )
    key_usage.note(key.id)
    return Caller(merchant_id=key.merchant_id, livemode=key.livemode, api_key_id=key.id)


def authenticate_admin(context: ServicerContext, admin_api_keys: Sequence[str]) -> None:
    """The platform operator's calls (merchants, processor registration) carry an admin key,
    which no merchant has. Several are accepted so the admin key can be rotated without a
    moment when no key works. With no admin key configured, the admin API is closed."""
    token = _bearer_token(context).encode()
    # Every configured key is compared (no early exit), in constant time each.
    matched = [hmac.compare_digest(token, key.encode()) for key in admin_api_keys if key]
    if not any(matched):
        raise errors.PayLoopsError(
            errors.ADMIN_KEY_INVALID, "this call needs the platform's admin key"
        )
