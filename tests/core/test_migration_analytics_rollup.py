"""Migration 0012 (the hourly rollup of payment analytics) on a real PostgreSQL holding
orders from before it: the rollup is computed from them at once (no dirty hour left, the
figures those of the orders themselves), orders written after it go through the trigger, and
the way back drops only what 0012 added."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core.db.migrate import downgrade, upgrade
from core.db.session import create_engine, session_factory
from edge import analytics
from edge.analytics import GroupBy, Interval, Query
from edge.auth import Caller
from tests.core.migrated_database import database_at
from tests.e2e.mesh_db import sql_at
from tests.edge import analytics_reference
from tests.edge.rollup_data import assert_same_figures, insert_orders

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=2)


@pytest.fixture
def database_at_0011(postgres_url: str) -> Iterator[str]:
    async def seed(url: str) -> None:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "insert into merchants (id, name, default_processor) "
                        "values ('m1', 'm1', 's'), ('m2', 'm2', 's')"
                    )
                )
                await insert_orders(connection, "m1", False, 1000, T0, SPAN, "ord_a")
                await insert_orders(connection, "m2", True, 200, T0, SPAN, "ord_b")
        finally:
            await engine.dispose()

    with database_at(postgres_url, "0011") as url:
        asyncio.run(seed(url))
        yield url


async def _compare(url: str, caller: Caller, queries: list[Query]) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        for query in queries:
            async with session_factory(engine)() as session:
                found = await analytics.payment_analytics(session, caller, query)
            async with session_factory(engine)() as session:
                reference = await analytics_reference.payment_analytics(session, caller, query)
            assert reference
            assert_same_figures(found, reference)
    finally:
        await engine.dispose()


def test_the_rollup_of_the_orders_from_before_is_computed_at_once(database_at_0011: str) -> None:
    url = database_at_0011
    upgrade(url, "0012")
    assert sql_at(url, "select count(*) from order_figures_dirty") == [(0,)]
    assert sql_at(
        url,
        "select merchant_id, livemode, sum(total) from order_figures_hourly "
        "where dimension = '' group by 1, 2 order by 1",
    ) == [("m1", False, 1000), ("m2", True, 200)]
    queries = [
        Query(T0, T0 + SPAN, interval, group_by)
        for interval in (None, Interval.DAY)
        for group_by in (None, *GroupBy)
    ]
    asyncio.run(_compare(url, Caller(merchant_id="m1", livemode=False), queries))
    asyncio.run(_compare(url, Caller(merchant_id="m2", livemode=True), queries[:1]))


def test_orders_written_after_it_mark_their_hour(database_at_0011: str) -> None:
    url = database_at_0011
    upgrade(url, "0012")
    sql_at(
        url,
        "insert into orders (id, merchant_id, livemode, amount, currency, capture_method, "
        "status, created_at) values ('ord_new', 'm1', false, 10, 'EUR', 'automatic', "
        "'requires_payment_method', :at)",
        at=T0 + timedelta(hours=30, minutes=5),
    )
    sql_at(url, "update orders set description = 'not a figure' where id = 'ord_a1'")
    sql_at(url, "update orders set status = 'canceled' where id = 'ord_b1'")
    assert sql_at(
        url, "select merchant_id, livemode, hour from order_figures_dirty order by 1"
    ) == [
        ("m1", False, T0 + timedelta(hours=30)),
        (
            "m2",
            True,
            sql_at(
                url, "select date_trunc('hour', created_at, 'UTC') from orders where id = 'ord_b1'"
            )[0][0],
        ),
    ]


def test_the_way_back_keeps_the_orders(database_at_0011: str) -> None:
    url = database_at_0011
    upgrade(url, "0012")
    downgrade(url, "0011")
    assert sql_at(
        url,
        "select count(*) from information_schema.tables where table_name like 'order\\_%'",
    ) == [(0,)]
    assert sql_at(url, "select count(*) from pg_trigger where tgname like 'orders_figures%'") == [
        (0,)
    ]
    assert sql_at(url, "select count(*) from orders") == [(1200,)]
