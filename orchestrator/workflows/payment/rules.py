"""The outcome rules: what a processor's answer means for the payment. Data and pure functions,
no Temporal calls, so every part of the workflow reads an answer the same way."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.contracts import events
    from orchestrator.activities.types import AttemptRecord, GatewayResult

# Waiting on the customer (a 3-D Secure challenge) or on the processor.
WAITING = frozenset({"requires_action", "pending"})
CHARGED = frozenset({"succeeded", "authorized"})
# Answers about the payment itself. "failed" (the processor refused the request) and
# "not_found" are not: they say nothing about an earlier request with the same key.
DEFINITE = CHARGED | WAITING | frozenset({"declined", "canceled", "refunded"})
RELEASED = frozenset({"canceled", "refunded"})

# Why a payment moved on from an attempt, by the attempt's outcome.
_FAILOVER_REASONS = {
    "declined": "soft_decline",
    "failed": "rejected",
    "not_sent": "not_sent",
    "unknown": "outcome_unknown",
    "canceled": "canceled",
}
# The order status an attempt's answer settles the order in; any other answer fails it.
_ORDER_STATUSES = {
    "succeeded": "succeeded",
    "authorized": "requires_capture",
    "requires_action": "requires_action",
    "pending": "processing",
}
# The event of each order status a payment settles in.
_STATUS_EVENTS = {
    "succeeded": events.ORDER_SUCCEEDED,
    "failed": events.ORDER_FAILED,
    "requires_action": events.ORDER_REQUIRES_ACTION,
    "requires_capture": events.ORDER_REQUIRES_CAPTURE,
}
# Outcomes only the workflow knows, as the read model shows them.
_RECORDED_OUTCOMES = {
    "unknown": "pending",
    "not_sent": "failed",
    "not_found": "failed",
    "refunded": "canceled",
}

# How a charge that must not survive is undone: an authorization is voided, a capture refunded.
UndoKind = Literal["void", "refund"]


def ends_payment(result: GatewayResult) -> bool:
    """The customer's own answer (a hard decline, a failed challenge): no other processor is
    tried."""
    return (
        result.outcome == "declined" and not result.soft_decline
    ) or result.decline_code.startswith("three_d_secure")


def failover_reason(outcome: str) -> str:
    return _FAILOVER_REASONS.get(outcome, outcome)


def order_status(outcome: str) -> str:
    """The order's status once an attempt with this outcome decides it."""
    return _ORDER_STATUSES.get(outcome, "failed")


def status_event(status: str) -> str:
    """The event an order settling in `status` records; "" for none."""
    return _STATUS_EVENTS.get(status, "")


def undo_kind(outcome: str) -> UndoKind:
    return "refund" if outcome == "succeeded" else "void"


def undone(how: UndoKind) -> str:
    """The attempt's compensation once the undo held: "voided" or "refunded"."""
    return "voided" if how == "void" else "refunded"


def with_result(attempt: AttemptRecord, result: GatewayResult) -> AttemptRecord:
    """The attempt as the processor's answer leaves it, as the read model shows it."""
    return replace(
        attempt,
        outcome=_RECORDED_OUTCOMES.get(result.outcome, result.outcome),
        decline_code=result.decline_code,
        decline_message=result.decline_message,
        processor_reference=result.processor_reference,
        latency_ms=result.latency_ms,
    )
