"""The Payments page's filters and search, through Envoy and over native gRPC: amounts in a
range of one currency, a failure code, and a search that finds an order by its id, a
processor reference of one of its attempts, or the correlation id of the request that
created or paid it; never another merchant's order, and page tokens bound to all of it."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import httpx
import pytest

from payloops.v1 import orders_pb2, orders_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.people import field_reasons, reason

pytestmark = pytest.mark.e2e


def create(api: httpx.Client, amount: int, currency: str, correlation_id: str = "") -> str:
    headers = {"X-Correlation-Id": correlation_id} if correlation_id else {}
    response = api.post(
        "/v1/orders", json={"amount": amount, "currency": currency}, headers=headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def pay(api: httpx.Client, order_id: str, token: str, correlation_id: str = "") -> dict[str, Any]:
    headers = {"X-Correlation-Id": correlation_id} if correlation_id else {}
    response = api.post(
        f"/v1/orders/{order_id}:pay",
        json={"payment_method": {"type": "card", "token": token}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def found(api: httpx.Client, **params: Any) -> list[str]:
    """Every order the filters find, a page of 2 at a time (so the tokens are used)."""
    ids: list[str] = []
    token = ""
    while True:
        page = api.get("/v1/orders", params={**params, "page_size": 2, "page_token": token})
        assert page.status_code == 200, page.text
        ids += [o["id"] for o in page.json()["orders"]]
        token = page.json()["next_page_token"]
        if not token:
            return ids


def test_amount_range_failure_code_and_search(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("payments page")
    created_by, paid_by = f"checkout-{uuid.uuid4().hex}", f"pay-{uuid.uuid4().hex}"
    with mesh.client(key) as api:
        small = create(api, 500, "USD")
        middle = create(api, 1500, "USD", correlation_id=created_by)
        large = create(api, 3000, "USD")
        euros = create(api, 1500, "EUR")
        declined = pay(api, small, "pm_card_declined")
        paid = pay(api, middle, "pm_card_visa", correlation_id=paid_by)
        poor = pay(api, large, "pm_card_insufficient_funds")
        assert (declined["status"], paid["status"], poor["status"]) == (
            "FAILED",
            "SUCCEEDED",
            "FAILED",
        )
        reference = paid["attempts"][0]["processor_reference"]
        assert reference

        assert found(api, currency="USD", amount_min=1000) == [large, middle]
        assert found(api, currency="usd", amount_min=1000, amount_max=2000) == [middle]
        assert found(api, currency="USD", amount_max=1500) == [middle, small]
        assert found(api, currency="EUR", amount_min=1500, amount_max=1500) == [euros]
        assert found(api, failure_code=declined["failure_code"]) == [small]
        assert found(api, failure_code=poor["failure_code"], currency="USD") == [large]
        assert found(api, failure_code="expired_card") == []

        for query in (middle, reference, created_by, paid_by):
            assert found(api, query=query) == [middle], query
        assert found(api, query=reference, status="FAILED") == []
        assert found(api, query="nothing-like-it") == []

    # Another merchant's search never finds this one's order, by any of its names.
    _, other_key = mesh.new_merchant("someone else")
    with mesh.client(other_key) as other:
        for query in (middle, reference, created_by, paid_by):
            assert found(other, query=query) == []


def test_meaningless_filters_are_refused_and_tokens_keep_their_filters(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("payments page checks")
    with mesh.client(key) as api:
        refusals = {
            "amount_min": api.get("/v1/orders", params={"amount_min": 100}),
            "negative": api.get("/v1/orders", params={"currency": "USD", "amount_max": -1}),
            "empty range": api.get(
                "/v1/orders", params={"currency": "USD", "amount_min": 900, "amount_max": 100}
            ),
            "query": api.get("/v1/orders", params={"query": "x" * 256}),
            "failure_code": api.get("/v1/orders", params={"failure_code": "x" * 65}),
        }
        for orders in range(3):
            create(api, 1000 + orders, "USD")
        first = api.get("/v1/orders", params={"page_size": 1, "currency": "USD", "amount_min": 1})
        token = first.json()["next_page_token"]
        assert token
        other_filters: list[dict[str, str | int]] = [
            {"currency": "USD", "amount_min": 2},
            {"currency": "USD", "amount_min": 1, "amount_max": 5000},
            {"currency": "USD", "amount_min": 1, "query": "ord_x"},
            {"currency": "USD", "amount_min": 1, "failure_code": "card_declined"},
        ]
        replayed = [
            api.get("/v1/orders", params={**params, "page_size": 1, "page_token": token})
            for params in other_filters
        ]
        same = api.get(
            "/v1/orders",
            params={"page_size": 1, "currency": "USD", "amount_min": 1, "page_token": token},
        )
    expected = {
        "amount_min": ["CURRENCY_REQUIRED_FOR_AMOUNT"],
        "negative": ["AMOUNT_NEGATIVE"],
        "empty range": ["AMOUNT_RANGE_EMPTY"],
        "query": ["QUERY_TOO_LONG"],
        "failure_code": ["FAILURE_CODE_TOO_LONG"],
    }
    for name, response in refusals.items():
        assert (response.status_code, reason(response)) == (400, "INVALID_REQUEST"), name
        assert field_reasons(response) == expected[name], name
    for response in replayed:
        assert (response.status_code, reason(response)) == (400, "PAGE_TOKEN_INVALID")
    assert same.status_code == 200, same.text


def test_search_over_native_grpc(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("payments page grpc")
    with mesh.client(key) as api:
        order_id = create(api, 2500, "EUR")
        reference = pay(api, order_id, "pm_card_visa")["attempts"][0]["processor_reference"]
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        orders = orders_pb2_grpc.OrderServiceStub(channel)
        bearer = (("authorization", f"Bearer {key}"),)
        listed = orders.ListOrders(
            # As pasted, blanks around it.
            orders_pb2.ListOrdersRequest(
                query=f" {reference}\t", currency="EUR", amount_min=2000, amount_max=3000
            ),
            metadata=bearer,
        )
        assert [o.id for o in listed.orders] == [order_id]
        with pytest.raises(grpc.RpcError) as refused:
            orders.ListOrders(orders_pb2.ListOrdersRequest(amount_max=10), metadata=bearer)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
