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
    api_key: str  # shown once; only its hash is stored


async def create_merchant(
    sessions: async_sessionmaker[AsyncSession], name: str, default_processor: str = "sandbox"
) -> NewMerchant:
    merchant_id = ids.new_id("mer")
    api_key = ids.new_api_key(livemode=False)
    async with sessions.begin() as session:
        session.add(models.Merchant(id=merchant_id, name=name, default_processor=default_processor))
        await session.flush()
        session.add(
            models.ApiKey(
                id=ids.new_id("key"),
                merchant_id=merchant_id,
                key_hash=ids.hash_api_key(api_key),
                prefix=api_key[:12],
                livemode=False,
            )
        )
    return NewMerchant(id=merchant_id, name=name, api_key=api_key)
