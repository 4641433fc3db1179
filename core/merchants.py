"""Creating merchants, their API keys and processor registrations (used by the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
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
        session.add(models.Merchant(id=merchant_id, name=name,
                                    default_processor=default_processor))
        await session.flush()
        session.add(models.ApiKey(id=ids.new_id("key"), merchant_id=merchant_id,
                                  key_hash=ids.hash_api_key(api_key), prefix=api_key[:12],
                                  livemode=False))
    return NewMerchant(id=merchant_id, name=name, api_key=api_key)


async def register_processor(
    sessions: async_sessionmaker[AsyncSession], name: str, target: str, deadline_ms: int = 5000
) -> None:
    """Adds a processor or points an existing one at a new target."""
    statement = insert(models.Processor).values(
        name=name, target=target, deadline_ms=deadline_ms, enabled=True)
    statement = statement.on_conflict_do_update(
        index_elements=[models.Processor.name],
        set_={"target": target, "deadline_ms": deadline_ms, "enabled": True})
    async with sessions.begin() as session:
        await session.execute(statement)
