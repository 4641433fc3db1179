"""Activities that read routing facts from, and write payment progress to, PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.config import Settings
from core.db import models
from orchestrator.activities.types import Progress, Route


class OrderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="route_payment")
    async def route_payment(self, merchant_id: str) -> Route:
        """For now the merchant's configured processor (default: the sandbox)."""
        async with self._sessions() as session:
            row = (await session.execute(
                select(models.Processor)
                .join(models.Merchant, models.Merchant.default_processor == models.Processor.name)
                .where(models.Merchant.id == merchant_id)
            )).scalar_one_or_none()
        if row is None or not row.enabled:
            # Retried: a processor being registered (payloops dev start-up) shows up shortly.
            raise ApplicationError(f"merchant {merchant_id} has no enabled processor",
                                   type="NoProcessor")
        return Route(processor=row.name, target=row.target, deadline_ms=row.deadline_ms,
                     three_ds_timeout_seconds=self._settings.three_ds_timeout_seconds,
                     three_ds_poll_seconds=self._settings.three_ds_poll_seconds)

    @activity.defn(name="record_progress")
    async def record_progress(self, progress: Progress) -> None:
        """Idempotent: a retried call writes the same attempt row (keyed by attempt key) and the
        same order columns again."""
        async with self._sessions.begin() as session:
            if progress.attempt is not None:
                attempt = progress.attempt
                values = {
                    "outcome": attempt.outcome,
                    "decline_code": attempt.decline_code,
                    "decline_message": attempt.decline_message,
                    "processor_reference": attempt.processor_reference,
                    "latency_ms": attempt.latency_ms,
                }
                await session.execute(
                    insert(models.Attempt)
                    .values(order_id=progress.order_id, seq=attempt.seq,
                            processor=attempt.processor, attempt_key=attempt.attempt_key,
                            **values)
                    .on_conflict_do_update(index_elements=[models.Attempt.attempt_key],
                                           set_=values))
            await session.execute(
                update(models.Order)
                .where(models.Order.id == progress.order_id)
                .values(status=progress.status, failure_code=progress.failure_code,
                        failure_message=progress.failure_message,
                        next_action_url=progress.next_action_url,
                        amount_capturable=progress.amount_capturable,
                        amount_received=progress.amount_received,
                        updated_at=func.now()))
