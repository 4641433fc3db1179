"""`payloops vault rewrap`: moves every card record still wrapped by an older KEK to the first
configured one, in small batches (each its own transaction), while the vault keeps serving:
a record reads the same before and after, as every configured KEK unwraps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.db.session import create_engine, session_factory
from vault.config import VaultSettings
from vault.store import vault_of


def rewrap_all(
    settings: VaultSettings, batch_size: int, progress: Callable[[int], None] = lambda _: None
) -> int:
    """The number of records re-wrapped; `progress` hears the running total after each batch."""

    async def run() -> int:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            vault = vault_of(settings, session_factory(engine))
            total = 0
            while done := await vault.rewrap_batch(batch_size):
                total += done
                progress(total)
            return total
        finally:
            await engine.dispose()

    return asyncio.run(run())
