"""The activity that writes payment progress to PostgreSQL: the read model (attempts, order
status) and processor health. Idempotent: a retried call writes the same rows again (attempts
are keyed by attempt key), except that a repeated health report counts twice, which at worst
opens a breaker one failure early."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core import metrics
from core.contracts import events, views
from core.contracts.vocabulary import AttemptOutcome, FailoverReason
from core.db import models
from orchestrator.activities.types import AttemptRecord, OrderUpdate, Progress
from orchestrator.routing_engine import breaker


class OrderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="record_progress")
    async def record_progress(self, progress: Progress) -> str | None:
        """Writes the progress; returns the id of the event it recorded when the merchant has
        an endpoint to deliver it to (None otherwise)."""
        attempt, order = progress.attempt, progress.order
        # The attempt first: the order's update that follows sums it up.
        together = attempt is not None and order is not None and attempt.order_id == order.order_id
        async with self._sessions.begin() as session:
            if attempt is not None:
                await write_attempt(session, attempt, summarize=not together)
            settled = False
            if order is not None:
                changed = await write_order(session, order, summarize_attempts=together)
                settled = changed and order.pay_seconds > 0
            if progress.health is not None:
                await breaker.report(session, progress.health.processor, progress.health.answered)
            if order is not None and order.event:
                event_id = await record_order_event(session, order)
            else:
                event_id = None
        if settled and order is not None:
            # Once per payment: a retry of a write that committed finds the status set already.
            metrics.payment_settled(str(order.status), order.pay_seconds)
        return event_id


# The statements of the payment's hot path are built once, with bind parameters: building a
# statement and its cache key costs SQLAlchemy more than the round trip to PostgreSQL on this
# path (docs/benchmarks.md), and Core tables skip the ORM's bulk-write machinery.
_ATTEMPTS = models.table_of(models.Attempt)
_ORDERS = models.table_of(models.Order)
_ATTEMPT_RESULT = (
    "outcome",
    "decline_code",
    "decline_message",
    "processor_reference",
    "latency_ms",
    "failover_reason",
    "compensation",
    "account_id",
)
_NEW_ATTEMPT = insert(_ATTEMPTS).values(
    {name: bindparam(name) for name in ("order_id", "seq", "processor", "attempt_key")}
    | {name: bindparam(name) for name in _ATTEMPT_RESULT}
)
_UPSERT_ATTEMPT_BY_KEY = _NEW_ATTEMPT.on_conflict_do_update(
    index_elements=[_ATTEMPTS.c.attempt_key],
    set_={name: _NEW_ATTEMPT.excluded[name] for name in _ATTEMPT_RESULT},
)
_UPSERT_ATTEMPT_BY_TRY = _NEW_ATTEMPT.on_conflict_do_update(
    index_elements=[_ATTEMPTS.c.order_id, _ATTEMPTS.c.seq],
    set_={
        name: _NEW_ATTEMPT.excluded[name] for name in (*_ATTEMPT_RESULT, "processor", "attempt_key")
    },
)
# An order's attempts summed up on the order, for analytics (the columns say what each is).
_ATTEMPTS_OF_ORDER = _ATTEMPTS.c.order_id == bindparam("order_id")
_ATTEMPT_SUMMARY = {
    "decided_processor": select(_ATTEMPTS.c.processor)
    .where(_ATTEMPTS_OF_ORDER)
    .order_by(_ATTEMPTS.c.seq.desc())
    .limit(1)
    .scalar_subquery(),
    "payment_latency_ms": select(func.sum(_ATTEMPTS.c.latency_ms))
    .where(_ATTEMPTS_OF_ORDER, _ATTEMPTS.c.outcome != AttemptOutcome.PENDING)
    .scalar_subquery(),
    "failed_over": select(func.count() > 0)
    .where(_ATTEMPTS_OF_ORDER, _ATTEMPTS.c.failover_reason != FailoverReason.NONE)
    .scalar_subquery(),
}
_SUMMARIZE_ATTEMPTS = (
    update(_ORDERS).where(_ORDERS.c.id == bindparam("order_id")).values(_ATTEMPT_SUMMARY)
)
# The order's status before the write, locked (a concurrent write of the same order, such as
# a timed-out activity attempt still running beside its retry, waits and then reads what that
# one wrote): the write says whether it changed the status.
_PREVIOUS = (
    select(_ORDERS.c.id, _ORDERS.c.status)
    .where(_ORDERS.c.id == bindparam("order"))
    .with_for_update()
    .cte("previous")
)
# Columns a step may leave as they are: NULL (or "") keeps the stored value.
_WRITE_ORDER = (
    update(_ORDERS)
    .where(_ORDERS.c.id == _PREVIOUS.c.id)
    .values(
        status=bindparam("new_status"),
        failure_code=bindparam("new_failure_code"),
        failure_message=bindparam("new_failure_message"),
        next_action_url=bindparam("new_next_action_url"),
        amount_capturable=bindparam("new_amount_capturable"),
        amount_received=bindparam("new_amount_received"),
        updated_at=func.now(),
        routing=func.coalesce(
            bindparam("new_routing", type_=JSONB(none_as_null=True)), _ORDERS.c.routing
        ),
        capture_before=func.coalesce(
            bindparam("new_capture_before", type_=DateTime(timezone=True)),
            _ORDERS.c.capture_before,
        ),
        cancellation_reason=func.coalesce(
            func.nullif(bindparam("new_cancellation_reason", type_=String), ""),
            _ORDERS.c.cancellation_reason,
        ),
    )
    .returning(_PREVIOUS.c.status)
)
# A step that writes an attempt and the order's status refreshes the summary in the same
# statement: one update of the order's row instead of two (each also fires the analytics
# trigger on orders).
_WRITE_ORDER_AND_SUMMARY = _WRITE_ORDER.values(_ATTEMPT_SUMMARY)
_ORDER_BY_ID = (
    select(models.Order)
    .where(models.Order.id == bindparam("order_id"))
    .execution_options(populate_existing=True)
)


async def write_attempt(
    session: AsyncSession, attempt: AttemptRecord, replace_try: bool = False, summarize: bool = True
) -> None:
    """Upserts by attempt key. With `replace_try`, by (order, try number) instead: for the first
    try written by routing, which a replayed routing may have pointed at another processor
    before anything was sent. Without `summarize`, the caller's write_order(...,
    summarize_attempts=True) that follows, in the same transaction, sums it up."""
    await session.execute(
        _UPSERT_ATTEMPT_BY_TRY if replace_try else _UPSERT_ATTEMPT_BY_KEY,
        {
            "order_id": attempt.order_id,
            "seq": attempt.seq,
            "processor": attempt.processor,
            "attempt_key": attempt.attempt_key,
            "outcome": attempt.outcome,
            "decline_code": attempt.decline_code,
            "decline_message": attempt.decline_message,
            "processor_reference": attempt.processor_reference,
            "latency_ms": attempt.latency_ms,
            "failover_reason": attempt.failover_reason,
            "compensation": attempt.compensation,
            "account_id": attempt.account_id,
        },
    )
    if summarize:
        await summarize_attempts(session, attempt.order_id)


async def summarize_attempts(session: AsyncSession, order_id: str) -> None:
    """Refreshes the order's summary of its attempts, in the transaction that wrote one: an
    attempt and the figures drawn from it are never seen apart."""
    await session.execute(_SUMMARIZE_ATTEMPTS, {"order_id": order_id})


async def write_order(
    session: AsyncSession, order: OrderUpdate, summarize_attempts: bool = False
) -> bool:
    """Writes the order's change; True when it changed the order's status. With
    `summarize_attempts`, also refreshes the order's summary of its attempts (after a
    write_attempt(..., summarize=False) in the same transaction)."""
    previous = await session.execute(
        _WRITE_ORDER_AND_SUMMARY if summarize_attempts else _WRITE_ORDER,
        {
            "order": order.order_id,
            "order_id": order.order_id,
            "new_status": order.status,
            "new_failure_code": order.failure_code,
            "new_failure_message": order.failure_message,
            "new_next_action_url": order.next_action_url,
            "new_amount_capturable": order.amount_capturable,
            "new_amount_received": order.amount_received,
            "new_routing": order.routing,
            "new_capture_before": (
                datetime.fromisoformat(order.capture_before) if order.capture_before else None
            ),
            "new_cancellation_reason": order.cancellation_reason,
        },
    )
    before = previous.scalar_one_or_none()
    return before is not None and before != order.status


async def record_order_event(session: AsyncSession, change: OrderUpdate) -> str | None:
    """The event of an order's change, with the order as the API now shows it, in the same
    transaction as the change. Returns its id if anyone is listening."""
    order = (await session.execute(_ORDER_BY_ID, {"order_id": change.order_id})).scalar_one()
    (message,) = await views.to_messages(session, [order])
    return await events.record_for_delivery(
        session,
        merchant_id=order.merchant_id,
        livemode=order.livemode,
        type=change.event,
        obj=views.as_json(message),
        key=change.event_key or f"{order.id}:{change.event}",
        order_id=order.id,
    )
