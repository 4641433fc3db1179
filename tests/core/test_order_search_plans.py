"""Migration 0011 on a real PostgreSQL: orders from before it keep working (found by id and
processor reference, with no correlation id), the way back drops only what it added, and the
dashboard's list and search queries (edge/read_model.py, as ListOrders builds them) can be
answered from indexes: with sequential scans priced out, no plan reads a whole table, even
the generic plan of the prepared statement (which cannot see the values)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.migrate import downgrade, upgrade
from edge.auth import Caller
from edge.read_model import OrderFilter, orders_query
from tests.core.migrated_database import database_at
from tests.core.query_plans import generic_plan
from tests.e2e.mesh_db import sql_at

CALLER = Caller(merchant_id="mer_1", livemode=False)


@pytest.fixture
def database_at_0009(postgres_url: str) -> Iterator[str]:
    with database_at(postgres_url, "0009") as url:
        sql_at(
            url, "insert into merchants (id, name, default_processor) values ('mer_1', 'm', 's')"
        )
        sql_at(
            url,
            "insert into orders (id, merchant_id, livemode, amount, currency, capture_method, "
            "description, metadata, return_url, status, amount_capturable, amount_received, "
            "amount_refunded, amount_refund_pending, cancellation_reason, failure_code, "
            "failure_message, next_action_url, routing) values ('ord_old', 'mer_1', false, 1200, "
            "'EUR', 'automatic', '', '{}', '', 'failed', 0, 0, 0, 0, '', 'card_declined', '', '', "
            "'{}')",
        )
        sql_at(
            url,
            "insert into attempts (order_id, seq, processor, attempt_key, outcome, "
            "decline_code, decline_message, processor_reference, latency_ms, failover_reason, "
            "compensation, account_id) values ('ord_old', 1, 'sandbox', 'ord_old:1', 'declined', "
            "'card_declined', '', 'sbx_ref_1', 5, '', '', '')",
        )
        yield url


def _ids(url: str, wanted: OrderFilter) -> list[str]:
    async def run() -> list[str]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                rows = await connection.execute(orders_query(CALLER, wanted, None, 10))
                return [str(row.id) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_orders_from_before_are_found_and_the_way_back_is_clean(database_at_0009: str) -> None:
    url = database_at_0009
    upgrade(url, "0011")
    assert sql_at(url, "select created_correlation_id, paid_correlation_id from orders") == [
        ("", "")
    ]
    for query in ("ord_old", "sbx_ref_1"):
        assert _ids(url, OrderFilter(query=query)) == ["ord_old"]
    # An old order's empty correlation ids are never a match.
    assert _ids(url, OrderFilter(query="")) == ["ord_old"]
    assert _ids(url, OrderFilter(query="nothing")) == []
    downgrade(url, "0010")
    assert sql_at(url, "select to_regclass('attempts_processor_reference')") == [(None,)]
    assert sql_at(url, "select id from orders") == [("ord_old",)]


@pytest.mark.parametrize(
    "wanted",
    [
        OrderFilter(),
        OrderFilter(query="sbx_ref_1"),
        OrderFilter(query="ord_old"),
        OrderFilter(query="checkout-1234"),
        OrderFilter(failure_code="card_declined"),
        OrderFilter(currency="EUR", amount_min=1000, amount_max=5000),
        OrderFilter(processor="sandbox", status="failed"),
    ],
    ids=repr,
)
def test_list_and_search_queries_use_indexes(database_at_0009: str, wanted: OrderFilter) -> None:
    url = database_at_0009
    upgrade(url, "head")
    plan = generic_plan(url, orders_query(CALLER, wanted, None, 21))
    assert "Seq Scan" not in plan, plan
