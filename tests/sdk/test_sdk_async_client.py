"""AsyncPayLoops against a local HTTP server speaking the API's wire format: the same requests,
retries, idempotency keys, errors and pages as PayLoops, awaited."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from payloops.sdk import (
    APIConnectionError,
    APIError,
    AsyncPayLoops,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    _retry,
)
from tests.sdk.fake_api import FakeAPI, Reply
from tests.sdk.test_sdk_client import KEY, status_body, wire_order


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries do not really wait; the waits they asked for are recorded."""
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(_retry, "async_sleep", record)
    return asked


async def test_create_then_pay(api: FakeAPI) -> None:
    api.reply(Reply(200, wire_order()), Reply(200, wire_order(status="SUCCEEDED")))

    async with AsyncPayLoops(KEY, base_url=api.url) as client:
        order = await client.orders.create(amount=4999, currency="USD")
        paid = await client.orders.pay(order.id, payment_method="pm_card_visa")

    create, pay = api.requests
    assert create.body == {"amount": 4999, "currency": "USD"}
    assert (pay.method, pay.path) == ("POST", "/v1/orders/ord_1:pay")
    assert (order.status, paid.status, paid.amount) == (
        "requires_payment_method",
        "succeeded",
        4999,
    )
    assert uuid.UUID(create.headers["idempotency-key"]) != uuid.UUID(pay.headers["idempotency-key"])


@pytest.mark.parametrize(
    "first",
    [
        Reply(503, status_body(14, "unavailable", "SERVICE_UNAVAILABLE")),
        Reply(429, status_body(8, "slow down", "RATE_LIMITED")),
        Reply(409, status_body(10, "in use", "IDEMPOTENCY_KEY_IN_USE")),
    ],
)
async def test_retries_reuse_the_idempotency_key(
    api: FakeAPI, delays: list[float], first: Reply
) -> None:
    api.reply(first, Reply(200, wire_order(status="SUCCEEDED")))

    async with AsyncPayLoops(KEY, base_url=api.url) as client:
        order = await client.orders.pay("ord_1", payment_method="pm_card_visa")

    assert order.status == "succeeded"
    assert len({r.headers["idempotency-key"] for r in api.requests}) == 1
    assert len(api.requests) == 2 and len(delays) == 1
    assert 0.25 <= delays[0] <= 0.5


async def test_errors_are_not_retried_unless_safe(api: FakeAPI, delays: list[float]) -> None:
    api.reply(
        Reply(404, status_body(5, "no order", "ORDER_NOT_FOUND"), {"x-correlation-id": "c-1"}),
        Reply(409, status_body(10, "conflict", "ORDER_NOT_CAPTURABLE")),
        Reply(
            400,
            status_body(
                3,
                "invalid",
                "INVALID_REQUEST",
                violations=[{"field": "amount", "reason": "AMOUNT_NOT_POSITIVE"}],
            ),
            {"x-request-id": "r-1"},
        ),
    )

    async with AsyncPayLoops(KEY, base_url=api.url) as client:
        with pytest.raises(NotFoundError) as missing:
            await client.orders.retrieve("ord_x")
        with pytest.raises(ConflictError):
            await client.orders.capture("ord_x")
        with pytest.raises(InvalidRequestError) as invalid:
            await client.orders.create(amount=-1, currency="USD")

    assert (missing.value.reason, missing.value.correlation_id) == ("ORDER_NOT_FOUND", "c-1")
    assert [v.reason for v in invalid.value.field_violations] == ["AMOUNT_NOT_POSITIVE"]
    assert invalid.value.request_id == "r-1"
    assert len(api.requests) == 3 and delays == []


async def test_retries_stop_after_max_retries(api: FakeAPI, delays: list[float]) -> None:
    api.reply(*[Reply(503, status_body(14, "unavailable", "SERVICE_UNAVAILABLE"))] * 3)

    async with AsyncPayLoops(KEY, base_url=api.url, max_retries=2) as client:
        with pytest.raises(APIError):
            await client.refunds.create("ord_1", idempotency_key="k-1")

    assert [r.headers["idempotency-key"] for r in api.requests] == ["k-1"] * 3
    assert len(delays) == 2


async def test_no_answer_is_an_api_connection_error(api: FakeAPI, delays: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api.reply(Reply(200, wire_order(), delay_s=1.0))

    async with AsyncPayLoops(KEY, base_url=f"http://127.0.0.1:{port}") as refused:
        with pytest.raises(APIConnectionError, match=f"127.0.0.1:{port}"):
            await refused.orders.retrieve("ord_1")
    async with AsyncPayLoops(KEY, base_url=api.url, timeout=0.2, max_retries=0) as slow:
        with pytest.raises(APIConnectionError, match="timed out"):
            await slow.orders.retrieve("ord_1")

    assert len(delays) == 2, "connection errors are retried"


async def test_pages_iterate_with_async_for(api: FakeAPI) -> None:
    api.reply(
        Reply(200, {"orders": [wire_order("ord_3"), wire_order("ord_2")], "next_page_token": "t"}),
        Reply(200, {"orders": [wire_order("ord_1")], "next_page_token": ""}),
    )

    async with AsyncPayLoops(KEY, base_url=api.url) as client:
        ids = [order.id async for order in client.orders.list_all(page_size=2)]

    assert ids == ["ord_3", "ord_2", "ord_1"]
    assert [r.query for r in api.requests] == [
        {"page_size": "2"},
        {"page_size": "2", "page_token": "t"},
    ]


async def test_calls_can_be_gathered(api: FakeAPI) -> None:
    api.reply(*[Reply(200, wire_order(f"ord_{i}")) for i in range(4)])

    async with AsyncPayLoops(KEY, base_url=api.url) as client:
        orders = await asyncio.gather(*(client.orders.retrieve(f"ord_{i}") for i in range(4)))

    assert sorted(o.id for o in orders) == [f"ord_{i}" for i in range(4)]
