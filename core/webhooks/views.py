"""Webhook endpoints, events and deliveries as the API shows them. Shared by the edge (its
responses) and the worker (the body of a delivery, the object of a webhook_endpoint.disabled
event), so a delivery carries exactly what GET /v1/events/{id} returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.contracts.views import as_json
from core.contracts.vocabulary import DeliveryStatus, EndpointStatus
from core.db import models
from core.webhooks import delivery_errors
from payloops.v1 import webhooks_pb2

# Keyed by the stored strings (EndpointStatus and DeliveryStatus values).
_ENDPOINT_STATUS: dict[str, webhooks_pb2.WebhookEndpoint.Status.ValueType] = {
    EndpointStatus.ENABLED: webhooks_pb2.WebhookEndpoint.ENABLED,
    EndpointStatus.DISABLED: webhooks_pb2.WebhookEndpoint.DISABLED,
}
_DELIVERY_STATUS: dict[str, webhooks_pb2.EventDelivery.Status.ValueType] = {
    DeliveryStatus.PENDING: webhooks_pb2.EventDelivery.PENDING,
    DeliveryStatus.SUCCEEDED: webhooks_pb2.EventDelivery.SUCCEEDED,
    DeliveryStatus.FAILED: webhooks_pb2.EventDelivery.FAILED,
}


def endpoint_message(
    endpoint: models.WebhookEndpoint, secret: str = ""
) -> webhooks_pb2.WebhookEndpoint:
    """`secret` only in the answers of create and rotate_secret."""
    message = webhooks_pb2.WebhookEndpoint(
        id=endpoint.id,
        url=endpoint.url,
        enabled_events=list(endpoint.enabled_events),
        status=_ENDPOINT_STATUS.get(endpoint.status, webhooks_pb2.WebhookEndpoint.DISABLED),
        disabled_reason=endpoint.disabled_reason,
        secret=secret,
        livemode=endpoint.livemode,
    )
    message.create_time.FromDatetime(endpoint.created_at)
    message.update_time.FromDatetime(endpoint.updated_at)
    return message


def event_message(event: models.Event) -> webhooks_pb2.Event:
    message = webhooks_pb2.Event(id=event.id, type=event.type, livemode=event.livemode)
    message.create_time.FromDatetime(event.created_at)
    json_format.ParseDict(event.object, message.object)
    return message


def event_json(event: models.Event) -> dict[str, Any]:
    """The event as the REST API returns it. A Struct holds numbers as doubles, which Python
    prints as 1.0 where the API (Envoy) prints 1: integral ones are put back as integers."""
    return _integral(as_json(event_message(event)))  # type: ignore[no-any-return]


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


async def delivery_messages(
    session: AsyncSession,
    deliveries: Sequence[models.EventDelivery],
) -> list[webhooks_pb2.EventDelivery]:
    """Each delivery with its event's type and all its attempts, oldest first."""
    attempts: dict[str, list[models.DeliveryAttempt]] = {d.id: [] for d in deliveries}
    types: dict[str, str] = {}
    if deliveries:
        rows = await session.execute(
            select(models.DeliveryAttempt)
            .where(models.DeliveryAttempt.delivery_id.in_(attempts))
            .order_by(models.DeliveryAttempt.delivery_id, models.DeliveryAttempt.attempt_number)
        )
        for attempt in rows.scalars():
            attempts[attempt.delivery_id].append(attempt)
        named = await session.execute(
            select(models.Event.id, models.Event.type).where(
                models.Event.id.in_({d.event_id for d in deliveries})
            )
        )
        types = {event_id: event_type for event_id, event_type in named.tuples()}
    return [delivery_message(d, attempts[d.id], types[d.event_id]) for d in deliveries]


def delivery_message(
    delivery: models.EventDelivery, attempts: Sequence[models.DeliveryAttempt], event_type: str
) -> webhooks_pb2.EventDelivery:
    message = webhooks_pb2.EventDelivery(
        id=delivery.id,
        event=delivery.event_id,
        event_type=event_type,
        webhook_endpoint=delivery.endpoint_id,
        status=_DELIVERY_STATUS[delivery.status],
        attempts=[_attempt_message(a) for a in attempts],
    )
    message.create_time.FromDatetime(delivery.created_at)
    if delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
        message.next_attempt_time.FromDatetime(delivery.next_attempt_at)
    return message


def _attempt_message(attempt: models.DeliveryAttempt) -> webhooks_pb2.DeliveryAttempt:
    message = webhooks_pb2.DeliveryAttempt(
        attempt_number=attempt.attempt_number,
        http_status=attempt.http_status,
        # Rows written before errors were classes hold raw text: shown by class too.
        error=delivery_errors.shown(attempt.error),
    )
    message.create_time.FromDatetime(attempt.created_at)
    message.latency.FromMilliseconds(attempt.latency_ms)
    return message
