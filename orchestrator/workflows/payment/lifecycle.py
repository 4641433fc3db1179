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
    from core.contracts.payment import CancelRequest, CaptureRequest, LifecycleResult
    from orchestrator.activities.types import OrderUpdate, RoutePlan


def check_capture(state: PaymentState, request: CaptureRequest) -> None:
    """Refuses a capture the order cannot take (the update is then never accepted)."""
    if state.status != "requires_capture" or state.action is not None:
        raise ApplicationError(
            f"an order in status {state.status.upper()} cannot be captured",
            state.status,
            type="ORDER_NOT_CAPTURABLE",
        )
    if not 0 <= request.amount <= state.payment.amount:
        raise ApplicationError(
            f"capture 1 to {state.payment.amount} (or 0 for all of it)",
            state.status,
            type="CAPTURE_AMOUNT_INVALID",
        )


def check_cancel(state: PaymentState) -> None:
    """Refuses a cancel the order cannot take: only an unpaid order, a challenge under way
    or a held authorization can be canceled."""
    unpaid = state.status == "requires_payment_method" and state.payment_method is None
    if (
        not (unpaid or state.status in ("requires_capture", "requires_action"))
        or state.action is not None
    ):
        raise ApplicationError(
            f"an order in status {state.status.upper()} cannot be canceled",
            state.status,
            type="ORDER_NOT_CANCELABLE",
        )


def refuse_late_cancel(state: PaymentState) -> None:
    """The customer finished paying as the merchant canceled: paid stands."""
    if state.cancel_requested() and state.action_result is None:
        state.action_result = LifecycleResult(
            status=state.status,
            error="ORDER_NOT_CANCELABLE",
            message="the customer completed the payment first",
        )


async def cancel_order(state: PaymentState, reason: str) -> None:
    payment = state.payment
    await record(
        state,
        order=OrderUpdate(
            order_id=payment.order_id,
            status="canceled",
            cancellation_reason=reason,
            event=events.ORDER_CANCELED,
            event_key=f"{payment.order_id}:{events.ORDER_CANCELED}",
        ),
    )
    if state.action is not None:
        state.action_result = LifecycleResult(status="canceled")


async def hold_authorization(state: PaymentState, plan: RoutePlan) -> None:
    """Waits for the merchant's capture or cancel of the winning authorization, and voids it
    when it expires first."""
    claim = state.winner
    assert claim is not None
    expires = workflow.now() + timedelta(seconds=plan.authorization_ttl_seconds)
    while state.status == "requires_capture":
        remaining = expires - workflow.now()
        try:
            await workflow.wait_condition(
                lambda: state.action is not None, timeout=max(remaining, timedelta(seconds=1))
            )
        except TimeoutError:
            if state.action is None:
                await _void_authorization(state, claim, "authorization_expired")
                return
        action = state.action
        if isinstance(action, CancelRequest):
            await _void_authorization(state, claim, action.reason)
        elif isinstance(action, CaptureRequest):
            await _capture(state, claim, action.amount)


async def _void_authorization(state: PaymentState, claim: Claim, reason: str) -> None:
    """Releases the held authorization until the processor confirms it (one captured
    meanwhile outside PayLoops is refunded: the merchant asked for no payment), then
    cancels the order."""
    await undo_until_done(state, claim.route, claim.attempt, claim.result)
    released = with_result(claim.attempt, claim.result)
    await record(state, attempt=replace(released, outcome="canceled"))
    await cancel_order(state, reason)


async def _capture(state: PaymentState, claim: Claim, amount: int) -> None:
    payment = state.payment
    state.captures += 1
    captured = await processor_calls.capture(
        claim.route,
        f"{claim.attempt.attempt_key}:capture:{state.captures}",
        claim.result.processor_reference,
        amount,
    )
    if captured.outcome != "succeeded":
        # Refused (a partial capture the processor does not do, say): still authorized,
        # and the merchant may try again.
        state.action = None
        state.action_result = LifecycleResult(
            status=state.status,
            error=captured.decline_code or "capture_failed",
            message=captured.decline_message or "the processor refused the capture",
        )
        return
    await record(
        state,
        attempt=with_result(claim.attempt, captured),
        order=OrderUpdate(
            order_id=payment.order_id,
            status="succeeded",
            amount_received=amount or payment.amount,
            event=events.ORDER_CAPTURED,
            event_key=f"{payment.order_id}:{events.ORDER_CAPTURED}",
        ),
    )
    state.action_result = LifecycleResult(status="succeeded")
