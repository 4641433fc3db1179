"""API-key authentication: `Authorization: Bearer sk_test_…` resolves to one merchant, in one
mode. The key is looked up on every request (by its hash), so a revoked or expired key is
refused from the next request on, on every edge process, with no cache to invalidate."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, errors, ids
from core.audit import ActorType
from core.db import models
from core.roles import Role
from edge import key_usage
from edge.access import is_read_only
from edge.context import ServicerContext, request_header, rpc_method

# Built once: every request runs it (see orchestrator/activities/orders.py).
_KEY_BY_HASH = select(models.ApiKey).where(models.ApiKey.key_hash == bindparam("key_hash"))


@dataclass(frozen=True)
class Caller:
    """The merchant a request acts for. Every query the edge makes is scoped by it."""

    merchant_id: str
    livemode: bool
    # The key the request came with, when it came with one.
    api_key_id: str = ""
    # A dashboard user's call (a session's access token): who, in which role.
    user_id: str = ""
    role: Role | None = None
    # May only read: a read-only key, or a viewer.
    read_only: bool = False
    # How the audit log names the caller: the key's prefix, the user's e-mail.
    label: str = ""
    # Where the request came from (see client_address).
    client_address: str = ""

    @property
    def actor(self) -> audit.Actor:
        if self.user_id:
            return audit.Actor(ActorType.USER, self.user_id, self.label, self.client_address)
        return audit.Actor(ActorType.API_KEY, self.api_key_id, self.label, self.client_address)


# Set by Envoy on every request it forwards, replacing any value a client sent
# (envoy/envoy.yaml, request_headers_to_add of each virtual host).
CLIENT_ADDRESS_HEADER = "x-payloops-client-address"


def client_address(context: ServicerContext) -> str:
    """The caller's IP address: the peer Envoy saw, which it passes in a header of its own.
    Not X-Forwarded-For: for a client on loopback, Envoy appends its host's own address there
    instead of the peer's. Without the header (a call straight to the edge's port, which only
    the platform reaches), the gRPC peer."""
    given = request_header(context.invocation_metadata(), CLIENT_ADDRESS_HEADER) or ""
    for candidate in (given.strip(), _peer_address(context.peer())):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return ""


def _peer_address(peer: str | None) -> str:
    """ "ipv4:127.0.0.1:5555" or "ipv6:[::1]:5555" → the address."""
    kind, _, rest = (peer or "").partition(":")
    if kind == "ipv6":
        return rest.rpartition("]")[0].lstrip("[")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    return ""


def admin_actor(context: ServicerContext) -> audit.Actor:
    return audit.Actor(ActorType.ADMIN, client_address=client_address(context))


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
    return Caller(
        merchant_id=key.merchant_id,
        livemode=key.livemode,
        api_key_id=key.id,
        read_only=key.read_only,
        label=key.prefix,
        client_address=client_address(context),
    )


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
