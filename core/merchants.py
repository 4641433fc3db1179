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
    # The test key first, then the live one if asked for. Shown once; only hashes are stored.
    keys: tuple[api_keys.IssuedKey, ...]

    @property
    def api_key(self) -> str:
        return self.keys[0].secret

    @property
    def live_api_key(self) -> str | None:
        return self.keys[1].secret if len(self.keys) > 1 else None


async def create_merchant(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    default_processor: str = "sandbox",
    *,
    live: bool = False,
) -> NewMerchant:
    """`create_merchant_in` in a transaction of its own."""
    async with sessions.begin() as session:
        return await create_merchant_in(session, name, default_processor, live=live)


async def create_merchant_in(
    session: AsyncSession, name: str, default_processor: str = "sandbox", *, live: bool = False
) -> NewMerchant:
    """A merchant with a test API key, and a live one too when `live`, in the caller's
    transaction."""
    merchant_id = ids.new_id("mer")
    keys = tuple(api_keys.issue(merchant_id, livemode) for livemode in (False, True)[: 1 + live])
    session.add(models.Merchant(id=merchant_id, name=name, default_processor=default_processor))
    await session.flush()
    session.add_all([key.row for key in keys])
    await session.flush()
    for key in keys:
        await session.refresh(key.row)  # its creation time, for the answer
    return NewMerchant(id=merchant_id, name=name, keys=keys)
