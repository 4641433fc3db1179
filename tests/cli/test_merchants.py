"""`payloops merchants create` against a real PostgreSQL, as an operator runs it: a live key
needs no SQL."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from core import ids
from core.db import models
from core.db.session import create_engine, session_factory
from tests.cli.test_processors import payloops


def key_modes(database_url: str, merchant_id: str) -> dict[str, bool]:
    """The merchant's API keys: hash -> livemode."""

    async def run() -> dict[str, bool]:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with session_factory(engine)() as session:
                rows = await session.execute(
                    select(models.ApiKey.key_hash, models.ApiKey.livemode).where(
                        models.ApiKey.merchant_id == merchant_id
                    )
                )
                return {key_hash: livemode for key_hash, livemode in rows}
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_live_makes_a_live_key_beside_the_test_key(postgres_url: str) -> None:
    result = payloops("merchants", "create", "Acme", "--live", "--json", database_url=postgres_url)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["api_key"].startswith("sk_test_")
    assert created["live_api_key"].startswith("sk_live_")
    assert key_modes(postgres_url, created["id"]) == {
        ids.hash_api_key(created["api_key"]): False,
        ids.hash_api_key(created["live_api_key"]): True,
    }


def test_without_live_there_is_only_the_test_key(postgres_url: str) -> None:
    result = payloops("merchants", "create", "Acme", "--json", database_url=postgres_url)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"id", "api_key"}
    assert list(key_modes(postgres_url, created["id"]).values()) == [False]


def test_the_text_output_shows_both_keys_once(postgres_url: str) -> None:
    result = payloops("merchants", "create", "Acme", "--live", database_url=postgres_url)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split() for line in result.stdout.splitlines())
    assert set(fields) == {"id", "api_key", "live_api_key"}
    assert fields["live_api_key"].startswith("sk_live_")
    assert "shown only this once" in result.stderr
