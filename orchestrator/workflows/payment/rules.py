"""The outcome rules: what a processor's answer means for the payment. Data and pure functions,
no Temporal calls, so every part of the workflow reads an answer the same way."""

from __future__ import annotations

from dataclasses import replace

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.contracts import events
    from core.contracts.vocabulary import (
        THREE_D_SECURE_CODE_PREFIX,
        AttemptOutcome,
        Compensation,
        FailoverReason,
        GatewayOutcome,
        OrderStatus,
        UndoMethod,
    )
    from orchestrator.activities.types import AttemptRecord, GatewayResult

# Waiting on the customer (a 3-D Secure challenge) or on the processor.
WAITING = frozenset({GatewayOutcome.REQUIRES_ACTION, GatewayOutcome.PENDING})
CHARGED = frozenset({GatewayOutcome.SUCCEEDED, GatewayOutcome.AUTHORIZED})
# Answers about the payment itself. FAILED (the processor refused the request) and NOT_FOUND
# are not: they say nothing about an earlier request with the same key.
DEFINITE = (
    CHARGED
    | WAITING
    | frozenset({GatewayOutcome.DECLINED, GatewayOutcome.CANCELED, GatewayOutcome.REFUNDED})
)
RELEASED = frozenset({GatewayOutcome.CANCELED, GatewayOutcome.REFUNDED})

# Why a payment moved on from an attempt, by the attempt's outcome (no other outcome moves a
# payment on: a charge wins, a wait is waited out, NOT_FOUND answers only lookups).
_FAILOVER_REASONS = {
    GatewayOutcome.DECLINED: FailoverReason.SOFT_DECLINE,
    GatewayOutcome.FAILED: FailoverReason.REJECTED,
    GatewayOutcome.NOT_SENT: FailoverReason.NOT_SENT,
    GatewayOutcome.UNKNOWN: FailoverReason.OUTCOME_UNKNOWN,
    GatewayOutcome.CANCELED: FailoverReason.CANCELED,
    GatewayOutcome.REFUNDED: FailoverReason.REFUNDED,
}
# The order status an attempt's answer settles the order in; any other answer fails it.
_ORDER_STATUSES = {
    GatewayOutcome.SUCCEEDED: OrderStatus.SUCCEEDED,
    GatewayOutcome.AUTHORIZED: OrderStatus.REQUIRES_CAPTURE,
    GatewayOutcome.REQUIRES_ACTION: OrderStatus.REQUIRES_ACTION,
    GatewayOutcome.PENDING: OrderStatus.PROCESSING,
}
# The event of each order status a payment settles in.
_STATUS_EVENTS = {
    OrderStatus.SUCCEEDED: events.ORDER_SUCCEEDED,
    OrderStatus.FAILED: events.ORDER_FAILED,
    OrderStatus.REQUIRES_ACTION: events.ORDER_REQUIRES_ACTION,
    OrderStatus.REQUIRES_CAPTURE: events.ORDER_REQUIRES_CAPTURE,
}
# Each answer as the read model shows the attempt: the outcomes only the workflow knows become
# the API's.
_RECORDED_OUTCOMES = {
    GatewayOutcome.SUCCEEDED: AttemptOutcome.SUCCEEDED,
    GatewayOutcome.AUTHORIZED: AttemptOutcome.AUTHORIZED,
    GatewayOutcome.REQUIRES_ACTION: AttemptOutcome.REQUIRES_ACTION,
    GatewayOutcome.DECLINED: AttemptOutcome.DECLINED,
    GatewayOutcome.PENDING: AttemptOutcome.PENDING,
    GatewayOutcome.CANCELED: AttemptOutcome.CANCELED,
    GatewayOutcome.FAILED: AttemptOutcome.FAILED,
    GatewayOutcome.UNKNOWN: AttemptOutcome.PENDING,
    GatewayOutcome.NOT_SENT: AttemptOutcome.FAILED,
    GatewayOutcome.NOT_FOUND: AttemptOutcome.FAILED,
    GatewayOutcome.REFUNDED: AttemptOutcome.CANCELED,
}


def ends_payment(result: GatewayResult) -> bool:
    """The customer's own answer (a hard decline, a failed challenge): no other processor is
    tried."""
    return (
        result.outcome == GatewayOutcome.DECLINED and not result.soft_decline
    ) or result.decline_code.startswith(THREE_D_SECURE_CODE_PREFIX)


def failover_reason(outcome: GatewayOutcome) -> FailoverReason:
    return _FAILOVER_REASONS.get(outcome, FailoverReason.NONE)


def order_status(outcome: GatewayOutcome) -> OrderStatus:
    """The order's status once an attempt with this outcome decides it."""
    return _ORDER_STATUSES.get(outcome, OrderStatus.FAILED)


def status_event(status: OrderStatus) -> str:
    """The event an order settling in `status` records; "" for none."""
    return _STATUS_EVENTS.get(status, "")


def undo_method(outcome: GatewayOutcome) -> UndoMethod:
    """A capture is refunded; anything else that holds money (an authorization) is voided."""
    return UndoMethod.REFUND if outcome == GatewayOutcome.SUCCEEDED else UndoMethod.VOID


def undone(method: UndoMethod) -> Compensation:
    """The attempt's compensation once the undo held."""
    return Compensation.VOIDED if method == UndoMethod.VOID else Compensation.REFUNDED


def with_result(attempt: AttemptRecord, result: GatewayResult) -> AttemptRecord:
    """The attempt as the processor's answer leaves it, as the read model shows it."""
    return replace(
        attempt,
        outcome=_RECORDED_OUTCOMES[result.outcome],
        decline_code=result.decline_code,
        decline_message=result.decline_message,
        processor_reference=result.processor_reference,
        latency_ms=result.latency_ms,
    )
