"""Routing decides once per payment. The payment's first Authorize runs in the same workflow task
as routing, so a worker that dies before Temporal keeps that task runs both again, after the
first call may have reached the processor: the second routing must send it to the same
processor with the same key. Through the routing activity and the real SQL, on a 50/50 split
that would pick either processor on a fresh draw."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import models
from core.db.session import create_engine, session_factory
from core.merchants import create_merchant
from core.processors.registry import register
from core.routing_config import store
from core.routing_config.model import RoutingConfig, Rule, WeightedTarget
from orchestrator.activities.types import RoutePlan
from tests.routing.orders import new_order, route

RUNS = 20


@dataclass
class Split:
    sessions: async_sessionmaker[AsyncSession]
    merchant_id: str
    processors: tuple[str, str]

    async def new_order(self) -> str:
        return await new_order(self.sessions, self.merchant_id)

    async def route(self, order_id: str) -> RoutePlan:
        """The payment workflow's routing step for the order, run once more."""
        return await route(self.sessions, self.merchant_id, order_id)

    async def first_attempt(self, order_id: str) -> tuple[str, str]:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(models.Attempt.processor, models.Attempt.attempt_key).where(
                        models.Attempt.order_id == order_id, models.Attempt.seq == 1
                    )
                )
            ).one()
        return row.processor, row.attempt_key


@pytest.fixture
async def split(postgres_url: str) -> AsyncIterator[Split]:
    engine = create_engine(postgres_url, pool_size=5)
    sessions = session_factory(engine)
    suffix = uuid.uuid4().hex[:8]
    names = (f"left-{suffix}", f"right-{suffix}")
    for name, port in zip(names, (50061, 50062), strict=True):
        await register(sessions, name, f"127.0.0.1:{port}", capabilities={})
    merchant = await create_merchant(sessions, "route once")
    await store.save(
        sessions,
        merchant.id,
        False,
        RoutingConfig(
            rules=(Rule(name="halves", split=tuple(WeightedTarget(name, 50) for name in names)),)
        ),
    )
    yield Split(sessions, merchant.id, names)
    await engine.dispose()


async def test_routing_run_again_gives_back_the_first_plan(split: Split) -> None:
    order_id = await split.new_order()
    first = await split.route(order_id)
    again = [await split.route(order_id) for _ in range(RUNS)]
    assert all(plan == first for plan in again)
    # The read model's first attempt is still the first plan's.
    processor = first.routes[0].processor
    assert (await split.first_attempt(order_id))[0] == processor


async def test_concurrent_runs_of_one_routing_step_agree(split: Split) -> None:
    """A worker that was only slow (not dead) may still be routing when the retry starts."""
    order_id = await split.new_order()
    plans = await asyncio.gather(*(split.route(order_id) for _ in range(5)))
    assert all(plan == plans[0] for plan in plans)
    processor, _ = await split.first_attempt(order_id)
    assert processor == plans[0].routes[0].processor


async def test_each_payment_still_gets_its_own_draw(split: Split) -> None:
    """Deciding once is per order: the split still splits."""
    chosen = {(await split.route(await split.new_order())).routes[0].processor for _ in range(RUNS)}
    assert chosen == set(split.processors)
