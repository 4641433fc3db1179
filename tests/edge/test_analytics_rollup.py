"""Payment analytics from the hourly rollup (edge/analytics_rollup.py), on a real PostgreSQL:
the same answers as the orders themselves give (tests/edge/analytics_reference.py, the
one-statement computation it replaced) for windows on and off the hour, every interval and
grouping; kept exact by the trigger and the refresh as orders are written and changed,
concurrently too; one merchant's mode at a time; and no dirty hour left for long."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.session import create_engine, session_factory
from edge import analytics, analytics_rollup
from edge.analytics import GroupBy, Interval, Query
from edge.auth import Caller
from tests.core.migrated_database import database_at
from tests.edge import analytics_reference
from tests.edge.rollup_data import assert_same_figures, insert_orders

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=3)
M1_TEST = Caller(merchant_id="m1", livemode=False)
M1_LIVE = Caller(merchant_id="m1", livemode=True)
M2_TEST = Caller(merchant_id="m2", livemode=False)

_T = TypeVar("_T")


def _window(start: timedelta, end: timedelta) -> tuple[datetime, datetime]:
    return T0 + start, T0 + end


def _at(hours: int, minutes: int = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes)


WINDOWS = [
    _window(_at(0), SPAN),  # whole hours only
    _window(_at(1, 23) + timedelta(seconds=17), _at(53, 41)),  # both edges partial, days
    _window(_at(5, 10), _at(5, 50)),  # inside one hour
    _window(_at(5, 50), _at(6, 10)),  # two partial hours, no whole one
    _window(_at(0, 30), _at(2)),  # a partial first hour
    _window(_at(22), _at(26, 5)),  # across midnight, a partial last hour
]
QUERIES = [
    Query(start, end, interval, group_by)
    for (start, end), interval, group_by in itertools.product(
        WINDOWS, (None, Interval.HOUR, Interval.DAY), (None, *GroupBy)
    )
]


def _run(url: str, work: Callable[[AsyncEngine], Awaitable[_T]]) -> _T:
    async def main() -> _T:
        engine = create_engine(url, pool_size=4)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _seed(engine: AsyncEngine) -> None:
    """m1's test mode: 3000 orders over three days; m1's live mode and m2: 300 each."""
    async with engine.begin() as connection:
        for merchant in ("m1", "m2"):
            await connection.execute(
                text("insert into merchants (id, name, default_processor) values (:m, :m, 's')"),
                {"m": merchant},
            )
        await insert_orders(connection, "m1", False, 3000, T0, SPAN, "ord_t")
        await insert_orders(connection, "m1", True, 300, T0, SPAN, "ord_l")
        await insert_orders(connection, "m2", False, 300, T0, SPAN, "ord_o")


@pytest.fixture
def seeded(postgres_url: str) -> Iterator[str]:
    with database_at(postgres_url, "head") as url:
        _run(url, _seed)
        yield url


async def _both(
    engine: AsyncEngine, caller: Caller, query: Query
) -> tuple[list[analytics.Bucket], list[analytics.Bucket]]:
    """The rollup's answer, and the orders' own."""
    async with session_factory(engine)() as session:
        found = await analytics.payment_analytics(session, caller, query)
    async with session_factory(engine)() as session:
        reference = await analytics_reference.payment_analytics(session, caller, query)
    return found, reference


async def _assert_as_the_orders_say(
    engine: AsyncEngine, caller: Caller, queries: list[Query]
) -> None:
    for query in queries:
        found, reference = await _both(engine, caller, query)
        assert reference, query
        assert_same_figures(found, reference)


async def _dirty(engine: AsyncEngine) -> list[tuple[str, bool, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "select merchant_id, livemode, count(*) from order_figures_dirty "
                "group by 1, 2 order by 1, 2"
            )
        )
        return [(row[0], row[1], row[2]) for row in rows]


async def _rolled_up(engine: AsyncEngine) -> list[tuple[str, bool, int]]:
    """Per merchant and mode: the orders the rollup counts."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "select merchant_id, livemode, sum(total) from order_figures_hourly "
                "where dimension = '' group by 1, 2 order by 1, 2"
            )
        )
        return [(row[0], row[1], int(row[2])) for row in rows]


def test_the_rollup_answers_as_the_orders_do(seeded: str) -> None:
    async def check(engine: AsyncEngine) -> None:
        await _assert_as_the_orders_say(engine, M1_TEST, QUERIES)
        await _assert_as_the_orders_say(
            engine, M1_LIVE, [q for q in QUERIES if q.start == T0 and q.end == T0 + SPAN]
        )

    _run(seeded, check)


def test_whole_hours_are_read_from_the_rollup_and_partial_ones_from_the_orders(
    seeded: str,
) -> None:
    """What each part of a window is read from: a count planted in the rollup's 05:00 hour
    shows in a window holding that whole hour, and not in one inside it."""

    async def check(engine: AsyncEngine) -> tuple[int, int, int]:
        inside = Query(*_window(_at(5, 10), _at(5, 50)))
        whole = Query(*_window(_at(5), _at(6)))
        found, reference = await _both(engine, M1_TEST, whole)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "update order_figures_hourly set total = total + 1000 "
                    "where merchant_id = 'm1' and not livemode and dimension = '' "
                    "and hour = :hour and currency = 'EUR'"
                ),
                {"hour": T0 + _at(5)},
            )
        [planted] = (await _both(engine, M1_TEST, whole))[0]
        [inside_found], [inside_reference] = await _both(engine, M1_TEST, inside)
        assert inside_found.total == inside_reference.total
        return found[0].total, reference[0].total, planted.total

    before, reference, planted = _run(seeded, check)
    assert (before, planted) == (reference, reference + 1000)


def test_an_old_orders_change_moves_it_between_groups(seeded: str) -> None:
    """A succeeded order of the first day fails, and its amount and currency change: it
    leaves SUCCEEDED for FAILED, and every grouping follows."""
    by_status = Query(T0, T0 + SPAN, None, GroupBy.STATUS)

    async def totals(engine: AsyncEngine) -> dict[str, int]:
        found, _ = await _both(engine, M1_TEST, by_status)
        return {bucket.group: bucket.total for bucket in found}

    async def check(engine: AsyncEngine) -> tuple[dict[str, int], dict[str, int]]:
        before = await totals(engine)
        async with engine.begin() as connection:
            changed = await connection.execute(
                text(
                    "update orders set status = 'failed', failure_code = 'card_declined', "
                    "amount = amount + 1, currency = 'USD' "
                    "where id = (select id from orders where merchant_id = 'm1' "
                    "and not livemode and status = 'succeeded' and currency <> 'USD' "
                    "and created_at < :noon order by created_at limit 1) returning id"
                ),
                {"noon": T0 + _at(12)},
            )
            assert changed.scalar_one()
        after = await totals(engine)
        await _assert_as_the_orders_say(
            engine,
            M1_TEST,
            [
                Query(T0, T0 + SPAN, Interval.DAY, GroupBy.STATUS),
                Query(T0, T0 + SPAN, Interval.HOUR, GroupBy.PROCESSOR),
                Query(T0, T0 + SPAN, None, GroupBy.CURRENCY),
                Query(T0, T0 + SPAN, None, GroupBy.FAILURE_CODE),
            ],
        )
        return before, after

    before, after = _run(seeded, check)
    assert after["SUCCEEDED"] == before["SUCCEEDED"] - 1
    assert after["FAILED"] == before["FAILED"] + 1


def test_a_change_committed_during_a_refresh_is_in_the_next_one(seeded: str) -> None:
    """The refresh never waits for a payment's transaction, and never loses its change: a
    dirty row the refresh could not see yet stays for the next refresh."""
    whole = Query(T0, T0 + SPAN, None, GroupBy.STATUS)

    async def check(engine: AsyncEngine) -> None:
        sessions = session_factory(engine)
        async with sessions() as session:
            await analytics_rollup.refresh(session, "m1", False)
        async with engine.connect() as payment:
            transaction = await payment.begin()
            await payment.execute(
                text(
                    "update orders set status = 'failed', failure_code = 'card_declined' "
                    "where id = 'ord_t3'"
                )
            )
            async with sessions() as session:
                assert await analytics_rollup.refresh(session, "m1", False) == []
            await transaction.commit()
        assert await _dirty(engine) == [("m1", False, 1), ("m1", True, 300), ("m2", False, 300)]
        await _assert_as_the_orders_say(engine, M1_TEST, [whole])
        assert await _dirty(engine) == [("m1", True, 300), ("m2", False, 300)]

    _run(seeded, check)


def test_concurrent_payments_and_refreshes_keep_the_rollup_exact(seeded: str) -> None:
    """Writers create and change m1's orders in many transactions while two refreshers run
    over and over; after them, one refresh, and the rollup is exact."""

    async def writer(engine: AsyncEngine, number: int) -> None:
        for step in range(40):
            async with engine.begin() as connection:
                await insert_orders(
                    connection,
                    "m1",
                    False,
                    3,
                    T0 + _at(step % 70),
                    _at(1),
                    f"ord_w{number}_{step}_",
                )
                await connection.execute(
                    text(
                        "update orders set status = 'failed', failure_code = 'try_again_later', "
                        "payment_latency_ms = coalesce(payment_latency_ms, 0) + 10 "
                        "where id = :id"
                    ),
                    {"id": f"ord_t{1 + (number * 40 + step) * 7 % 3000}"},
                )

    async def refresher(engine: AsyncEngine, done: asyncio.Event) -> int:
        rounds = 0
        while not done.is_set():
            async with session_factory(engine)() as session:
                await analytics_rollup.refresh(session, "m1", False)
            rounds += 1
        return rounds

    async def check(engine: AsyncEngine) -> None:
        done = asyncio.Event()
        refreshers = [asyncio.create_task(refresher(engine, done)) for _ in range(2)]
        await asyncio.gather(*(writer(engine, number) for number in range(4)))
        done.set()
        assert all(rounds > 0 for rounds in await asyncio.gather(*refreshers))
        await _assert_as_the_orders_say(
            engine,
            M1_TEST,
            [q for q in QUERIES if q.start == T0 and q.end == T0 + SPAN],
        )

    _run(seeded, check)


def test_a_refresh_is_its_merchants_and_modes_own(seeded: str) -> None:
    async def check(engine: AsyncEngine) -> None:
        dirty = await _dirty(engine)
        async with session_factory(engine)() as session:
            await analytics_rollup.refresh(session, "m1", False)
        assert await _dirty(engine) == [row for row in dirty if row[:2] != ("m1", False)]
        assert await _rolled_up(engine) == [("m1", False, 3000)]
        # m2 sees its own figures only, m1's remain as they were.
        await _assert_as_the_orders_say(engine, M2_TEST, [Query(T0, T0 + SPAN)])
        assert await _rolled_up(engine) == [("m1", False, 3000), ("m2", False, 300)]

    _run(seeded, check)


def test_every_merchants_dirty_hours_are_refreshed_without_its_asking(seeded: str) -> None:
    """What the edge does every minute (analytics_rollup.refresh_forever): a merchant that
    never opens its analytics keeps no dirty hour beyond the next round."""

    async def check(engine: AsyncEngine) -> None:
        assert await analytics_rollup.refresh_all(session_factory(engine)) == 3
        assert await _dirty(engine) == []
        assert await _rolled_up(engine) == [
            ("m1", False, 3000),
            ("m1", True, 300),
            ("m2", False, 300),
        ]
        assert await analytics_rollup.refresh_all(session_factory(engine)) == 0

    _run(seeded, check)
