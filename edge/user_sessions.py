"""Sign-in sessions and their refresh tokens, as rows.

A session is one sign-in: it lives at most 30 days, however active. Each refresh token is
good for 7 days (never past its session) and for one exchange; only its SHA-256 is stored.
Revoking a session (logout, a reused refresh token, the user removed) ends every token it
handed out: access tokens are checked against it on every request (edge.auth)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import ids
from core.db import models

SESSION_LIFETIME = timedelta(days=30)
REFRESH_TOKEN_LIFETIME = timedelta(days=7)
REVOKED_BY_LOGOUT = "logout"
REVOKED_FOR_REUSE = "refresh_token_reused"
REVOKED_USER_REMOVED = "user_removed"


@dataclass(frozen=True)
class RefreshGrant:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class PresentedToken:
    """A refresh token found by its hash, with its session and user, locked for the exchange."""

    row: models.RefreshToken
    session: models.UserSession
    user: models.User


def open_session(session: AsyncSession, user: models.User) -> models.UserSession:
    opened = models.UserSession(
        id=ids.new_id("ses"),
        user_id=user.id,
        expires_at=datetime.now(UTC) + SESSION_LIFETIME,
    )
    session.add(opened)
    return opened


def grant_refresh_token(session: AsyncSession, user_session: models.UserSession) -> RefreshGrant:
    token = ids.new_refresh_token()
    expires_at = min(datetime.now(UTC) + REFRESH_TOKEN_LIFETIME, user_session.expires_at)
    session.add(
        models.RefreshToken(
            token_hash=ids.hash_token(token), session_id=user_session.id, expires_at=expires_at
        )
    )
    return RefreshGrant(token, expires_at)


async def presented(session: AsyncSession, token: str) -> PresentedToken | None:
    """The token's row (locked: two exchanges of one token are one exchange and one reuse)."""
    found = (
        await session.execute(
            select(models.RefreshToken, models.UserSession, models.User)
            .join(models.UserSession, models.UserSession.id == models.RefreshToken.session_id)
            .join(models.User, models.User.id == models.UserSession.user_id)
            .where(models.RefreshToken.token_hash == ids.hash_token(token))
            .with_for_update(of=[models.RefreshToken, models.UserSession])
        )
    ).one_or_none()
    if found is None:
        return None
    row, user_session, user = found.tuple()
    return PresentedToken(row, user_session, user)


def revoke(user_session: models.UserSession, reason: str) -> bool:
    """Revokes the session unless it already was; True when this call revoked it."""
    if user_session.revoked_at is not None:
        return False
    user_session.revoked_at = datetime.now(UTC)
    user_session.revoked_reason = reason
    return True


async def revoke_all_of(session: AsyncSession, user_id: str, reason: str) -> None:
    await session.execute(
        update(models.UserSession)
        .where(models.UserSession.user_id == user_id, models.UserSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
    )
