"""When a failed call is tried again, and how long to wait first: the same for every client and
transport.

A call is retried only when retrying cannot do harm: no response at all, 409
IDEMPOTENCY_KEY_IN_USE (the first try is still running), 429 and 503. Every POST carries an
Idempotency-Key, made once per call and sent unchanged on every retry, so the server replays the
first result instead of paying twice.
"""

from __future__ import annotations

import asyncio
import random
import time

from payloops.sdk._errors import APIConnectionError, PayLoopsError

_RETRY_STATUSES = frozenset({429, 503})
_INITIAL_DELAY_S = 0.5
_MAX_DELAY_S = 8.0
# Module attributes, so that tests can record the waits instead of waiting.
sleep = time.sleep
async_sleep = asyncio.sleep


def retryable(error: PayLoopsError) -> bool:
    if isinstance(error, APIConnectionError):
        return True
    if error.http_status == 409:
        return error.reason == "IDEMPOTENCY_KEY_IN_USE"
    return error.http_status in _RETRY_STATUSES


def delay(attempt: int) -> float:
    """Exponential backoff with jitter: retrying clients do not come back in lockstep."""
    ceiling = min(_MAX_DELAY_S, _INITIAL_DELAY_S * 2.0**attempt)
    return ceiling * (0.5 + random.random() / 2)
