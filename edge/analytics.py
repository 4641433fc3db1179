"""Payment analytics, computed by PostgreSQL in one statement over the read model.

Each order counts once, in the time bucket of its creation. What an order contributes that
lives in its attempts (the processor that decided it, its latency, whether it failed over) is
kept on the order by the worker as it writes them, so the statement reads one index
(orders_merchant_figures) and nothing else. It groups by GROUPING SETS: per currency, for the
amounts (never added across currencies), and per bucket and group, for the counts and the
latency percentiles (which cannot be merged from per-currency rows). docs/analytics.md says
what each figure means."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    func,
    literal,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.contracts.vocabulary import OrderStatus
from core.db import models
from edge.auth import Caller

# An order whose payment was authorized (captured or not).
AUTHORIZED_STATUSES = (OrderStatus.SUCCEEDED, OrderStatus.REQUIRES_CAPTURE)


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
    rows = (await session.execute(statement(caller, query))).all()
    return buckets_of(rows, query)


def statement(caller: Caller, query: Query) -> Select[Any]:
    """The one SELECT."""
    order = models.table_of(models.Order)
    authorized = order.c.status.in_(AUTHORIZED_STATUSES)
    failed_over = and_(authorized, order.c.failed_over)
    bucket: ColumnElement[Any] = literal(None)
    group: ColumnElement[Any] = literal("")
    keys: list[ColumnElement[Any]] = []
    if query.interval:
        # Constants, not parameters: GROUP BY must repeat the SELECT's expression exactly.
        bucket = func.date_trunc(
            literal_column(f"'{query.interval.value}'"), order.c.created_at, literal_column("'UTC'")
        )
        keys.append(bucket)
    if query.group_by:
        group = _group_column(query.group_by, order)
        keys.append(group)
    # Grouped by currency, a group IS a currency: one grouping set, each row both a bucket and
    # its one volume.
    per_currency = query.group_by is not GroupBy.CURRENCY
    all_currencies = func.grouping(order.c.currency) if per_currency else literal_column("1")
    grouping = (
        func.grouping_sets(tuple_(*keys, order.c.currency), tuple_(*keys))
        if per_currency
        else tuple_(*keys)
    )
    latency = order.c.payment_latency_ms
    return (
        select(
            bucket.label("bucket"),
            group.label("grp"),
            order.c.currency,
            all_currencies.label("all_currencies"),
            func.count().label("total"),
            func.count().filter(authorized).label("authorized_count"),
            func.count().filter(order.c.status == OrderStatus.FAILED).label("failed_count"),
            func.count().filter(failed_over).label("failovers"),
            func.coalesce(func.sum(order.c.amount), 0).label("amount"),
            func.coalesce(func.sum(order.c.amount).filter(authorized), 0).label(
                "authorized_amount"
            ),
            func.coalesce(func.sum(order.c.amount).filter(failed_over), 0).label("failover_amount"),
            func.percentile_cont(0.5).within_group(latency).label("p50"),
            func.percentile_cont(0.95).within_group(latency).label("p95"),
        )
        .where(
            order.c.merchant_id == caller.merchant_id,
            order.c.livemode == caller.livemode,
            order.c.created_at >= query.start,
            order.c.created_at < query.end,
        )
        .group_by(grouping)
    )


def _group_column(group_by: GroupBy, order: Table) -> ColumnElement[Any]:
    if group_by is GroupBy.PROCESSOR:
        return order.c.decided_processor
    if group_by is GroupBy.CURRENCY:
        return order.c.currency
    if group_by is GroupBy.STATUS:
        # The API's name of the status (Order.Status), as the figures name it.
        return func.upper(order.c.status)
    return order.c.failure_code


def buckets_of(rows: Sequence[Row[object]], query: Query) -> list[Bucket]:
    """Folds the per-currency rows into the per-bucket-and-group ones, in order."""
    found: dict[tuple[datetime | None, str], Bucket] = {}
    volumes: dict[tuple[datetime | None, str], list[Volume]] = {}
    for row in rows:
        key = (row.bucket, row.grp)
        if row.all_currencies:
            found[key] = _bucket(row, query)
        if not row.all_currencies or query.group_by is GroupBy.CURRENCY:
            volumes.setdefault(key, []).append(
                # PostgreSQL's sum of bigints is a numeric: back to integers, exactly.
                Volume(
                    row.currency,
                    row.total,
                    int(row.amount),
                    int(row.authorized_amount),
                    int(row.failover_amount),
                )
            )
    for key, bucket in found.items():
        bucket.volumes = sorted(volumes.get(key, []), key=lambda volume: volume.currency)
    return sorted(found.values(), key=lambda bucket: (bucket.start, bucket.group))


def _bucket(row: Row[object], query: Query) -> Bucket:
    start = row.bucket if query.interval else query.start
    end = start + query.interval.length if query.interval else query.end
    return Bucket(
        start=start,
        end=end,
        group=row.grp,
        total=row.total,
        succeeded=row.authorized_count,
        failed=row.failed_count,
        failovers=row.failovers,
        latency_p50_ms=row.p50,
        latency_p95_ms=row.p95,
    )
