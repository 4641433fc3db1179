"""The payment's writes to the read model (attempts, the order, the processor's health), and
the events they record handed to the webhook deliveries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

from orchestrator.workflows.payment.rules import order_status, status_event, with_result
from orchestrator.workflows.payment.state import PaymentState

with workflow.unsafe.imports_passed_through():
    from core.contracts.vocabulary import OrderStatus
    from orchestrator.activities.orders import OrderActivities
    from orchestrator.activities.types import AttemptRecord, GatewayResult, OrderUpdate, Progress
    from orchestrator.workflows.policies import DB_RETRY


async def record(
    state: PaymentState,
    attempt: AttemptRecord | None = None,
    order: OrderUpdate | None = None,
    through_server: bool = False,
) -> None:
    """One write to the read model: a local activity (no round trip through the server),
    or a regular one `through_server`, which ends the workflow task first."""
    if order is not None:
        order = _with_pay_seconds(state, order)
    progress = Progress(attempt=attempt, order=order, health=state.unreported_health)
    state.unreported_health = None
    if through_server:
        event_id = await workflow.execute_activity_method(
            OrderActivities.record_progress,
            progress,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=DB_RETRY,
        )
    else:
        event_id = await workflow.execute_local_activity_method(
            OrderActivities.record_progress,
            progress,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=DB_RETRY,
        )
    if order is not None:
        # The read model is written first, so whoever the `pay` update wakes reads this.
        state.set_status(order.status)
    if event_id:
        state.in_background(dispatch(event_id))


async def dispatch(event_id: str) -> None:
    """Hands a recorded event to the webhook deliveries (the merchant is listening)."""
    await workflow.execute_activity(
        "dispatch_event",
        event_id,
        result_type=int,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=DB_RETRY,
    )


async def settle_attempt(
    state: PaymentState, attempt: AttemptRecord, result: GatewayResult
) -> None:
    """Records an attempt that decides the order, and the order's status from it."""
    payment = state.payment
    status = order_status(result.outcome)
    recorded = with_result(attempt, result)
    if status == OrderStatus.FAILED and state.open_obligations:
        # Decided once the open obligations are known (see the workflow's run).
        await record(state, attempt=recorded)
        return
    event = status_event(status)
    ttl = state.plan.authorization_ttl_seconds if state.plan else 0
    failed = status == OrderStatus.FAILED
    capturable = status == OrderStatus.REQUIRES_CAPTURE
    await record(
        state,
        attempt=recorded,
        order=OrderUpdate(
            order_id=payment.order_id,
            status=status,
            failure_code=result.decline_code if failed else "",
            failure_message=result.decline_message if failed else "",
            next_action_url=result.redirect_url if status == OrderStatus.REQUIRES_ACTION else "",
            amount_capturable=payment.amount if capturable else 0,
            amount_received=payment.amount if status == OrderStatus.SUCCEEDED else 0,
            capture_before=(workflow.now() + timedelta(seconds=ttl)).isoformat()
            if capturable
            else "",
            event=event,
            event_key=f"{payment.order_id}:{event}:{attempt.attempt_key}",
        ),
    )


# The statuses a payment ends in: its end-to-end latency is measured to them.
_PAY_ENDS = frozenset(
    {OrderStatus.SUCCEEDED, OrderStatus.FAILED, OrderStatus.REQUIRES_CAPTURE, OrderStatus.CANCELED}
)


def _with_pay_seconds(state: PaymentState, order: OrderUpdate) -> OrderUpdate:
    """`order` with the time from the pay (when routing began) to it, if it is the first
    status that ends the payment, whichever path reached it (an attempt's answer, a failure
    decided once unknown attempts were resolved, a cancel during a challenge): the
    payment_latency_seconds metric. A later end (the capture or expiry of an authorization, a
    late charge) is not the payment's latency again. The workflow's clock, so a replay computes
    the same."""
    if order.status not in _PAY_ENDS or state.routed_at is None or state.pay_measured:
        return order
    state.pay_measured = True
    return replace(order, pay_seconds=(workflow.now() - state.routed_at).total_seconds())
