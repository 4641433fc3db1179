"""Migration 0006 (test and live as walls) on a real PostgreSQL holding the data the schema before
it could hold: refunds take their order's mode, idempotency keys stay usable in the mode they
were used in, and routing configurations are kept for test and copied to live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.rpc import status_pb2

from core.db.migrate import downgrade, upgrade
from payloops.v1 import orders_pb2, refunds_pb2, webhooks_pb2
from tests.core.migrated_database import database_at
from tests.e2e.mesh_db import sql_at


@pytest.fixture
def database_at_0005(postgres_url: str) -> Iterator[str]:
    """A database of its own on the tests' PostgreSQL, at the schema before modes were walls."""
    with database_at(postgres_url, "0005") as url:
        yield url


def idempotency_row(
    url: str, key: str, method: str, response: bytes, code: int = 0, state: str = "done"
) -> None:
    sql_at(
        url,
        "insert into idempotency_keys (merchant_id, key, method, request_hash, state, "
        "response_code, response) values ('mer_1', :key, :method, 'h', :state, :code, :body)",
        key=key,
        method=method,
        state=state,
        code=code,
        body=response,
    )


def test_existing_data_lands_in_the_mode_it_belongs_to(database_at_0005: str) -> None:
    url = database_at_0005
    sql_at(url, "insert into merchants (id, name, default_processor) values ('mer_1', 'm', 's')")
    for order_id, live in (("ord_test", False), ("ord_live", True)):
        sql_at(
            url,
            "insert into orders (id, merchant_id, livemode, amount, currency, capture_method, "
            "status, amount_received) values (:id, 'mer_1', :live, 100, 'USD', 'automatic', "
            "'succeeded', 100)",
            id=order_id,
            live=live,
        )
    for refund_id, order_id in (("re_test", "ord_test"), ("re_live", "ord_live")):
        sql_at(
            url,
            "insert into refunds (id, order_id, merchant_id, amount, currency, reason, status, "
            "processor) values (:id, :order, 'mer_1', 10, 'USD', 'duplicate', 'succeeded', 's')",
            id=refund_id,
            order=order_id,
        )
    for version in (1, 2):
        sql_at(
            url,
            "insert into routing_configs (merchant_id, version, config) values "
            "('mer_1', :v, cast(:c as jsonb))",
            v=version,
            c=f'{{"rules": [], "v": {version}}}',
        )
    live_order = orders_pb2.Order(id="ord_live", livemode=True).SerializeToString()
    test_order = orders_pb2.Order(id="ord_test", livemode=False).SerializeToString()
    idempotency_row(url, "create-live", "CreateOrder", live_order)
    idempotency_row(url, "pay-live", "PayOrder", live_order)
    idempotency_row(url, "create-test", "CreateOrder", test_order)
    idempotency_row(
        url, "refund-live", "CreateRefund", refunds_pb2.Refund(id="re_live").SerializeToString()
    )
    idempotency_row(
        url, "refund-test", "CreateRefund", refunds_pb2.Refund(id="re_test").SerializeToString()
    )
    idempotency_row(
        url,
        "endpoint-live",
        "CreateWebhookEndpoint",
        webhooks_pb2.WebhookEndpoint(id="we_1", livemode=True).SerializeToString(),
    )
    idempotency_row(url, "error", "PayOrder", status_pb2.Status(code=5).SerializeToString(), code=5)
    idempotency_row(url, "running", "PayOrder", b"", state="in_progress")

    upgrade(url)

    assert dict(sql_at(url, "select id, livemode from refunds")) == {
        "re_test": False,
        "re_live": True,
    }
    assert dict(sql_at(url, "select key, livemode from idempotency_keys")) == {
        "create-live": True,
        "pay-live": True,
        "create-test": False,
        "refund-live": True,
        "refund-test": False,
        "endpoint-live": True,
        # Nothing in the answer tells: test, where keys were made without hand-written SQL.
        "error": False,
        "running": False,
    }
    configs = sql_at(
        url, "select livemode, version, config from routing_configs order by livemode, version"
    )
    assert [(live, version, config["v"]) for live, version, config in configs] == [
        (False, 1, 1),
        (False, 2, 2),
        (True, 1, 1),
        (True, 2, 2),
    ]
    # The same key string is free in the other mode now; in its own it still holds.
    sql_at(
        url,
        "insert into idempotency_keys (merchant_id, livemode, key, method, request_hash, state) "
        "values ('mer_1', true, 'create-test', 'CreateOrder', 'h', 'in_progress')",
    )

    downgrade(url, "0005")
    assert sql_at(url, "select count(*) from routing_configs") == [(2,)]
    assert sql_at(url, "select count(*) from idempotency_keys where key = 'create-test'") == [(1,)]
