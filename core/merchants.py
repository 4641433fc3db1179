"""Creating merchants and their API keys (used by the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import ids
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
    api_key = ids.new_api_key(livemode=False)
    live_api_key = ids.new_api_key(livemode=True) if live else None
    async with sessions.begin() as session:
        session.add(models.Merchant(id=merchant_id, name=name, default_processor=default_processor))
        await session.flush()
        for key, livemode in ((api_key, False), (live_api_key, True)):
            if key is not None:
                session.add(_api_key(merchant_id, key, livemode))
    return NewMerchant(id=merchant_id, name=name, api_key=api_key, live_api_key=live_api_key)


def _api_key(merchant_id: str, key: str, livemode: bool) -> models.ApiKey:
    return models.ApiKey(
        id=ids.new_id("key"),
        merchant_id=merchant_id,
        key_hash=ids.hash_api_key(key),
        prefix=key[:12],
        livemode=livemode,
    )
