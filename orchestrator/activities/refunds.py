"""The database steps of a refund: reserving its amount against what the order captured, and
settling it. Reserving happens under the order's row lock, and the database's CHECK
(amount_refunded + amount_refund_pending <= amount_received) holds the line besides, so
concurrent refunds can never add up to more than was captured."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.contracts import events, views
from core.contracts.payment import RefundInput
from core.contracts.vocabulary import (
    AttemptOutcome,
    Compensation,
    OrderStatus,
    RefundStatus,
    Refusal,
)
from core.db import models
from orchestrator.activities.types import RefundOutcome, RefundPlan, Route
from orchestrator.keys import refund_key


class RefundActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="reserve_refund")
    async def reserve_refund(self, refund: RefundInput) -> RefundPlan:
        async with self._sessions.begin() as session:
            already = await session.get(models.Refund, refund.refund_id)
            if already is not None:
                if not _belongs(already, refund):
                    # An id that is not this caller's refund of this order: nothing to join.
                    return _order_not_found(refund)
                # This step ran before (its answer was lost): the same reservation.
                return await _plan(session, already)
            # The order of the caller's merchant and mode only: a refund requested with a test
            # key never reaches a live order, nor a live key a test one.
            order = (
                await session.execute(
                    select(models.Order)
                    .where(
                        models.Order.id == refund.order_id,
                        models.Order.merchant_id == refund.merchant_id,
                        models.Order.livemode == refund.livemode,
                    )
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if order is None:
                return _order_not_found(refund)
            if order.status != OrderStatus.SUCCEEDED:
                return RefundPlan(
                    reserved=False,
                    error=Refusal.ORDER_NOT_REFUNDABLE,
                    message=f"an order in status {order.status.upper()} has "
                    "nothing captured to refund",
                )
            refundable = order.amount_received - order.amount_refunded - order.amount_refund_pending
            amount = refund.amount or refundable
            if amount <= 0 or amount > refundable:
                return RefundPlan(
                    reserved=False,
                    error=Refusal.REFUND_EXCEEDS_CAPTURED,
                    message=f"at most {refundable} can still be refunded",
                )
            payment = await _payment_attempt(session, order.id)
            session.add(
                models.Refund(
                    id=refund.refund_id,
                    order_id=order.id,
                    merchant_id=order.merchant_id,
                    livemode=order.livemode,
                    amount=amount,
                    currency=order.currency,
                    reason=refund.reason,
                    status=RefundStatus.PENDING,
                    processor=payment.processor,
                )
            )
            await session.execute(
                update(models.Order)
                .where(models.Order.id == order.id)
                .values(amount_refund_pending=models.Order.amount_refund_pending + amount)
            )
            await session.flush()
            row = await session.get(models.Refund, refund.refund_id)
            assert row is not None
            return await _plan(session, row)

    @activity.defn(name="finish_refund")
    async def finish_refund(self, outcome: RefundOutcome) -> str | None:
        """Settles a refund: succeeded moves its amount to refunded, failed gives it back to
        the refundable amount. Returns the id of its event when the merchant listens."""
        async with self._sessions.begin() as session:
            refund = (
                await session.execute(
                    select(models.Refund)
                    .where(models.Refund.id == outcome.refund_id)
                    .with_for_update()
                )
            ).scalar_one()
            if refund.status == RefundStatus.PENDING:
                moved = {
                    "amount_refund_pending": models.Order.amount_refund_pending - refund.amount
                }
                if outcome.status == RefundStatus.SUCCEEDED:
                    moved["amount_refunded"] = models.Order.amount_refunded + refund.amount
                await session.execute(
                    update(models.Order).where(models.Order.id == refund.order_id).values(moved)
                )
                refund.status = outcome.status
                refund.failure_code = outcome.failure_code
                refund.failure_message = outcome.failure_message
                refund.processor_reference = (
                    outcome.processor_reference or refund.processor_reference
                )
                await session.flush()
                await session.refresh(refund)
            event_type = (
                events.REFUND_SUCCEEDED
                if refund.status == RefundStatus.SUCCEEDED
                else events.REFUND_FAILED
            )
            order = await session.get(models.Order, refund.order_id)
            assert order is not None
            return await events.record_for_delivery(
                session,
                merchant_id=refund.merchant_id,
                livemode=order.livemode,
                type=event_type,
                obj=views.as_json(views.refund_message(refund)),
                key=f"{refund.id}:{event_type}",
                order_id=refund.order_id,
            )


def _order_not_found(refund: RefundInput) -> RefundPlan:
    return RefundPlan(
        reserved=False, error=Refusal.ORDER_NOT_FOUND, message=f"no order {refund.order_id!r}"
    )


def _belongs(row: models.Refund, refund: RefundInput) -> bool:
    return (row.order_id, row.merchant_id, row.livemode) == (
        refund.order_id,
        refund.merchant_id,
        refund.livemode,
    )


async def _payment_attempt(session: AsyncSession, order_id: str) -> models.Attempt:
    """The attempt whose charge is the order's payment (compensated ones were undone)."""
    found = await session.execute(
        select(models.Attempt)
        .where(
            models.Attempt.order_id == order_id,
            models.Attempt.outcome == AttemptOutcome.SUCCEEDED,
            models.Attempt.compensation == Compensation.NONE,
        )
        .order_by(models.Attempt.seq.desc())
    )
    attempt = found.scalars().first()
    # Refunds are reserved only against a captured amount, which a succeeded attempt made.
    assert attempt is not None, f"order {order_id} has no payment to refund"
    return attempt


async def _plan(session: AsyncSession, refund: models.Refund) -> RefundPlan:
    payment = await _payment_attempt(session, refund.order_id)
    processor = await session.get(models.Processor, payment.processor)
    order = await session.get(models.Order, refund.order_id)
    assert processor is not None and order is not None
    return RefundPlan(
        reserved=True,
        amount=refund.amount,
        route=Route(
            processor=processor.name,
            target=processor.target,
            deadline_ms=processor.deadline_ms,
            account_id=payment.account_id,
            tls=processor.tls,
            tls_ca_pem=processor.tls_ca_pem,
            livemode=order.livemode,
        ),
        key=refund_key(payment.attempt_key, refund.id),
        payment_reference=payment.processor_reference,
    )
