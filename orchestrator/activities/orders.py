"""The activity that writes payment progress to PostgreSQL: the read model (attempts, order
status) and processor health. Idempotent: a retried call writes the same rows again (attempts
are keyed by attempt key), except that a repeated health report counts twice, which at worst
opens a breaker one failure early."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core import events, views
from core.db import models
from orchestrator.activities.types import AttemptRecord, OrderUpdate, Progress
from orchestrator.routing import breaker


class OrderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="record_progress")
    async def record_progress(self, progress: Progress) -> str | None:
        """Writes the progress; returns the id of the event it recorded when the merchant has
        an endpoint to deliver it to (None otherwise)."""
        async with self._sessions.begin() as session:
            if progress.attempt is not None:
                await write_attempt(session, progress.attempt)
            if progress.order is not None:
                await write_order(session, progress.order)
            if progress.health is not None:
                await breaker.report(session, progress.health.processor, progress.health.answered)
            if progress.order is not None and progress.order.event:
                return await record_order_event(session, progress.order)
        return None


async def write_attempt(
    session: AsyncSession, attempt: AttemptRecord, replace_try: bool = False
) -> None:
    """Upserts by attempt key. With `replace_try`, by (order, try number) instead: for the first
    try written by routing, which a replayed routing may have pointed at another processor
    before anything was sent."""
    values = {
        "outcome": attempt.outcome,
        "decline_code": attempt.decline_code,
        "decline_message": attempt.decline_message,
        "processor_reference": attempt.processor_reference,
        "latency_ms": attempt.latency_ms,
        "failover_reason": attempt.failover_reason,
        "compensation": attempt.compensation,
        "account_id": attempt.account_id,
    }
    await session.execute(
        insert(models.Attempt)
        .values(
            order_id=attempt.order_id,
            seq=attempt.seq,
            processor=attempt.processor,
            attempt_key=attempt.attempt_key,
            **values,
        )
        .on_conflict_do_update(
            index_elements=(
                [models.Attempt.order_id, models.Attempt.seq]
                if replace_try
                else [models.Attempt.attempt_key]
            ),
            set_=values
            | (
                {"processor": attempt.processor, "attempt_key": attempt.attempt_key}
                if replace_try
                else {}
            ),
        )
    )


async def write_order(session: AsyncSession, order: OrderUpdate) -> None:
    values: dict[str, object] = {
        "status": order.status,
        "failure_code": order.failure_code,
        "failure_message": order.failure_message,
        "next_action_url": order.next_action_url,
        "amount_capturable": order.amount_capturable,
        "amount_received": order.amount_received,
        "updated_at": func.now(),
    }
    if order.routing is not None:
        values["routing"] = order.routing
    if order.capture_before:
        values["capture_before"] = datetime.fromisoformat(order.capture_before)
    if order.cancellation_reason:
        values["cancellation_reason"] = order.cancellation_reason
    await session.execute(
        update(models.Order).where(models.Order.id == order.order_id).values(**values)
    )


async def record_order_event(session: AsyncSession, change: OrderUpdate) -> str | None:
    """The event of an order's change, with the order as the API now shows it, in the same
    transaction as the change. Returns its id if anyone is listening."""
    order = await session.get(models.Order, change.order_id, populate_existing=True)
    assert order is not None
    (message,) = await views.to_messages(session, [order])
    event_id = await events.record(
        session,
        merchant_id=order.merchant_id,
        livemode=order.livemode,
        type=change.event,
        obj=views.as_json(message),
        key=change.event_key or f"{order.id}:{change.event}",
    )
    return (
        event_id
        if await events.anyone_listening(session, order.merchant_id, order.livemode)
        else None
    )
