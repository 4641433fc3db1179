"""The workflow's calls to a processor, one activity each, with the timeout and retry policy
each kind of call needs. What to do with an answer is decided by the callers."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from core.contracts.vocabulary import GatewayOutcome, UndoMethod
    from orchestrator.activities.processors import ProcessorActivities
    from orchestrator.activities.types import (
        AuthorizeCall,
        CaptureCall,
        GatewayResult,
        LookupCall,
        Route,
        UndoCall,
        unanswered,
    )
    from orchestrator.workflows.policies import ONCE, PROCESSOR_RETRY

# The longest wait between two questions about an attempt whose answer is not known yet.
MAX_BACKOFF = timedelta(seconds=5)


def bounded_ms(deadline_ms: int, remaining: timedelta) -> int:
    """The route's deadline, cut to what is left of a time budget (at least 1 ms)."""
    return max(1, min(deadline_ms, int(remaining.total_seconds() * 1000)))


async def authorize(call: AuthorizeCall) -> GatewayResult:
    """One Authorize; a call that raised instead of answering is "not_sent" or "unknown"."""
    try:
        return await workflow.execute_activity_method(
            ProcessorActivities.authorize,
            call,
            start_to_close_timeout=timedelta(milliseconds=call.deadline_ms + 1000),
            retry_policy=ONCE,
        )
    except ActivityError as error:
        return unanswered(error.cause or error)


async def look_up(route: Route, key: str, deadline_ms: int = 0) -> GatewayResult:
    """GetPayment by attempt key; a transport failure is "unknown" (ask again later)."""
    deadline_ms = deadline_ms or route.deadline_ms
    try:
        return await workflow.execute_activity_method(
            ProcessorActivities.get_payment,
            LookupCall(route=route, attempt_key=key, deadline_ms=deadline_ms),
            start_to_close_timeout=timedelta(milliseconds=deadline_ms + 1000),
            retry_policy=ONCE,
        )
    except ActivityError:
        return GatewayResult(outcome=GatewayOutcome.UNKNOWN)


async def undo(route: Route, method: UndoMethod, key: str, reference: str) -> GatewayResult:
    """Voids or refunds a charge, retried under its key until the processor answers."""
    activity = (
        ProcessorActivities.void_payment
        if method == UndoMethod.VOID
        else ProcessorActivities.refund_payment
    )
    return await workflow.execute_activity_method(
        activity,
        UndoCall(route=route, key=key, processor_reference=reference),
        start_to_close_timeout=timedelta(milliseconds=route.deadline_ms * 2 + 1000),
        retry_policy=PROCESSOR_RETRY,
    )


async def capture(route: Route, key: str, reference: str, amount: int) -> GatewayResult:
    """Captures (part of) an authorization, retried under its key until the processor
    answers."""
    return await workflow.execute_activity_method(
        ProcessorActivities.capture_payment,
        CaptureCall(route=route, key=key, processor_reference=reference, amount=amount),
        start_to_close_timeout=timedelta(milliseconds=route.deadline_ms * 2 + 1000),
        retry_policy=PROCESSOR_RETRY,
    )
