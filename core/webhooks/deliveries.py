"""Starting webhook deliveries: what the worker (dispatch_event, after an event is recorded) and
the edge (RedeliverEvent) both do, and the delivery workflow's contract: its name, id scheme,
input and `redeliver` signal. Plain dataclasses, so the edge needs no import of the
orchestrator.

Ids. A delivery is one event on its way to one endpoint: its id is derived from the pair
(`evd_` + hash), so recording it again finds the same row. Its workflow id is derived from the
delivery id, so there is one workflow chain per delivery:
- dispatch starts it with REJECT_DUPLICATE (a finished delivery never runs again by accident;
  past the server's retention the delivery's own status, no longer pending, says so) and
  USE_EXISTING (a running one is left alone);
- a redelivery is a signal-with-start of the `redeliver` signal with ALLOW_DUPLICATE: a new run
  of the same workflow id if the last one finished (its attempts continue the numbering from
  the database), or, if one is still retrying, that run attempts now. One run at a time per
  delivery, so attempt numbers never collide.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.config import Settings
from core.contracts.vocabulary import DeliveryStatus, EndpointStatus
from core.db import models
from core.logs import correlation_id

log = logging.getLogger("payloops.webhooks")

WORKFLOW_TYPE = "WebhookDeliveryWorkflow"
REDELIVER_SIGNAL = "redeliver"
ALL_EVENTS = "*"

# The documented schedule: retried with backoff for up to 3 days, waits capped at 6 hours.
MAX_RETRY_SECONDS = 6 * 3600.0
GIVE_UP_AFTER_SECONDS = 3 * 86400.0


def delivery_id(event_id: str, endpoint_id: str) -> str:
    return "evd_" + hashlib.sha256(f"{event_id}:{endpoint_id}".encode()).hexdigest()[:28]


def workflow_id(delivery: str) -> str:
    return f"webhook-{delivery}"


@dataclass(frozen=True)
class RetrySchedule:
    """When a failed delivery is tried again: `first_retry_seconds`, then twice as long each
    time (with jitter), each wait at most `max_retry_seconds`, until `give_up_after_seconds`
    after the first attempt. One POST may take `timeout_seconds`."""

    first_retry_seconds: float = 30.0
    max_retry_seconds: float = MAX_RETRY_SECONDS
    give_up_after_seconds: float = GIVE_UP_AFTER_SECONDS
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrySchedule:
        return cls(
            first_retry_seconds=settings.webhook_retry_first_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
        )


@dataclass(frozen=True)
class DeliveryInput:
    delivery_id: str
    event_id: str
    endpoint_id: str
    # In the input (not read by the workflow from settings) so a test can run the real
    # 3-day schedule, and a deployment's change applies to new deliveries only.
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    # The request's or the payment's that caused the delivery: the worker's correlation
    # interceptor puts it in the log lines of the delivery's activities. Empty in deliveries
    # started before it was carried.
    correlation_id: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    """How a delivery workflow run ended: succeeded, or failed (given up, or the endpoint was
    disabled or deleted meanwhile). Times are the workflow's clock, ISO 8601."""

    status: DeliveryStatus
    attempts: int
    first_attempt_at: str = ""
    last_attempt_at: str = ""
    endpoint_disabled: bool = False


def takes(endpoint: models.WebhookEndpoint, event_type: str) -> bool:
    return ALL_EVENTS in endpoint.enabled_events or event_type in endpoint.enabled_events


async def listening_endpoints(
    session: AsyncSession, event: models.Event
) -> list[models.WebhookEndpoint]:
    """The merchant's enabled endpoints, in the event's mode, that take its type."""
    rows = await session.execute(
        select(models.WebhookEndpoint)
        .where(
            models.WebhookEndpoint.merchant_id == event.merchant_id,
            models.WebhookEndpoint.livemode == event.livemode,
            models.WebhookEndpoint.status == EndpointStatus.ENABLED,
        )
        .order_by(models.WebhookEndpoint.created_at, models.WebhookEndpoint.id)
    )
    return [endpoint for endpoint in rows.scalars() if takes(endpoint, event.type)]


async def ensure_deliveries(
    session: AsyncSession,
    event: models.Event,
    endpoints: Sequence[models.WebhookEndpoint],
) -> list[models.EventDelivery]:
    """The event's delivery to each endpoint, created if it is not there yet."""
    if not endpoints:
        return []
    ids = [delivery_id(event.id, endpoint.id) for endpoint in endpoints]
    await session.execute(
        insert(models.EventDelivery)
        .values(
            [
                {
                    "id": new_id,
                    "event_id": event.id,
                    "endpoint_id": endpoint.id,
                    "status": DeliveryStatus.PENDING,
                }
                for new_id, endpoint in zip(ids, endpoints, strict=True)
            ]
        )
        .on_conflict_do_nothing()
    )
    rows = await session.execute(
        select(models.EventDelivery)
        .where(models.EventDelivery.id.in_(ids))
        .execution_options(populate_existing=True)
    )
    by_id = {row.id: row for row in rows.scalars()}
    return [by_id[new_id] for new_id in ids]


async def start(
    client: Client,
    task_queue: str,
    schedule: RetrySchedule,
    deliveries: Sequence[models.EventDelivery],
) -> int:
    """Starts the workflow of each delivery that has none running; returns how many are under
    way now (started here or already running). Idempotent."""
    under_way = 0
    for delivery in deliveries:
        try:
            await client.start_workflow(
                WORKFLOW_TYPE,
                _input(delivery, schedule),
                id=workflow_id(delivery.id),
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        except WorkflowAlreadyStartedError:
            log.info("delivery %s already ran; not started again", delivery.id)
            continue
        under_way += 1
    return under_way


async def redeliver(
    client: Client,
    task_queue: str,
    schedule: RetrySchedule,
    deliveries: Sequence[models.EventDelivery],
) -> None:
    """Sends each delivery again now: a new run of its workflow, or an attempt now by the run
    that is still retrying."""
    for delivery in deliveries:
        await client.start_workflow(
            WORKFLOW_TYPE,
            _input(delivery, schedule),
            id=workflow_id(delivery.id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            start_signal=REDELIVER_SIGNAL,
        )


def _input(delivery: models.EventDelivery, schedule: RetrySchedule) -> DeliveryInput:
    return DeliveryInput(
        delivery_id=delivery.id,
        event_id=delivery.event_id,
        endpoint_id=delivery.endpoint_id,
        schedule=schedule,
        # Both callers run in a correlated context: the worker's dispatch_event activity
        # (orchestrator.correlation) and the edge's RedeliverEvent (edge.interceptors).
        correlation_id=correlation_id.get(),
    )
