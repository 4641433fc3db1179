"""Migration 0011 (each order's summary of its attempts, for analytics) on a real PostgreSQL
holding orders paid before it: every order gets the summary its attempts make, one never paid
keeps the empty one, and the way back drops only what 0011 added."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.db.migrate import downgrade, upgrade
from tests.core.migrated_database import database_at
from tests.e2e.mesh_db import sql_at

_ORDER = (
    "insert into orders (id, merchant_id, livemode, amount, currency, capture_method, status) "
    "values ('{id}', 'mer_1', false, 1000, 'EUR', 'automatic', '{status}')"
)
_ATTEMPT = (
    "insert into attempts (order_id, seq, processor, attempt_key, outcome, latency_ms, "
    "failover_reason) values ('{order}', {seq}, '{processor}', '{order}-{seq}', '{outcome}', "
    "{latency}, '{reason}')"
)


@pytest.fixture
def database_at_0010(postgres_url: str) -> Iterator[str]:
    with database_at(postgres_url, "0010") as url:
        sql_at(
            url, "insert into merchants (id, name, default_processor) values ('mer_1', 'm', 's')"
        )
        for order, status in (("ord_saved", "succeeded"), ("ord_new", "requires_payment_method")):
            sql_at(url, _ORDER.format(id=order, status=status))
        for seq, processor, outcome, latency, reason in (
            (1, "sandbox", "declined", 200, "soft_decline"),
            (2, "backup", "succeeded", 50, ""),
        ):
            sql_at(
                url,
                _ATTEMPT.format(
                    order="ord_saved",
                    seq=seq,
                    processor=processor,
                    outcome=outcome,
                    latency=latency,
                    reason=reason,
                ),
            )
        yield url


def test_orders_paid_before_get_the_summary_of_their_attempts(database_at_0010: str) -> None:
    url = database_at_0010
    upgrade(url, "0011")
    assert sql_at(
        url,
        "select id, decided_processor, payment_latency_ms, failed_over from orders order by id",
    ) == [("ord_new", "", None, False), ("ord_saved", "backup", 250, True)]


def test_the_way_back_keeps_the_orders(database_at_0010: str) -> None:
    url = database_at_0010
    upgrade(url, "0011")
    downgrade(url, "0010")
    assert sql_at(
        url,
        "select count(*) from information_schema.columns "
        "where table_name = 'orders' and column_name = 'decided_processor'",
    ) == [(0,)]
    assert sql_at(url, "select id from orders order by id") == [("ord_new",), ("ord_saved",)]
