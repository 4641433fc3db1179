"""What the payment workflow knows about its payment while it runs. Every part of the workflow
is a plain function over this one state object, so no part imports the workflow class and the
parts import each other in one direction only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

from orchestrator.workflows.payment.patches import INDEX_STATUS

with workflow.unsafe.imports_passed_through():
    from core.contracts import search_attributes
    from core.contracts.payment import (
        CancelRequest,
        CaptureRequest,
        LifecycleResult,
        PaymentInput,
        PaymentMethod,
    )
    from core.contracts.vocabulary import CancellationReason, OrderStatus
    from orchestrator.activities.types import (
        AttemptRecord,
        GatewayResult,
        HealthReport,
        Route,
        RoutePlan,
    )


@dataclass(frozen=True)
class Claim:
    """The attempt whose charge is the order's payment, with its route and the processor's
    answer: what capturing or voiding its authorization needs."""

    attempt: AttemptRecord
    route: Route
    result: GatewayResult


@dataclass
class PaymentState:
    payment: PaymentInput
    # A payment started by PayOrder has its method from the start (see PaymentInput).
    payment_method: PaymentMethod | None
    status: OrderStatus = OrderStatus.REQUIRES_PAYMENT_METHOD
    plan: RoutePlan | None = None
    # Counts the gateway's webhooks about this payment: a waiting step wakes when it moves.
    gateway_events: int = 0
    # Set synchronously (no await between the check and the claim), so two attempts can never
    # both become the payment.
    winner: Claim | None = None
    # Unknown attempts that may still turn out charged: while any is open, the order cannot
    # be FAILED.
    open_obligations: int = 0
    # Work that keeps the workflow open after the order is decided: undoing charges, watching
    # for late ones, handing events to the webhook deliveries.
    background: int = 0
    # Held so a running task is never garbage-collected.
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # Rides along with the next write of the read model (one transaction, no extra step).
    unreported_health: HealthReport | None = None
    # A capture or cancel the merchant asked for, and what became of it.
    action: CaptureRequest | CancelRequest | None = None
    action_result: LifecycleResult | None = None
    captures: int = 0
    # Whether the first Authorize ran as a local activity (first_step.py says why), its
    # answer until the first attempt takes it, and when the payment's first step began (its
    # time budget runs from there).
    first_call_local: bool = False
    first_answer: GatewayResult | None = None
    routed_at: datetime | None = None
    # Whether the payment's end-to-end latency went with a write already (progress.py).
    pay_measured: bool = False

    def set_status(self, status: OrderStatus) -> None:
        """The order's status as the workflow knows it, and as Temporal's index shows it
        (core.contracts.search_attributes). Payments started before the status was indexed
        keep the commands their histories hold (patches.py)."""
        changed = status != self.status
        self.status = status
        if changed and workflow.patched(INDEX_STATUS):
            workflow.upsert_search_attributes(
                [search_attributes.STATUS.value_set(search_attributes.status_value(status))]
            )

    def cancel_requested(self) -> bool:
        return isinstance(self.action, CancelRequest)

    def cancel_reason(self) -> CancellationReason:
        if isinstance(self.action, CancelRequest):
            return self.action.reason
        return CancellationReason.REQUESTED_BY_MERCHANT

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs `work` as a task that keeps the workflow open until it is done."""
        self.background += 1

        async def tracked() -> None:
            try:
                await work
            finally:
                self.background -= 1

        self.tasks.append(asyncio.create_task(tracked()))

    async def pause(
        self, duration: timedelta, or_until: Callable[[], bool] = lambda: False
    ) -> None:
        """Waits `duration`, or less if the gateway sends news about this payment (a webhook)
        or `or_until` comes true."""
        seen = self.gateway_events
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.gateway_events != seen or or_until(), timeout=duration
            )
