"""Payment analytics, summed by PostgreSQL from the hourly rollup and the orders themselves.

Each order counts once, in the time bucket of its creation. The whole UTC hours inside the
window are read from the rollup (edge/analytics_rollup.py, brought up to date first); the
partial hours at its edges, when it does not start or end on an hour, from the orders of the
read model directly. What an order contributes that lives in its attempts (the processor that
decided it, its latency, whether it failed over) is kept on the order by the worker as it
writes them, so both read the orders' figures and nothing else. Both answer per time bucket,
group and currency (amounts are never added across currencies), and a latency histogram per
time bucket and group: they add up here, and the percentiles come from the summed histograms
(edge/latency_histogram.py), within a bucket's width of the exact ones. docs/analytics.md
says what each figure means."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from edge import analytics_rollup, latency_histogram
from edge.auth import Caller

HOUR = timedelta(hours=1)


class Interval(enum.Enum):
    """A time bucket's size, as PostgreSQL's date_trunc names it."""

    HOUR = "hour"
    DAY = "day"

    @property
    def length(self) -> timedelta:
        return timedelta(hours=1) if self is Interval.HOUR else timedelta(days=1)


class GroupBy(enum.Enum):
    PROCESSOR = "processor"
    CURRENCY = "currency"
    STATUS = "status"
    FAILURE_CODE = "failure_code"


@dataclass(frozen=True)
class Query:
    start: datetime
    end: datetime
    interval: Interval | None = None
    group_by: GroupBy | None = None


@dataclass(frozen=True)
class Volume:
    currency: str
    count: int
    amount: int
    succeeded_amount: int
    failover_amount: int


@dataclass
class Bucket:
    start: datetime
    end: datetime
    group: str
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    failovers: int = 0
    # Milliseconds; None when no order of the bucket has an attempt with a result.
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    volumes: list[Volume] = field(default_factory=list)

    @property
    def success_rate(self) -> float | None:
        decided = self.succeeded + self.failed
        return self.succeeded / decided if decided else None


async def payment_analytics(session: AsyncSession, caller: Caller, query: Query) -> list[Bucket]:
    """The figures of the caller's merchant and mode. Commits the session's transaction: the
    rollup's refresh must be seen by the reads (and its lock let go) before they run."""
    await analytics_rollup.refresh(session, caller.merchant_id, caller.livemode)
    sums = _Sums()
    first, last = whole_hours(query.start, query.end)
    edges = (
        [(query.start, first), (last, query.end)] if first < last else [(query.start, query.end)]
    )
    where = {"merchant": caller.merchant_id, "livemode": caller.livemode}
    if first < last:
        hours = where | {"first": first, "last": last, **_rollup_dimensions(query.group_by)}
        sums.add_figures(await session.execute(_rollup_figures(query), hours))
        sums.add_latencies(await session.execute(_rollup_latencies(query), hours))
    for start, end in edges:
        if start < end:
            window = where | {"start": start, "end": end}
            sums.add_figures(await session.execute(_order_figures(query), window))
            sums.add_latencies(await session.execute(_order_latencies(query), window))
    return sums.buckets(query)


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The first and the last UTC hour boundary inside [start, end): the whole hours between
    them are the rollup's to answer (none when first >= last)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += HOUR
    return first, end.replace(minute=0, second=0, microsecond=0)


# The rollup keeps each grouping apart (its `dimension`); its figures are per currency in all
# of them, so grouped by currency they are the ungrouped rows' currencies.
def _rollup_dimensions(group_by: GroupBy | None) -> dict[str, str]:
    name = group_by.value if group_by else ""
    figures = "" if group_by is GroupBy.CURRENCY else name
    return {"figures_dimension": figures, "latency_dimension": name}


def _rollup_figures(query: Query) -> TextClause:
    group = {None: "''", GroupBy.CURRENCY: "currency"}.get(query.group_by, "value")
    return text(
        f"""
        select {_time_bucket(query, "hour")} as bucket, {group} as grp, currency,
               sum(total) as total, sum(authorized) as authorized, sum(failed) as failed,
               sum(failovers) as failovers, sum(amount) as amount,
               sum(authorized_amount) as authorized_amount,
               sum(failover_amount) as failover_amount
        from order_figures_hourly
        where merchant_id = :merchant and livemode = :livemode
          and dimension = :figures_dimension and hour >= :first and hour < :last
        group by 1, 2, 3
        """
    )


def _rollup_latencies(query: Query) -> TextClause:
    return text(
        f"""
        select {_time_bucket(query, "hour")} as bucket, value as grp,
               u.bucket as latency_bucket, sum(u.n) as n
        from order_latency_hourly, unnest(buckets, counts) as u(bucket, n)
        where merchant_id = :merchant and livemode = :livemode
          and dimension = :latency_dimension and hour >= :first and hour < :last
        group by 1, 2, 3
        """
    )


_AUTHORIZED = "o.status in ('succeeded', 'requires_capture')"
_ORDERS_IN_WINDOW = """
from orders o
where o.merchant_id = :merchant and o.livemode = :livemode
  and o.created_at >= :start and o.created_at < :end
"""


def _order_figures(query: Query) -> TextClause:
    return text(
        f"""
        select {_time_bucket(query, "o.created_at")} as bucket, {_order_group(query)} as grp,
               o.currency, count(*) as total,
               count(*) filter (where {_AUTHORIZED}) as authorized,
               count(*) filter (where o.status = 'failed') as failed,
               count(*) filter (where {_AUTHORIZED} and o.failed_over) as failovers,
               sum(o.amount) as amount,
               coalesce(sum(o.amount) filter (where {_AUTHORIZED}), 0) as authorized_amount,
               coalesce(sum(o.amount) filter (where {_AUTHORIZED} and o.failed_over), 0)
                   as failover_amount
        {_ORDERS_IN_WINDOW}
        group by 1, 2, 3
        """
    )


def _order_latencies(query: Query) -> TextClause:
    latency_bucket = latency_histogram.BUCKET_SQL.format(latency="o.payment_latency_ms")
    return text(
        f"""
        select {_time_bucket(query, "o.created_at")} as bucket, {_order_group(query)} as grp,
               {latency_bucket} as latency_bucket, count(*) as n
        {_ORDERS_IN_WINDOW}
          and o.payment_latency_ms is not null
        group by 1, 2, 3
        """
    )


def _time_bucket(query: Query, column: str) -> str:
    if query.interval is None:
        return "cast(null as timestamptz)"
    return f"date_trunc('{query.interval.value}', {column}, 'UTC')"


def _order_group(query: Query) -> str:
    if query.group_by is None:
        return "''"
    if query.group_by is GroupBy.PROCESSOR:
        return "o.decided_processor"
    if query.group_by is GroupBy.STATUS:
        # The API's name of the status (Order.Status), as the figures name it.
        return "upper(o.status)"
    return f"o.{query.group_by.value}"


_BucketKey = tuple[datetime | None, str]


@dataclass
class _Figures:
    total: int = 0
    authorized: int = 0
    failed: int = 0
    failovers: int = 0
    amount: int = 0
    authorized_amount: int = 0
    failover_amount: int = 0


class _Sums:
    """The rollup's and the orders' rows, added up per time bucket, group and currency."""

    def __init__(self) -> None:
        self.figures: dict[_BucketKey, dict[str, _Figures]] = {}
        self.latencies: dict[_BucketKey, Counter[int]] = {}

    def add_figures(self, rows: Iterable[Row[Any]]) -> None:
        for row in rows:
            per_currency = self.figures.setdefault((row.bucket, row.grp), {})
            found = per_currency.setdefault(row.currency, _Figures())
            for figure in fields(found):
                # PostgreSQL's sums are numerics: back to integers, exactly.
                added = getattr(found, figure.name) + int(getattr(row, figure.name))
                setattr(found, figure.name, added)

    def add_latencies(self, rows: Iterable[Row[Any]]) -> None:
        for row in rows:
            histogram = self.latencies.setdefault((row.bucket, row.grp), Counter())
            histogram[row.latency_bucket] += int(row.n)

    def buckets(self, query: Query) -> list[Bucket]:
        found = [
            self._bucket(query, key, per_currency) for key, per_currency in self.figures.items()
        ]
        return sorted(found, key=lambda bucket: (bucket.start, bucket.group))

    def _bucket(self, query: Query, key: _BucketKey, per_currency: dict[str, _Figures]) -> Bucket:
        time_bucket, group = key
        start = time_bucket if time_bucket is not None and query.interval else query.start
        end = start + query.interval.length if query.interval else query.end
        latencies = self.latencies.get(key, Counter())
        figures = per_currency.values()
        return Bucket(
            start=start,
            end=end,
            group=group,
            total=sum(f.total for f in figures),
            succeeded=sum(f.authorized for f in figures),
            failed=sum(f.failed for f in figures),
            failovers=sum(f.failovers for f in figures),
            latency_p50_ms=latency_histogram.percentile(latencies, 0.5),
            latency_p95_ms=latency_histogram.percentile(latencies, 0.95),
            volumes=[
                Volume(currency, f.total, f.amount, f.authorized_amount, f.failover_amount)
                for currency, f in sorted(per_currency.items())
            ],
        )
