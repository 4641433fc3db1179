"""The SDK against a local HTTP server speaking the API's wire format: requests it sends, how it
reads orders and errors, when it retries and with which Idempotency-Key."""

from __future__ import annotations

import dataclasses
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from payloops.sdk import (
    APIConnectionError,
    APIError,
    Attempt,
    AuthenticationError,
    ConflictError,
    IdempotencyError,
    InvalidRequestError,
    NextAction,
    NotFoundError,
    Order,
    PayLoops,
    PayLoopsError,
    RateLimitError,
    RoutingCandidate,
    RoutingDecision,
    _retry,
)
from tests.sdk.fake_api import FakeAPI, Reply

KEY = "sk_test_unit"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def wire_order(
    order_id: str = "ord_1", status: str = "REQUIRES_PAYMENT_METHOD", **fields: object
) -> dict[str, object]:
    """An Order exactly as Envoy's transcoder prints it (int64 as strings, enum names)."""
    return {
        "id": order_id,
        "amount": "4999",
        "currency": "USD",
        "capture_method": "AUTOMATIC",
        "description": "",
        "metadata": {"order_ref": "A-1"},
        "return_url": "",
        "status": status,
        "amount_capturable": "0",
        "amount_received": "0",
        "amount_refunded": "0",
        "attempts": [],
        "failure_code": "",
        "failure_message": "",
        "livemode": False,
        "create_time": "2025-03-04T05:06:07.123456789Z",
        "update_time": "2025-03-04T05:06:08Z",
        **fields,
    }


def wire_attempt(**fields: object) -> dict[str, object]:
    return {
        "processor": "sandbox",
        "outcome": "SUCCEEDED",
        "decline_code": "",
        "decline_message": "",
        "latency": "0.034s",
        "attempt_key": "att_1",
        "processor_reference": "ch_1",
        "create_time": "2025-03-04T05:06:07.5Z",
        **fields,
    }


def status_body(
    code: int,
    message: str,
    reason: str,
    metadata: dict[str, str] | None = None,
    violations: list[dict[str, str]] | None = None,
) -> dict[str, object]:
    details: list[dict[str, object]] = [
        {
            "@type": ERROR_INFO,
            "reason": reason,
            "domain": "payloops.dev",
            "metadata": metadata or {},
        }
    ]
    if violations:
        details.append({"@type": BAD_REQUEST, "field_violations": violations})
    return {"code": code, "message": message, "details": details}


@pytest.fixture
def client(api: FakeAPI) -> PayLoops:
    return PayLoops(KEY, base_url=api.url)


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries do not really wait; the waits they asked for are recorded."""
    asked: list[float] = []
    monkeypatch.setattr(_retry, "sleep", asked.append)
    return asked


def test_the_original_example_creates_then_pays(api: FakeAPI) -> None:
    succeeded = wire_order(status="SUCCEEDED", amount_received="4999", attempts=[wire_attempt()])
    api.reply(Reply(200, wire_order()), Reply(200, succeeded))

    client = PayLoops("sk_test_…".replace("…", "unit"), base_url=api.url)
    order = client.orders.create(amount=4999, currency="USD", metadata={"order_ref": "A-1"})
    paid = client.orders.pay(order.id, payment_method={"type": "card", "token": "pm_card_visa"})

    create, pay = api.requests
    assert (create.method, create.path) == ("POST", "/v1/orders")
    assert create.body == {"amount": 4999, "currency": "USD", "metadata": {"order_ref": "A-1"}}
    assert create.headers["authorization"] == "Bearer sk_test_unit"
    assert create.headers["content-type"] == "application/json"
    assert (pay.method, pay.path) == ("POST", "/v1/orders/ord_1:pay")
    assert pay.body == {"payment_method": {"type": "card", "token": "pm_card_visa"}}
    assert order.status == "requires_payment_method"
    assert paid.status == "succeeded"
    assert paid.amount_received == 4999
    assert paid.attempts == [
        Attempt(
            processor="sandbox",
            outcome="succeeded",
            decline_code="",
            decline_message="",
            latency=timedelta(milliseconds=34),
            attempt_key="att_1",
            processor_reference="ch_1",
            create_time=datetime(2025, 3, 4, 5, 6, 7, 500000, tzinfo=UTC),
        )
    ]


def test_order_fields_are_typed(api: FakeAPI, client: PayLoops) -> None:
    api.reply(
        Reply(
            200,
            wire_order(
                status="REQUIRES_ACTION",
                capture_method="MANUAL",
                amount_capturable="12",
                return_url="https://shop.example/back",
                next_action={"redirect_url": "http://127.0.0.1:1/3ds/ch_1"},
                routing={
                    "config_version": "3",
                    "rule": "default",
                    "candidates": [
                        {"processor": "sandbox", "decision": "candidate", "reason": "rule_order"},
                        {"processor": "sandbox-b", "decision": "skipped", "reason": "circuit_open"},
                    ],
                },
                attempts=[wire_attempt(outcome="FAILED", failover_reason="not_sent")],
            ),
        )
    )

    order = client.orders.retrieve("ord_1")

    assert isinstance(order, Order)
    assert order.amount == 4999 and order.amount_capturable == 12
    assert order.status == "requires_action"
    assert order.capture_method == "manual"
    assert order.next_action == NextAction(redirect_url="http://127.0.0.1:1/3ds/ch_1")
    assert order.metadata == {"order_ref": "A-1"}
    assert order.livemode is False
    assert order.create_time == datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    assert order.update_time == datetime(2025, 3, 4, 5, 6, 8, tzinfo=UTC)
    assert order.routing == RoutingDecision(
        config_version=3,
        rule="default",
        candidates=[
            RoutingCandidate("sandbox", "candidate", "rule_order"),
            RoutingCandidate("sandbox-b", "skipped", "circuit_open"),
        ],
    )
    assert (order.attempts[0].outcome, order.attempts[0].failover_reason) == ("failed", "not_sent")
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.status = "succeeded"  # type: ignore[misc]


def test_a_failed_payment_is_an_order_not_an_exception(api: FakeAPI, client: PayLoops) -> None:
    api.reply(
        Reply(
            200,
            wire_order(
                status="FAILED",
                failure_code="generic_decline",
                failure_message="declined",
                attempts=[wire_attempt(outcome="DECLINED", decline_code="generic_decline")],
            ),
        )
    )

    order = client.orders.pay("ord_1", payment_method="pm_card_declined")

    assert api.requests[0].body == {"payment_method": {"type": "card", "token": "pm_card_declined"}}
    assert (order.status, order.failure_code) == ("failed", "generic_decline")
    assert order.attempts[0].outcome == "declined"
    assert order.next_action is None


def test_every_post_carries_a_fresh_idempotency_key_unless_given(
    api: FakeAPI, client: PayLoops
) -> None:
    api.reply(
        Reply(200, wire_order()),
        Reply(200, wire_order()),
        Reply(200, wire_order()),
        Reply(200, wire_order()),
    )

    client.orders.create(amount=1, currency="USD")
    client.orders.create(amount=1, currency="USD")
    client.orders.create(amount=1, currency="USD", idempotency_key="order-A-1")
    client.orders.retrieve("ord_1")

    first, second, given, read = (r.headers.get("idempotency-key") for r in api.requests)
    assert uuid.UUID(first) and uuid.UUID(second) and first != second
    assert given == "order-A-1"
    assert read is None


def test_optional_order_fields_are_sent_only_when_given(api: FakeAPI, client: PayLoops) -> None:
    api.reply(Reply(200, wire_order()))

    client.orders.create(
        amount=100,
        currency="EUR",
        capture_method="manual",
        description="two mugs",
        return_url="https://shop.example/back",
    )

    assert api.requests[0].body == {
        "amount": 100,
        "currency": "EUR",
        "capture_method": "MANUAL",
        "description": "two mugs",
        "return_url": "https://shop.example/back",
    }


def test_order_ids_are_escaped_and_must_not_be_empty(api: FakeAPI, client: PayLoops) -> None:
    api.reply(Reply(200, wire_order()))

    client.orders.retrieve("ord_1/../x")

    assert api.requests[0].path == "/v1/orders/ord_1%2F..%2Fx"
    with pytest.raises(ValueError, match="order"):
        client.orders.pay("", payment_method="pm_card_visa")


def test_list_pages_and_list_all_follows_tokens(api: FakeAPI, client: PayLoops) -> None:
    api.reply(
        Reply(
            200, {"orders": [wire_order("ord_3"), wire_order("ord_2")], "next_page_token": "tok_2"}
        ),
        Reply(200, {"orders": [wire_order("ord_1")], "next_page_token": ""}),
        Reply(
            200, {"orders": [wire_order("ord_3"), wire_order("ord_2")], "next_page_token": "tok_2"}
        ),
        Reply(200, {"orders": [wire_order("ord_1")], "next_page_token": ""}),
    )

    page = client.orders.list(page_size=2, status="succeeded")
    last = client.orders.list(page_size=2, status="succeeded", page_token=page.next_page_token)
    everything = [o.id for o in client.orders.list_all(page_size=2, status="succeeded")]

    assert [o.id for o in page.data] == ["ord_3", "ord_2"] and page.has_more
    assert [o.id for o in last.data] == ["ord_1"] and not last.has_more
    assert everything == ["ord_3", "ord_2", "ord_1"]
    assert [r.query for r in api.requests] == [
        {"page_size": "2", "status": "SUCCEEDED"},
        {"page_size": "2", "status": "SUCCEEDED", "page_token": "tok_2"},
    ] * 2


@pytest.mark.parametrize(
    ("status", "body", "error_class", "reason"),
    [
        (
            400,
            status_body(
                3,
                "invalid request: amount: must be positive",
                "INVALID_REQUEST",
                violations=[
                    {
                        "field": "amount",
                        "reason": "AMOUNT_NOT_POSITIVE",
                        "description": "must be positive",
                    }
                ],
            ),
            InvalidRequestError,
            "INVALID_REQUEST",
        ),
        (
            400,
            status_body(3, "key reused", "IDEMPOTENCY_KEY_REUSED"),
            IdempotencyError,
            "IDEMPOTENCY_KEY_REUSED",
        ),
        (
            400,
            status_body(3, "key too long", "IDEMPOTENCY_KEY_INVALID"),
            IdempotencyError,
            "IDEMPOTENCY_KEY_INVALID",
        ),
        (
            401,
            status_body(16, "invalid API key", "API_KEY_INVALID"),
            AuthenticationError,
            "API_KEY_INVALID",
        ),
        (
            404,
            status_body(5, "no order ord_x", "ORDER_NOT_FOUND", {"order": "ord_x"}),
            NotFoundError,
            "ORDER_NOT_FOUND",
        ),
        (409, status_body(10, "conflict", "SOMETHING_ELSE"), ConflictError, "SOMETHING_ELSE"),
        (500, status_body(13, "internal error", "INTERNAL"), APIError, "INTERNAL"),
    ],
)
def test_error_responses_map_to_the_hierarchy(
    api: FakeAPI,
    client: PayLoops,
    status: int,
    body: dict[str, object],
    error_class: type[PayLoopsError],
    reason: str,
) -> None:
    api.reply(Reply(status, body, {"x-correlation-id": "corr-123"}))

    with pytest.raises(error_class) as caught:
        client.orders.create(amount=1, currency="USD")

    error = caught.value
    assert (error.http_status, error.code, error.reason) == (status, body["code"], reason)
    assert error.message == body["message"]
    assert error.correlation_id == "corr-123"
    assert "corr-123" in str(error) and reason in str(error)
    assert len(api.requests) == 1, "not a retryable error"


def test_error_details_are_readable(api: FakeAPI, client: PayLoops) -> None:
    api.reply(
        Reply(
            400,
            status_body(
                3,
                "invalid",
                "INVALID_REQUEST",
                {"request_id": "r1"},
                [
                    {
                        "field": "amount",
                        "reason": "AMOUNT_NOT_POSITIVE",
                        "description": "must be positive",
                    },
                    {
                        "field": "currency",
                        "reason": "CURRENCY_UNKNOWN",
                        "description": "not ISO 4217",
                    },
                ],
            ),
        )
    )

    with pytest.raises(InvalidRequestError) as caught:
        client.orders.create(amount=-1, currency="XXX")

    assert caught.value.metadata == {"request_id": "r1"}
    assert [(v.field, v.reason) for v in caught.value.field_violations] == [
        ("amount", "AMOUNT_NOT_POSITIVE"),
        ("currency", "CURRENCY_UNKNOWN"),
    ]


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        (502, b"<html><body>Bad Gateway</body></html>", APIError),
        (404, b"", NotFoundError),
        (400, b"[1, 2]", InvalidRequestError),
        (418, b"\xff\xfe not utf-8", PayLoopsError),
    ],
)
def test_non_json_error_bodies_still_give_a_clear_error(
    api: FakeAPI, client: PayLoops, status: int, body: bytes, error_class: type[PayLoopsError]
) -> None:
    api.reply(Reply(status, body))

    with pytest.raises(error_class) as caught:
        client.orders.retrieve("ord_1")

    assert caught.value.http_status == status
    assert f"HTTP {status}" in caught.value.message
    assert caught.value.reason is None


def test_a_success_that_is_not_json_is_an_api_error(api: FakeAPI, client: PayLoops) -> None:
    api.reply(Reply(200, b"<html>captive portal</html>"))

    with pytest.raises(APIError, match="not a JSON object"):
        client.orders.retrieve("ord_1")


@pytest.mark.parametrize(
    "first",
    [
        Reply(503, status_body(14, "unavailable", "SERVICE_UNAVAILABLE")),
        Reply(429, status_body(8, "slow down", "RATE_LIMITED")),
        Reply(409, status_body(10, "in use", "IDEMPOTENCY_KEY_IN_USE")),
        Reply(503, b"upstream connect error"),
    ],
)
def test_retries_reuse_the_idempotency_key(
    api: FakeAPI, client: PayLoops, delays: list[float], first: Reply
) -> None:
    api.reply(first, Reply(200, wire_order(status="SUCCEEDED")))

    order = client.orders.pay("ord_1", payment_method="pm_card_visa")

    assert order.status == "succeeded"
    assert len(api.requests) == 2
    keys = {r.headers["idempotency-key"] for r in api.requests}
    assert len(keys) == 1, "a retry must carry the first try's key, or it could pay twice"
    assert api.requests[0].body == api.requests[1].body
    assert len(delays) == 1


def test_retries_stop_after_max_retries_with_growing_jittered_backoff(
    api: FakeAPI, delays: list[float]
) -> None:
    api.reply(*[Reply(503, status_body(14, "unavailable", "SERVICE_UNAVAILABLE"))] * 4)
    client = PayLoops(KEY, base_url=api.url, max_retries=3)

    with pytest.raises(APIError) as caught:
        client.orders.create(amount=1, currency="USD", idempotency_key="k-1")

    assert caught.value.http_status == 503
    assert len(api.requests) == 4
    assert {r.headers["idempotency-key"] for r in api.requests} == {"k-1"}
    assert len(delays) == 3
    for attempt, delay in enumerate(delays):
        assert 0.25 * 2**attempt <= delay <= 0.5 * 2**attempt


def test_max_retries_zero_tries_once(api: FakeAPI, delays: list[float]) -> None:
    api.reply(Reply(429, status_body(8, "slow down", "RATE_LIMITED")))
    client = PayLoops(KEY, base_url=api.url, max_retries=0)

    with pytest.raises(RateLimitError):
        client.orders.retrieve("ord_1")

    assert len(api.requests) == 1 and delays == []


def test_connection_refused_is_an_api_connection_error(delays: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = PayLoops(KEY, base_url=f"http://127.0.0.1:{port}", max_retries=2)

    with pytest.raises(APIConnectionError) as caught:
        client.orders.create(amount=1, currency="USD")

    assert caught.value.http_status is None
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert len(delays) == 2, "connection errors are retried"


def test_a_timeout_is_an_api_connection_error(api: FakeAPI) -> None:
    api.reply(Reply(200, wire_order(), delay_s=1.0))
    client = PayLoops(KEY, base_url=api.url, timeout=0.2, max_retries=0)

    with pytest.raises(APIConnectionError, match="timed out"):
        client.orders.retrieve("ord_1")


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYLOOPS_API_URL", "http://127.0.0.1:9999")
    monkeypatch.delenv("PAYLOOPS_API_KEY", raising=False)

    assert PayLoops(KEY).base_url == "http://127.0.0.1:9999"
    assert PayLoops(KEY, base_url="http://x.test").base_url == "http://x.test"
    assert KEY not in repr(PayLoops(KEY)) and KEY not in repr(PayLoops(KEY)._transport)
    with pytest.raises(ValueError, match="API key"):
        PayLoops()
    monkeypatch.delenv("PAYLOOPS_API_URL")
    assert PayLoops(KEY).base_url == "http://127.0.0.1:8080"
