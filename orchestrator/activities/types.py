"""Inputs and results of the orchestrator's activities (dataclasses, so Temporal can store them)."""

from __future__ import annotations

from dataclasses import dataclass

from core.payment_contract import PaymentInput, PaymentMethod


@dataclass(frozen=True)
class Route:
    """Where a payment goes, and the timing rules the worker was configured with."""

    processor: str
    target: str
    deadline_ms: int
    three_ds_timeout_seconds: float
    three_ds_poll_seconds: float


@dataclass(frozen=True)
class AuthorizeCall:
    route: Route
    attempt_key: str
    payment: PaymentInput
    payment_method: PaymentMethod


@dataclass(frozen=True)
class LookupCall:
    route: Route
    attempt_key: str


@dataclass(frozen=True)
class VoidCall:
    route: Route
    void_key: str
    processor_reference: str


@dataclass(frozen=True)
class GatewayResult:
    """A processor's answer, classified. `outcome` is a lower-case Attempt.Outcome name, or
    "not_found" when a lookup proves the processor never saw the attempt."""

    outcome: str
    processor_reference: str = ""
    decline_code: str = ""
    decline_message: str = ""
    soft_decline: bool = False
    redirect_url: str = ""
    latency_ms: int = 0


@dataclass(frozen=True)
class AttemptRecord:
    seq: int
    processor: str
    attempt_key: str
    outcome: str
    decline_code: str = ""
    decline_message: str = ""
    processor_reference: str = ""
    latency_ms: int = 0


@dataclass(frozen=True)
class Progress:
    """One step of a payment, written to the read model in one transaction."""

    order_id: str
    status: str
    attempt: AttemptRecord | None = None
    failure_code: str = ""
    failure_message: str = ""
    next_action_url: str = ""
    amount_capturable: int = 0
    amount_received: int = 0
