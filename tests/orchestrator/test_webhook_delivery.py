"""The webhook delivery workflow on Temporal's time-skipping dev server, with its real
activities, a real PostgreSQL and real HTTP receivers on loopback: the whole 3-day retry
schedule against an endpoint that refuses every connection runs to the end (delivery failed,
endpoint disabled, a webhook_endpoint.disabled event delivered to the merchant's other
endpoint) in seconds of wall time; a redelivery is a new run that continues the attempt
numbers; an endpoint disabled meanwhile gets nothing more. (The time-skipping server is
conftest.py's: without its settings the 22 attempts would take 24 s of wall time.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from core import ids
from core.config import Settings
from core.contracts import events
from core.db import models
from core.db.session import create_engine, session_factory
from core.secrets import SecretBox, new_key
from core.webhooks import deliveries as webhook_deliveries
from core.webhooks import signing as webhook_signing
from core.webhooks.deliveries import RetrySchedule, delivery_id, workflow_id
from core.webhooks.destinations import parse_allowlist
from orchestrator.activities.webhooks import WebhookActivities
from orchestrator.workflows.webhook_delivery import WebhookDeliveryWorkflow, retry_wait
from payloops.sdk import webhooks
from tests.conftest import free_port
from tests.orchestrator.codec import ENCRYPTION

pytestmark = pytest.mark.slow

SCHEDULE = RetrySchedule()  # the production schedule: 30 s doubling, 6 h cap, 3 days


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A merchant's endpoint on 127.0.0.1: answers each POST with `answer(request)`."""

    def __init__(self, answer: Callable[[Received], int] = lambda _: 200) -> None:
        self.requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received = Received(dict(self.headers.items()), body)
                receiver.requests.append(received)
                self.send_response(answer(received))
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    served = Receiver()
    yield served
    served.close()


@dataclasses.dataclass
class World:
    client: Client
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    activities: WebhookActivities
    task_queue: str
    merchant_id: str

    async def endpoint(self, url: str, enabled_events: list[str]) -> tuple[str, str]:
        """A new enabled test-mode endpoint: its id and its secret."""
        secret = webhook_signing.new_secret()
        endpoint_id = ids.new_id("we")
        async with self.sessions.begin() as session:
            session.add(
                models.WebhookEndpoint(
                    id=endpoint_id,
                    merchant_id=self.merchant_id,
                    livemode=False,
                    url=url,
                    enabled_events=enabled_events,
                    status="enabled",
                    secrets=self.box.seal({"current": secret}),
                )
            )
        return endpoint_id, secret

    async def event(self, type: str = events.ORDER_SUCCEEDED) -> str:
        order_id = f"ord_{uuid.uuid4().hex[:20]}"
        async with self.sessions.begin() as session:
            return await events.record(
                session,
                merchant_id=self.merchant_id,
                livemode=False,
                type=type,
                obj={"id": order_id, "amount": "4999", "attempts": 1},
                key=f"test:{uuid.uuid4()}",
                order_id=order_id,
            )

    async def dispatch(self, event_id: str) -> int:
        """The dispatch_event activity itself, as a payment workflow calls it."""
        activity_env = ActivityEnvironment(client=self.client)
        activity_env.info = dataclasses.replace(activity_env.info, task_queue=self.task_queue)
        return await activity_env.run(self.activities.dispatch_event, event_id)

    async def attempts(self, delivery: str) -> list[models.DeliveryAttempt]:
        async with self.sessions() as session:
            return list(
                (
                    await session.execute(
                        select(models.DeliveryAttempt)
                        .where(models.DeliveryAttempt.delivery_id == delivery)
                        .order_by(models.DeliveryAttempt.attempt_number)
                    )
                ).scalars()
            )

    async def row(self, model: type[Any], key: str) -> Any:
        async with self.sessions() as session:
            return await session.get(model, key)


@pytest_asyncio.fixture(loop_scope="session")
async def world(temporal_env: WorkflowEnvironment, postgres_url: str) -> AsyncIterator[World]:
    engine = create_engine(postgres_url, pool_size=4)
    sessions = session_factory(engine)
    box = SecretBox((new_key(),))
    merchant_id = ids.new_id("mer")
    async with sessions.begin() as session:
        session.add(models.Merchant(id=merchant_id, name="webhooks", default_processor="sandbox"))
    # The receivers listen on loopback, as a developer's do under `payloops dev`.
    settings = Settings(
        database_url=postgres_url, webhook_test_allowlist=parse_allowlist("127.0.0.1")
    )
    activities = WebhookActivities(sessions, box, settings)
    task_queue = f"webhooks-{uuid.uuid4()}"
    async with Worker(
        temporal_env.client,
        task_queue=task_queue,
        workflows=[WebhookDeliveryWorkflow],
        activities=[
            activities.dispatch_event,
            activities.begin_delivery,
            activities.attempt_delivery,
            activities.record_lost_attempt,
            activities.give_up_delivery,
        ],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield World(temporal_env.client, sessions, box, activities, task_queue, merchant_id)
    await engine.dispose()


def attempt_bounds(schedule: RetrySchedule) -> tuple[int, int]:
    """How many attempts the schedule makes with the longest and with the shortest waits."""
    counts = []
    for draw in (0.999999, 0.0):
        elapsed, retries, made = 0.0, 0, 1
        while (remaining := schedule.give_up_after_seconds - elapsed) >= 1:
            elapsed += min(retry_wait(schedule, retries, draw), remaining)
            retries += 1
            made += 1
        counts.append(made)
    return counts[0], counts[1]


async def test_three_days_of_refused_connections_disable_the_endpoint(
    world: World, receiver: Receiver
) -> None:
    down_url = f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    down, _ = await world.endpoint(down_url, ["*"])
    other, other_secret = await world.endpoint(receiver.url, [events.WEBHOOK_ENDPOINT_DISABLED])
    event_id = await world.event()

    assert await world.dispatch(event_id) == 1  # only `down` takes order.succeeded
    delivery = delivery_id(event_id, down)
    handle = world.client.get_workflow_handle_for(
        WebhookDeliveryWorkflow.run, workflow_id(delivery)
    )
    result = await handle.result()
    # The worker runs workflows unsandboxed; replaying the run under the sandbox catches
    # clocks, randomness or I/O that would make it non-deterministic.
    await Replayer(workflows=[WebhookDeliveryWorkflow], plugins=[ENCRYPTION]).replay_workflow(
        await handle.fetch_history()
    )

    fewest, most = attempt_bounds(SCHEDULE)
    assert result.status == "failed"
    assert result.endpoint_disabled
    assert fewest <= result.attempts <= most, (fewest, result.attempts, most)
    span = datetime.fromisoformat(result.last_attempt_at) - datetime.fromisoformat(
        result.first_attempt_at
    )
    assert timedelta(days=3) <= span < timedelta(days=3, minutes=5)
    attempts = await world.attempts(delivery)
    assert [a.attempt_number for a in attempts] == list(range(1, result.attempts + 1))
    assert {(a.http_status, a.error) for a in attempts} == {(0, "connection_refused")}
    failed = await world.row(models.EventDelivery, delivery)
    assert (failed.status, failed.next_attempt_at) == ("failed", None)

    endpoint = await world.row(models.WebhookEndpoint, down)
    assert endpoint.status == "disabled"
    assert endpoint.disabled_reason.startswith("failing_since:")
    async with world.sessions() as session:
        [disabled_event] = (
            await session.execute(
                select(models.Event).where(
                    models.Event.merchant_id == world.merchant_id,
                    models.Event.type == events.WEBHOOK_ENDPOINT_DISABLED,
                )
            )
        ).scalars()
    assert disabled_event.object["id"] == down
    assert disabled_event.object["status"] == "DISABLED"
    assert "secret" not in disabled_event.object or not disabled_event.object["secret"]

    # The merchant's other endpoint is told, signed with its own secret.
    told = delivery_id(disabled_event.id, other)
    assert (
        await world.client.get_workflow_handle_for(
            WebhookDeliveryWorkflow.run, workflow_id(told)
        ).result()
    ).status == "succeeded"
    [request] = receiver.requests
    sent = webhooks.verify(request.body, request.headers["PayLoops-Signature"], other_secret)
    assert sent["id"] == disabled_event.id == request.headers["PayLoops-Event-Id"]
    assert sent["type"] == "webhook_endpoint.disabled"
    assert sent["object"]["disabled_reason"] == endpoint.disabled_reason


async def test_a_redelivery_is_a_new_run_that_continues_the_attempt_numbers(
    world: World, receiver: Receiver
) -> None:
    endpoint, secret = await world.endpoint(receiver.url, [events.ORDER_SUCCEEDED])
    event_id = await world.event()
    assert await world.dispatch(event_id) == 1
    delivery = delivery_id(event_id, endpoint)
    handle = world.client.get_workflow_handle_for(
        WebhookDeliveryWorkflow.run, workflow_id(delivery)
    )
    first = await handle.result()
    assert (first.status, first.attempts) == ("succeeded", 1)
    # Dispatching again (a retried activity) neither creates nor sends anything.
    assert await world.dispatch(event_id) == 0
    assert len(receiver.requests) == 1

    async with world.sessions() as session:
        [row] = (
            await session.execute(
                select(models.EventDelivery).where(models.EventDelivery.event_id == event_id)
            )
        ).scalars()
    await webhook_deliveries.redeliver(world.client, world.task_queue, SCHEDULE, [row])
    second = await world.client.get_workflow_handle_for(
        WebhookDeliveryWorkflow.run, workflow_id(delivery)
    ).result()
    assert second.status == "succeeded"

    attempts = await world.attempts(delivery)
    assert [(a.attempt_number, a.http_status) for a in attempts] == [(1, 200), (2, 200)]
    assert [r.headers["PayLoops-Delivery-Attempt"] for r in receiver.requests] == ["1", "2"]
    bodies = [
        webhooks.verify(r.body, r.headers["PayLoops-Signature"], secret) for r in receiver.requests
    ]
    assert [b["id"] for b in bodies] == [event_id, event_id]
    assert bodies[0]["object"]["attempts"] == 1  # integers stay integers, as the API prints them


async def test_an_endpoint_disabled_meanwhile_gets_nothing_more(world: World) -> None:
    loop = asyncio.get_running_loop()
    endpoint_id = ""

    async def disable() -> None:
        async with world.sessions.begin() as session:
            await session.execute(
                update(models.WebhookEndpoint)
                .where(models.WebhookEndpoint.id == endpoint_id)
                .values(status="disabled")
            )

    def unavailable_and_disabled_by_the_merchant(_: Received) -> int:
        # The merchant disables the endpoint while its first delivery fails.
        asyncio.run_coroutine_threadsafe(disable(), loop).result(timeout=10)
        return 503

    failing = Receiver(unavailable_and_disabled_by_the_merchant)
    try:
        endpoint_id, _ = await world.endpoint(failing.url, ["*"])
        event_id = await world.event()
        assert await world.dispatch(event_id) == 1
        delivery = delivery_id(event_id, endpoint_id)
        result = await world.client.get_workflow_handle_for(
            WebhookDeliveryWorkflow.run, workflow_id(delivery)
        ).result()
    finally:
        failing.close()
    assert (result.status, result.attempts, result.endpoint_disabled) == ("failed", 1, False)
    assert len(failing.requests) == 1  # the second attempt found it disabled and sent nothing
    assert [(a.attempt_number, a.http_status, a.error) for a in await world.attempts(delivery)] == [
        (1, 503, "http_status")
    ]
    assert (await world.row(models.EventDelivery, delivery)).status == "failed"
    endpoint = await world.row(models.WebhookEndpoint, endpoint_id)
    assert (endpoint.status, endpoint.disabled_reason) == ("disabled", "")


def test_the_schedule_doubles_from_30_seconds_to_a_6_hour_cap_with_jitter() -> None:
    assert [round(retry_wait(SCHEDULE, n, 0.5)) for n in range(5)] == [30, 60, 120, 240, 480]
    assert retry_wait(SCHEDULE, 40, 0.5) == 6 * 3600
    assert retry_wait(SCHEDULE, 0, 0.0) == pytest.approx(24)
    assert retry_wait(SCHEDULE, 0, 0.999999) == pytest.approx(36)
    # 30 s … 4.3 h doubling (10 waits), then 6 h waits to the end of the third day.
    assert attempt_bounds(SCHEDULE) == (20, 25)
