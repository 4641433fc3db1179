"""The hourly rollup of payment analytics, and how it is kept exact.

A trigger on orders (migration 0012) appends (merchant, mode, hour) to `order_figures_dirty`
in the transaction of every change of an order's figures. A refresh of a merchant's mode, in
one transaction under an advisory lock of that merchant and mode (so refreshes of it take
turns), first DELETEs that merchant's and mode's dirty rows, RETURNING their hours, then, in
later statements, recomputes those hours of `order_figures_hourly` and `order_latency_hourly`
from `orders` (delete, then insert ... select grouped).

Why the rollup is then exact: a dirty row is committed with the order change that wrote it. A
row the DELETE did not see (committed after its snapshot) stays for the next refresh. A row it
did see was committed before the DELETE started, and so was its order change; the recompute
statements run after the DELETE and, under READ COMMITTED, take a newer snapshot each: they see
that change. So every change is in the rollup after the first refresh that starts after its
commit, and the dirty table, having no unique key, never makes two payments wait for each other.

A merchant's mode is refreshed when it asks for its analytics (the hours touched since the
last refresh: few), and every merchant's every minute by the edge (refresh_forever), so the
dirty rows of a merchant who never opens its analytics are a minute of its changes at most."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edge.latency_histogram import BUCKET_SQL

REFRESH_SECONDS = 60.0

log = logging.getLogger("payloops.edge")

# One lock per merchant and mode, named apart from any other use of advisory locks.
_LOCK = text(
    "select pg_advisory_xact_lock(hashtextextended("
    "'order_figures:' || cast(:merchant as text) || ':' || cast(:livemode as boolean)::text, 0))"
)

_TAKE_DIRTY = text(
    """
    with taken as (
        delete from order_figures_dirty
        where merchant_id = :merchant and livemode = :livemode
        returning hour
    )
    select distinct hour from taken
    """
)

# Every dimension named, so that the hours are index ranges of the primary keys.
_MERCHANT_HOURS = (
    "merchant_id = :merchant and livemode = :livemode "
    "and dimension in ('', 'processor', 'currency', 'status', 'failure_code') "
    "and hour = any(:hours)"
)
_CLEAR = [
    text(f"delete from order_figures_hourly where {_MERCHANT_HOURS}"),
    text(f"delete from order_latency_hourly where {_MERCHANT_HOURS}"),
]

# The orders of the hours, each hour an index range of orders_merchant_figures.
_ORDERS_OF_HOURS = """
from unnest(cast(:hours as timestamptz[])) as h(hour)
join orders o on o.merchant_id = :merchant and o.livemode = :livemode
             and o.created_at >= h.hour and o.created_at < h.hour + interval '1 hour'
"""

# The grouping an aggregate row belongs to, from GROUPING SETS' grouping(): '' is no grouping;
# the figures are per currency in every grouping, so grouped by currency is ''.
_DIMENSION = """
case when grouping(o.decided_processor) = 0 then 'processor'
     when grouping(upper(o.status)) = 0 then 'status'
     when grouping(o.failure_code) = 0 then 'failure_code'
     when grouping(o.currency) = 0 and {histogram} then 'currency'
     else '' end
"""
_VALUE = """
case when grouping(o.decided_processor) = 0 then o.decided_processor
     when grouping(upper(o.status)) = 0 then upper(o.status)
     when grouping(o.failure_code) = 0 then o.failure_code
     when grouping(o.currency) = 0 and {histogram} then o.currency
     else '' end
"""
_AUTHORIZED = "o.status in ('succeeded', 'requires_capture')"

_RECOMPUTE_FIGURES = text(
    f"""
    insert into order_figures_hourly (merchant_id, livemode, dimension, hour, value, currency,
                                      total, authorized, failed, failovers, amount,
                                      authorized_amount, failover_amount)
    select :merchant, :livemode, {_DIMENSION.format(histogram="false")}, h.hour,
           {_VALUE.format(histogram="false")}, o.currency,
           count(*), count(*) filter (where {_AUTHORIZED}),
           count(*) filter (where o.status = 'failed'),
           count(*) filter (where {_AUTHORIZED} and o.failed_over),
           sum(o.amount), coalesce(sum(o.amount) filter (where {_AUTHORIZED}), 0),
           coalesce(sum(o.amount) filter (where {_AUTHORIZED} and o.failed_over), 0)
    {_ORDERS_OF_HOURS}
    group by h.hour, o.currency,
             grouping sets ((), (o.decided_processor), (upper(o.status)), (o.failure_code))
    """
)

_LATENCY_BUCKET = BUCKET_SQL.format(latency="o.payment_latency_ms")
_RECOMPUTE_LATENCY = text(
    f"""
    insert into order_latency_hourly (merchant_id, livemode, dimension, hour, value, buckets,
                                      counts)
    select :merchant, :livemode, dimension, hour, value,
           array_agg(bucket order by bucket), array_agg(n order by bucket)
    from (
        select h.hour, {_DIMENSION.format(histogram="true")} as dimension,
               {_VALUE.format(histogram="true")} as value, {_LATENCY_BUCKET} as bucket,
               count(*) as n
        {_ORDERS_OF_HOURS}
        where o.payment_latency_ms is not null
        group by h.hour, {_LATENCY_BUCKET},
                 grouping sets ((), (o.decided_processor), (o.currency), (upper(o.status)),
                                (o.failure_code))
    ) per_bucket
    group by dimension, hour, value
    """
)

_DIRTY_MODES = text("select distinct merchant_id, livemode from order_figures_dirty")


async def refresh(session: AsyncSession, merchant_id: str, livemode: bool) -> list[datetime]:
    """Brings the rollup of one merchant's mode up to date, and commits. Returns the hours it
    recomputed."""
    merchant = {"merchant": merchant_id, "livemode": livemode}
    await session.execute(_LOCK, merchant)
    hours = list((await session.execute(_TAKE_DIRTY, merchant)).scalars())
    if hours:
        stale = {**merchant, "hours": hours}
        for statement in (*_CLEAR, _RECOMPUTE_FIGURES, _RECOMPUTE_LATENCY):
            await session.execute(statement, stale)
    await session.commit()
    return hours


async def refresh_all(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Refreshes every merchant's mode that has changes, each in a transaction of its own.
    Returns how many."""
    async with sessions() as session:
        modes = (await session.execute(_DIRTY_MODES)).all()
    for merchant_id, livemode in modes:
        async with sessions() as session:
            await refresh(session, merchant_id, livemode)
    return len(modes)


async def refresh_forever(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Runs until cancelled; a failed round is logged, and the next one takes its dirty rows
    (they stay until a refresh commits)."""
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        try:
            await refresh_all(sessions)
        except Exception as error:
            log.warning("could not refresh the analytics rollup: %s", type(error).__name__)
