"""API-key authentication: `Authorization: Bearer sk_test_…` resolves to one merchant."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import errors, ids
from core.db import models
from edge.context import ServicerContext

# Built once: every request runs it (see orchestrator/activities/orders.py).
_KEY_BY_HASH = select(models.ApiKey).where(models.ApiKey.key_hash == bindparam("key_hash"))


@dataclass(frozen=True)
class Caller:
    """The merchant a request acts for. Every query the edge makes is scoped by it."""

    merchant_id: str
    livemode: bool


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
    return Caller(merchant_id=key.merchant_id, livemode=key.livemode)


def authenticate_admin(context: ServicerContext, admin_api_key: str) -> None:
    """The platform operator's calls (processor registration) carry the admin key, which no
    merchant has. With no admin key configured, the admin API is closed."""
    token = _bearer_token(context)
    if not admin_api_key or not hmac.compare_digest(token.encode(), admin_api_key.encode()):
        raise errors.PayLoopsError(
            errors.ADMIN_KEY_INVALID, "this call needs the platform's admin key"
        )
