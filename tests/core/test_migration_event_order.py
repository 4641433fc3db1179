"""Migration 0013 on a real PostgreSQL: events recorded before it name their order afterwards
(an order's own events and its refunds'), endpoint events name none, ListEvents' order filter
reads its own index even in the generic plan of its prepared statement, and the way back drops
only what it added."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.migrate import downgrade, upgrade
from edge.auth import Caller
from edge.services.events import events_query
from tests.core.migrated_database import database_at
from tests.core.query_plans import generic_plan
from tests.e2e.mesh_db import sql_at

CALLER = Caller(merchant_id="mer_1", livemode=False)
BEFORE = {
    "evt_paid": ("order.succeeded", {"id": "ord_old", "amount": "1200"}),
    "evt_refunded": ("refund.succeeded", {"id": "re_1", "order": "ord_old"}),
    "evt_other": ("order.failed", {"id": "ord_other"}),
    "evt_endpoint": ("webhook_endpoint.disabled", {"id": "we_1"}),
}


@pytest.fixture
def database_at_0012(postgres_url: str) -> Iterator[str]:
    with database_at(postgres_url, "0012") as url:
        sql_at(
            url, "insert into merchants (id, name, default_processor) values ('mer_1', 'm', 's')"
        )
        for event_id, (type, obj) in BEFORE.items():
            sql_at(
                url,
                "insert into events (id, merchant_id, livemode, type, object) "
                "values (:id, 'mer_1', false, :type, cast(:obj as jsonb))",
                id=event_id,
                type=type,
                obj=json.dumps(obj),
            )
        yield url


def _ids(url: str, order: str) -> list[str]:
    async def run() -> list[str]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                rows = await connection.execute(events_query(CALLER, "", order, None, 10))
                return sorted(str(row.id) for row in rows)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_events_from_before_name_their_order_and_the_way_back_is_clean(
    database_at_0012: str,
) -> None:
    url = database_at_0012
    upgrade(url, "0013")
    assert dict(sql_at(url, "select id, order_id from events")) == {
        "evt_paid": "ord_old",
        "evt_refunded": "ord_old",
        "evt_other": "ord_other",
        "evt_endpoint": "",
    }
    assert _ids(url, "ord_old") == ["evt_paid", "evt_refunded"]
    assert _ids(url, "ord_none") == []
    downgrade(url, "0012")
    assert sql_at(url, "select to_regclass('events_order_page')") == [(None,)]
    assert len(sql_at(url, "select id from events")) == len(BEFORE)


def test_an_orders_events_are_read_from_their_own_index(database_at_0012: str) -> None:
    url = database_at_0012
    upgrade(url, "head")
    plan = generic_plan(url, events_query(CALLER, "", "ord_old", None, 21))
    assert "events_order_page" in plan, plan
