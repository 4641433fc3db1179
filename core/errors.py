"""The error catalogue: every error a PayLoops API returns, with a stable reason and gRPC code.

Handlers raise `PayLoopsError`; one interceptor in the edge turns it into a google.rpc.Status
with an ErrorInfo (and a BadRequest for field violations). Nothing else builds Status objects,
so this is also where card numbers are masked out of every error that leaves the platform.
The errors a workflow answers with (a refused capture, cancel or refund) take their reasons from
core.contracts.vocabulary.Refusal, the words the workflows use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from core.card_numbers import mask_card_numbers
from core.contracts.vocabulary import Refusal

DOMAIN = "payloops.dev"


@dataclass(frozen=True)
class ErrorKind:
    reason: str
    code: grpc.StatusCode


API_KEY_MISSING = ErrorKind("API_KEY_MISSING", grpc.StatusCode.UNAUTHENTICATED)
API_KEY_INVALID = ErrorKind("API_KEY_INVALID", grpc.StatusCode.UNAUTHENTICATED)
API_KEY_REVOKED = ErrorKind("API_KEY_REVOKED", grpc.StatusCode.UNAUTHENTICATED)
# A rolled key whose overlap has run out.
API_KEY_EXPIRED = ErrorKind("API_KEY_EXPIRED", grpc.StatusCode.UNAUTHENTICATED)
# A read-only key called a method that changes something.
API_KEY_READ_ONLY = ErrorKind("API_KEY_READ_ONLY", grpc.StatusCode.PERMISSION_DENIED)
# An API key manages the keys of its own mode only.
API_KEY_OTHER_MODE = ErrorKind("API_KEY_OTHER_MODE", grpc.StatusCode.PERMISSION_DENIED)
API_KEY_NOT_FOUND = ErrorKind("API_KEY_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
# The audit log is for callers who may change things: not a read-only key, not a viewer.
AUDIT_LOG_FORBIDDEN = ErrorKind("AUDIT_LOG_FORBIDDEN", grpc.StatusCode.PERMISSION_DENIED)
INVALID_REQUEST = ErrorKind("INVALID_REQUEST", grpc.StatusCode.INVALID_ARGUMENT)
# The request's bytes are not the message the method takes: malformed protobuf, or text that
# is not UTF-8 (in the body, or in a path or query parameter Envoy put in a string field).
REQUEST_MALFORMED = ErrorKind("REQUEST_MALFORMED", grpc.StatusCode.INVALID_ARGUMENT)
PAGE_TOKEN_INVALID = ErrorKind("PAGE_TOKEN_INVALID", grpc.StatusCode.INVALID_ARGUMENT)
ORDER_NOT_FOUND = ErrorKind(Refusal.ORDER_NOT_FOUND, grpc.StatusCode.NOT_FOUND)
IDEMPOTENCY_KEY_INVALID = ErrorKind("IDEMPOTENCY_KEY_INVALID", grpc.StatusCode.INVALID_ARGUMENT)
IDEMPOTENCY_KEY_REUSED = ErrorKind("IDEMPOTENCY_KEY_REUSED", grpc.StatusCode.INVALID_ARGUMENT)
IDEMPOTENCY_KEY_IN_USE = ErrorKind("IDEMPOTENCY_KEY_IN_USE", grpc.StatusCode.ABORTED)
DEPENDENCY_UNAVAILABLE = ErrorKind("DEPENDENCY_UNAVAILABLE", grpc.StatusCode.UNAVAILABLE)
ORDER_NOT_CAPTURABLE = ErrorKind(Refusal.ORDER_NOT_CAPTURABLE, grpc.StatusCode.FAILED_PRECONDITION)
ORDER_NOT_CANCELABLE = ErrorKind(Refusal.ORDER_NOT_CANCELABLE, grpc.StatusCode.FAILED_PRECONDITION)
ORDER_NOT_REFUNDABLE = ErrorKind(Refusal.ORDER_NOT_REFUNDABLE, grpc.StatusCode.FAILED_PRECONDITION)
REFUND_EXCEEDS_CAPTURED = ErrorKind(
    Refusal.REFUND_EXCEEDS_CAPTURED, grpc.StatusCode.FAILED_PRECONDITION
)
REFUND_NOT_FOUND = ErrorKind("REFUND_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
# The processor refused the capture (its reason is in the metadata); still authorized.
CAPTURE_REFUSED = ErrorKind("CAPTURE_REFUSED", grpc.StatusCode.FAILED_PRECONDITION)
ADMIN_KEY_INVALID = ErrorKind("ADMIN_KEY_INVALID", grpc.StatusCode.UNAUTHENTICATED)
PROCESSOR_NOT_FOUND = ErrorKind("PROCESSOR_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
PROCESSOR_UNREACHABLE = ErrorKind("PROCESSOR_UNREACHABLE", grpc.StatusCode.FAILED_PRECONDITION)
PROCESSOR_ACCOUNT_NOT_FOUND = ErrorKind("PROCESSOR_ACCOUNT_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
PROCESSOR_ACCOUNT_EXISTS = ErrorKind(
    "PROCESSOR_ACCOUNT_EXISTS", grpc.StatusCode.FAILED_PRECONDITION
)
SECRETS_NOT_CONFIGURED = ErrorKind("SECRETS_NOT_CONFIGURED", grpc.StatusCode.FAILED_PRECONDITION)
WEBHOOK_SIGNATURE_INVALID = ErrorKind("WEBHOOK_SIGNATURE_INVALID", grpc.StatusCode.INVALID_ARGUMENT)
WEBHOOK_ENDPOINT_NOT_FOUND = ErrorKind("WEBHOOK_ENDPOINT_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
# Redelivery to an endpoint that receives nothing: enable it first.
WEBHOOK_ENDPOINT_DISABLED = ErrorKind(
    "WEBHOOK_ENDPOINT_DISABLED", grpc.StatusCode.FAILED_PRECONDITION
)
EVENT_NOT_FOUND = ErrorKind("EVENT_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
INTERNAL = ErrorKind("INTERNAL", grpc.StatusCode.INTERNAL)


@dataclass(frozen=True)
class FieldViolation:
    field: str
    reason: str  # stable UPPER_SNAKE, such as AMOUNT_NOT_POSITIVE
    description: str


class PayLoopsError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        field_violations: Iterable[FieldViolation] = (),
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.metadata = dict(metadata or {})
        self.field_violations = tuple(field_violations)

    def to_status(self) -> status_pb2.Status:
        """The error as the API answers it. Requests holding a card number are refused before
        any handler sees them, but a message may still quote what the caller sent ("no order
        '…'"): every text is masked here, whatever produced it."""
        masked = mask_card_numbers
        details = [
            _pack(
                error_details_pb2.ErrorInfo(
                    reason=self.kind.reason,
                    domain=DOMAIN,
                    metadata={masked(k): masked(v) for k, v in self.metadata.items()},
                )
            )
        ]
        if self.field_violations:
            details.append(
                _pack(
                    error_details_pb2.BadRequest(
                        field_violations=[
                            error_details_pb2.BadRequest.FieldViolation(
                                field=masked(v.field),
                                reason=v.reason,
                                description=masked(v.description),
                            )
                            for v in self.field_violations
                        ]
                    )
                )
            )
        return status_pb2.Status(
            code=_code_number(self.kind.code), message=masked(self.message), details=details
        )


def invalid(violations: Iterable[FieldViolation]) -> PayLoopsError:
    violations = tuple(violations)
    summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
    return PayLoopsError(
        INVALID_REQUEST, f"invalid request: {summary}", field_violations=violations
    )


def capture_amount_invalid(authorized: int) -> PayLoopsError:
    """A capture of more than the order authorized: the edge checks it, and the payment workflow
    checks it again, and both refuse it with this one answer."""
    return invalid(
        [
            FieldViolation(
                "amount",
                Refusal.CAPTURE_AMOUNT_INVALID,
                f"capture 1 to {authorized} (or 0 for all that is authorized)",
            )
        ]
    )


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def _code_number(code: grpc.StatusCode) -> int:
    number: int = code.value[0]
    assert code_pb2.Code.Name(number)  # every grpc.StatusCode is a google.rpc.Code
    return number
