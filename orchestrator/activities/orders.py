"""Activities that write payment progress to the read model in PostgreSQL. Each is idempotent:
a retried call writes the same row (attempts are keyed by attempt key) again."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.db import models
from orchestrator.activities.types import AttemptRecord, OrderUpdate


class OrderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="record_attempt")
    async def record_attempt(self, attempt: AttemptRecord) -> None:
        values = {
            "outcome": attempt.outcome,
            "decline_code": attempt.decline_code,
            "decline_message": attempt.decline_message,
            "processor_reference": attempt.processor_reference,
            "latency_ms": attempt.latency_ms,
            "failover_reason": attempt.failover_reason,
            "compensation": attempt.compensation,
        }
        async with self._sessions.begin() as session:
            await session.execute(
                insert(models.Attempt)
                .values(order_id=attempt.order_id, seq=attempt.seq, processor=attempt.processor,
                        attempt_key=attempt.attempt_key, **values)
                .on_conflict_do_update(index_elements=[models.Attempt.attempt_key],
                                       set_=values))

    @activity.defn(name="record_order")
    async def record_order(self, order: OrderUpdate) -> None:
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
        async with self._sessions.begin() as session:
            await session.execute(
                update(models.Order).where(models.Order.id == order.order_id).values(**values))
