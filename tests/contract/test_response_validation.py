"""The response validator of the e2e tests (tests/openapi_responses.py) catches a server that
drifts from the document: real answers of a live mesh, changed the way a drift would change
them, fail with the operation, the status and the mismatch named; and the hook in httpx that
every test's requests go through applies it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests import openapi_document, openapi_responses
from tests.conftest import Mesh
from tests.openapi_responses import DocumentMismatch, ResponseChecker

pytestmark = pytest.mark.e2e

JSON = "application/json"


@pytest.fixture(scope="module")
def secret_key(mesh: Mesh) -> str:
    return mesh.new_merchant("drift")[1]


@pytest.fixture(scope="module")
def order(mesh: Mesh, secret_key: str) -> dict[str, Any]:
    with mesh.client(secret_key) as api:
        made = api.post("/v1/orders", json={"amount": "4999", "currency": "USD"})
    assert made.status_code == 200, made.text
    body: dict[str, Any] = made.json()
    return body


def check_order(body: dict[str, Any], status: int = 200) -> None:
    path = f"/v1/orders/{body.get('id', 'ord_x')}"
    openapi_responses.checker().check("GET", path, status, JSON, json.dumps(body).encode())


def test_a_real_answer_passes(order: dict[str, Any]) -> None:
    check_order(order)


def test_a_required_field_missing_fails(order: dict[str, Any]) -> None:
    without_amount = {name: value for name, value in order.items() if name != "amount"}
    with pytest.raises(DocumentMismatch, match=r"GetOrder \(GET /v1/orders/ord_\w+\) answered 200"):
        check_order(without_amount)
    with pytest.raises(DocumentMismatch, match="'amount' is a required property"):
        check_order(without_amount)


def test_a_retyped_field_fails(order: dict[str, Any]) -> None:
    # int64 is a JSON string in the transcoder's mapping: a number is a drift.
    with pytest.raises(DocumentMismatch, match=r"at amount: 4999 is not of type 'string'"):
        check_order({**order, "amount": int(order["amount"])})


def test_an_unknown_field_fails(order: dict[str, Any]) -> None:
    with pytest.raises(DocumentMismatch, match="redirect_uri"):
        check_order({**order, "redirect_uri": "https://example.com"})


def test_a_status_the_operation_does_not_list_fails(order: dict[str, Any]) -> None:
    error = {"code": 12, "message": "no"}
    with pytest.raises(DocumentMismatch, match=r"GetOrder .* answered 405"):
        check_order(error | {"id": order["id"]}, status=405)


def test_an_error_body_must_be_a_status() -> None:
    not_a_status = json.dumps({"error": "not found"}).encode()
    with pytest.raises(DocumentMismatch, match="answered 404"):
        openapi_responses.checker().check("GET", "/v1/orders/ord_x", 404, JSON, not_a_status)


def test_an_unlisted_route_may_only_refuse() -> None:
    checker = openapi_responses.checker()
    status = {"code": 5, "message": "No API method has this path and HTTP method."}
    checker.check("GET", "/v1/nothing", 404, JSON, json.dumps(status).encode())
    with pytest.raises(DocumentMismatch, match="a route the document lacks"):
        checker.check("GET", "/v1/nothing", 200, JSON, b"{}")
    with pytest.raises(DocumentMismatch, match=r"without a google\.rpc\.Status body"):
        checker.check("GET", "/v1/nothing", 404, "text/plain", b"not found")


def test_every_request_to_the_mesh_is_checked(
    mesh: Mesh, secret_key: str, order: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the hook: with a document that says `amount` is a number, the test client's own
    GET of a real order fails."""
    drifted = openapi_document.load()
    drifted["components"]["schemas"]["Order"]["properties"]["amount"] = {"type": "integer"}
    monkeypatch.setattr(openapi_responses, "checker", lambda: ResponseChecker(drifted))
    with pytest.raises(DocumentMismatch, match=r"GetOrder .* answered 200.*at amount"):
        httpx.get(
            f"{mesh.api_url}/v1/orders/{order['id']}",
            headers={"Authorization": f"Bearer {secret_key}"},
        )
