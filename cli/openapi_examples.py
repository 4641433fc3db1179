"""Examples in the OpenAPI document: a merchant's first calls, by operationId.

Each is checked against its schema by tests/contract, and the request examples are sent to a
live mesh there, so an example cannot teach a field or a value the API refuses."""

from __future__ import annotations

from typing import Any

_ORDER = {
    "id": "ord_3kTqY8yVbH2nR6wQ",
    "amount": "4999",
    "currency": "USD",
    "capture_method": "AUTOMATIC",
    "description": "Order ORD-123",
    "metadata": {"orderId": "ORD-123"},
    "return_url": "https://shop.example/checkout/return",
    "status": "SUCCEEDED",
    "amount_capturable": "0",
    "amount_received": "4999",
    "amount_refunded": "0",
    "amount_refund_pending": "0",
    "attempts": [
        {
            "processor": "stripe",
            "outcome": "SUCCEEDED",
            "decline_code": "",
            "decline_message": "",
            "latency": "0.412s",
            "attempt_key": "ord_3kTqY8yVbH2nR6wQ-1",
            "processor_reference": "pi_3PqR7sLkdIwHu7ix0Zx1bX2c",
            "create_time": "2026-12-01T10:15:03.120Z",
            "failover_reason": "",
            "compensation": "",
        }
    ],
    "failure_code": "",
    "failure_message": "",
    "livemode": False,
    "create_time": "2026-12-01T10:15:02.870Z",
    "update_time": "2026-12-01T10:15:03.540Z",
    "routing": {
        "config_version": "3",
        "rule": "default",
        "candidates": [{"processor": "stripe", "decision": "candidate", "reason": ""}],
    },
    "cancellation_reason": "",
    "customer": "",
}

REQUESTS: dict[str, dict[str, Any]] = {
    "CreateOrder": {
        "amount": "4999",
        "currency": "USD",
        "description": "Order ORD-123",
        "metadata": {"orderId": "ORD-123"},
        "return_url": "https://shop.example/checkout/return",
    },
    "PayOrder": {"payment_method": {"type": "card", "token": "pm_card_visa"}},
    "CaptureOrder": {"amount": "4999"},
    "CreateRefund": {"amount": "1000", "reason": "requested_by_customer"},
    "CreateCustomer": {"email": "ada@example.com", "name": "Ada Lovelace"},
    "CreateWebhookEndpoint": {
        "url": "https://shop.example/payloops/webhooks",
        "enabled_events": ["order.succeeded", "order.failed", "refund.succeeded"],
    },
    "CreateSession": {"email": "owner@shop.example", "password": "correct horse battery staple"},
}

RESPONSES: dict[str, dict[str, Any]] = {
    "CreateOrder": {
        **_ORDER,
        "status": "REQUIRES_PAYMENT_METHOD",
        "amount_received": "0",
        "attempts": [],
        "routing": None,
    },
    "PayOrder": _ORDER,
    "GetOrder": _ORDER,
}

ERROR = {
    "code": 3,
    "message": "The request has invalid fields.",
    "details": [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "INVALID_ARGUMENT",
            "domain": "payloops.dev",
            "metadata": {},
        },
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "field_violations": [
                {
                    "field": "amount",
                    "description": "amount must be positive",
                    "reason": "AMOUNT_NOT_POSITIVE",
                }
            ],
        },
    ],
}


def without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    """An unset message field is absent from the JSON, never null."""
    return {key: item for key, item in value.items() if item is not None}
