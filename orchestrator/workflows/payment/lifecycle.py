"""The merchant's capture or cancel. An authorization (manual capture) is held until the
merchant captures or cancels it; one never captured is voided when it expires, so no hold
outlives its use. The update handlers hand the request to the payment's run, which does it
here."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from orchestrator.workflows.payment import processor_calls
from orchestrator.workflows.payment.compensation import undo_until_done
from orchestrator.workflows.payment.progress import record
from orchestrator.workflows.payment.rules import with_result
from orchestrator.workflows.payment.state import Claim, PaymentState

with workflow.unsafe.imports_passed_through():
    from core.contracts import events
    from core.contracts.payment import (
        CANCELABLE_STATUSES,
        CancelRequest,
        CaptureRequest,
        LifecycleResult,
    )
    from core.contracts.vocabulary import (
        AttemptOutcome,
        CancellationReason,
        FailureCode,
        GatewayOutcome,
        OrderStatus,
        Refusal,
    )
    from orchestrator.activities.types import OrderUpdate, RoutePlan
    from orchestrator.keys import capture_key


def check_capture(state: PaymentState, request: CaptureRequest) -> None:
    """Refuses a capture the order cannot take (the update is then never accepted)."""
    if state.status != OrderStatus.REQUIRES_CAPTURE or state.action is not None:
        raise ApplicationError(
            f"an order in status {state.status.upper()} cannot be captured",
            state.status,
            type=Refusal.ORDER_NOT_CAPTURABLE,
        )
    if not 0 <= request.amount <= state.payment.amount:
        raise ApplicationError(
            f"capture 1 to {state.payment.amount} (or 0 for all of it)",
            state.status,
            type=Refusal.CAPTURE_AMOUNT_INVALID,
        )


def check_cancel(state: PaymentState) -> None:
    """Refuses a cancel the order cannot take: only an unpaid order, a challenge under way
    or a held authorization can be canceled."""
    # An order whose payment method came is being paid, though the read model may not say so
    # yet.
    paying = (
        state.status == OrderStatus.REQUIRES_PAYMENT_METHOD and state.payment_method is not None
    )
    if state.status not in CANCELABLE_STATUSES or paying or state.action is not None:
        raise ApplicationError(
            f"an order in status {state.status.upper()} cannot be canceled",
            state.status,
            type=Refusal.ORDER_NOT_CANCELABLE,
        )


def refuse_late_cancel(state: PaymentState) -> None:
    """The customer finished paying as the merchant canceled: paid stands."""
    if state.cancel_requested() and state.action_result is None:
        state.action_result = LifecycleResult(
            status=state.status,
            error=Refusal.ORDER_NOT_CANCELABLE,
            message="the customer completed the payment first",
        )


async def cancel_order(state: PaymentState, reason: CancellationReason) -> None:
    payment = state.payment
    await record(
        state,
        order=OrderUpdate(
            order_id=payment.order_id,
            status=OrderStatus.CANCELED,
            cancellation_reason=reason,
            event=events.ORDER_CANCELED,
            event_key=f"{payment.order_id}:{events.ORDER_CANCELED}",
        ),
    )
    if state.action is not None:
        state.action_result = LifecycleResult(status=OrderStatus.CANCELED)


async def hold_authorization(state: PaymentState, plan: RoutePlan) -> None:
    """Waits for the merchant's capture or cancel of the winning authorization, and voids it
    when it expires first."""
    claim = state.winner
    assert claim is not None
    expires = workflow.now() + timedelta(seconds=plan.authorization_ttl_seconds)
    while state.status == OrderStatus.REQUIRES_CAPTURE:
        remaining = expires - workflow.now()
        try:
            await workflow.wait_condition(
                lambda: state.action is not None, timeout=max(remaining, timedelta(seconds=1))
            )
        except TimeoutError:
            if state.action is None:
                await _void_authorization(state, claim, CancellationReason.AUTHORIZATION_EXPIRED)
                return
        action = state.action
        if isinstance(action, CancelRequest):
            await _void_authorization(state, claim, action.reason)
        elif isinstance(action, CaptureRequest):
            await _capture(state, claim, action.amount)


async def _void_authorization(
    state: PaymentState, claim: Claim, reason: CancellationReason
) -> None:
    """Releases the held authorization until the processor confirms it (one captured
    meanwhile outside PayLoops is refunded: the merchant asked for no payment), then
    cancels the order."""
    await undo_until_done(state, claim.route, claim.attempt, claim.result)
    released = with_result(claim.attempt, claim.result)
    await record(state, attempt=replace(released, outcome=AttemptOutcome.CANCELED))
    await cancel_order(state, reason)


async def _capture(state: PaymentState, claim: Claim, amount: int) -> None:
    payment = state.payment
    state.captures += 1
    captured = await processor_calls.capture(
        claim.route,
        capture_key(claim.attempt.attempt_key, state.captures),
        claim.result.processor_reference,
        amount,
    )
    if captured.outcome != GatewayOutcome.SUCCEEDED:
        # Refused (a partial capture the processor does not do, say): still authorized,
        # and the merchant may try again.
        state.action = None
        state.action_result = LifecycleResult(
            status=state.status,
            error=captured.decline_code or FailureCode.CAPTURE_FAILED,
            message=captured.decline_message or "the processor refused the capture",
        )
        return
    await record(
        state,
        attempt=with_result(claim.attempt, captured),
        order=OrderUpdate(
            order_id=payment.order_id,
            status=OrderStatus.SUCCEEDED,
            amount_received=amount or payment.amount,
            event=events.ORDER_CAPTURED,
            event_key=f"{payment.order_id}:{events.ORDER_CAPTURED}",
        ),
    )
    state.action_result = LifecycleResult(status=OrderStatus.SUCCEEDED)
