"""The record_progress activity against the real SQL: the payment's end-to-end latency
(payment_latency_seconds) is recorded once per payment, even when Temporal retries a write that
had committed (the worker died, or the completion was lost, after the commit); a payment that
nothing can take ends in the routing step, which records it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from core import ids, metrics
from core.contracts.vocabulary import OrderStatus
from core.db import models
from core.db.session import create_engine, session_factory
from core.routing_config import store
from core.routing_config.model import RoutingConfig, Rule
from orchestrator.activities.orders import OrderActivities
from orchestrator.activities.types import OrderUpdate, Progress
from tests.routing.orders import new_order, route


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(postgres_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def latencies(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemoryMetricReader]:
    """What the worker records as payment_latency_seconds, read from a provider of the test's
    own (the process-wide one may be set only once)."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    histogram = provider.get_meter("payloops").create_histogram("payment_latency_seconds")
    monkeypatch.setattr(metrics, "_payment_latency", histogram)
    yield reader
    provider.shutdown()


def recorded(reader: InMemoryMetricReader) -> list[tuple[str, int]]:
    data = reader.get_metrics_data()
    return [
        (str(point.attributes["status"]), point.count)
        for resource in (data.resource_metrics if data else [])
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint) and point.attributes
    ]


async def test_a_retried_write_that_ends_the_payment_records_its_latency_once(
    sessions: async_sessionmaker[AsyncSession], latencies: InMemoryMetricReader
) -> None:
    merchant_id = ids.new_id("mer")
    async with sessions.begin() as session:
        session.add(models.Merchant(id=merchant_id, name="latency", default_processor="sandbox"))
    order_id = await new_order(sessions, merchant_id)
    record = OrderActivities(sessions).record_progress
    processing = Progress(order=OrderUpdate(order_id=order_id, status=OrderStatus.PROCESSING))
    succeeded = Progress(
        order=OrderUpdate(
            order_id=order_id,
            status=OrderStatus.SUCCEEDED,
            amount_received=1500,
            pay_seconds=0.8,
        )
    )
    env = ActivityEnvironment()
    await env.run(record, processing)
    await env.run(record, succeeded)
    await env.run(record, succeeded)  # Temporal's retry of a write that had committed
    assert recorded(latencies) == [(str(OrderStatus.SUCCEEDED), 1)]
    async with sessions() as session:
        order = await session.get(models.Order, order_id)
        assert order is not None and order.status == OrderStatus.SUCCEEDED


async def test_a_payment_no_processor_can_take_records_its_latency_once(
    sessions: async_sessionmaker[AsyncSession], latencies: InMemoryMetricReader
) -> None:
    merchant_id = ids.new_id("mer")
    async with sessions.begin() as session:
        session.add(models.Merchant(id=merchant_id, name="no route", default_processor="sandbox"))
    # Its one rule names a processor registered nowhere, with no fallback: routing finds no
    # route, whatever else the database has registered.
    nowhere = RoutingConfig(rules=(Rule(name="all", failover=(ids.new_id("nowhere"),)),))
    await store.save(sessions, merchant_id, False, nowhere)
    order_id = await new_order(sessions, merchant_id)
    plan = await route(sessions, merchant_id, order_id)
    again = await route(sessions, merchant_id, order_id)  # a run after a lost completion
    assert plan.failure_code and again == plan and not plan.routes
    assert recorded(latencies) == [(str(OrderStatus.FAILED), 1)]
    async with sessions() as session:
        order = await session.get(models.Order, order_id)
        assert order is not None and order.status == OrderStatus.FAILED
