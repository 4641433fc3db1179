"""The payment workflow class: its handlers (the `pay`, `capture` and `cancel` updates, the
gateway-event signal, the status query) and its run, which composes the parts of the package
in the order a payment goes through them."""

from __future__ import annotations

from temporalio import workflow

from orchestrator.workflows.payment.attempts import try_processors
from orchestrator.workflows.payment.first_step import route
from orchestrator.workflows.payment.lifecycle import (
    cancel_order,
    check_cancel,
    check_capture,
    hold_authorization,
)
from orchestrator.workflows.payment.patches import HOLD_AUTHORIZATION
from orchestrator.workflows.payment.progress import dispatch, record
from orchestrator.workflows.payment.state import PaymentState

with workflow.unsafe.imports_passed_through():
    from core.contracts import events
    from core.contracts.payment import (
        ANSWERABLE_STATUSES,
        CANCEL_UPDATE,
        CAPTURE_UPDATE,
        GATEWAY_EVENT_SIGNAL,
        PAY_UPDATE,
        WORKFLOW_TYPE,
        CancelRequest,
        CaptureRequest,
        LifecycleResult,
        PaymentInput,
        PaymentOutcome,
        PayRequest,
        PayResult,
    )
    from core.contracts.vocabulary import CancellationReason, FailureCode, OrderStatus
    from orchestrator.activities.types import GatewayResult, OrderUpdate, RouteRequest


@workflow.defn(name=WORKFLOW_TYPE)
class PaymentWorkflow:
    @workflow.init
    def __init__(self, payment: PaymentInput) -> None:
        self._state = PaymentState(payment, payment_method=payment.payment_method)

    @workflow.update(name=PAY_UPDATE)
    async def pay(self, request: PayRequest) -> PayResult:
        state = self._state
        # The first payment method wins; later calls join the payment already under way. A
        # canceled order is never paid.
        if state.payment_method is None and state.action is None:
            state.payment_method = request.payment_method
        await workflow.wait_condition(lambda: state.status in ANSWERABLE_STATUSES)
        return PayResult(status=state.status)

    @workflow.update(name=CAPTURE_UPDATE)
    async def capture(self, request: CaptureRequest) -> LifecycleResult:
        return await self._act(request)

    @capture.validator
    def _capture_allowed(self, request: CaptureRequest) -> None:
        check_capture(self._state, request)

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, request: CancelRequest) -> LifecycleResult:
        return await self._act(request)

    @cancel.validator
    def _cancel_allowed(self, request: CancelRequest) -> None:
        check_cancel(self._state)

    async def _act(self, request: CaptureRequest | CancelRequest) -> LifecycleResult:
        """Hands a capture or cancel to the payment (run does it) and waits for the result."""
        state = self._state
        state.action, state.action_result = request, None
        await workflow.wait_condition(lambda: state.action_result is not None)
        assert state.action_result is not None
        return state.action_result

    @workflow.signal(name=GATEWAY_EVENT_SIGNAL)
    def gateway_event(self, processor_reference: str) -> None:
        """A processor said something changed (a webhook): look again now, not at the next poll."""
        self._state.gateway_events += 1

    @workflow.query
    def status(self) -> str:
        return self._state.status

    @workflow.run
    async def run(self, payment: PaymentInput) -> PaymentOutcome:
        state = self._state
        await workflow.wait_condition(
            lambda: state.payment_method is not None or state.action is not None
        )
        if state.payment_method is None:
            return await self._cancel_unpaid()
        plan = await route(state, RouteRequest(payment, state.payment_method))
        state.plan = plan
        # Routing wrote the decision and the first step (PROCESSING, or FAILED).
        if not plan.routes:
            state.set_status(OrderStatus.FAILED)
            if plan.event_id:
                state.in_background(dispatch(plan.event_id))
            await workflow.wait_condition(lambda: not state.background)
            return PaymentOutcome(status=OrderStatus.FAILED, failure_code=plan.failure_code)
        state.set_status(OrderStatus.PROCESSING)

        last = await try_processors(state, plan)
        if state.winner is None and state.open_obligations:
            # Nothing won, but an earlier attempt may still turn out charged: until it is known,
            # the honest status is PROCESSING, never FAILED.
            await workflow.wait_condition(
                lambda: state.winner is not None or not state.open_obligations
            )
        if state.winner is None and state.status not in (OrderStatus.FAILED, OrderStatus.CANCELED):
            await self._fail(last)
        # Payments authorized before authorizations were held ended here (their histories
        # must still replay); every new one waits for its capture, cancel or expiry.
        if state.status == OrderStatus.REQUIRES_CAPTURE and workflow.patched(HOLD_AUTHORIZATION):
            await hold_authorization(state, plan)
        # Obligations, undo steps and late-charge watches keep the workflow open until done.
        await workflow.wait_condition(lambda: not state.open_obligations and not state.background)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PaymentOutcome(status=state.status, failure_code=last.decline_code)

    async def _cancel_unpaid(self) -> PaymentOutcome:
        """Canceled before it was ever paid."""
        await cancel_order(self._state, CancellationReason.REQUESTED_BY_MERCHANT)
        await workflow.wait_condition(lambda: not self._state.background)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PaymentOutcome(status=self._state.status)

    async def _fail(self, last: GatewayResult) -> None:
        """Fails the order with the last attempt's reason: no attempt won or can still win."""
        order_id = self._state.payment.order_id
        await record(
            self._state,
            order=OrderUpdate(
                order_id=order_id,
                status=OrderStatus.FAILED,
                failure_code=last.decline_code or FailureCode.PROCESSOR_UNAVAILABLE,
                failure_message=last.decline_message or "no processor could take the payment",
                event=events.ORDER_FAILED,
                event_key=f"{order_id}:{events.ORDER_FAILED}",
            ),
        )
