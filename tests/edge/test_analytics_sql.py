"""Payment analytics' statement against a real PostgreSQL: attempts written by the worker's own
code (which keeps each order's summary of them), the figures read back as the edge computes
them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from core.contracts.vocabulary import AttemptOutcome, FailoverReason
from core.db import models
from core.db.session import create_engine, session_factory
from edge import analytics
from edge.analytics import GroupBy, Interval, Query
from edge.auth import Caller
from orchestrator.activities.orders import write_attempt
from orchestrator.activities.types import AttemptRecord
from tests.core.migrated_database import database_at
from tests.edge.rollup_data import within_a_bucket

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


# Every row names every column: an executemany insert takes its columns from the first row.
def _order(merchant: str, minute: int, **columns: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": f"ord_{uuid.uuid4().hex[:20]}",
        "merchant_id": merchant,
        "livemode": False,
        "amount": 1000,
        "currency": "EUR",
        "capture_method": "automatic",
        "status": "succeeded",
        "failure_code": "",
        "created_at": T0 + timedelta(minutes=minute),
    }
    return row | columns


def _attempt(order: dict[str, object], seq: int, processor: str, **fields: Any) -> AttemptRecord:
    return AttemptRecord(
        order_id=str(order["id"]),
        seq=seq,
        processor=processor,
        attempt_key=f"{order['id']}-{seq}",
        outcome=fields.pop("outcome", AttemptOutcome.SUCCEEDED),
        latency_ms=fields.pop("latency_ms", 100),
        **fields,
    )


async def _figures(url: str, caller: Caller, query: Query) -> list[analytics.Bucket]:
    engine = create_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            return await analytics.payment_analytics(session, caller, query)
    finally:
        await engine.dispose()


async def _seed(url: str) -> None:
    """Merchant m1 in test mode: in the 10:00 hour, a succeeded EUR order at sandbox (100 ms),
    a declined EUR order at sandbox (300 ms), a USD order saved by failover from sandbox to
    backup (200 + 50 ms), an order never paid; in the 11:00 hour a succeeded JPY one at
    backup (40 ms). Noise that must never count: m1's live order, m2's order, one before and
    one after the window."""
    engine = create_engine(url, pool_size=1)
    ok = _order("m1", 5)
    declined = _order("m1", 10, status="failed", failure_code="card_declined")
    saved = _order("m1", 20, amount=2500, currency="USD")
    unpaid = _order("m1", 30, status="requires_payment_method")
    later = _order("m1", 70, amount=500, currency="JPY")
    noise = [
        _order("m1", 6, livemode=True),
        _order("m2", 7),
        _order("m1", -1),
        _order("m1", 120),
    ]
    orders = [ok, declined, saved, unpaid, later, *noise]
    declined_outcome = {"outcome": AttemptOutcome.DECLINED, "decline_code": "card_declined"}
    attempts = [
        _attempt(ok, 1, "sandbox"),
        _attempt(declined, 1, "sandbox", latency_ms=300, **declined_outcome),
        # Written first while it waits for its answer (no latency yet), then with its result.
        _attempt(saved, 1, "sandbox", outcome=AttemptOutcome.PENDING, latency_ms=0),
        _attempt(
            saved,
            1,
            "sandbox",
            latency_ms=200,
            failover_reason=FailoverReason.SOFT_DECLINE,
            **declined_outcome,
        ),
        _attempt(saved, 2, "backup", latency_ms=50),
        _attempt(later, 1, "backup", latency_ms=40),
        *(_attempt(order, 1, "sandbox", latency_ms=9999) for order in noise),
    ]
    try:
        async with engine.begin() as connection:
            for merchant in ("m1", "m2"):
                await connection.execute(
                    insert(models.Merchant).values(
                        id=merchant, name=merchant, default_processor="sandbox"
                    )
                )
            await connection.execute(insert(models.Order), orders)
        # As the worker writes them, each in a transaction of its own.
        for attempt in attempts:
            async with session_factory(engine)() as session, session.begin():
                await write_attempt(session, attempt)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def seeded(postgres_url: str) -> Iterator[str]:
    with database_at(postgres_url, "head") as url:
        asyncio.run(_seed(url))
        yield url


CALLER = Caller(merchant_id="m1", livemode=False)
WINDOW = Query(start=T0, end=T0 + timedelta(hours=2))


def test_totals_count_each_order_of_the_caller_once(seeded: str) -> None:
    [bucket] = asyncio.run(_figures(seeded, CALLER, WINDOW))
    assert (bucket.start, bucket.end, bucket.group) == (WINDOW.start, WINDOW.end, "")
    assert (bucket.total, bucket.succeeded, bucket.failed) == (5, 3, 1)
    assert bucket.success_rate == 0.75
    assert bucket.failovers == 1
    assert [
        (v.currency, v.count, v.amount, v.succeeded_amount, v.failover_amount)
        for v in bucket.volumes
    ] == [
        ("EUR", 3, 3000, 1000, 0),
        ("JPY", 1, 500, 500, 0),
        ("USD", 1, 2500, 2500, 2500),
    ]
    # Per order: 100, 300, 250 (both attempts), 40; the unpaid one has none.
    assert bucket.latency_p50_ms == within_a_bucket(175.0)
    assert bucket.latency_p95_ms == within_a_bucket(292.5)


def test_hourly_buckets_by_processor_follow_the_deciding_attempt(seeded: str) -> None:
    query = Query(WINDOW.start, WINDOW.end, Interval.HOUR, GroupBy.PROCESSOR)
    found = asyncio.run(_figures(seeded, CALLER, query))
    summary = [
        (b.start, b.end, b.group, b.total, b.succeeded, b.failed, b.failovers) for b in found
    ]
    hour = timedelta(hours=1)
    assert summary == [
        (T0, T0 + hour, "", 1, 0, 0, 0),
        (T0, T0 + hour, "backup", 1, 1, 0, 1),
        (T0, T0 + hour, "sandbox", 2, 1, 1, 0),
        (T0 + hour, T0 + 2 * hour, "backup", 1, 1, 0, 0),
    ]
    never_sent = found[0]
    assert never_sent.success_rate is None and never_sent.latency_p50_ms is None


def test_grouped_by_status_and_failure_code(seeded: str) -> None:
    by_status = asyncio.run(
        _figures(seeded, CALLER, Query(WINDOW.start, WINDOW.end, group_by=GroupBy.STATUS))
    )
    assert [(b.group, b.total) for b in by_status] == [
        ("FAILED", 1),
        ("REQUIRES_PAYMENT_METHOD", 1),
        ("SUCCEEDED", 3),
    ]
    by_code = asyncio.run(
        _figures(seeded, CALLER, Query(WINDOW.start, WINDOW.end, group_by=GroupBy.FAILURE_CODE))
    )
    assert [(b.group, b.total, b.failed) for b in by_code] == [("", 4, 0), ("card_declined", 1, 1)]


def test_daily_buckets_by_currency_and_the_other_mode(seeded: str) -> None:
    query = Query(WINDOW.start, WINDOW.end, Interval.DAY, GroupBy.CURRENCY)
    found = asyncio.run(_figures(seeded, CALLER, query))
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    assert [(b.start, b.end, b.group, b.total) for b in found] == [
        (midnight, midnight + timedelta(days=1), "EUR", 3),
        (midnight, midnight + timedelta(days=1), "JPY", 1),
        (midnight, midnight + timedelta(days=1), "USD", 1),
    ]
    [live] = asyncio.run(_figures(seeded, Caller(merchant_id="m1", livemode=True), WINDOW))
    assert (live.total, live.latency_p50_ms) == (1, within_a_bucket(9999.0))
