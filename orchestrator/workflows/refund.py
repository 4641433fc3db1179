"""The refund workflow: one per refund. Its `reserve` update (sent with its start, so the
caller learns at once whether the refund is allowed) reserves the amount against what the
order captured; then the refund is made at the processor that holds the payment, under the
refund's own key, and followed until the processor says it succeeded or failed. A refund that
fails gives its amount back to the order's refundable amount."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.contracts.payment import (
        REFUND_WORKFLOW_TYPE,
        RESERVE_UPDATE,
        RefundInput,
        Reservation,
        ReserveRequest,
    )
    from core.contracts.vocabulary import RefundStatus
    from orchestrator.activities.processors import ProcessorActivities
    from orchestrator.activities.refunds import RefundActivities
    from orchestrator.activities.types import RefundCall, RefundOutcome, RefundResult
    from orchestrator.workflows.policies import DB_RETRY, PROCESSOR_RETRY

# A refund the processor accepted but has not finished (bank transfers can take days) is asked
# about again, less and less often.
_FIRST_POLL = timedelta(seconds=2)
_MAX_POLL = timedelta(hours=1)


@workflow.defn(name=REFUND_WORKFLOW_TYPE)
class RefundWorkflow:
    @workflow.init
    def __init__(self, refund: RefundInput) -> None:
        self._reservation: Reservation | None = None

    @workflow.update(name=RESERVE_UPDATE)
    async def reserve(self, request: ReserveRequest) -> Reservation:
        await workflow.wait_condition(lambda: self._reservation is not None)
        assert self._reservation is not None
        return self._reservation

    @workflow.run
    async def run(self, refund: RefundInput) -> RefundOutcome | None:
        plan = await workflow.execute_local_activity_method(
            RefundActivities.reserve_refund,
            refund,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=DB_RETRY,
        )
        self._reservation = Reservation(
            ok=plan.reserved, amount=plan.amount, error=plan.error, message=plan.message
        )
        if not plan.reserved or plan.route is None:
            await workflow.wait_condition(workflow.all_handlers_finished)
            return None
        call = RefundCall(
            route=plan.route,
            key=plan.key,
            processor_reference=plan.payment_reference,
            amount=plan.amount,
            reason=refund.reason,
        )
        poll = _FIRST_POLL
        while True:
            result: RefundResult = await workflow.execute_activity_method(
                ProcessorActivities.refund,
                call,
                start_to_close_timeout=timedelta(milliseconds=plan.route.deadline_ms * 2 + 1000),
                retry_policy=PROCESSOR_RETRY,
            )
            if result.status != RefundStatus.PENDING:
                break
            await workflow.sleep(poll)
            poll = min(poll * 2, _MAX_POLL)
        outcome = RefundOutcome(
            refund_id=refund.refund_id,
            status=result.status,
            failure_code=result.failure_code,
            failure_message=result.failure_message,
            processor_reference=result.processor_reference,
        )
        event_id = await workflow.execute_local_activity_method(
            RefundActivities.finish_refund,
            outcome,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=DB_RETRY,
        )
        if event_id:
            await workflow.execute_activity(
                "dispatch_event",
                event_id,
                result_type=int,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome
