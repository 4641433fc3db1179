"""Inputs and results of the orchestrator's activities (dataclasses, so Temporal can store them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.payment_contract import PaymentInput, PaymentMethod


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
    decision: str  # "candidate" | "skipped"
    reason: str


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
    failure_code: str = ""


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
    """A processor's answer, classified. `outcome` is a lower-case Attempt.Outcome name, or
    "not_found" when a lookup proves the processor never saw the attempt, or "refunded" for a
    charge that was captured and then refunded in full."""

    outcome: str
    processor_reference: str = ""
    decline_code: str = ""
    decline_message: str = ""
    soft_decline: bool = False
    redirect_url: str = ""
    latency_ms: int = 0


@dataclass(frozen=True)
class AttemptRecord:
    order_id: str
    seq: int
    processor: str
    attempt_key: str
    outcome: str
    decline_code: str = ""
    decline_message: str = ""
    processor_reference: str = ""
    latency_ms: int = 0
    failover_reason: str = ""
    compensation: str = ""


@dataclass(frozen=True)
class OrderUpdate:
    """The order's status and amounts, written to the read model."""

    order_id: str
    status: str
    failure_code: str = ""
    failure_message: str = ""
    next_action_url: str = ""
    amount_capturable: int = 0
    amount_received: int = 0
    routing: dict[str, Any] | None = None


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
