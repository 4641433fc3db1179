"""The SDK against the real mesh (`payloops dev`: Envoy, edge, Temporal, worker, sandbox,
PostgreSQL), as a merchant would use it."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from payloops.sdk import (
    AuthenticationError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    Order,
    PayLoops,
)

pytestmark = pytest.mark.e2e


# PayOrder answers "processing" when its bounded wait ends first (a slow, shared machine);
# a merchant then reads the order again, and so do these tests.
_IN_FLIGHT = ("processing", "requires_payment_method")


@pytest.fixture(scope="module")
def client(mesh: Any) -> PayLoops:
    return PayLoops(mesh.api_key, base_url=mesh.api_url)


def settled(client: PayLoops, order: Order, timeout_s: float = 30.0) -> Order:
    deadline = time.monotonic() + timeout_s
    while order.status in _IN_FLIGHT and time.monotonic() < deadline:
        time.sleep(0.2)
        order = client.orders.retrieve(order.id)
    return order


def test_the_original_example(client: PayLoops) -> None:
    order = client.orders.create(amount=4999, currency="USD", metadata={"order_ref": "A-1"})
    order = client.orders.pay(order.id, payment_method={"type": "card", "token": "pm_card_visa"})

    order = settled(client, order)
    assert order.id.startswith("ord_")
    assert order.status == "succeeded"
    assert (order.amount, order.currency, order.amount_received) == (4999, "USD", 4999)
    assert order.metadata == {"order_ref": "A-1"}
    assert order.capture_method == "automatic"
    assert order.livemode is False
    assert isinstance(order.create_time, datetime) and order.create_time.tzinfo is not None
    (attempt,) = order.attempts
    assert (attempt.processor, attempt.outcome) == ("sandbox", "succeeded")
    assert attempt.latency is not None and attempt.latency >= timedelta(0)
    assert attempt.attempt_key
    assert order.routing is not None
    assert order.routing.candidates[0].processor == "sandbox"
    assert client.orders.retrieve(order.id) == order


def test_a_decline_is_a_failed_order(client: PayLoops) -> None:
    order = client.orders.create(amount=1200, currency="USD")

    order = settled(
        client,
        client.orders.pay(order.id, payment_method={"type": "card", "token": "pm_card_declined"}),
    )

    assert order.status == "failed"
    assert order.failure_code == "generic_decline"
    assert order.failure_message
    assert order.attempts[-1].outcome == "declined"
    assert order.attempts[-1].decline_code == "generic_decline"


def test_three_d_secure_requires_action(client: PayLoops) -> None:
    order = client.orders.create(
        amount=3000, currency="USD", return_url="https://shop.example/back"
    )

    order = settled(
        client,
        client.orders.pay(
            order.id, payment_method={"type": "card", "token": "pm_card_3ds_required"}
        ),
    )

    assert order.status == "requires_action"
    assert order.next_action is not None
    assert order.next_action.redirect_url.startswith("http")


def test_a_missing_order_is_not_found(client: PayLoops) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.orders.retrieve("ord_doesnotexist")

    assert caught.value.http_status == 404
    assert caught.value.reason == "ORDER_NOT_FOUND"
    assert caught.value.correlation_id


def test_a_bad_key_is_an_authentication_error(mesh: Any) -> None:
    client = PayLoops("sk_test_not_a_real_key", base_url=mesh.api_url)

    with pytest.raises(AuthenticationError) as caught:
        client.orders.create(amount=4999, currency="USD")

    assert caught.value.http_status == 401


def test_a_negative_amount_names_the_field(client: PayLoops) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.orders.create(amount=-1, currency="USD")

    assert caught.value.http_status == 400
    assert [(v.field, v.reason) for v in caught.value.field_violations] == [
        ("amount", "AMOUNT_NOT_POSITIVE")
    ]


def test_idempotency_keys(client: PayLoops) -> None:
    key = f"sdk-e2e-{uuid.uuid4()}"
    first = client.orders.create(amount=700, currency="USD", idempotency_key=key)
    again = client.orders.create(amount=700, currency="USD", idempotency_key=key)

    assert again.id == first.id
    with pytest.raises(IdempotencyError) as caught:
        client.orders.create(amount=701, currency="USD", idempotency_key=key)
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"


def test_list_pages_newest_first(mesh: Any) -> None:
    _, api_key = mesh.new_merchant("sdk pagination")
    client = PayLoops(api_key, base_url=mesh.api_url)
    created = [client.orders.create(amount=100 + i, currency="USD").id for i in range(5)]
    paid = settled(client, client.orders.pay(created[0], payment_method="pm_card_visa"))

    first = client.orders.list(page_size=2)
    second = client.orders.list(page_size=2, page_token=first.next_page_token)

    assert [o.id for o in first.data] == created[::-1][:2] and first.has_more
    assert [o.id for o in second.data] == created[::-1][2:4] and second.has_more
    assert [o.id for o in client.orders.list_all(page_size=2)] == created[::-1]
    assert [o.id for o in first.auto_paging_iter()] == created[::-1]
    assert paid.status == "succeeded"
    assert [o.id for o in client.orders.list(status="succeeded").data] == [paid.id]
