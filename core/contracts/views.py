"""Orders and refunds as the API shows them, built from the read model. Shared by the edge
(its responses) and the worker (the objects in events), so a webhook carries exactly what a GET
returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import duration_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.contracts.vocabulary import CaptureMethod, OrderStatus
from core.db import models
from payloops.v1 import orders_pb2, refunds_pb2

# Keyed by the stored string (CaptureMethod values).
_CAPTURE: dict[str, orders_pb2.Order.CaptureMethod.ValueType] = {
    CaptureMethod.AUTOMATIC: orders_pb2.Order.AUTOMATIC,
    CaptureMethod.MANUAL: orders_pb2.Order.MANUAL,
}


# Built once: see orchestrator/activities/orders.py.
_ATTEMPTS_OF = (
    select(models.Attempt)
    .where(models.Attempt.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(models.Attempt.order_id, models.Attempt.seq)
)


async def to_messages(
    session: AsyncSession, orders: Sequence[models.Order]
) -> list[orders_pb2.Order]:
    attempts: dict[str, list[models.Attempt]] = {order.id: [] for order in orders}
    if orders:
        rows = await session.execute(_ATTEMPTS_OF, {"order_ids": list(attempts)})
        for attempt in rows.scalars():
            attempts[attempt.order_id].append(attempt)
    return [order_message(order, attempts[order.id]) for order in orders]


def order_message(order: models.Order, attempts: list[models.Attempt]) -> orders_pb2.Order:
    message = orders_pb2.Order(
        id=order.id,
        amount=order.amount,
        currency=order.currency,
        capture_method=_CAPTURE[order.capture_method],
        description=order.description,
        metadata=order.metadata_,
        return_url=order.return_url,
        status=orders_pb2.Order.Status.Value(order.status.upper()),
        amount_capturable=order.amount_capturable,
        amount_received=order.amount_received,
        amount_refunded=order.amount_refunded,
        failure_code=order.failure_code,
        failure_message=order.failure_message,
        livemode=order.livemode,
        create_time=_timestamp(order.created_at),
        update_time=_timestamp(order.updated_at),
        attempts=[_attempt_message(a) for a in attempts],
    )
    if order.status == OrderStatus.REQUIRES_ACTION and order.next_action_url:
        message.next_action.redirect_url = order.next_action_url
    message.amount_refund_pending = order.amount_refund_pending
    message.cancellation_reason = order.cancellation_reason
    message.customer = order.customer_id or ""
    if order.status == OrderStatus.REQUIRES_CAPTURE and order.capture_before is not None:
        message.capture_before.CopyFrom(_timestamp(order.capture_before))
    if order.routing:
        message.routing.CopyFrom(
            orders_pb2.RoutingDecision(
                config_version=int(order.routing.get("config_version", 0)),  # type: ignore[call-overload]
                rule=str(order.routing.get("rule", "")),
                candidates=[
                    orders_pb2.RoutingCandidate(**candidate)
                    for candidate in order.routing.get("candidates", [])  # type: ignore[attr-defined]
                ],
            )
        )
    return message


def _attempt_message(attempt: models.Attempt) -> orders_pb2.Attempt:
    latency = duration_pb2.Duration()
    latency.FromMilliseconds(attempt.latency_ms)
    return orders_pb2.Attempt(
        processor=attempt.processor,
        outcome=orders_pb2.Attempt.Outcome.Value(attempt.outcome.upper()),
        decline_code=attempt.decline_code,
        decline_message=attempt.decline_message,
        latency=latency,
        attempt_key=attempt.attempt_key,
        processor_reference=attempt.processor_reference,
        create_time=_timestamp(attempt.created_at),
        failover_reason=attempt.failover_reason,
        compensation=attempt.compensation,
    )


def _timestamp(value: object) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)  # type: ignore[arg-type]
    return stamp


def refund_message(refund: models.Refund) -> refunds_pb2.Refund:
    return refunds_pb2.Refund(
        id=refund.id,
        order=refund.order_id,
        amount=refund.amount,
        currency=refund.currency,
        reason=refund.reason,
        status=refunds_pb2.Refund.Status.Value(refund.status.upper()),
        failure_code=refund.failure_code,
        failure_message=refund.failure_message,
        processor=refund.processor,
        processor_reference=refund.processor_reference,
        create_time=_timestamp(refund.created_at),
        update_time=_timestamp(refund.updated_at),
        livemode=refund.livemode,
    )


def as_json(message: Message) -> dict[str, Any]:
    """The JSON the REST API returns for `message` (Envoy's transcoder print options: proto
    field names, every field, int64 as strings, enums as names)."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
