"""The webhook delivery workflow: one per (event, endpoint) delivery. It POSTs the event until
the endpoint answers 2xx, waiting longer after each failure (30 s, 1 min, 2 min … with jitter,
each wait at most 6 h) for up to 3 days from the first attempt. Then the delivery has failed,
and an endpoint that has answered nothing with 2xx for those 3 days is disabled, which is
itself an event for the merchant's other endpoints. Deliveries are at least once: a receiver
drops duplicates by the event id.

Every attempt is an activity with a short timeout (the HTTP timeout plus a margin, and a
heartbeat so a dead worker is noticed in seconds), so a hanging receiver only delays its own
delivery. An attempt that never reports back is recorded as failed and made again later.
The `redeliver` signal (RedeliverEvent) makes the next attempt now.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutType
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from core.contracts.vocabulary import DeliveryAttemptOutcome, DeliveryStatus
    from core.webhooks import delivery_errors
    from core.webhooks.deliveries import (
        REDELIVER_SIGNAL,
        WORKFLOW_TYPE,
        DeliveryInput,
        DeliveryResult,
        RetrySchedule,
    )
    from orchestrator.activities.webhooks import (
        AttemptCall,
        AttemptResult,
        GiveUp,
        LostAttempt,
        WebhookActivities,
    )

# Database steps are retried until the database is back; nothing is lost meanwhile.
_DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=10),
)
_DB_TIMEOUT = timedelta(seconds=10)
# An attempt is made once per activity: the workflow's schedule is the retry.
_ONCE = RetryPolicy(maximum_attempts=1)
_ATTEMPT_MARGIN = timedelta(seconds=5)
_HEARTBEAT_TIMEOUT = timedelta(seconds=5)
# A wait shorter than this before the horizon is not worth another attempt.
_MIN_WAIT_SECONDS = 1.0
# Waits are the doubling schedule times a factor in [1 - _JITTER, 1 + _JITTER): deliveries
# that failed together (an endpoint that was down) do not all come back at the same instant.
_JITTER = 0.2


def retry_wait(schedule: RetrySchedule, retries: int, draw: float) -> float:
    """Seconds to wait before retry number `retries + 1`; `draw` in [0, 1) is the jitter."""
    doubling: float = schedule.first_retry_seconds * 2 ** min(retries, 32)
    return min(doubling, schedule.max_retry_seconds) * (1 - _JITTER + 2 * _JITTER * draw)


@workflow.defn(name=WORKFLOW_TYPE)
class WebhookDeliveryWorkflow:
    def __init__(self) -> None:
        self._send_now = False

    @workflow.signal(name=REDELIVER_SIGNAL)
    def redeliver(self) -> None:
        """Attempt now (RedeliverEvent while this run is still retrying, or the signal that
        started this run)."""
        self._send_now = True

    @workflow.run
    async def run(self, delivery: DeliveryInput) -> DeliveryResult:
        schedule = delivery.schedule
        number = await workflow.execute_activity_method(
            WebhookActivities.begin_delivery,
            delivery.delivery_id,
            start_to_close_timeout=_DB_TIMEOUT,
            retry_policy=_DB_RETRY,
        )
        first = workflow.now()
        give_up_at = first + timedelta(seconds=schedule.give_up_after_seconds)
        made = retries = 0
        while True:
            self._send_now = False
            remaining = (give_up_at - workflow.now()).total_seconds()
            wait = (
                min(retry_wait(schedule, retries, workflow.random().random()), remaining)
                if remaining >= _MIN_WAIT_SECONDS
                else 0.0
            )
            result = await self._attempt(delivery, number, wait)
            if result.outcome == DeliveryAttemptOutcome.ENDPOINT_GONE:  # nothing was sent
                return self._result(DeliveryStatus.FAILED, made, first)
            made += 1
            number += 1
            if result.outcome == DeliveryAttemptOutcome.DELIVERED:
                if self._send_now:
                    continue  # redelivery asked for while this attempt was in flight
                return self._result(DeliveryStatus.SUCCEEDED, made, first)
            if wait <= 0:
                break
            retries += 1
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._send_now, timeout=timedelta(seconds=wait)
                )
        disabled_event = await workflow.execute_activity_method(
            WebhookActivities.give_up_delivery,
            GiveUp(delivery_id=delivery.delivery_id, failing_since=first.isoformat()),
            start_to_close_timeout=_DB_TIMEOUT,
            retry_policy=_DB_RETRY,
        )
        if disabled_event:
            await workflow.execute_activity_method(
                WebhookActivities.dispatch_event,
                disabled_event,
                start_to_close_timeout=_DB_TIMEOUT * 3,
                retry_policy=_DB_RETRY,
            )
        return self._result(
            DeliveryStatus.FAILED, made, first, endpoint_disabled=bool(disabled_event)
        )

    async def _attempt(self, delivery: DeliveryInput, number: int, wait: float) -> AttemptResult:
        timeout = delivery.schedule.timeout_seconds
        try:
            return await workflow.execute_activity_method(
                WebhookActivities.attempt_delivery,
                AttemptCall(
                    delivery_id=delivery.delivery_id,
                    attempt_number=number,
                    timeout_seconds=timeout,
                    retry_in_seconds=wait,
                ),
                start_to_close_timeout=timedelta(seconds=timeout) + _ATTEMPT_MARGIN,
                heartbeat_timeout=_HEARTBEAT_TIMEOUT,
                retry_policy=_ONCE,
            )
        except ActivityError as error:
            lost = _lost_reason(error)
            await workflow.execute_activity_method(
                WebhookActivities.record_lost_attempt,
                LostAttempt(
                    delivery_id=delivery.delivery_id,
                    attempt_number=number,
                    error=lost,
                    retry_in_seconds=wait,
                ),
                start_to_close_timeout=_DB_TIMEOUT,
                retry_policy=_DB_RETRY,
            )
            return AttemptResult(outcome=DeliveryAttemptOutcome.FAILED, error=lost)

    def _result(
        self, status: DeliveryStatus, made: int, first: datetime, endpoint_disabled: bool = False
    ) -> DeliveryResult:
        return DeliveryResult(
            status=status,
            attempts=made,
            first_attempt_at=first.isoformat(),
            last_attempt_at=workflow.now().isoformat(),
            endpoint_disabled=endpoint_disabled,
        )


def _lost_reason(error: ActivityError) -> str:
    """The class the merchant is shown (core/webhooks/delivery_errors.py); the cause itself stays in
    the workflow's history, for the operator."""
    cause = error.cause
    if isinstance(cause, ActivityTimeout) and cause.type == TimeoutType.HEARTBEAT:
        return delivery_errors.WORKER_LOST
    if isinstance(cause, ActivityTimeout):
        return delivery_errors.TIMEOUT
    return delivery_errors.INTERNAL_ERROR
