"""Stripe's errors as the contract's: `classify` is the table from a Stripe SDK exception to a
ProcessorError (the kit's one error type, sent by its interceptor with domain
`stripe.payloops.dev`, Stripe's request id and codes as ErrorInfo metadata for support):

| Stripe SDK error                                 | gRPC code, reason                         |
| ------------------------------------------------ | ----------------------------------------- |
| APIConnectionError, no attempt got past connect  | UNAVAILABLE, NOT_SENT                     |
| APIConnectionError, a timeout after sending      | DEADLINE_EXCEEDED, GATEWAY_TIMEOUT        |
| APIConnectionError, connection lost after send   | UNAVAILABLE, GATEWAY_CONNECTION_LOST      |
| RateLimitError (429), nothing else reached Stripe| UNAVAILABLE, NOT_SENT                     |
| APIError 409 (same key in flight)                | UNAVAILABLE, GATEWAY_CONFLICT             |
| APIError 5xx, HTML 502, unreadable body          | INTERNAL, GATEWAY_ERROR                   |
| AuthenticationError (401)                        | UNAUTHENTICATED, CREDENTIALS_REJECTED     |
| PermissionError (403)                            | PERMISSION_DENIED, CREDENTIALS_NOT_PERMITTED |
| IdempotencyError                                 | FAILED_PRECONDITION, IDEMPOTENCY_CONFLICT |
| InvalidRequestError, wrong state for the op      | FAILED_PRECONDITION, see _STATE_CODES     |
| InvalidRequestError, resource_missing, lookups   | NOT_FOUND                                 |
| InvalidRequestError, anything else               | INVALID_ARGUMENT                          |

"Nothing reached Stripe" is judged over every attempt of a call, SDK retries included: one
attempt that may have arrived makes the whole call's outcome unknown (client.Transport).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import grpc
import httpx
import stripe

from processors.kit.errors import ProcessorError, not_sent

DOMAIN = "stripe.payloops.dev"


class Op(StrEnum):
    """What the adapter was doing when Stripe answered: the same Stripe error means different
    things for different operations."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    GET_PAYMENT = "get_payment"
    GET_REFUND = "get_refund"


def answered_by_server_error(error: ProcessorError) -> bool:
    """Whether Stripe itself failed with a 5xx: it got the request and may have acted on it."""
    return int(error.metadata.get("http_status") or 0) >= 500


# Stripe error codes that say "not in this state"; nothing changed.
_STATE_CODES: dict[str, str] = {
    "payment_intent_unexpected_state": "PAYMENT_STATE_CONFLICT",
    "charge_already_captured": "ALREADY_CAPTURED",
    "charge_already_refunded": "ALREADY_REFUNDED",
    "charge_expired_for_capture": "AUTHORIZATION_EXPIRED",
    "charge_disputed": "PAYMENT_DISPUTED",
    "charge_not_refundable": "NOT_REFUNDABLE",
}
# Stripe error codes that say the request itself cannot be charged; nothing was sent further.
_INVALID_CODES: dict[str, str] = {
    "amount_too_small": "AMOUNT_TOO_SMALL",
    "amount_too_large": "AMOUNT_TOO_LARGE",
    "invalid_charge_amount": "AMOUNT_NOT_REPRESENTABLE",
    "invalid_charge_amount_no_decimal_compatible": "AMOUNT_NOT_REPRESENTABLE",
    "parameter_missing": "INVALID_REQUEST",
}
_INVALID_PARAMS: dict[str, str] = {
    "currency": "CURRENCY_UNSUPPORTED",
    "payment_method": "PAYMENT_METHOD_INVALID",
    "return_url": "RETURN_URL_INVALID",
}
_NOT_FOUND_REASONS: dict[Op, str] = {
    Op.CAPTURE: "PAYMENT_NOT_FOUND",
    Op.VOID: "PAYMENT_NOT_FOUND",
    Op.REFUND: "PAYMENT_NOT_FOUND",
    Op.GET_PAYMENT: "PAYMENT_NOT_FOUND",
    Op.GET_REFUND: "REFUND_NOT_FOUND",
}


def classify(error: stripe.StripeError, op: Op, *, may_have_arrived: bool) -> ProcessorError:
    """The contract's reading of a Stripe SDK error. `may_have_arrived`: whether any attempt of
    the call (the SDK retries) may have reached Stripe."""
    body: Mapping[str, Any] = {}
    if isinstance(error.json_body, dict) and isinstance(error.json_body.get("error"), dict):
        body = error.json_body["error"]
    stripe_code = str(body.get("code") or "")
    param = str(body.get("param") or "")
    meta = {
        k: v
        for k, v in (
            ("stripe_code", stripe_code),
            ("stripe_param", param),
            ("stripe_request_id", error.request_id or ""),
            ("http_status", str(error.http_status or "")),
        )
        if v
    }
    status = int(error.http_status or 0)
    # Stripe's own wording helps whoever reads it, except for credentials (it quotes the key).
    message = str(body.get("message") or error.user_message or type(error).__name__)

    def fail(code: grpc.StatusCode, reason: str, text: str = message) -> ProcessorError:
        return ProcessorError(code, reason, text, meta)

    match error:
        case stripe.APIConnectionError():
            if not may_have_arrived:
                return not_sent("could not connect to Stripe; the request was not sent", meta)
            if isinstance(error.__cause__, httpx.TimeoutException):
                return fail(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    "GATEWAY_TIMEOUT",
                    "Stripe did not answer in time; the outcome is unknown",
                )
            return fail(
                grpc.StatusCode.UNAVAILABLE,
                "GATEWAY_CONNECTION_LOST",
                "the connection to Stripe broke; the outcome is unknown",
            )
        case stripe.RateLimitError():
            if not may_have_arrived:
                return not_sent("Stripe rate-limited the request before processing it", meta)
            return fail(
                grpc.StatusCode.UNAVAILABLE,
                "GATEWAY_RATE_LIMITED",
                "Stripe rate-limited a retry of a request that may have been processed",
            )
        case stripe.AuthenticationError():
            return fail(
                grpc.StatusCode.UNAUTHENTICATED,
                "CREDENTIALS_REJECTED",
                "Stripe rejected the secret key",
            )
        case stripe.PermissionError():
            return fail(
                grpc.StatusCode.PERMISSION_DENIED,
                "CREDENTIALS_NOT_PERMITTED",
                "the Stripe key may not perform this operation",
            )
        case stripe.IdempotencyError():
            return fail(
                grpc.StatusCode.FAILED_PRECONDITION,
                "IDEMPOTENCY_CONFLICT",
                "this key was used with different parameters: " + message,
            )
        case stripe.CardError():
            # Only Authorize turns card errors into declines; elsewhere the state is wrong.
            return fail(grpc.StatusCode.FAILED_PRECONDITION, "CARD_ERROR")
        case stripe.InvalidRequestError():
            return _invalid_request(op, stripe_code, param, status, fail)
        case stripe.APIError() if status == 409:
            return fail(
                grpc.StatusCode.UNAVAILABLE,
                "GATEWAY_CONFLICT",
                "a request with the same key is in flight at Stripe; outcome unknown",
            )
    return fail(
        grpc.StatusCode.INTERNAL,
        "GATEWAY_ERROR",
        f"Stripe failed (HTTP {status or '?'}); the outcome is unknown",
    )


def _invalid_request(
    op: Op, stripe_code: str, param: str, status: int, fail: Callable[..., ProcessorError]
) -> ProcessorError:
    if stripe_code == "resource_missing" or status == 404:
        if op is Op.AUTHORIZE or param == "payment_method":
            return fail(grpc.StatusCode.INVALID_ARGUMENT, "PAYMENT_METHOD_INVALID")
        return fail(grpc.StatusCode.NOT_FOUND, _NOT_FOUND_REASONS[op])
    if stripe_code in _STATE_CODES:
        return fail(grpc.StatusCode.FAILED_PRECONDITION, _STATE_CODES[stripe_code])
    if op is Op.REFUND and param == "amount":
        # Stripe sends no code for "greater than unrefunded amount on charge".
        return fail(grpc.StatusCode.FAILED_PRECONDITION, "REFUND_EXCEEDS_CAPTURED")
    if op is Op.CAPTURE and (param == "amount_to_capture" or stripe_code == "amount_too_large"):
        return fail(grpc.StatusCode.FAILED_PRECONDITION, "CAPTURE_EXCEEDS_AUTHORIZED")
    reason = _INVALID_CODES.get(stripe_code) or _INVALID_PARAMS.get(param) or "INVALID_REQUEST"
    return fail(grpc.StatusCode.INVALID_ARGUMENT, reason)
