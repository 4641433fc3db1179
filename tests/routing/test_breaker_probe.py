"""Circuit breakers past their cool-down, through the routing activity and the real SQL: only a
first route claims the one probe; a fallback stays in line without leasing the breaker, and
whichever payment reaches it closes or reopens it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.contracts.vocabulary import BreakerVerdict, CandidateDecision, CandidateReason
from core.db import models
from core.db.session import create_engine, session_factory
from core.merchants import create_merchant
from core.processors.registry import register
from core.routing_config import store
from core.routing_config.model import RoutingConfig, Rule
from orchestrator.activities.types import RoutedCandidate, RoutePlan
from orchestrator.routing_engine import breaker
from tests.routing.orders import new_order, route


@dataclass
class Routing:
    sessions: async_sessionmaker[AsyncSession]
    merchant_id: str
    primary: str
    fallback: str

    async def route(self) -> RoutePlan:
        """Routes a new order of the merchant, as the payment workflow's first step does."""
        order_id = await new_order(self.sessions, self.merchant_id)
        return await route(self.sessions, self.merchant_id, order_id)

    async def open_past_cool_down(self, processor: str) -> None:
        """Opens the breaker the way failures do, then ages it past its cool-down."""
        for _ in range(breaker.THRESHOLD):
            await self.report(processor, answered=False)
        async with self.sessions.begin() as session:
            await session.execute(
                update(models.ProcessorHealth)
                .where(models.ProcessorHealth.processor == processor)
                .values(opened_at=func.now() - 2 * breaker.COOL_DOWN)
            )

    async def report(self, processor: str, answered: bool) -> None:
        async with self.sessions.begin() as session:
            await breaker.report(session, processor, answered)

    async def breaker_row(self, processor: str) -> tuple[str, object]:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(
                        models.ProcessorHealth.state, models.ProcessorHealth.probe_started_at
                    ).where(models.ProcessorHealth.processor == processor)
                )
            ).one()
        return row.state, row.probe_started_at

    async def availability(self) -> dict[str, BreakerVerdict]:
        async with self.sessions() as session:
            return await breaker.availability(session, [self.primary, self.fallback])


@pytest.fixture
async def routing(postgres_url: str) -> AsyncIterator[Routing]:
    engine = create_engine(postgres_url, pool_size=2)
    sessions = session_factory(engine)
    # Names of this test's own: breakers are per processor name.
    suffix = uuid.uuid4().hex[:8]
    primary, fallback = f"primary-{suffix}", f"fallback-{suffix}"
    for name, port in ((primary, 50061), (fallback, 50062)):
        await register(sessions, name, f"127.0.0.1:{port}", capabilities={})
    merchant = await create_merchant(sessions, "breaker probe")
    await store.save(
        sessions,
        merchant.id,
        False,
        RoutingConfig(rules=(Rule(name="all", failover=(primary, fallback)),)),
    )
    yield Routing(sessions, merchant.id, primary, fallback)
    await engine.dispose()


def routed(plan: RoutePlan) -> list[str]:
    return [route.processor for route in plan.routes]


async def test_a_fallback_past_cool_down_stays_routable_and_is_not_leased(routing: Routing) -> None:
    await routing.open_past_cool_down(routing.fallback)
    first = await routing.route()
    assert routed(first) == [routing.primary, routing.fallback]
    assert first.considered[1] == RoutedCandidate(
        routing.fallback, CandidateDecision.CANDIDATE, CandidateReason.CIRCUIT_HALF_OPEN
    )
    # A payment that may never call the fallback took no probe lease on it...
    assert await routing.breaker_row(routing.fallback) == ("open", None)
    # ...so the next payment still has it as a fallback, rather than `circuit_open`.
    second = await routing.route()
    assert routed(second) == [routing.primary, routing.fallback]


async def test_a_first_route_past_cool_down_is_probed_by_one_payment_only(routing: Routing) -> None:
    await routing.open_past_cool_down(routing.primary)
    probe = await routing.route()
    assert routed(probe) == [routing.primary, routing.fallback]
    assert probe.considered[0] == RoutedCandidate(
        routing.primary, CandidateDecision.CANDIDATE, CandidateReason.RULE_ORDER
    )
    assert (await routing.breaker_row(routing.primary))[0] == "half_open"
    while_probing = await routing.route()
    assert routed(while_probing) == [routing.fallback]
    assert (
        RoutedCandidate(routing.primary, CandidateDecision.SKIPPED, CandidateReason.CIRCUIT_OPEN)
        in while_probing.considered
    )


async def test_an_answer_from_an_unleased_fallback_closes_its_breaker(routing: Routing) -> None:
    await routing.open_past_cool_down(routing.fallback)
    await routing.route()
    await routing.report(routing.fallback, answered=True)
    assert await routing.availability() == {}
    assert (await routing.route()).considered[1].reason == "rule_order"


async def test_a_failure_of_an_unleased_fallback_reopens_its_breaker(routing: Routing) -> None:
    await routing.open_past_cool_down(routing.fallback)
    await routing.route()
    await routing.report(routing.fallback, answered=False)
    # A new cool-down: the next payments skip it instead of each waiting on a dead processor.
    assert await routing.availability() == {routing.fallback: "blocked"}
    after = await routing.route()
    assert routed(after) == [routing.primary]
    assert (
        RoutedCandidate(routing.fallback, CandidateDecision.SKIPPED, CandidateReason.CIRCUIT_OPEN)
        in after.considered
    )
