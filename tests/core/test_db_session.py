"""The pool never hands out a connection the server has closed, and finds out without a
round trip of its own (no ping per checkout)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.session import create_engine


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("select pg_backend_pid()"))).scalar_one())


async def _terminate(postgres_url: str, pid: int) -> None:
    """Ends the backend from another connection, and waits until it is gone."""
    admin = create_engine(postgres_url, pool_size=1)
    try:
        async with admin.connect() as connection:
            await connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
            gone = text("select count(*) from pg_stat_activity where pid = :pid")
            while (await connection.execute(gone, {"pid": pid})).scalar_one():
                await asyncio.sleep(0.05)
    finally:
        await admin.dispose()


async def test_a_connection_the_server_closed_is_replaced_at_checkout(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    try:
        first = await _backend_pid(engine)
        await _terminate(postgres_url, first)
        # The closed socket is noticed by the event loop, as it would be between two requests.
        await asyncio.sleep(0.2)
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()


async def test_a_checkout_costs_no_round_trip(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    sent: list[str] = []
    try:
        async with engine.connect() as connection:
            pooled = (await connection.get_raw_connection()).driver_connection
            assert pooled is not None
            # asyncpg's own log of what it sends on this connection.
            pooled.add_query_logger(lambda query: sent.append(query.query))
        await _backend_pid(engine)
    finally:
        await engine.dispose()
    # The statement's own transaction (asyncpg logs no prepared statement), and no ping's.
    assert sent == ["BEGIN;", "ROLLBACK;"]
