"""Reads orders (with their attempts) of one merchant and turns them into API messages."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import duration_pb2, timestamp_pb2
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import models
from edge.page_tokens import Cursor
from payloops.v1 import orders_pb2

_CAPTURE = {"automatic": orders_pb2.Order.AUTOMATIC, "manual": orders_pb2.Order.MANUAL}


async def get_order(session: AsyncSession, merchant_id: str, order_id: str) -> models.Order | None:
    # Scoped by merchant: another merchant's order looks exactly like a missing one.
    return (await session.execute(
        select(models.Order).where(models.Order.id == order_id,
                                   models.Order.merchant_id == merchant_id)
    )).scalar_one_or_none()


async def list_orders(session: AsyncSession, merchant_id: str, status: str | None,
                      after: Cursor | None, limit: int) -> list[models.Order]:
    query = select(models.Order).where(models.Order.merchant_id == merchant_id)
    if status:
        query = query.where(models.Order.status == status)
    if after is not None:
        query = query.where(tuple_(models.Order.created_at, models.Order.id)
                            < tuple_(after.created_at, after.order_id))
    query = query.order_by(models.Order.created_at.desc(), models.Order.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def to_messages(session: AsyncSession,
                      orders: Sequence[models.Order]) -> list[orders_pb2.Order]:
    attempts: dict[str, list[models.Attempt]] = {order.id: [] for order in orders}
    if orders:
        rows = await session.execute(
            select(models.Attempt).where(models.Attempt.order_id.in_(attempts))
            .order_by(models.Attempt.order_id, models.Attempt.seq))
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
    if order.status == "requires_action" and order.next_action_url:
        message.next_action.redirect_url = order.next_action_url
    if order.routing:
        message.routing.CopyFrom(orders_pb2.RoutingDecision(
            config_version=int(order.routing.get("config_version", 0)),  # type: ignore[call-overload]
            rule=str(order.routing.get("rule", "")),
            candidates=[orders_pb2.RoutingCandidate(**candidate)
                        for candidate in order.routing.get("candidates", [])]))  # type: ignore[attr-defined]
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
