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
from google.protobuf import any_pb2, duration_pb2
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
# A publishable key (pk_…) sent to any call but card tokenization.
API_KEY_PUBLISHABLE = ErrorKind("API_KEY_PUBLISHABLE", grpc.StatusCode.PERMISSION_DENIED)
# -- the card vault (docs/vault.md) --
# Card tokenization takes a publishable key only (not a secret key, not a dashboard token).
PUBLISHABLE_KEY_REQUIRED = ErrorKind("PUBLISHABLE_KEY_REQUIRED", grpc.StatusCode.PERMISSION_DENIED)
# The vault's internal API: no service credential, or not one the vault knows.
SERVICE_CREDENTIAL_INVALID = ErrorKind(
    "SERVICE_CREDENTIAL_INVALID", grpc.StatusCode.UNAUTHENTICATED
)
# A service credential the vault knows, for a call that service may not make (the edge's
# credential cannot detokenize).
SERVICE_NOT_ALLOWED = ErrorKind("SERVICE_NOT_ALLOWED", grpc.StatusCode.PERMISSION_DENIED)
# No such vaulted payment method for this merchant in this mode.
PAYMENT_METHOD_NOT_FOUND = ErrorKind("PAYMENT_METHOD_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
# -- customers (docs/customers.md) --
CUSTOMER_NOT_FOUND = ErrorKind("CUSTOMER_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
# The customer has no such saved payment method.
CUSTOMER_PAYMENT_METHOD_NOT_FOUND = ErrorKind(
    "CUSTOMER_PAYMENT_METHOD_NOT_FOUND", grpc.StatusCode.NOT_FOUND
)
# The card (by fingerprint) is already saved for this customer, under the method in metadata.
PAYMENT_METHOD_DUPLICATE = ErrorKind("PAYMENT_METHOD_DUPLICATE", grpc.StatusCode.ALREADY_EXISTS)
# The payment method is saved for another customer of the merchant.
PAYMENT_METHOD_ATTACHED_ELSEWHERE = ErrorKind(
    "PAYMENT_METHOD_ATTACHED_ELSEWHERE", grpc.StatusCode.FAILED_PRECONDITION
)
# Paying an order with a method saved for a customer who is not the order's.
PAYMENT_METHOD_CUSTOMER_MISMATCH = ErrorKind(
    "PAYMENT_METHOD_CUSTOMER_MISMATCH", grpc.StatusCode.FAILED_PRECONDITION
)
# An off-session (merchant-initiated) payment with a method not saved for the order's customer.
PAYMENT_METHOD_NOT_SAVED = ErrorKind(
    "PAYMENT_METHOD_NOT_SAVED", grpc.StatusCode.FAILED_PRECONDITION
)
# The edge could not reach the vault (down, or it refused the edge's credential).
VAULT_UNAVAILABLE = ErrorKind("VAULT_UNAVAILABLE", grpc.StatusCode.UNAVAILABLE)
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
# A routing configuration version the merchant never saved in this mode.
ROUTING_CONFIG_VERSION_NOT_FOUND = ErrorKind(
    "ROUTING_CONFIG_VERSION_NOT_FOUND", grpc.StatusCode.NOT_FOUND
)
# -- people: users, sessions, roles (docs/access.md) --
# Sign-in is closed: no JWT signing key is configured (PAYLOOPS_JWT_SIGNING_KEYS).
SESSIONS_NOT_CONFIGURED = ErrorKind("SESSIONS_NOT_CONFIGURED", grpc.StatusCode.FAILED_PRECONDITION)
# The e-mail or the password is wrong (one answer for both: no way to probe for users).
SIGN_IN_FAILED = ErrorKind("SIGN_IN_FAILED", grpc.StatusCode.UNAUTHENTICATED)
# Too many failed sign-ins for the e-mail or from the address: wait Retry-After seconds.
SIGN_IN_THROTTLED = ErrorKind("SIGN_IN_THROTTLED", grpc.StatusCode.RESOURCE_EXHAUSTED)
REFRESH_TOKEN_INVALID = ErrorKind("REFRESH_TOKEN_INVALID", grpc.StatusCode.UNAUTHENTICATED)
REFRESH_TOKEN_EXPIRED = ErrorKind("REFRESH_TOKEN_EXPIRED", grpc.StatusCode.UNAUTHENTICATED)
# A refresh token presented a second time: its session is revoked.
REFRESH_TOKEN_REUSED = ErrorKind("REFRESH_TOKEN_REUSED", grpc.StatusCode.UNAUTHENTICATED)
# The refresh token came in the dashboard's cookie from a page of another origin.
REFRESH_COOKIE_CROSS_ORIGIN = ErrorKind(
    "REFRESH_COOKIE_CROSS_ORIGIN", grpc.StatusCode.PERMISSION_DENIED
)
# Not a token this platform signed: bad signature, unknown kid, another algorithm, wrong
# issuer or audience, a claim missing, or a user who is not the token's merchant's.
ACCESS_TOKEN_INVALID = ErrorKind("ACCESS_TOKEN_INVALID", grpc.StatusCode.UNAUTHENTICATED)
ACCESS_TOKEN_EXPIRED = ErrorKind("ACCESS_TOKEN_EXPIRED", grpc.StatusCode.UNAUTHENTICATED)
# The session was logged out, or revoked for a reused refresh token or a removed user.
SESSION_REVOKED = ErrorKind("SESSION_REVOKED", grpc.StatusCode.UNAUTHENTICATED)
# The session's absolute lifetime is over: sign in again.
SESSION_EXPIRED = ErrorKind("SESSION_EXPIRED", grpc.StatusCode.UNAUTHENTICATED)
USER_REMOVED = ErrorKind("USER_REMOVED", grpc.StatusCode.UNAUTHENTICATED)
# The PayLoops-Mode header is neither `test` nor `live`.
MODE_INVALID = ErrorKind("MODE_INVALID", grpc.StatusCode.INVALID_ARGUMENT)
# An API key sent with a PayLoops-Mode of the other mode: a key never switches mode.
MODE_CONTRADICTS_API_KEY = ErrorKind("MODE_CONTRADICTS_API_KEY", grpc.StatusCode.INVALID_ARGUMENT)
# The user's role does not allow this call (a viewer's write, a developer managing users).
ROLE_FORBIDDEN = ErrorKind("ROLE_FORBIDDEN", grpc.StatusCode.PERMISSION_DENIED)
# Users are the dashboard's: API keys do not manage them.
API_KEY_CANNOT_MANAGE_USERS = ErrorKind(
    "API_KEY_CANNOT_MANAGE_USERS", grpc.StatusCode.PERMISSION_DENIED
)
USER_NOT_FOUND = ErrorKind("USER_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
# An active user already signs in with this e-mail.
USER_EXISTS = ErrorKind("USER_EXISTS", grpc.StatusCode.ALREADY_EXISTS)
# The change would leave the merchant without an owner.
LAST_OWNER = ErrorKind("LAST_OWNER", grpc.StatusCode.FAILED_PRECONDITION)
MERCHANT_NOT_FOUND = ErrorKind("MERCHANT_NOT_FOUND", grpc.StatusCode.NOT_FOUND)
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
        retry_delay_seconds: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.metadata = dict(metadata or {})
        self.field_violations = tuple(field_violations)
        # When a retry may succeed (a google.rpc.RetryInfo detail): throttling says so.
        self.retry_delay_seconds = retry_delay_seconds

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
        if self.retry_delay_seconds is not None:
            details.append(
                _pack(
                    error_details_pb2.RetryInfo(
                        retry_delay=duration_pb2.Duration(seconds=self.retry_delay_seconds)
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
