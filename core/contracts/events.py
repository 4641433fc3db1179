"""Events: what happened to a merchant's objects, recorded in the same transaction as the
change itself (an outbox), so an event exists exactly when its change does. Delivering them
to the merchant's endpoints is the webhook delivery workflow's job.

An event's id is derived from a key naming the change (such as "ord_1:order.succeeded:…"), so
recording it again, as a retried activity does, finds the same event instead of a second one.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.contracts.vocabulary import EndpointStatus
from core.db import models

ORDER_SUCCEEDED = "order.succeeded"
ORDER_FAILED = "order.failed"
ORDER_REQUIRES_ACTION = "order.requires_action"
ORDER_REQUIRES_CAPTURE = "order.requires_capture"
ORDER_CAPTURED = "order.captured"
ORDER_CANCELED = "order.canceled"
REFUND_SUCCEEDED = "refund.succeeded"
REFUND_FAILED = "refund.failed"
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
# Sent on request to one endpoint only (SendTestEvent), whatever it subscribed to.
WEBHOOK_ENDPOINT_TEST = "webhook_endpoint.test"
TYPES = (
    ORDER_SUCCEEDED,
    ORDER_FAILED,
    ORDER_REQUIRES_ACTION,
    ORDER_REQUIRES_CAPTURE,
    ORDER_CAPTURED,
    ORDER_CANCELED,
    REFUND_SUCCEEDED,
    REFUND_FAILED,
    WEBHOOK_ENDPOINT_DISABLED,
    WEBHOOK_ENDPOINT_TEST,
)


def event_id(key: str) -> str:
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:32]


# Built once: see orchestrator/activities/orders.py.
_EVENTS = models.table_of(models.Event)
_RECORD = (
    insert(_EVENTS)
    .values(
        id=bindparam("event_id"),
        merchant_id=bindparam("merchant"),
        livemode=bindparam("mode"),
        type=bindparam("event_type"),
        object=bindparam("obj"),
        order_id=bindparam("order"),
    )
    .on_conflict_do_nothing()
)
# The same insert, answering in the same round trip whether anyone is listening (no row comes
# back when the event was recorded before).
_RECORD_FOR_DELIVERY = _RECORD.returning(
    exists()
    .where(
        models.WebhookEndpoint.merchant_id == bindparam("merchant"),
        models.WebhookEndpoint.livemode == bindparam("mode"),
        models.WebhookEndpoint.status == EndpointStatus.ENABLED,
    )
    .label("listening")
)
_ANYONE_LISTENING = select(
    exists().where(
        models.WebhookEndpoint.merchant_id == bindparam("merchant_id"),
        models.WebhookEndpoint.livemode == bindparam("livemode"),
        models.WebhookEndpoint.status == EndpointStatus.ENABLED,
    )
)


async def record(
    session: AsyncSession,
    *,
    merchant_id: str,
    livemode: bool,
    type: str,
    obj: dict[str, Any],
    key: str,
    order_id: str,
) -> str:
    """Records the event in the caller's transaction (once per key); returns its id.
    `order_id` is the order the event is about ("" for none): ListEvents finds it by that."""
    new_id = event_id(key)
    await session.execute(
        _RECORD,
        {
            "event_id": new_id,
            "merchant": merchant_id,
            "mode": livemode,
            "event_type": type,
            "obj": obj,
            "order": order_id,
        },
    )
    return new_id


async def record_for_delivery(
    session: AsyncSession,
    *,
    merchant_id: str,
    livemode: bool,
    type: str,
    obj: dict[str, Any],
    key: str,
    order_id: str,
) -> str | None:
    """Records the event as `record` does; returns its id if the merchant has an endpoint to
    deliver it to, None if nobody is listening."""
    new_id = event_id(key)
    listening = await session.scalar(
        _RECORD_FOR_DELIVERY,
        {
            "event_id": new_id,
            "merchant": merchant_id,
            "mode": livemode,
            "event_type": type,
            "obj": obj,
            "order": order_id,
        },
    )
    if listening is None:  # recorded before, by an earlier run of the same step
        listening = await anyone_listening(session, merchant_id, livemode)
    return new_id if listening else None


async def anyone_listening(session: AsyncSession, merchant_id: str, livemode: bool) -> bool:
    """Whether the merchant has an enabled endpoint in this mode: events are recorded either
    way, but only then is there anything to deliver."""
    return bool(
        await session.scalar(_ANYONE_LISTENING, {"merchant_id": merchant_id, "livemode": livemode})
    )
