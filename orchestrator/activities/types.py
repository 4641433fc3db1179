"""Inputs and results of the orchestrator's activities (dataclasses, so Temporal can store them)."""

# No `from __future__ import annotations` here: Temporal's converter resolves these classes'
# annotations on every payload it decodes, and string annotations are compiled each time
# (three times slower on the payment's hot path).

from dataclasses import dataclass
from typing import Any, Literal

from temporalio.exceptions import ApplicationError

from core.contracts.payment import PaymentInput, PaymentMethod
from core.contracts.vocabulary import (
    AttemptOutcome,
    CancellationReason,
    CandidateDecision,
    CandidateReason,
    Compensation,
    FailoverReason,
    FailureCode,
    GatewayOutcome,
    OrderStatus,
    ProcessorCallError,
    RefundStatus,
    Refusal,
)


@dataclass(frozen=True)
class Route:
    """One processor a payment may go to."""

    processor: str
    target: str
    deadline_ms: int
    # The processor account whose credentials the calls send (looked up by the activity, so
    # no secret is ever in the workflow's history); "" when the processor needs none.
    account_id: str = ""
    tls: bool = False
    tls_ca_pem: str = ""
    # The payment's mode: a test payment only ever reaches test credentials.
    livemode: bool = False


@dataclass(frozen=True)
class RouteRequest:
    payment: PaymentInput
    payment_method: PaymentMethod


@dataclass(frozen=True)
class RoutedCandidate:
    processor: str
    decision: CandidateDecision
    reason: CandidateReason


@dataclass(frozen=True)
class RoutePlan:
    """Where a payment goes, in order, and the merchant's failover rules for it."""

    config_version: int
    rule: str
    routes: list[Route]
    considered: list[RoutedCandidate]
    unknown_outcome_policy: str  # "failover" | "wait"
    max_attempts: int
    payment_budget_seconds: float
    resolution_budget_seconds: float
    three_ds_timeout_seconds: float
    three_ds_poll_seconds: float
    # Why there is nothing to try, when `routes` is empty.
    failure_code: FailureCode | Literal[""] = ""
    # How long an authorization (manual capture) waits for its capture before it is voided.
    authorization_ttl_seconds: float = 7 * 24 * 3600
    # The order.failed event routing recorded when nothing could take the payment, if anyone
    # listens for it.
    event_id: str | None = None


@dataclass(frozen=True)
class AuthorizeCall:
    route: Route
    attempt_key: str
    payment: PaymentInput
    payment_method: PaymentMethod
    # Shorter than the route's deadline when the payment's time budget is nearly spent.
    deadline_ms: int = 0


@dataclass(frozen=True)
class LookupCall:
    route: Route
    attempt_key: str
    # Shorter than the route's deadline when the resolution budget is nearly spent.
    deadline_ms: int = 0


@dataclass(frozen=True)
class UndoCall:
    """Void or refund a charge that must not survive."""

    route: Route
    key: str
    processor_reference: str


@dataclass(frozen=True)
class GatewayResult:
    """A processor's answer, classified."""

    outcome: GatewayOutcome
    processor_reference: str = ""
    # The gateway's decline code, or a FailureCode.
    decline_code: str = ""
    decline_message: str = ""
    soft_decline: bool = False
    redirect_url: str = ""
    latency_ms: int = 0


def unanswered(error: BaseException) -> GatewayResult:
    """What a processor call that raised instead of answering means: provably not sent (the
    adapter said NOT_SENT, or no connection to it could be made, so the call never started),
    or an unknown outcome (a deadline, a dropped connection, a worker that died mid-call: the
    processor may have charged)."""
    if isinstance(error, ApplicationError) and error.type == ProcessorCallError.NOT_SENT:
        return GatewayResult(
            outcome=GatewayOutcome.NOT_SENT,
            decline_code=FailureCode.PROCESSOR_UNAVAILABLE,
            decline_message=error.message,
        )
    return GatewayResult(
        outcome=GatewayOutcome.UNKNOWN,
        decline_code=FailureCode.PROCESSOR_UNAVAILABLE,
        decline_message=str(error),
    )


@dataclass(frozen=True)
class RoutedFirstCall:
    """A payment's route, and the answer to its first Authorize (None when nothing can take
    the payment)."""

    plan: RoutePlan
    first: GatewayResult | None = None


@dataclass(frozen=True)
class AttemptRecord:
    order_id: str
    seq: int
    processor: str
    attempt_key: str
    outcome: AttemptOutcome
    decline_code: str = ""
    decline_message: str = ""
    processor_reference: str = ""
    latency_ms: int = 0
    failover_reason: FailoverReason = FailoverReason.NONE
    compensation: Compensation = Compensation.NONE
    # The processor account whose credentials this attempt used (refunds go through it).
    account_id: str = ""


@dataclass(frozen=True)
class OrderUpdate:
    """The order's status and amounts, written to the read model."""

    order_id: str
    status: OrderStatus
    failure_code: str = ""
    failure_message: str = ""
    next_action_url: str = ""
    amount_capturable: int = 0
    amount_received: int = 0
    routing: dict[str, Any] | None = None
    # ISO 8601, when an authorization (REQUIRES_CAPTURE) is voided if not captured.
    capture_before: str = ""
    cancellation_reason: CancellationReason | Literal[""] = ""
    # The event this change is (core.contracts.events: "order.succeeded", …), recorded with it,
    # and the key that names the change (so a retried write records it once); "" for none.
    event: str = ""
    event_key: str = ""
    # Seconds from the pay to this status, when this status ends the payment (succeeded,
    # failed, requires_capture, canceled): the payment_latency_seconds metric. 0 otherwise.
    pay_seconds: float = 0.0


@dataclass(frozen=True)
class HealthReport:
    processor: str
    # True when the processor answered (even a decline), False when it was unreachable or
    # its outcome unknown.
    answered: bool


@dataclass(frozen=True)
class Progress:
    """One write to the read model: any of an attempt, the order, and a processor's health,
    in a single transaction."""

    attempt: AttemptRecord | None = None
    order: OrderUpdate | None = None
    health: HealthReport | None = None


@dataclass(frozen=True)
class CaptureCall:
    route: Route
    key: str
    processor_reference: str
    amount: int


@dataclass(frozen=True)
class RefundCall:
    """A merchant's refund at the processor holding the payment."""

    route: Route
    key: str
    processor_reference: str
    amount: int
    reason: str


@dataclass(frozen=True)
class RefundResult:
    """Pending (not final yet), succeeded, or failed with the processor's code."""

    status: RefundStatus
    failure_code: str = ""
    failure_message: str = ""
    processor_reference: str = ""
    # Failed because the processor refused the request: no refund exists under the key (as
    # opposed to a refund that was made and failed, which holds the key for good).
    refused: bool = False


@dataclass(frozen=True)
class RefundPlan:
    """A reserved refund: where and how to send it."""

    reserved: bool
    amount: int = 0
    route: Route | None = None
    key: str = ""
    payment_reference: str = ""
    error: Refusal | Literal[""] = ""
    message: str = ""


@dataclass(frozen=True)
class RefundOutcome:
    refund_id: str
    status: RefundStatus  # succeeded or failed
    failure_code: str = ""
    failure_message: str = ""
    processor_reference: str = ""
