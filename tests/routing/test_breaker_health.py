"""A breaker as the API shows it (breaker.health), through the real SQL, judged as routing
judges it: open and cooling down, then ready for a probe, probing, closed again. Every step runs
in one transaction, where the database's clock stands still, so no step depends on how long
the one before took."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.contracts.vocabulary import BreakerState, BreakerVerdict
from core.db import models
from core.db.session import create_engine, session_factory
from orchestrator.routing_engine import breaker
from orchestrator.routing_engine.breaker import COOL_DOWN, PROBE_LEASE, THRESHOLD, Health


@pytest.fixture
async def session(postgres_url: str) -> AsyncIterator[AsyncSession]:
    """One transaction, rolled back at the end: the breakers it wrote leave no trace."""
    engine = create_engine(postgres_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin() as transaction:
            yield session
            await transaction.rollback()
    finally:
        await engine.dispose()


async def shown(session: AsyncSession, processor: str) -> Health:
    return (await breaker.health(session, [processor]))[processor]


async def verdict(session: AsyncSession, processor: str) -> BreakerVerdict | None:
    """What routing makes of the breaker: None when it is closed."""
    return (await breaker.availability(session, [processor])).get(processor)


async def age_opening(session: AsyncSession, processor: str, opened_at: datetime) -> None:
    await session.execute(
        update(models.ProcessorHealth)
        .where(models.ProcessorHealth.processor == processor)
        .values(opened_at=opened_at)
    )


async def test_health_follows_the_breaker_and_agrees_with_routing(session: AsyncSession) -> None:
    name = f"health-{uuid.uuid4().hex[:8]}"
    now = (await session.execute(select(func.now()))).scalar_one()

    assert await shown(session, name) == Health(BreakerState.CLOSED, 0, None, None, False, None)

    for _ in range(THRESHOLD - 1):
        await breaker.report(session, name, answered=False)
    assert await shown(session, name) == Health(
        BreakerState.CLOSED, THRESHOLD - 1, None, None, False, now
    )
    assert await verdict(session, name) is None

    await breaker.report(session, name, answered=False)
    assert await shown(session, name) == Health(
        BreakerState.OPEN, THRESHOLD, now, now + COOL_DOWN, False, now
    )
    assert await verdict(session, name) == BreakerVerdict.BLOCKED

    # The cool-down ends exactly at the retry time: routing now lets one payment probe.
    await age_opening(session, name, now - COOL_DOWN)
    assert await shown(session, name) == Health(
        BreakerState.OPEN, THRESHOLD, now - COOL_DOWN, now, True, now
    )
    assert await verdict(session, name) == BreakerVerdict.PROBE

    assert await breaker.claim_probe(session, name)
    assert await shown(session, name) == Health(
        BreakerState.HALF_OPEN, THRESHOLD, now - COOL_DOWN, now + PROBE_LEASE, False, now
    )
    assert await verdict(session, name) == BreakerVerdict.BLOCKED

    await breaker.report(session, name, answered=True)
    assert await shown(session, name) == Health(BreakerState.CLOSED, 0, None, None, False, now)


async def test_health_answers_for_every_processor_asked_for(session: AsyncSession) -> None:
    down, up = f"down-{uuid.uuid4().hex[:8]}", f"up-{uuid.uuid4().hex[:8]}"
    for _ in range(THRESHOLD):
        await breaker.report(session, down, answered=False)
    health = await breaker.health(session, [down, up])
    assert list(health) == [down, up]
    assert (health[down].state, health[up]) == (BreakerState.OPEN, breaker.NEVER_FAILED)
