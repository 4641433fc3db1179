"""Bad input and abuse: every rejection is a google.rpc.Status JSON with a stable reason, and
none is a 5xx."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import grpc
import httpx
import pytest
from grpc_status import rpc_status

from payloops.v1 import orders_pb2, orders_pb2_grpc
from tests import raw_http
from tests.conftest import Mesh
from tests.e2e.mesh_db import sql

pytestmark = pytest.mark.e2e


def reason(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body["code"], int) and body["message"]
    infos = [d for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
    return infos[0]["reason"]


def violations(response: httpx.Response) -> dict[str, str]:
    details = response.json()["details"]
    bad_request = next(d for d in details if d["@type"].endswith("google.rpc.BadRequest"))
    return {v["field"]: v["reason"] for v in bad_request["field_violations"]}


def revoke_keys(mesh: Mesh, merchant_id: str) -> None:
    """What an operator does to a leaked key (there is no public API for it yet)."""
    sql(mesh, "update api_keys set revoked_at = now() where merchant_id = :m", m=merchant_id)


def test_missing_invalid_and_revoked_keys_are_401(mesh: Mesh) -> None:
    url = f"{mesh.api_url}/v1/orders"
    missing = httpx.get(url)
    invalid = httpx.get(url, headers={"Authorization": "Bearer sk_test_nope"})
    not_bearer = httpx.get(url, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    merchant_id, key = mesh.new_merchant("to be revoked")
    assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    revoke_keys(mesh, merchant_id)
    revoked = httpx.get(url, headers={"Authorization": f"Bearer {key}"})
    assert (missing.status_code, reason(missing)) == (401, "API_KEY_MISSING")
    assert (invalid.status_code, reason(invalid)) == (401, "API_KEY_INVALID")
    assert (not_bearer.status_code, reason(not_bearer)) == (401, "API_KEY_MISSING")
    assert (revoked.status_code, reason(revoked)) == (401, "API_KEY_REVOKED")


def test_another_merchants_order_is_not_found(mesh: Mesh) -> None:
    _, key_a = mesh.new_merchant("merchant A")
    _, key_b = mesh.new_merchant("merchant B")
    with mesh.client(key_a) as a, mesh.client(key_b) as b:
        order = a.post("/v1/orders", json={"amount": 500, "currency": "USD"}).json()
        read = b.get(f"/v1/orders/{order['id']}")
        pay = b.post(
            f"/v1/orders/{order['id']}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
        )
        listed = b.get("/v1/orders").json()
        still_unpaid = a.get(f"/v1/orders/{order['id']}").json()
    assert (read.status_code, reason(read)) == (404, "ORDER_NOT_FOUND")
    assert (pay.status_code, reason(pay)) == (404, "ORDER_NOT_FOUND")
    assert order["id"] not in [o["id"] for o in listed["orders"]]
    assert still_unpaid["status"] == "REQUIRES_PAYMENT_METHOD"


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        ({"amount": -5, "currency": "USD"}, "amount", "AMOUNT_NOT_POSITIVE"),
        ({"amount": 0, "currency": "USD"}, "amount", "AMOUNT_NOT_POSITIVE"),
        ({"amount": 100_000_000_000, "currency": "USD"}, "amount", "AMOUNT_TOO_LARGE"),
        ({"amount": 1_000_000_000, "currency": "JPY"}, "amount", "AMOUNT_TOO_LARGE"),
        ({"amount": 100, "currency": "XYZ"}, "currency", "CURRENCY_UNKNOWN"),
        ({"amount": 100, "currency": "XAU"}, "currency", "CURRENCY_UNKNOWN"),
        ({"amount": 100}, "currency", "CURRENCY_REQUIRED"),
        (
            {"amount": 100, "currency": "USD", "metadata": {"note": "card 4242 4242 4242 4242"}},
            "order.metadata.note",
            "CARD_NUMBER_NOT_ALLOWED",
        ),
        (
            {"amount": 100, "currency": "USD", "description": "pan=4000056655665556"},
            "order.description",
            "CARD_NUMBER_NOT_ALLOWED",
        ),
        (
            {"amount": 100, "currency": "USD", "metadata": {"k": "v" * 501}},
            "metadata.k",
            "METADATA_VALUE_TOO_LONG",
        ),
        (
            {"amount": 100, "currency": "USD", "metadata": {f"k{i}": "v" for i in range(51)}},
            "metadata",
            "METADATA_TOO_MANY_KEYS",
        ),
        (
            {"amount": 100, "currency": "USD", "return_url": "javascript:alert(1)"},
            "return_url",
            "RETURN_URL_INVALID",
        ),
    ],
)
def test_invalid_orders_are_400_with_a_field_violation(
    mesh: Mesh, body: dict, field: str, why: str
) -> None:
    with mesh.client() as api:
        response = api.post("/v1/orders", json=body)
    assert response.status_code == 400, response.text
    assert reason(response) == "INVALID_REQUEST"
    assert violations(response)[field] == why
    # The rejection must not echo the card number back (it would end up in logs).
    assert "4242 4242" not in response.text and "4000056655665556" not in response.text


def test_invalid_payment_methods_are_400(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = api.post("/v1/orders", json={"amount": 100, "currency": "USD"}).json()
        url = f"/v1/orders/{order['id']}:pay"
        pan = api.post(url, json={"payment_method": {"type": "card", "token": "4242424242424242"}})
        kind = api.post(url, json={"payment_method": {"type": "bank", "token": "pm_card_visa"}})
        hint = api.post(
            url,
            json={
                "payment_method": {
                    "type": "card",
                    "token": "pm_card_visa",
                    "card": {"network": "nope"},
                }
            },
        )
        still = api.get(f"/v1/orders/{order['id']}").json()
    assert violations(pan)["payment_method.token"] in (
        "PAYMENT_METHOD_TOKEN_INVALID",
        "CARD_NUMBER_NOT_ALLOWED",
    )
    assert "payment_method.token" in violations(pan)
    assert violations(kind) == {"payment_method.type": "PAYMENT_METHOD_TYPE_UNSUPPORTED"}
    assert violations(hint) == {"payment_method.card.network": "CARD_NETWORK_UNKNOWN"}
    assert still["status"] == "REQUIRES_PAYMENT_METHOD"


def test_malformed_requests_are_rejected_by_envoy_as_status_json(mesh: Mesh) -> None:
    with mesh.client() as api:
        bad_json = api.post(
            "/v1/orders", content=b'{"amount": 1,', headers={"content-type": "application/json"}
        )
        wrong_type = api.post("/v1/orders", json={"amount": "lots", "currency": "USD"})
        wrong_type_map = api.post(
            "/v1/orders", json={"amount": 1, "currency": "USD", "metadata": "x"}
        )
        unknown_path = api.get("/v1/nothing")
        wrong_verb = api.delete("/v1/orders")
        unknown_query = api.get("/v1/orders", params={"bogus": "1"})
        too_big = api.post(
            "/v1/orders", json={"amount": 1, "currency": "USD", "description": "x" * 100_000}
        )
        beyond_int64 = api.post(
            "/v1/orders",
            content=b'{"amount": 9223372036854775808, "currency": "USD"}',
            headers={"content-type": "application/json"},
        )
        bin_header = api.get("/v1/orders", headers={"x-evil-bin": "!!not base64!!"})
    for response, status in [
        (bad_json, 400),
        (wrong_type, 400),
        (wrong_type_map, 400),
        (beyond_int64, 400),
        (unknown_path, 404),
        (wrong_verb, 404),
        (unknown_query, 400),
        (too_big, 413),
    ]:
        assert response.status_code == status, (response.request.url, response.text)
        assert reason(response)
    assert bin_header.status_code == 200


def test_correlation_id_is_echoed_or_generated(mesh: Mesh) -> None:
    with mesh.client() as api:
        given = api.get("/v1/orders", headers={"X-Correlation-ID": "trace-abc-123"})
        generated = api.get("/v1/orders")
        on_error = api.get("/v1/orders/ord_missing", headers={"X-Correlation-ID": "err-1"})
    assert given.headers["x-correlation-id"] == "trace-abc-123"
    assert len(generated.headers["x-correlation-id"]) >= 16
    assert on_error.status_code == 404
    assert on_error.headers["x-correlation-id"] == "err-1"


def test_card_numbers_in_headers_are_rejected_and_never_echoed(mesh: Mesh) -> None:
    pan = "4242424242424242"
    _, key = mesh.new_merchant("card numbers in headers")
    with mesh.client(key) as api:
        as_key = api.post(
            "/v1/orders",
            json={"amount": 100, "currency": "USD"},
            headers={"Idempotency-Key": f"order-{pan}"},
        )
        as_correlation = api.get("/v1/orders", headers={"X-Correlation-ID": f"cid-{pan}"})
        created = api.get("/v1/orders").json()["orders"]
    assert (as_key.status_code, reason(as_key)) == (400, "INVALID_REQUEST")
    assert violations(as_key) == {"header:idempotency-key": "CARD_NUMBER_NOT_ALLOWED"}
    assert (as_correlation.status_code, reason(as_correlation)) == (400, "INVALID_REQUEST")
    assert violations(as_correlation) == {"header:x-correlation-id": "CARD_NUMBER_NOT_ALLOWED"}
    for response in (as_key, as_correlation):
        assert pan not in response.text
        assert pan not in response.headers["x-correlation-id"]
    assert created == []


def test_api_keys_are_stored_only_as_hashes(mesh: Mesh) -> None:
    merchant_id, key = mesh.new_merchant("hashed keys")

    rows = [
        row[0]
        for row in sql(
            mesh,
            "select row_to_json(k)::text from api_keys k where merchant_id = :m",
            m=merchant_id,
        )
    ]
    assert len(rows) == 1
    assert key not in rows[0]
    assert hashlib.sha256(key.encode()).hexdigest() in rows[0]


def test_health_answers_through_envoy_without_a_key(mesh: Mesh) -> None:
    response = httpx.get(f"{mesh.api_url}/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "temporal": "ok", "worker": "ok"},
    }


# Legal in an HTTP token, not in gRPC metadata (grpcio failed the call with a 500 on each).
FORBIDDEN_HEADER_NAMES = [b"x-bang!", b"x~tilde", b"x|pipe", b"x#hash", b"x$dollar", b"x'quote"]


def test_header_names_grpc_forbids_are_dropped_by_envoy(mesh: Mesh) -> None:
    rest_port = int(mesh.api_url.rpartition(":")[2])
    grpc_port = int(mesh.grpc_target.rpartition(":")[2])
    auth = (b"authorization", f"Bearer {mesh.api_key}".encode())
    names = [(name, b"1") for name in FORBIDDEN_HEADER_NAMES]
    over_http1 = raw_http.http1(rest_port, "GET", b"/v1/orders", [auth, *names])
    over_h2 = raw_http.http2(
        grpc_port,
        [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", b"/payloops.v1.OrderService/ListOrders"),
            (b":authority", b"127.0.0.1"),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
            auth,
            *names,
        ],
        b"\x00\x00\x00\x00\x00",  # one empty ListOrdersRequest
    )
    assert over_http1.status == 200, over_http1.text
    assert json.loads(over_http1.body)["orders"] is not None
    assert (over_h2.status, over_h2.grpc_status) == (200, 0), over_h2.text


def test_underscore_metadata_is_dropped_not_a_reset_stream(mesh: Mesh) -> None:
    """Legal gRPC metadata no API header is named like; the REST listener refuses it (400), the
    gRPC one used to reset the stream (INTERNAL for the client)."""
    stub, auth = _orders_stub(mesh)
    answer = stub.ListOrders(
        orders_pb2.ListOrdersRequest(), metadata=(*auth, ("idempotency_key", "k1")), timeout=10
    )
    assert isinstance(answer, orders_pb2.ListOrdersResponse)


def test_an_over_long_url_is_a_431_from_envoy_and_a_long_one_reaches_the_edge(
    mesh: Mesh,
) -> None:
    """Not grpcio's retry-inviting 429 "received metadata size exceeds hard limit": past 16 KiB
    of URL and headers, Envoy refuses; under it, the edge takes all of it (the REST path reaches
    it twice), here a page token too long to be one of its own."""
    token = base64.urlsafe_b64encode(os.urandom(11_000)).decode()  # 14.7 KB, no Huffman gain
    stub, auth = _orders_stub(mesh)
    with mesh.client() as api:
        over = api.get("/v1/orders", params={"currency": "x" * 45_000})
        under = api.get("/v1/orders", params={"page_token": token})
    with pytest.raises(grpc.RpcError) as over_grpc:
        stub.ListOrders(
            orders_pb2.ListOrdersRequest(), metadata=(*auth, ("x-long", "x" * 45_000)), timeout=10
        )
    with pytest.raises(grpc.RpcError) as under_grpc:
        stub.ListOrders(orders_pb2.ListOrdersRequest(page_token=token), metadata=auth, timeout=10)
    assert (over.status_code, reason(over)) == (431, "HEADERS_TOO_LARGE")
    assert "16384" not in over.text and "limit" not in over.text
    assert (under.status_code, reason(under)) == (400, "PAGE_TOKEN_INVALID")
    assert over_grpc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert under_grpc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "PAGE_TOKEN_INVALID" in str(rpc_status.from_call(under_grpc.value))


def _orders_stub(
    mesh: Mesh,
) -> tuple[orders_pb2_grpc.OrderServiceStub, tuple[tuple[str, str], ...]]:
    channel = grpc.insecure_channel(mesh.grpc_target)
    return orders_pb2_grpc.OrderServiceStub(channel), (("authorization", f"Bearer {mesh.api_key}"),)
