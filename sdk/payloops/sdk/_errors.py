"""The SDK's error hierarchy, and how an HTTP error response becomes one of its classes.

Every error the API returns is a google.rpc.Status JSON: `code`, `message` and `details`, with
an ErrorInfo (stable `reason`, `metadata`) and, for invalid fields, a BadRequest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

IDEMPOTENCY_REASONS = frozenset({"IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_INVALID"})
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_BODY_EXCERPT = 200


@dataclass(frozen=True)
class FieldViolation:
    """One invalid request field, such as `amount` with reason AMOUNT_NOT_POSITIVE."""

    field: str
    reason: str
    description: str


class PayLoopsError(Exception):
    """Base class of every error the SDK raises."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        correlation_id: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.field_violations = field_violations
        self.correlation_id = correlation_id
        self.request_id = request_id

    def __str__(self) -> str:
        facts = [
            f"{name}={value}"
            for name, value in (
                ("http_status", self.http_status),
                ("reason", self.reason),
                ("correlation_id", self.correlation_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(facts)})" if facts else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, "
            f"http_status={self.http_status!r}, reason={self.reason!r})"
        )


class AuthenticationError(PayLoopsError):
    """401: the API key is missing, unknown or revoked."""


class InvalidRequestError(PayLoopsError):
    """400: the request is invalid; `field_violations` says which fields and why."""


class IdempotencyError(InvalidRequestError):
    """400: the Idempotency-Key was reused with a different request, or is malformed."""


class PermissionDeniedError(PayLoopsError):
    """403: the key or user may not do this (such as a read-only key, or a publishable key
    outside POST /v1/tokens)."""


class NotFoundError(PayLoopsError):
    """404: no such object for this API key."""


class ConflictError(PayLoopsError):
    """409: the request conflicts with another in flight (e.g. IDEMPOTENCY_KEY_IN_USE)."""


class RateLimitError(PayLoopsError):
    """429: too many requests."""


class APIError(PayLoopsError):
    """5xx, or a response the SDK cannot read."""


class APIConnectionError(PayLoopsError):
    """No response: connection refused or reset, DNS failure, or timeout."""


class SignatureVerificationError(PayLoopsError):
    """A webhook's PayLoops-Signature is missing, malformed, does not match the payload and
    secret, or carries a timestamp outside the tolerance (a replay). Answer such a request
    with 400 and do not act on it."""


def error_from_response(http_status: int, body: bytes, headers: Mapping[str, str]) -> PayLoopsError:
    """The error for a non-2xx response. Never raises, whatever the body holds."""
    status = _json_object(body)
    if status is None:
        excerpt = body[:_BODY_EXCERPT].decode("utf-8", "replace").strip()
        message = f"HTTP {http_status} with a body that is not a JSON error"
        if excerpt:
            message += f": {excerpt!r}"
        return _class_for(http_status, None)(
            message,
            http_status=http_status,
            correlation_id=headers.get("x-correlation-id"),
            request_id=headers.get("x-request-id"),
        )
    return error_from_status(http_status, status, headers)


def error_from_status(
    http_status: int, status: Mapping[str, Any], headers: Mapping[str, str]
) -> PayLoopsError:
    """The error for a google.rpc.Status in its JSON form (`code`, `message`, `details`), with
    the reply's headers (lower-case names): over HTTP and over gRPC alike."""
    reason: str | None = None
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    details = status.get("details")
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        if detail.get("@type") == _ERROR_INFO:
            reason = _str_or_none(detail.get("reason"))
            raw = detail.get("metadata")
            metadata = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        elif detail.get("@type") == _BAD_REQUEST:
            raw_violations = detail.get("field_violations", detail.get("fieldViolations"))
            for item in raw_violations if isinstance(raw_violations, list) else []:
                if isinstance(item, dict):
                    violations.append(
                        FieldViolation(
                            field=str(item.get("field", "")),
                            reason=str(item.get("reason", "")),
                            description=str(item.get("description", "")),
                        )
                    )
    code = status.get("code")
    message = _str_or_none(status.get("message")) or f"HTTP {http_status}"
    return _class_for(http_status, reason)(
        message,
        http_status=http_status,
        code=code if isinstance(code, int) else None,
        reason=reason,
        metadata=metadata,
        field_violations=tuple(violations),
        correlation_id=headers.get("x-correlation-id")
        or metadata.get("correlation_id")
        or metadata.get("correlationId"),
        request_id=headers.get("x-request-id") or metadata.get("request_id"),
    )


def _class_for(http_status: int, reason: str | None) -> type[PayLoopsError]:
    if http_status == 400:
        return IdempotencyError if reason in IDEMPOTENCY_REASONS else InvalidRequestError
    if http_status >= 500:
        return APIError
    return {
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        409: ConflictError,
        429: RateLimitError,
    }.get(http_status, PayLoopsError)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both
        return None
    return parsed if isinstance(parsed, dict) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
