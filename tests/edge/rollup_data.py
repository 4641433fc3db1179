"""Orders for the analytics rollup's tests, written by SQL as the read model holds them (with
their summary of attempts), through the rollup's trigger; and the comparison of the rollup's
answers with those of the orders themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from edge.analytics import Bucket
from edge.latency_histogram import RATIO

# Each order is a function of its number i: its time (spread, never on the hour, over the
# span), currency, amount, status, failure code, processor, latency and failover.
_ORDERS = """
insert into orders (id, merchant_id, livemode, amount, currency, capture_method, status,
                    failure_code, decided_processor, payment_latency_ms, failed_over, created_at)
select cast(:prefix as text) || i, cast(:merchant as text), cast(:livemode as boolean),
       100 + i * 7919 % 100000, (array['EUR', 'USD', 'JPY'])[1 + i % 3], 'automatic',
       s.status,
       case when s.status = 'failed'
            then (array['card_declined', 'insufficient_funds'])[1 + i % 2] else '' end,
       case when s.status = 'requires_payment_method'
            then '' else (array['sandbox', 'stripe', 'razorpay'])[1 + i / 3 % 3] end,
       case when s.status = 'requires_payment_method' then null else i * 37 % 900 end,
       s.status = 'succeeded' and i % 11 = 0,
       cast(:start as timestamptz) + interval '1 second' * (7 + i * 97 % cast(:seconds as int))
from generate_series(1, cast(:orders as int)) as i,
     lateral (select case when i % 17 = 0 then 'requires_payment_method'
                          when i % 5 = 1 then 'failed'
                          when i % 13 = 2 then 'requires_capture'
                          else 'succeeded' end as status) as s
"""


async def insert_orders(
    connection: AsyncConnection,
    merchant: str,
    livemode: bool,
    orders: int,
    start: datetime,
    span: timedelta,
    prefix: str,
) -> None:
    await connection.execute(
        text(_ORDERS),
        {
            "prefix": prefix,
            "merchant": merchant,
            "livemode": livemode,
            "orders": orders,
            "start": start,
            "seconds": int(span.total_seconds()) - 14,
        },
    )


def within_a_bucket(exact_ms: float) -> Any:
    """A percentile from the latency histogram: within one bucket's width of the exact one
    (edge/latency_histogram.py)."""
    return pytest.approx(exact_ms, abs=(RATIO - 1) * (exact_ms + 1) + 1e-9)


def exact_part(bucket: Bucket) -> tuple[object, ...]:
    return (
        bucket.start,
        bucket.end,
        bucket.group,
        bucket.total,
        bucket.succeeded,
        bucket.failed,
        bucket.failovers,
        bucket.success_rate,
        bucket.volumes,
    )


def assert_same_figures(found: Sequence[Bucket], reference: Sequence[Bucket]) -> None:
    """Counts, amounts and success rates equal; percentiles within a bucket's width."""
    assert [exact_part(bucket) for bucket in found] == [exact_part(b) for b in reference]
    for mine, exact in zip(found, reference, strict=True):
        for name in ("latency_p50_ms", "latency_p95_ms"):
            expected = getattr(exact, name)
            if expected is None:
                assert getattr(mine, name) is None
            else:
                assert getattr(mine, name) == within_a_bucket(expected), (name, exact)
