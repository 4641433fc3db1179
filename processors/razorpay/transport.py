"""The HTTP layer under the `razorpay` SDK.

The SDK (2.0.1) sets no timeout, keeps only the `description` of Razorpay's structured error,
raises raw `requests` exceptions (or a JSONDecodeError for an HTML 502) for transport failures,
and print()s to stdout when it does. `RazorpaySession` is handed to `razorpay.Client(session=…)`
and fixes all of that below the SDK:

  * every request gets a timeout: the configured one, cut down to what is left of the gRPC
    call's deadline (`CallBudget`), so no thread outlives the call by much;
  * a response hook keeps the whole error object and the HTTP status in the call's budget,
    where the adapter reads it after the SDK raised its one-string exception;
  * transport failures and unreadable answers leave the session as `TransportFailure`, already
    classified (provably not sent, or outcome unknown). Not being a `requests` exception, it
    passes through the SDK's handlers, which therefore print nothing.

The SDK's own retries stay off (`enable_retry` is never called): it would re-send POSTs that
carry no idempotency key.
"""

from __future__ import annotations

import contextvars
import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

# Connecting needs little time; the rest of the budget is for Razorpay's answer.
_CONNECT_TIMEOUT_S = 3.05
# Below this much time left, a request is not sent at all: it could not be answered in time.
_MIN_REQUEST_S = 0.02


class TransportKind(StrEnum):
    # The request never left this machine: refused, unresolvable, connect timeout, no time.
    NOT_SENT = "not_sent"
    # Sent, no complete answer in time.
    TIMEOUT = "timeout"
    # Sent, then the connection broke before an answer.
    BROKEN = "broken"
    # An answer that is not Razorpay's JSON (a proxy's HTML 502, a truncated body).
    UNREADABLE = "unreadable"


class TransportFailure(Exception):
    """A request without a usable answer from Razorpay."""

    def __init__(self, kind: TransportKind, detail: str, http_status: int | None = None) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail
        self.http_status = http_status


@dataclass(frozen=True)
class GatewayErrorBody:
    """Razorpay's `{"error": {...}}` plus the HTTP status (what the SDK throws away)."""

    http_status: int
    code: str = ""
    description: str = ""
    source: str = ""
    step: str = ""
    reason: str = ""
    field: str = ""
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_response(cls, status: int, body: object) -> GatewayErrorBody:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(http_status=status)
        metadata = error.get("metadata")

        def text(name: str) -> str:
            value = error.get(name)
            return "" if value is None else str(value)

        return cls(
            http_status=status,
            code=text("code"),
            description=text("description"),
            source=text("source"),
            step=text("step"),
            reason=text("reason"),
            field=text("field"),
            metadata=dict(metadata) if isinstance(metadata, dict) else {},
        )


@dataclass
class CallBudget:
    """One gRPC call's gateway work: its deadline and the last error Razorpay answered."""

    deadline: float | None  # time.monotonic(); None = only the per-request timeout applies
    last_error: GatewayErrorBody | None = None
    # A request that can move money (payment, capture, refund) may have taken effect: from
    # then on no failure of this call may say that nothing was charged.
    money_request_sent: bool = False

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


_BUDGET: contextvars.ContextVar[CallBudget | None] = contextvars.ContextVar(
    "razorpay_call_budget", default=None
)


@contextmanager
def call_budget(budget: CallBudget) -> Iterator[CallBudget]:
    """Makes `budget` the current call's for the requests made inside (same thread)."""
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def current_budget() -> CallBudget | None:
    return _BUDGET.get()


class RazorpaySession(requests.Session):
    """A `requests.Session` for one thread and one set of credentials (see module doc)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s
        self.hooks["response"].append(_remember_error)

    def request(
        self, method: str, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs["timeout"] = self._timeout()
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException as error:
            raise TransportFailure(classify(error), _describe(error)) from error
        if response.status_code != 204 and not _is_json(response):
            raise TransportFailure(
                TransportKind.UNREADABLE,
                f"HTTP {response.status_code} with a body that is not JSON "
                f"({response.headers.get('Content-Type', 'no content type')})",
                response.status_code,
            )
        return response

    def _timeout(self) -> tuple[float, float]:
        budget = current_budget()
        left = None if budget is None else budget.remaining()
        read = self._timeout_s if left is None else min(self._timeout_s, left)
        if read < _MIN_REQUEST_S:
            raise TransportFailure(
                TransportKind.NOT_SENT, "the call's deadline left no time for the request"
            )
        return (min(_CONNECT_TIMEOUT_S, read), read)


def _remember_error(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    budget = current_budget()
    if budget is None or response.status_code < 300:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    budget.last_error = GatewayErrorBody.from_response(response.status_code, body)


def _is_json(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def classify(error: requests.RequestException) -> TransportKind:
    """Whether a `requests` failure proves the request was never sent."""
    # ConnectTimeout is both a ConnectionError and a Timeout: no connection, nothing sent.
    if isinstance(error, requests.ConnectTimeout):
        return TransportKind.NOT_SENT
    if isinstance(error, requests.Timeout):
        return TransportKind.TIMEOUT
    if isinstance(error, requests.ConnectionError):
        cause = error.args[0] if error.args else None
        reason = cause.reason if isinstance(cause, MaxRetryError) else cause
        # Refused, unresolvable, or no TCP connection in time (NewConnectionError is a
        # ConnectTimeoutError): the request itself was never written.
        if isinstance(reason, ConnectTimeoutError | NewConnectionError):
            return TransportKind.NOT_SENT
        # Anything else (reset, remote closed mid-answer, a stale pooled connection) may have
        # happened after Razorpay read the request.
        return TransportKind.BROKEN
    if isinstance(error, requests.exceptions.JSONDecodeError):
        return TransportKind.UNREADABLE
    if isinstance(error, requests.exceptions.InvalidJSONError):
        return TransportKind.NOT_SENT  # the request body could not even be encoded
    if isinstance(
        error,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.InvalidHeader,
    ):
        return TransportKind.NOT_SENT
    return TransportKind.BROKEN


def _describe(error: requests.RequestException) -> str:
    # The class name and the failing host/port are enough; urllib3's text carries no secrets
    # (Basic credentials go in a header, never in the URL) but is long.
    return f"{type(error).__name__}: {str(error)[:300]}"
