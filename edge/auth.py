"""Authentication: `Authorization: Bearer …` resolves to one merchant, in one mode.

- An API key (`sk_test_…`, `sk_live_…`) is looked up on every request (by its hash), so a
  revoked or expired key is refused from the next request on, on every edge process, with no
  cache to invalidate. Its mode is its own: a PayLoops-Mode header that says otherwise is
  refused.
- A dashboard access token (a JWT) is verified (edge.access_tokens), then its user and
  session are loaded on every request, the same way: a removed user or a logged-out session
  is refused at once, and the role applied is the one in the database, not in the token. Its
  mode is the PayLoops-Mode header's (`test` when absent, or `live`).

What the caller may then do, by key kind and role, is edge.access's."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, errors, ids
from core.audit import ActorType
from core.db import models
from core.roles import Role
from edge import key_usage
from edge.access import is_read_only, manages_users, role_allows
from edge.access_tokens import AccessTokens, looks_like_jwt
from edge.context import ServicerContext, request_header, rpc_method

MODE_HEADER = "payloops-mode"
_MODES = {"test": False, "live": True}

# Built once: every request runs them (see orchestrator/activities/orders.py).
_KEY_BY_HASH = select(models.ApiKey).where(models.ApiKey.key_hash == bindparam("key_hash"))
_USER_AND_SESSION = (
    select(models.User, models.UserSession)
    .join(models.UserSession, models.UserSession.user_id == models.User.id)
    .where(
        models.User.id == bindparam("user_id"),
        models.UserSession.id == bindparam("session_id"),
    )
)

# The access tokens' verifier, one per process (like key usage): edge.server sets it from the
# configured signing keys before serving. Until then, or with no key, sessions are closed.
_access_tokens = AccessTokens(())


def use_access_tokens(tokens: AccessTokens) -> None:
    global _access_tokens
    _access_tokens = tokens


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

    def record_change(
        self,
        session: AsyncSession,
        action: audit.AuditAction,
        target_type: str,
        target_id: str,
        details: Mapping[str, object],
    ) -> None:
        """An audit entry for a change this caller made, in its merchant's log of its mode,
        in `session`'s transaction (the change's own)."""
        audit.record(
            session,
            self.actor,
            action,
            merchant_id=self.merchant_id,
            livemode=self.livemode,
            target_type=target_type,
            target_id=target_id,
            details=dict(details),
        )


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
        errors.API_KEY_MISSING,
        "send your secret API key (or a dashboard access token) as 'Authorization: Bearer …'",
    )


async def authenticate(session: AsyncSession, context: ServicerContext) -> Caller:
    """The caller, looked up in the session the request's own work uses (one connection per
    request, not one per step)."""
    token = _bearer_token(context)
    requested_mode = _requested_mode(context)
    if token.startswith(("sk_test_", "sk_live_")):
        return await _api_key_caller(session, context, token, requested_mode)
    if looks_like_jwt(token):
        return await _user_caller(session, context, token, requested_mode)
    raise errors.PayLoopsError(errors.API_KEY_INVALID, "the API key is not valid")


def _requested_mode(context: ServicerContext) -> bool | None:
    """The PayLoops-Mode header: True for live, False for test, None when absent."""
    value = request_header(context.invocation_metadata(), MODE_HEADER)
    if value is None:
        return None
    mode = _MODES.get(value.strip().lower())
    if mode is None:
        raise errors.PayLoopsError(
            errors.MODE_INVALID, "the PayLoops-Mode header must be 'test' or 'live'"
        )
    return mode


async def _api_key_caller(
    session: AsyncSession, context: ServicerContext, token: str, requested_mode: bool | None
) -> Caller:
    key = (
        await session.execute(_KEY_BY_HASH, {"key_hash": ids.hash_api_key(token)})
    ).scalar_one_or_none()
    if key is None:
        raise errors.PayLoopsError(errors.API_KEY_INVALID, "the API key is not valid")
    if key.revoked_at is not None:
        raise errors.PayLoopsError(errors.API_KEY_REVOKED, "the API key has been revoked")
    if key.expires_at is not None and key.expires_at <= datetime.now(UTC):
        raise errors.PayLoopsError(errors.API_KEY_EXPIRED, "the API key was rolled and has expired")
    if requested_mode is not None and requested_mode != key.livemode:
        raise errors.PayLoopsError(
            errors.MODE_CONTRADICTS_API_KEY,
            "the PayLoops-Mode header contradicts the API key's own mode; a key never "
            "switches mode (drop the header, or use a key of that mode)",
        )
    method = rpc_method.get()
    if manages_users(method):
        raise errors.PayLoopsError(
            errors.API_KEY_CANNOT_MANAGE_USERS,
            "users are managed from the dashboard (a signed-in owner), not with an API key",
        )
    if key.read_only and not is_read_only(method):
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


async def _user_caller(
    session: AsyncSession, context: ServicerContext, token: str, requested_mode: bool | None
) -> Caller:
    claims = _access_tokens.verify(token)
    found = (
        await session.execute(
            _USER_AND_SESSION, {"user_id": claims.user_id, "session_id": claims.session_id}
        )
    ).one_or_none()
    if found is None:
        raise errors.PayLoopsError(errors.ACCESS_TOKEN_INVALID, "the access token is not valid")
    user, user_session = found.tuple()
    check_session_usable(user, user_session)
    if user.merchant_id != claims.merchant_id:
        raise errors.PayLoopsError(errors.ACCESS_TOKEN_INVALID, "the access token is not valid")
    role = Role(user.role)
    if not role_allows(role, rpc_method.get()):
        raise errors.PayLoopsError(
            errors.ROLE_FORBIDDEN,
            f"a user with the {role.value} role may not make this call",
            metadata={"role": role.value},
        )
    return Caller(
        merchant_id=user.merchant_id,
        livemode=bool(requested_mode),
        user_id=user.id,
        role=role,
        read_only=role is Role.VIEWER,
        label=user.email,
        client_address=client_address(context),
    )


def check_session_usable(user: models.User, user_session: models.UserSession) -> None:
    """Refuses a removed user's, a revoked or an expired session's tokens (access and
    refresh alike)."""
    if user.removed_at is not None:
        raise errors.PayLoopsError(errors.USER_REMOVED, "this user has been removed")
    if user_session.revoked_at is not None:
        raise errors.PayLoopsError(
            errors.SESSION_REVOKED, "this session has been signed out; sign in again"
        )
    if user_session.expires_at <= datetime.now(UTC):
        raise errors.PayLoopsError(
            errors.SESSION_EXPIRED, "this session has expired; sign in again"
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
