"""Circuit breakers per processor, kept in PostgreSQL so every worker sees the same state.

closed: calls flow. After `THRESHOLD` consecutive failures (unreachable or outcome unknown)
within `WINDOW`, the breaker opens and routing skips the processor. After `COOL_DOWN` the
processor may be tried again: a payment that routes to it first claims the probe (half-open),
so exactly one such payment goes; as a fallback it stays in line without a claim, because
most payments never reach their fallbacks and a claim would block it for everyone. Any answer
closes the breaker; a failure after the cool-down opens it again at once. A probe that never
reports back expires after `PROBE_LEASE`, so a crashed worker cannot hold the breaker
half-open forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.contracts.vocabulary import BreakerState, BreakerVerdict
from core.db import models

THRESHOLD = 5
WINDOW = timedelta(seconds=30)
COOL_DOWN = timedelta(seconds=5)
PROBE_LEASE = timedelta(seconds=30)

_H = models.ProcessorHealth
_HEALTH = models.table_of(models.ProcessorHealth)
_NOW = func.now()
# What a breaker that is not closed lets routing do now (meaningless for a closed one).
_VERDICT = case(
    (
        or_(
            and_(_H.state == BreakerState.OPEN, _H.opened_at > _NOW - COOL_DOWN),
            and_(_H.state == BreakerState.HALF_OPEN, _H.probe_started_at > _NOW - PROBE_LEASE),
        ),
        BreakerVerdict.BLOCKED.value,
    ),
    else_=BreakerVerdict.PROBE.value,
)
_NAMED = _H.processor.in_(bindparam("names", expanding=True))
# The two statements every payment runs, built once (see orchestrator/activities/orders.py).
_NOT_CLOSED = select(_H.processor, _VERDICT).where(_NAMED, _H.state != BreakerState.CLOSED)
# Only a breaker that is not already closed and clean is written: in steady state every
# payment answers, and a write per payment to one row would serialize them all.
_CLOSE = (
    update(_HEALTH)
    .where(
        _HEALTH.c.processor == bindparam("name"),
        or_(_HEALTH.c.state != BreakerState.CLOSED, _HEALTH.c.consecutive_failures != 0),
    )
    .values(
        state=BreakerState.CLOSED,
        consecutive_failures=0,
        window_started_at=None,
        opened_at=None,
        probe_started_at=None,
        updated_at=_NOW,
    )
)
# What the API shows of the breakers; the retry time is when one stops blocking: the end of
# the cool-down, or of the probe's lease.
_RETRY_AT = case(
    (_H.state == BreakerState.OPEN, _H.opened_at + COOL_DOWN),
    (_H.state == BreakerState.HALF_OPEN, _H.probe_started_at + PROBE_LEASE),
)
_HEALTH_ROWS = select(
    _H.processor,
    _H.state,
    _H.consecutive_failures,
    _H.opened_at,
    _RETRY_AT,
    _VERDICT,
    _H.updated_at,
).where(_NAMED)


async def availability(session: AsyncSession, processors: list[str]) -> dict[str, BreakerVerdict]:
    """For each processor with a breaker row that is not closed: BLOCKED (open and cooling
    down, or its probe is taken) or PROBE (ready for one probe, to be claimed). Processors not
    in the result are closed: one query, and no writes, in the common case."""
    rows = await session.execute(_NOT_CLOSED, {"names": processors})
    return {name: BreakerVerdict(verdict) for name, verdict in rows}


@dataclass(frozen=True)
class Health:
    """A breaker as the API shows it (ListAvailableProcessors): what routing does with the
    processor now, and since when."""

    state: BreakerState
    consecutive_failures: int
    opened_at: datetime | None
    # When it stops blocking routing: the cool-down's end (open) or the probe lease's
    # (half-open); None when closed.
    retry_at: datetime | None
    # Past `retry_at`: the next payment routed to the processor probes it.
    probe_ready: bool
    updated_at: datetime | None


# A processor without a breaker row has never failed.
NEVER_FAILED = Health(BreakerState.CLOSED, 0, None, None, False, None)


async def health(session: AsyncSession, processors: list[str]) -> dict[str, Health]:
    """Each processor's breaker, judged by the database's clock as routing judges it."""
    rows = await session.execute(_HEALTH_ROWS, {"names": processors})
    found = {
        name: Health(
            state=BreakerState(state),
            consecutive_failures=failures,
            opened_at=opened_at,
            retry_at=retry_at,
            probe_ready=state != BreakerState.CLOSED and verdict == BreakerVerdict.PROBE,
            updated_at=updated_at,
        )
        for name, state, failures, opened_at, retry_at, verdict, updated_at in rows
    }
    return {name: found.get(name, NEVER_FAILED) for name in processors}


async def claim_probe(session: AsyncSession, processor: str) -> bool:
    """Takes the one probe of a breaker past its cool-down; False if another worker took it."""
    now = func.now()
    claimed = await session.execute(
        update(_H)
        .where(
            _H.processor == processor,
            or_(
                and_(_H.state == BreakerState.OPEN, _H.opened_at <= now - COOL_DOWN),
                and_(_H.state == BreakerState.HALF_OPEN, _H.probe_started_at <= now - PROBE_LEASE),
            ),
        )
        .values(state=BreakerState.HALF_OPEN, probe_started_at=now, updated_at=now)
        .returning(_H.processor)
    )
    return claimed.first() is not None


async def report(session: AsyncSession, processor: str, answered: bool) -> None:
    if answered:
        await session.execute(_CLOSE, {"name": processor})
        return
    now = func.now()
    # Columns on the right-hand side are the existing row's (ON CONFLICT DO UPDATE).
    in_window = _H.window_started_at > now - WINDOW
    failures = case((in_window, _H.consecutive_failures + 1), else_=1)
    # A failed probe reopens at once, whether it was claimed (half-open) or a fallback tried
    # past the cool-down (still open); a closed breaker opens at the threshold; an open one in
    # its cool-down keeps its opening time, so in-flight failures do not stretch it.
    trips = or_(
        _H.state == BreakerState.HALF_OPEN,
        and_(_H.state == BreakerState.OPEN, _H.opened_at <= now - COOL_DOWN),
        and_(_H.state == BreakerState.CLOSED, failures >= THRESHOLD),
    )
    statement = insert(_H).values(
        processor=processor,
        state=BreakerState.CLOSED,
        consecutive_failures=1,
        window_started_at=now,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[_H.processor],
            set_={
                "consecutive_failures": failures,
                "window_started_at": case((in_window, _H.window_started_at), else_=now),
                "state": case((trips, BreakerState.OPEN), else_=_H.state),
                "opened_at": case((trips, now), else_=_H.opened_at),
                "updated_at": now,
            },
        )
    )
