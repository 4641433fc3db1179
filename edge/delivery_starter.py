"""How the edge starts webhook deliveries (core/webhooks/deliveries.py) on a merchant's request:
with the installation's task queue and retry schedule, Temporal's unavailability answered as a
retryable refusal."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client
from temporalio.service import RPCError

from core import errors
from core.db import models
from core.webhooks import deliveries as webhook_deliveries


class DeliveryStarter:
    def __init__(
        self, temporal: Client, task_queue: str, schedule: webhook_deliveries.RetrySchedule
    ) -> None:
        self._temporal = temporal
        self._task_queue = task_queue
        self._schedule = schedule

    async def start(self, deliveries: Sequence[models.EventDelivery]) -> None:
        """Starts new deliveries (a recorded one that no workflow has run yet)."""
        try:
            await webhook_deliveries.start(
                self._temporal, self._task_queue, self._schedule, deliveries
            )
        except RPCError as error:
            raise _unavailable() from error

    async def redeliver(self, deliveries: Sequence[models.EventDelivery]) -> None:
        """Sends deliveries again now."""
        try:
            await webhook_deliveries.redeliver(
                self._temporal, self._task_queue, self._schedule, deliveries
            )
        except RPCError as error:
            raise _unavailable() from error


def _unavailable() -> errors.PayLoopsError:
    return errors.PayLoopsError(
        errors.DEPENDENCY_UNAVAILABLE, "deliveries are briefly unavailable; try again"
    )
