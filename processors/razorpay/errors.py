"""The adapter's error catalogue and the one place errors become gRPC statuses.

Every failure is an `AdapterError`: a gRPC code, a stable UPPER_SNAKE reason and a message,
sent as a google.rpc.Status with an ErrorInfo (domain `razorpay.payloops.dev`) by
`StatusInterceptor`; handlers never build statuses. The codes follow the Processor contract
(processor.proto, "Outcomes and errors"):

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
answers become UNAVAILABLE OUTCOME_UNKNOWN_AFTER_REQUEST (`unknown_after_money_request`).
The BadRequestError rows use the structured error recovered by the session (HTTP status,
reason, field), since the SDK's exception holds only the description.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any, cast

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from processors.razorpay.transport import GatewayErrorBody, TransportFailure, TransportKind

log = logging.getLogger(__name__)

DOMAIN = "razorpay.payloops.dev"
NOT_SENT = "NOT_SENT"
_PROCESSOR_PREFIX = "/payloops.processor.v1.Processor/"


class AdapterError(Exception):
    """A failure to report to PayLoops, as the contract classifies it."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"AdapterError({self.code.name}, {self.reason!r}, {self.message!r})"

    def to_status(self) -> grpc.Status:
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.ErrorInfo(reason=self.reason, domain=DOMAIN, metadata=self.metadata)
        )
        status: grpc.Status = rpc_status.to_status(
            status_pb2.Status(code=self.code.value[0], message=self.message, details=[detail])
        )
        return status

    @classmethod
    def invalid(cls, reason: str, message: str) -> AdapterError:
        return cls(grpc.StatusCode.INVALID_ARGUMENT, reason, message)

    @classmethod
    def failed_precondition(cls, reason: str, message: str) -> AdapterError:
        return cls(grpc.StatusCode.FAILED_PRECONDITION, reason, message)

    @classmethod
    def not_found(cls, reason: str, message: str) -> AdapterError:
        return cls(grpc.StatusCode.NOT_FOUND, reason, message)

    @classmethod
    def unauthenticated(cls, reason: str, message: str) -> AdapterError:
        return cls(grpc.StatusCode.UNAUTHENTICATED, reason, message)


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

    def to_error(self) -> AdapterError:
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


def from_answer(answer: GatewayAnswer, step: Step) -> AdapterError:
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
        return AdapterError(
            grpc.StatusCode.UNAVAILABLE,
            reason,
            f"Razorpay answered HTTP {body.http_status} {body.code or '?'} "
            f"({said}); the outcome is unknown",
            meta,
        )
    if body.http_status == 401:
        return AdapterError(
            grpc.StatusCode.UNAUTHENTICATED,
            "CREDENTIALS_REJECTED",
            f"Razorpay rejected the key id and secret: {said}",
            meta,
        )
    if body.http_status == 429:
        return AdapterError(
            grpc.StatusCode.UNAVAILABLE,
            NOT_SENT,
            f"Razorpay rate-limited the request before accepting it: {said}",
            meta,
        )
    if body.http_status == 403:
        return AdapterError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "GATEWAY_FORBIDDEN",
            f"Razorpay refused the request for this account: {said}",
            meta,
        )
    if step is Step.STATE_CHANGE:
        return AdapterError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "PAYMENT_STATE_CONFLICT",
            f"Razorpay refused it in the payment's current state: {said}",
            meta,
        )
    reason = _REQUEST_REASONS.get(body.reason, "GATEWAY_REJECTED_REQUEST")
    return AdapterError(
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


def from_transport(failure: TransportFailure, step: Step) -> AdapterError:
    code, reason, message = _TRANSPORT[failure.kind]
    meta = {"step": step.value}
    if failure.http_status is not None:
        meta["gateway_http_status"] = str(failure.http_status)
    return AdapterError(code, reason, f"{message} ({failure.detail})", meta)


# Answers that tell PayLoops nothing was charged by this call.
_NOTHING_CHARGED = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)


def unknown_after_money_request(error: AdapterError) -> AdapterError:
    """`error` for a call in which a request that can move money (a payment, a capture, a
    refund) may have taken effect: an answer saying nothing was charged ("not sent", "not
    found", "invalid") would be about a later request only, and PayLoops could charge elsewhere
    while Razorpay has charged. The outcome is unknown instead."""
    if error.code not in _NOTHING_CHARGED and error.reason != NOT_SENT:
        return error
    return AdapterError(
        grpc.StatusCode.UNAVAILABLE,
        "OUTCOME_UNKNOWN_AFTER_REQUEST",
        f"{error.message}, after a request that may have moved money; the outcome is unknown",
        {**error.metadata, "cause_reason": error.reason},
    )


_Handler = Callable[[Any, "grpc.aio.ServicerContext[Any, Any]"], Awaitable[Any]]


class StatusInterceptor(grpc.aio.ServerInterceptor):
    """Turns AdapterError into its google.rpc.Status, and any other exception from a Processor
    handler into INTERNAL (outcome unknown), logged without the request."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method = str(getattr(handler_call_details, "method", ""))
        if (
            handler is None
            or handler.unary_unary is None
            or not method.startswith(_PROCESSOR_PREFIX)
        ):
            return handler
        # grpc.aio handlers are coroutines; the stubs type them as grpc's sync ones.
        inner = cast(_Handler, handler.unary_unary)

        async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                return await inner(request, context)
            except AdapterError as error:
                failure = error
            except grpc.aio.AbortError:
                raise
            except Exception:
                log.exception("razorpay adapter: unexpected error in %s", method)
                failure = AdapterError(
                    grpc.StatusCode.INTERNAL,
                    "ADAPTER_INTERNAL_ERROR",
                    "the adapter failed unexpectedly; the outcome is unknown",
                )
            log.info(
                "razorpay %s -> %s %s", method.rsplit("/", 1)[-1], failure.code.name, failure.reason
            )
            await context.abort_with_status(failure.to_status())
            raise AssertionError("abort_with_status returned")

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
