"""`make bench` / `python -m bench.analytics [--orders N]`: the dashboard's queries over a
million orders.

Seeds an embedded PostgreSQL of its own (as `payloops dev` runs it, migrated to the newest
schema) with N orders (1 000 000 by default) and their attempts, by generate_series in SQL:
most of them one merchant's test mode over the last 90 days, the rest its live mode and other
merchants (so every query has rows to skip). Then times each query the dashboard makes, through
the edge's own code (edge.analytics, edge.read_model) on SQLAlchemy and asyncpg as the edge runs
them: the Overview's and Processors page's analytics, the Payments page's list (first page,
filters, a later page) and its search by order id. Each query runs --runs times after a warm-up;
the figures are p50 and p95 of the wall time, the target p95 < 300 ms. Then EXPLAIN shows the
plan PostgreSQL chose for each statement a query sends: none may read orders, attempts or the
analytics rollup by a sequential scan.

The orders are seeded through the analytics rollup's trigger, as the worker writes them; one
refresh of every merchant then computes the rollup (its time is printed, as the seed's). The
last check times what keeping it costs: the refresh an analytics request makes after 1 000
new orders of its merchant.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.contracts.vocabulary import OrderStatus
from core.db.session import create_engine, session_factory
from edge import analytics, analytics_rollup, read_model
from edge.analytics import GroupBy, Interval
from edge.auth import Caller
from edge.page_tokens import Cursor

TARGET_P95_MS = 300.0
MERCHANT = "mer_bench"
CALLER = Caller(merchant_id=MERCHANT, livemode=False)
# Of the orders: the bench merchant's test mode, its live mode, then nine other merchants.
TEST_SHARE, LIVE_SHARE = 0.8, 0.1
OTHER_MERCHANTS = 9
SPAN = timedelta(days=90)

# Every order of the series is a function of its number i: its merchant and mode (i * 37 mod
# 100 mixes them evenly over time), its time (spread evenly over the span, newest last), its
# currency, amount, status and failure code. One in twenty succeeded ones was saved by failover
# (a declined first attempt elsewhere).
_SEED_ORDERS = """
insert into orders (id, merchant_id, livemode, amount, currency, capture_method, description,
                    metadata, return_url, status, amount_capturable, amount_received,
                    amount_refunded, amount_refund_pending, cancellation_reason, failure_code,
                    failure_message, next_action_url, routing, created_at, updated_at)
select 'ord_' || lpad(i::text, 12, '0'),
       case when i * 37 % 100 < cast(:own_pct as int) then cast(:merchant as text)
            else 'mer_other' || (i % cast(:others as int)) end,
       i * 37 % 100 >= cast(:test_pct as int) and i * 37 % 100 < cast(:own_pct as int),
       100 + (i * 7919) % 100000,
       (array['USD', 'EUR', 'GBP', 'JPY', 'INR'])[1 + i / 7 % 5],
       'automatic', '', jsonb_build_object('plan', (array['free', 'pro', 'team'])[1 + i % 3]),
       '', s.status, 0, 0, 0, 0, '',
       case when s.status = 'failed'
            then (array['card_declined', 'insufficient_funds', 'try_again_later'])[1 + i % 3]
            else '' end,
       '', '', '{}'::jsonb, t.at, t.at
from generate_series(1, cast(:orders as bigint)) as i,
     lateral (select cast(:now as timestamptz)
                     - cast(:span as interval) * (1 - i::float8 / cast(:orders as int)) as at) as t,
     lateral (select case when i % 50 = 0 then 'requires_payment_method'
                          when i % 10 in (1, 2) then 'failed'
                          when i % 25 = 3 then 'requires_capture'
                          else 'succeeded' end as status) as s
"""
_SEED_ATTEMPTS = """
insert into attempts (order_id, seq, processor, attempt_key, outcome, decline_code,
                      decline_message, processor_reference, latency_ms, failover_reason,
                      compensation, account_id, created_at)
select o.id, a.seq,
       (array['sandbox', 'stripe', 'razorpay'])[1 + (n + a.seq) % 3],
       o.id || '-' || a.seq,
       case when a.seq < a.last then 'declined'
            when o.status = 'failed' then 'declined'
            when o.status = 'requires_capture' then 'authorized'
            else 'succeeded' end,
       case when a.seq < a.last then 'try_again_later' else o.failure_code end,
       '', 'ref_' || o.id || '_' || a.seq, 40 + (n * 31 + a.seq * 17) % 400,
       case when a.seq < a.last then 'soft_decline' else '' end,
       '', '', o.created_at
from orders o,
     lateral (select substr(o.id, 5)::bigint as n) as k,
     lateral (select case when o.status = 'succeeded' and n % 20 = 7 then 2 else 1 end
              as last) as l,
     lateral (select g as seq, l.last from generate_series(1, l.last) as g) as a
where o.status <> 'requires_payment_method'
"""

# What the worker keeps on each order as it writes its attempts (summarize_attempts in
# orchestrator/activities/orders.py), for all of them at once.
_SUMMARIZE_ATTEMPTS = """
update orders o
set decided_processor = s.decided_processor,
    payment_latency_ms = s.payment_latency_ms,
    failed_over = s.failed_over
from (
    select order_id,
           (array_agg(processor order by seq desc))[1] as decided_processor,
           sum(latency_ms) filter (where outcome <> 'pending') as payment_latency_ms,
           bool_or(failover_reason <> '') as failed_over
    from attempts
    group by order_id
) s
where s.order_id = o.id
"""


@dataclass(frozen=True)
class Timing:
    name: str
    page: str
    p50_ms: float
    p95_ms: float
    rows: int
    plan: list[str]

    @property
    def uses_index(self) -> bool:
        """No sequential scan of the big tables: every read of them goes through an index.
        (The rollup's dirty hours are a minute of changes at most: a scan of them is fine.)"""
        return not any(
            f"Seq Scan on {table} " in line for line in self.plan for table in _BIG_TABLES
        )


_BIG_TABLES = ("orders", "attempts", "order_figures_hourly", "order_latency_hourly")


# One run of a query: the rows it found.
QueryRun = Callable[[AsyncSession], Awaitable[int]]


@dataclass(frozen=True)
class Check:
    name: str
    page: str
    run: QueryRun
    # Untimed, before each run.
    prepare: QueryRun | None = None


def checks(now: datetime, orders: int) -> list[Check]:
    def figures(days: int, interval: Interval | None, group_by: GroupBy | None) -> QueryRun:
        query = analytics.Query(now - timedelta(days=days), now, interval, group_by)

        async def run(session: AsyncSession) -> int:
            return len(await analytics.payment_analytics(session, CALLER, query))

        return run

    def listing(wanted: read_model.OrderFilter, after: Cursor | None = None) -> QueryRun:
        async def run(session: AsyncSession) -> int:
            return len(await read_model.list_orders(session, CALLER, wanted, after, 21))

        return run

    # A multiple of 100 is the bench merchant's, in test mode.
    middle = f"ord_{orders // 200 * 100:012d}"

    async def by_id(session: AsyncSession) -> int:
        found = await read_model.get_order(session, CALLER, middle)
        return 0 if found is None else 1

    week = now - timedelta(days=7)
    later_page = Cursor(now - SPAN / 2, middle)
    overview = "Overview"
    return [
        Check("totals, last 24 hours", overview, figures(1, None, None)),
        Check("hourly, last 24 hours", overview, figures(1, Interval.HOUR, None)),
        Check("totals, last 7 days", overview, figures(7, None, None)),
        Check("daily, last 7 days", overview, figures(7, Interval.DAY, None)),
        Check("daily by currency, 7 days", overview, figures(7, Interval.DAY, GroupBy.CURRENCY)),
        Check("by failure code, 7 days", overview, figures(7, None, GroupBy.FAILURE_CODE)),
        Check("totals, last 30 days", overview, figures(30, None, None)),
        Check("daily, last 30 days", overview, figures(30, Interval.DAY, None)),
        Check("by processor, 7 days", "Processors", figures(7, None, GroupBy.PROCESSOR)),
        Check("by processor, 30 days", "Processors", figures(30, None, GroupBy.PROCESSOR)),
        Check("first page", "Payments", listing(read_model.OrderFilter())),
        Check(
            "status=failed",
            "Payments",
            listing(read_model.OrderFilter(status=OrderStatus.FAILED)),
        ),
        Check("currency=JPY", "Payments", listing(read_model.OrderFilter(currency="JPY"))),
        Check(
            "processor=stripe",
            "Payments",
            listing(read_model.OrderFilter(processor="stripe")),
        ),
        Check(
            "created in the last 7 days",
            "Payments",
            listing(read_model.OrderFilter(created_after=week)),
        ),
        Check(
            "metadata plan=pro",
            "Payments",
            listing(read_model.OrderFilter(metadata_key="plan", metadata_value="pro")),
        ),
        Check("a page 45 days back", "Payments", listing(read_model.OrderFilter(), later_page)),
        Check("search: order id", "Payments", by_id),
        Check("refresh after 1 000 new orders", overview, refresh, prepare=new_orders(now)),
    ]


async def refresh(session: AsyncSession) -> int:
    return len(await analytics_rollup.refresh(session, CALLER.merchant_id, CALLER.livemode))


NEW_ORDERS = 1000
_NEW_ORDERS = """
insert into orders (id, merchant_id, livemode, amount, currency, capture_method, status,
                    decided_processor, payment_latency_ms, created_at, updated_at)
select 'ord_new' || cast(:batch as int) || '_' || i, cast(:merchant as text), false,
       100 + i, 'EUR', 'automatic', 'succeeded', 'sandbox', 40 + i % 400, t.at, t.at
from generate_series(1, cast(:orders as int)) as i,
     lateral (select cast(:hour as timestamptz) + interval '1 second' * (i % 3600) as at) as t
"""


def new_orders(now: datetime) -> QueryRun:
    """A batch of new orders of the bench merchant, as its payments would write them (through
    the rollup's trigger): each batch in an hour of its own, one of the last hours before
    now's, so that each refresh recomputes one hour of the merchant's usual orders and a
    batch, never the batches before."""
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    batches = iter(range(1_000_000))

    async def run(session: AsyncSession) -> int:
        batch = next(batches)
        parameters = {
            "batch": batch,
            "merchant": MERCHANT,
            "orders": NEW_ORDERS,
            "hour": this_hour - timedelta(hours=batch + 1),
        }
        await session.execute(text(_NEW_ORDERS), parameters)
        await session.commit()
        return NEW_ORDERS

    return run


async def seed(engine: AsyncEngine, orders: int, now: datetime) -> None:
    async with engine.begin() as connection:
        names = [MERCHANT, *(f"mer_other{n}" for n in range(OTHER_MERCHANTS))]
        await connection.execute(
            text(
                "insert into merchants (id, name, default_processor) "
                "select m, m, 'sandbox' from unnest(cast(:names as text[])) as m"
            ),
            {"names": names},
        )
        await connection.execute(
            text(_SEED_ORDERS),
            {
                "orders": orders,
                "now": now,
                "span": SPAN,
                "merchant": MERCHANT,
                "others": OTHER_MERCHANTS,
                "test_pct": round(TEST_SHARE * 100),
                "own_pct": round((TEST_SHARE + LIVE_SHARE) * 100),
            },
        )
        await connection.execute(text(_SEED_ATTEMPTS))
        await connection.execute(text(_SUMMARIZE_ATTEMPTS))
    await vacuum(engine, ("orders", "attempts"))


async def roll_up(engine: AsyncEngine) -> None:
    """The rollup of every merchant, from the dirty hours the seed's writes left; then what
    autovacuum would do to the tables."""
    await analytics_rollup.refresh_all(session_factory(engine))
    await vacuum(engine, ("order_figures_dirty", "order_figures_hourly", "order_latency_hourly"))


async def vacuum(engine: AsyncEngine, tables: tuple[str, ...]) -> None:
    # What autovacuum does to a table in service: statistics, and the visibility map that lets
    # an index-only scan skip the table's rows.
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await autocommit.execute(text(f"vacuum analyze {table}"))


@contextmanager
def captured_statements(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """The statements the edge's code sends, with their parameters, to EXPLAIN them as sent."""
    seen: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", remember)


async def measure(engine: AsyncEngine, check: Check, runs: int) -> Timing:
    sessions = session_factory(engine)

    async def once() -> tuple[int, float]:
        if check.prepare:
            async with sessions() as session:
                await check.prepare(session)
        async with sessions() as session:
            started = time.perf_counter()
            rows = await check.run(session)
            return rows, (time.perf_counter() - started) * 1000

    for _ in range(2):  # warm the pool, the caches and the prepared statements
        rows, _elapsed = await once()
    elapsed = []
    for _ in range(runs):
        rows, took = await once()
        elapsed.append(took)
    if check.prepare:
        async with sessions() as session:
            await check.prepare(session)
    with captured_statements(engine) as seen:
        async with sessions() as session:
            await check.run(session)
    lines = []
    async with engine.connect() as connection:
        for statement, parameters in seen:
            if not statement.lstrip().startswith(_NOT_EXPLAINED):
                plan = await connection.exec_driver_sql("explain " + statement, parameters)
                lines += [str(row[0]) for row in plan]
    return Timing(
        check.name,
        check.page,
        _percentile(elapsed, 50),
        _percentile(elapsed, 95),
        rows,
        lines,
    )


# A refresh's lock: nothing to plan.
_NOT_EXPLAINED = "select pg_advisory_xact_lock"


def _percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


async def run(database_url: str, orders: int, runs: int) -> list[Timing]:
    now = datetime.now(UTC).replace(microsecond=0)
    engine = create_engine(database_url, pool_size=2)
    try:
        started = time.perf_counter()
        await seed(engine, orders, now)
        print(f"seeded {orders:,} orders in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        await roll_up(engine)
        print(f"rolled them up in {time.perf_counter() - started:.1f} s", flush=True)
        return [await measure(engine, check, runs) for check in checks(now, orders)]
    finally:
        await engine.dispose()


def report(timings: list[Timing], show_plans: bool) -> bool:
    """Prints the table (and the plans); True when every query meets its targets."""
    print(f"\n{'page':<11}{'query':<30}{'rows':>6}{'p50 ms':>9}{'p95 ms':>9}  index")
    ok = True
    for timing in timings:
        index = "yes" if timing.uses_index else "NO"
        print(
            f"{timing.page:<11}{timing.name:<30}{timing.rows:>6}"
            f"{timing.p50_ms:>9.1f}{timing.p95_ms:>9.1f}  {index}"
        )
        ok = ok and timing.p95_ms < TARGET_P95_MS and timing.uses_index
    print(
        f"\ntarget: p95 < {TARGET_P95_MS:.0f} ms, list and search queries on indexes: "
        f"{'met' if ok else 'NOT met'}"
    )
    if show_plans:
        for timing in timings:
            print(f"\n-- {timing.page}: {timing.name} (each statement it sends)")
            print("\n".join(f"   {line}" for line in timing.plan))
    return ok


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.analytics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to seed")
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each query")
    parser.add_argument(
        "--database-url",
        help="an empty database at the newest schema to seed (default: a PostgreSQL of the "
        "bench's own, removed afterwards)",
    )
    parser.add_argument("--plans", action="store_true", help="print every query's plan")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"bench.analytics: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    if args.database_url:
        timings = asyncio.run(run(args.database_url, args.orders, args.runs))
    else:
        timings = _on_own_postgres(args)
    ok = report(timings, args.plans)
    return 1 if args.strict and not ok else 0


def _on_own_postgres(args: argparse.Namespace) -> list[Timing]:
    from cli import postgres
    from core.db.migrate import upgrade

    # /tmp: the server's unix socket path must stay under 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="pl-bench-db-", dir="/tmp"))
    server = postgres.start(root / "pgdata")
    try:
        upgrade(server.url)
        return asyncio.run(run(server.url, args.orders, args.runs))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
