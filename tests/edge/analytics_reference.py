"""Payment analytics as they were computed before the hourly rollup: one statement over the
orders, exact percentiles (percentile_cont). The rollup's answers are checked against it on
the same data: equal counts and amounts, percentiles within a histogram bucket's width."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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
from edge.analytics import Bucket, GroupBy, Query, Volume
from edge.auth import Caller

AUTHORIZED_STATUSES = (OrderStatus.SUCCEEDED, OrderStatus.REQUIRES_CAPTURE)


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
