"""Retry policies the workflows share."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Database steps (local activities: they run in the worker, next to the workflow) are retried
# until the database is back. Nothing is lost meanwhile.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=10),
)
# A processor call is tried once per activity: what to do after a failure depends on whether
# it was sent, which the workflow decides.
ONCE = RetryPolicy(maximum_attempts=1)
# Calls that only release or settle money (void, refund, capture under one key): retried until
# the processor answers; the key makes every retry the same operation.
PROCESSOR_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=5),
)
