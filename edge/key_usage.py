"""When each API key was last used, written in batches: authentication notes the key in
memory, and one UPDATE every few seconds (and one at shutdown) writes what was noted, so a
request costs no write of its own."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import models

FLUSH_SECONDS = 2.0

log = logging.getLogger("payloops.edge")

# Key id -> when it was last seen. One per process: every handler authenticates through it.
_seen: dict[str, datetime] = {}

# Core, not ORM: one executemany over the batch.
_KEYS = cast(Table, models.ApiKey.__table__)
_WRITE = (
    update(_KEYS)
    .where(_KEYS.c.id == bindparam("key_id"))
    # Another edge process may have written a later time already.
    .values(
        last_used_at=func.greatest(
            func.coalesce(_KEYS.c.last_used_at, bindparam("used_at")), bindparam("used_at")
        )
    )
)


def note(key_id: str) -> None:
    _seen[key_id] = datetime.now(UTC)


async def flush(sessions: async_sessionmaker[AsyncSession]) -> None:
    if not _seen:
        return
    batch = [{"key_id": key_id, "used_at": used_at} for key_id, used_at in _seen.items()]
    _seen.clear()
    async with sessions.begin() as session:
        await (await session.connection()).execute(_WRITE, batch)


async def flush_forever(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Runs until cancelled; a failed write is logged and its times are dropped (they are only
    a hint for the merchant)."""
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        try:
            await flush(sessions)
        except Exception as error:  # the next round tries again
            log.warning("could not record API key usage: %s", type(error).__name__)
