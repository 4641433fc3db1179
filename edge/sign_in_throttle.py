"""Sign-in throttling: failed sign-ins are counted per e-mail and per client address over a
sliding window (sign_in_failures, shared by every edge process); past either limit, sign-in
is refused with 429 SIGN_IN_THROTTLED and Retry-After until enough failures have left the
window. Per e-mail stops guessing one person's password from many addresses; per address
stops trying many e-mails from one. The e-mail is stored as a SHA-256, never in clear."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import errors
from core.config import Settings
from core.db import models
from edge.context import add_response_header


@dataclass(frozen=True)
class ThrottleLimits:
    per_email: int
    per_address: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottleLimits:
        return cls(
            per_email=settings.sign_in_failures_per_email,
            per_address=settings.sign_in_failures_per_address,
            window=timedelta(seconds=settings.sign_in_window_seconds),
        )


def email_subject(email: str) -> str:
    return "email:" + hashlib.sha256(email.lower().encode()).hexdigest()


def address_subject(address: str) -> str:
    return "address:" + address


class SignInThrottle:
    def __init__(self, limits: ThrottleLimits) -> None:
        self._limits = limits

    async def check(self, session: AsyncSession, email: str, address: str) -> None:
        """Raises SIGN_IN_THROTTLED (with Retry-After) when either limit is reached."""
        waits = [
            await self._wait(session, email_subject(email), self._limits.per_email),
            await self._wait(session, address_subject(address), self._limits.per_address)
            if address
            else 0,
        ]
        wait = max(waits)
        if wait > 0:
            add_response_header("retry-after", str(wait))
            raise errors.PayLoopsError(
                errors.SIGN_IN_THROTTLED,
                f"too many failed sign-ins; retry in {wait} seconds",
                retry_delay_seconds=wait,
            )

    async def _wait(self, session: AsyncSession, subject: str, limit: int) -> int:
        """Seconds until fewer than `limit` failures of `subject` are in the window (0: now).
        That is when the limit-th most recent one leaves it."""
        now = datetime.now(UTC)
        oldest_counted = await session.scalar(
            select(models.SignInFailure.failed_at)
            .where(
                models.SignInFailure.subject == subject,
                models.SignInFailure.failed_at > now - self._limits.window,
            )
            .order_by(models.SignInFailure.failed_at.desc())
            .offset(max(limit - 1, 0))
            .limit(1)
        )
        if oldest_counted is None:
            return 0
        return max(1, math.ceil((oldest_counted + self._limits.window - now).total_seconds()))

    async def record_failure(self, session: AsyncSession, email: str, address: str) -> None:
        subjects = [email_subject(email), *([address_subject(address)] if address else [])]
        # Old failures count no more: drop them as new ones come, so the table stays small.
        await session.execute(
            delete(models.SignInFailure).where(
                models.SignInFailure.subject.in_(subjects),
                models.SignInFailure.failed_at <= func.now() - self._limits.window,
            )
        )
        session.add_all(models.SignInFailure(subject=subject) for subject in subjects)

    async def forget_email(self, session: AsyncSession, email: str) -> None:
        """After a successful sign-in the person's own typos stop counting against the e-mail
        (the address's failures stay: they may be someone else's guesses)."""
        await session.execute(
            delete(models.SignInFailure).where(models.SignInFailure.subject == email_subject(email))
        )
