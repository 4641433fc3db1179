"""Creating merchants and their first API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import api_keys, ids
from core.db import models


@dataclass(frozen=True)
class NewMerchant:
    id: str
    name: str
    # Shown once; only their hashes are stored.
    api_key: str
    live_api_key: str | None = None


async def create_merchant(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    default_processor: str = "sandbox",
    *,
    live: bool = False,
) -> NewMerchant:
    """A merchant with a test API key, and a live one too when `live`."""
    merchant_id = ids.new_id("mer")
    test_key = api_keys.issue(merchant_id, livemode=False)
    live_key = api_keys.issue(merchant_id, livemode=True) if live else None
    async with sessions.begin() as session:
        session.add(models.Merchant(id=merchant_id, name=name, default_processor=default_processor))
        await session.flush()
        session.add_all([key.row for key in (test_key, live_key) if key is not None])
    return NewMerchant(
        id=merchant_id,
        name=name,
        api_key=test_key.secret,
        live_api_key=None if live_key is None else live_key.secret,
    )
