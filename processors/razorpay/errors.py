"""Razorpay's errors as the contract's: what Razorpay answered, or what became of the request,
as the kit's ProcessorError (sent by its interceptor with domain `razorpay.payloops.dev`). The
codes follow the Processor contract (processor.proto, "Outcomes and errors"):

  transport                                  gRPC                   reason
  refused / unresolvable / connect timeout   UNAVAILABLE            NOT_SENT
  HTTP 429 (rate limited before acceptance)  UNAVAILABLE            NOT_SENT
  read timeout                               DEADLINE_EXCEEDED      GATEWAY_TIMEOUT
  connection broken after sending            UNAVAILABLE            GATEWAY_CONNECTION_LOST
  non-JSON answer (a proxy's HTML 502)       UNAVAILABLE            GATEWAY_RESPONSE_UNREADABLE
  GatewayError (GATEWAY_ERROR, 5xx)          UNAVAILABLE            GATEWAY_UPSTREAM_ERROR
  ServerError (SERVER_ERROR, anything else)  UNAVAILABLE            GATEWAY_SERVER_ERROR
  BadRequestError, HTTP 401                  UNAUTHENTICATED        CREDENTIALS_REJECTED
  BadRequestError, HTTP 403                  FAILED_PRECONDITION    GATEWAY_FORBIDDEN
  BadRequestError on a state change          FAILED_PRECONDITION    PAYMENT_STATE_CONFLICT
  BadRequestError otherwise                  INVALID_ARGUMENT       GATEWAY_REJECTED_REQUEST
                                                                    (AMOUNT_TOO_SMALL, …)

Only NOT_SENT says nothing reached Razorpay; every other UNAVAILABLE, DEADLINE_EXCEEDED and
INTERNAL leaves the outcome unknown, and PayLoops resolves it with the same key. NOT_SENT is
about the whole call: once a request that can move money (a payment, a capture, a refund) may
have taken effect, no later failure in the call may say that nothing was charged, so such
answers become UNAVAILABLE OUTCOME_UNKNOWN_AFTER_REQUEST (the kit's
`unknown_after_money_request`).
The BadRequestError rows use the structured error recovered by the session (HTTP status,
reason, field), since the SDK's exception holds only the description.
"""

from __future__ import annotations

from enum import StrEnum

import grpc

from processors.kit.errors import NOT_SENT, ProcessorError, not_sent
from processors.razorpay.transport import GatewayErrorBody, TransportFailure, TransportKind

DOMAIN = "razorpay.payloops.dev"


class Step(StrEnum):
    """What a Razorpay request was for; decides how a 400 is read."""

    READ = "read"
    # Creating the order or the payment: a 400 means PayLoops' request was not acceptable.
    CREATE = "create"
    # Capture, refund, notes of an existing payment, all checked against its state first:
    # a 400 then means the payment's state moved under us.
    STATE_CHANGE = "state_change"


class GatewayAnswer(Exception):
    """Razorpay answered with an error (the SDK raised BadRequestError, GatewayError or
    ServerError); `body` is the whole error object."""

    def __init__(self, sdk_error: str, body: GatewayErrorBody, step: Step) -> None:
        super().__init__(f"{sdk_error}: {body.description}")
        self.sdk_error = sdk_error
        self.body = body
        self.step = step

    def to_error(self) -> ProcessorError:
        return from_answer(self, self.step)

    @property
    def is_bad_request(self) -> bool:
        return self.sdk_error == "BadRequestError"

    @property
    def says_missing(self) -> bool:
        """Razorpay's answer for an id it does not have ("The id provided does not exist")."""
        return self.is_bad_request and (
            self.body.http_status == 404 or "does not exist" in self.body.description.lower()
        )

    @property
    def payment_id(self) -> str:
        """The payment a payment error is about (its `metadata.payment_id`), if any."""
        value = self.body.metadata.get("payment_id")
        return value if isinstance(value, str) else ""


# Razorpay reasons that name a fault in PayLoops' request more precisely than "rejected".
_REQUEST_REASONS: dict[str, str] = {
    "amount_less_than_minimum_amount": "AMOUNT_TOO_SMALL",
    "extra_fields_sent": "GATEWAY_REJECTED_REQUEST",
}


def _metadata(body: GatewayErrorBody, step: Step) -> dict[str, str]:
    values = {
        "gateway_http_status": str(body.http_status),
        "gateway_code": body.code,
        "gateway_reason": body.reason,
        "gateway_field": body.field,
        "step": step.value,
    }
    return {k: v for k, v in values.items() if v and v != "NA"}


def from_answer(answer: GatewayAnswer, step: Step) -> ProcessorError:
    """The contract's error for an error Razorpay answered."""
    body = answer.body
    said = body.description or "no description"
    meta = _metadata(body, step)
    if not answer.is_bad_request:
        reason = (
            "GATEWAY_UPSTREAM_ERROR"
            if answer.sdk_error == "GatewayError"
            else "GATEWAY_SERVER_ERROR"
        )
        return ProcessorError(
            grpc.StatusCode.UNAVAILABLE,
            reason,
            f"Razorpay answered HTTP {body.http_status} {body.code or '?'} "
            f"({said}); the outcome is unknown",
            meta,
        )
    if body.http_status == 401:
        return ProcessorError(
            grpc.StatusCode.UNAUTHENTICATED,
            "CREDENTIALS_REJECTED",
            f"Razorpay rejected the key id and secret: {said}",
            meta,
        )
    if body.http_status == 429:
        return not_sent(f"Razorpay rate-limited the request before accepting it: {said}", meta)
    if body.http_status == 403:
        return ProcessorError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "GATEWAY_FORBIDDEN",
            f"Razorpay refused the request for this account: {said}",
            meta,
        )
    if step is Step.STATE_CHANGE:
        return ProcessorError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "PAYMENT_STATE_CONFLICT",
            f"Razorpay refused it in the payment's current state: {said}",
            meta,
        )
    reason = _REQUEST_REASONS.get(body.reason, "GATEWAY_REJECTED_REQUEST")
    return ProcessorError(
        grpc.StatusCode.INVALID_ARGUMENT, reason, f"Razorpay rejected the request: {said}", meta
    )


_TRANSPORT: dict[TransportKind, tuple[grpc.StatusCode, str, str]] = {
    TransportKind.NOT_SENT: (
        grpc.StatusCode.UNAVAILABLE,
        NOT_SENT,
        "Razorpay could not be reached; the request was not sent",
    ),
    TransportKind.TIMEOUT: (
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "GATEWAY_TIMEOUT",
        "Razorpay did not answer in time; the outcome is unknown",
    ),
    TransportKind.BROKEN: (
        grpc.StatusCode.UNAVAILABLE,
        "GATEWAY_CONNECTION_LOST",
        "the connection to Razorpay broke; the outcome is unknown",
    ),
    TransportKind.UNREADABLE: (
        grpc.StatusCode.UNAVAILABLE,
        "GATEWAY_RESPONSE_UNREADABLE",
        "Razorpay's answer was not readable; the outcome is unknown",
    ),
}


def from_transport(failure: TransportFailure, step: Step) -> ProcessorError:
    code, reason, message = _TRANSPORT[failure.kind]
    meta = {"step": step.value}
    if failure.http_status is not None:
        meta["gateway_http_status"] = str(failure.http_status)
    return ProcessorError(code, reason, f"{message} ({failure.detail})", meta)
