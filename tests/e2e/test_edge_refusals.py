"""What the edge refuses, whatever reaches it, through Envoy's REST transcoding and over the
native gRPC port: text PostgreSQL cannot hold (NUL), enum numbers the API does not define,
bytes that are not the request message (not UTF-8 in a path or query, malformed protobuf),
Timestamps and Durations out of their range, card numbers anywhere, and page tokens whose
inside is not what the edge issued. Each is a 4xx in the google.rpc.Status shape with a stable
reason, nothing of it is stored, and no card number comes back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from payloops.v1 import (
    health_pb2,
    orders_pb2,
    orders_pb2_grpc,
    processors_pb2,
    refunds_pb2,
    routing_pb2,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from processors.sandbox.webhooks import SIGNATURE_HEADER, sign_webhook
from tests.conftest import Mesh
from tests.e2e.mesh_db import sql

pytestmark = pytest.mark.e2e

PAN = "4242424242424242"
RULE = {"name": "r", "failover": {"processors": ["*"]}}


def refusal(response: httpx.Response) -> tuple[int, str, dict[str, str]]:
    """(HTTP status, ErrorInfo reason, {field: violation reason}) of a google.rpc.Status."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body["code"], int) and isinstance(body["message"], str), body
    infos = [d for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
    assert infos and infos[0]["domain"] == "payloops.dev", body
    found = {
        v["field"]: v["reason"]
        for d in body["details"]
        if d["@type"].endswith("google.rpc.BadRequest")
        for v in d["field_violations"]
    }
    return response.status_code, infos[0]["reason"], found


@pytest.fixture(scope="module")
def merchant_key(mesh: Mesh) -> str:
    """A merchant of these tests' own: every request below is refused, so it has nothing."""
    return mesh.new_merchant("edge refusals")[1]


def nothing_stored(mesh: Mesh, key: str) -> None:
    with mesh.client(key) as api:
        assert api.get("/v1/orders").json().get("orders", []) == []
        assert api.get("/v1/webhook_endpoints").json().get("webhook_endpoints", []) == []
        assert api.get("/v1/processor_accounts").json().get("processor_accounts", []) == []
        assert api.get("/v1/routing").json()["version"] == "0"


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("POST", "/v1/orders", {"description": "a\0b"}, "order.description"),
        ("POST", "/v1/orders", {"return_url": "https://shop.example/\0"}, "order.return_url"),
        ("POST", "/v1/orders", {"metadata": {"k\0": "v"}}, "order.metadata"),
        ("POST", "/v1/orders", {"metadata": {"k": "v\0"}}, "order.metadata.k"),
        (
            "POST",
            "/v1/webhook_endpoints",
            {"url": "https://hooks.example/\0", "enabled_events": ["*"]},
            "webhook_endpoint.url",
        ),
        (
            "PUT",
            "/v1/routing",
            {"rules": [{**RULE, "name": "r\0"}]},
            "routing_config.rules[0].name",
        ),
        (
            "PUT",
            "/v1/routing",
            {"rules": [{**RULE, "conditions": {"currencies": ["US\0"]}}]},
            "routing_config.rules[0].conditions.currencies[0]",
        ),
        (
            "PUT",
            "/v1/routing",
            {"rules": [{**RULE, "conditions": {"metadata": {"k": "v\0"}}}]},
            "routing_config.rules[0].conditions.metadata.k",
        ),
        (
            "POST",
            "/v1/processor_accounts",
            {"processor": "sandbox", "credentials": {"webhook_secret": "s\0"}},
            "processor_account.credentials.webhook_secret",
        ),
        ("POST", "/v1/orders/ord_x/refunds", {"reason": "x\0"}, "refund.reason"),
        (
            "POST",
            "/v1/orders/ord_x:pay",
            {"payment_method": {"type": "card", "token": "pm_\0"}},
            "payment_method.token",
        ),
        ("GET", "/v1/orders?currency=%00", None, "currency"),
        ("GET", "/v1/orders?metadata_key=%00", None, "metadata_key"),
        ("GET", "/v1/events?type=%00", None, "type"),
    ],
)
def test_a_nul_in_stored_or_queried_text_is_400_and_nothing_is_stored(
    mesh: Mesh, merchant_key: str, method: str, url: str, body: Any, field: str
) -> None:
    if url == "/v1/orders" and method == "POST":
        body = {"amount": 100, "currency": "USD", **body}
    with mesh.client(merchant_key) as api:
        response = api.request(method, url, json=body)
    assert refusal(response) == (400, "INVALID_REQUEST", {field: "NUL_CHARACTER_NOT_ALLOWED"})
    nothing_stored(mesh, merchant_key)


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("POST", "/v1/orders", {"amount": 1, "currency": "USD", "capture_method": 5}, None),
        ("POST", "/v1/orders", {"amount": 1, "currency": "USD", "capture_method": -1}, None),
        ("PUT", "/v1/routing", {"rules": [RULE], "mode": 7}, "routing_config.mode"),
        (
            "PUT",
            "/v1/routing",
            {"rules": [RULE], "unknown_outcome_policy": -3},
            "routing_config.unknown_outcome_policy",
        ),
        ("PATCH", "/v1/webhook_endpoints/we_x", {"status": 9}, "webhook_endpoint.status"),
    ],
)
def test_an_enum_number_the_api_does_not_define_is_400(
    mesh: Mesh, merchant_key: str, method: str, url: str, body: Any, field: str | None
) -> None:
    with mesh.client(merchant_key) as api:
        response = api.request(method, url, json=body)
    expected = field or "order.capture_method"
    assert refusal(response) == (400, "INVALID_REQUEST", {expected: "ENUM_VALUE_UNKNOWN"})
    nothing_stored(mesh, merchant_key)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/v1/orders/%FF"),
        ("POST", "/v1/orders/%FF:pay"),
        ("POST", "/v1/orders/%FF:capture"),
        ("POST", "/v1/orders/%FF:cancel"),
        ("POST", "/v1/orders/%FF/refunds"),
        ("GET", "/v1/orders/%FF/refunds"),
        ("GET", "/v1/refunds/%FF"),
        ("GET", "/v1/events/%FF"),
        ("GET", "/v1/events/%FF/deliveries"),
        ("POST", "/v1/events/%FF:redeliver"),
        ("DELETE", "/v1/webhook_endpoints/%FF"),
        ("POST", "/v1/webhook_endpoints/%FF:rotate_secret"),
        ("POST", "/v1/processor_accounts/%FF:disable"),
        ("POST", "/v1/processor_webhooks/%FF"),
        ("GET", "/v1/orders?currency=%FF"),
        ("GET", "/v1/orders?page_token=%FF"),
        ("GET", "/v1/events?type=%FF"),
    ],
)
def test_bytes_that_are_not_utf8_in_a_path_or_query_are_400_request_malformed(
    mesh: Mesh, merchant_key: str, method: str, url: str
) -> None:
    with mesh.client(merchant_key) as api:
        response = api.request(method, url, json={} if method == "POST" else None)
    assert refusal(response) == (400, "REQUEST_MALFORMED", {})
    assert "DecodeError" not in response.text and "class" not in response.text


def test_an_object_where_text_is_expected_is_400_not_corrupt_wire_format(
    mesh: Mesh, merchant_key: str
) -> None:
    with mesh.client(merchant_key) as api:
        response = api.post(
            "/v1/orders", json={"amount": 1, "currency": "USD", "metadata": {"k": {"a": 1}}}
        )
    status, reason, _ = refusal(response)
    assert 400 <= status < 500 and reason in ("REQUEST_MALFORMED", "INVALID_REQUEST")
    assert "Wire format" not in response.text
    nothing_stored(mesh, merchant_key)


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        (
            "POST",
            "/v1/webhook_endpoints",
            {"url": f"https://hooks.example/{PAN}", "enabled_events": ["*"]},
            "webhook_endpoint.url",
        ),
        (
            "POST",
            "/v1/processor_accounts",
            {"processor": "sandbox", "credentials": {PAN: "x"}},
            "processor_account.credentials",
        ),
        ("POST", "/v1/orders", {"amount": 1, "currency": PAN}, "order.currency"),
        ("POST", "/v1/orders", {"amount": 1, "currency": "USD", "metadata": {PAN: "v"}}, None),
        ("PUT", "/v1/routing", {"rules": [{**RULE, "name": PAN}]}, "routing_config.rules[0].name"),
        ("GET", f"/v1/orders?metadata_key=k&metadata_value={PAN}", None, "metadata_value"),
        ("GET", f"/v1/orders?currency={PAN}", None, "currency"),
        ("GET", f"/v1/orders/{PAN}", None, "order"),
        ("POST", f"/v1/orders/{PAN}:cancel", {}, "order"),
        ("GET", f"/v1/orders/{PAN}/refunds", None, "order"),
        ("GET", f"/v1/refunds/{PAN}", None, "refund"),
        ("GET", f"/v1/events/{PAN}", None, "event"),
        ("DELETE", f"/v1/webhook_endpoints/{PAN}", None, "webhook_endpoint"),
        ("POST", f"/v1/processor_accounts/{PAN}:disable", {}, "processor_account"),
        ("POST", f"/v1/processor_webhooks/{PAN}", {}, "processor"),
    ],
)
def test_a_card_number_anywhere_is_400_and_never_echoed(
    mesh: Mesh, merchant_key: str, method: str, url: str, body: Any, field: str | None
) -> None:
    with mesh.client(merchant_key) as api:
        response = api.request(method, url, json=body)
    expected = field or "order.metadata"
    assert refusal(response) == (400, "INVALID_REQUEST", {expected: "CARD_NUMBER_NOT_ALLOWED"})
    assert PAN not in response.text
    nothing_stored(mesh, merchant_key)


def _page_token_secret(mesh: Mesh) -> str:
    """The secret `payloops dev` keeps in its state dir: what anyone who holds it can sign."""
    return (mesh.state_dir / "page_token_secret").read_text().strip()


def _resigned(secret: str, token: str, change: Any) -> str:
    """The token with its inside changed by `change` and signed again, as the edge signs."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    inside = change(json.loads(raw[16:]))
    payload = (
        inside if isinstance(inside, bytes) else json.dumps(inside, separators=(",", ":")).encode()
    )
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")


ODD_INSIDES = [
    lambda f: {**f, "c": 5},
    lambda f: {**f, "c": "yesterday"},
    lambda f: {**f, "c": f["c"][:19]},  # no time zone
    lambda f: {**f, "i": 7},
    lambda f: {**f, "i": "ord_\0"},
    lambda f: {**f, "i": "x" * 5000},
    lambda f: {**f, "extra": 1},
    lambda f: {k: v for k, v in f.items() if k != "i"},
    lambda f: [f["c"], f["i"], f["s"]],
    lambda f: f["s"],
    lambda f: b"[" * 3000,  # deeper than the JSON parser recurses
]


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/events"])
def test_a_page_token_signed_again_with_an_odd_inside_is_400_page_token_invalid(
    mesh: Mesh, path: str
) -> None:
    _, key = mesh.new_merchant(f"odd page tokens {path}")
    with mesh.client(key) as api:
        for _ in range(2):
            order = api.post("/v1/orders", json={"amount": 100, "currency": "USD"}).json()
            api.post(
                f"/v1/orders/{order['id']}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            )
        token = api.get(path, params={"page_size": 1}).json()["next_page_token"]
        secret = _page_token_secret(mesh)
        assert _resigned(secret, token, lambda f: f) == token, "not the mesh's page token secret"
        answers = [
            api.get(path, params={"page_size": 1, "page_token": _resigned(secret, token, odd)})
            for odd in ODD_INSIDES
        ]
        assert api.get(path, params={"page_size": 1, "page_token": token}).status_code == 200
    for answer in answers:
        assert refusal(answer) == (400, "PAGE_TOKEN_INVALID", {}), answer.text


def test_signed_gateway_events_the_columns_cannot_hold_are_acknowledged_once(
    mesh: Mesh,
) -> None:
    """Whoever holds an account's webhook secret signs what they like: an event id or type
    longer than PayLoops keeps, or with a NUL, is still recorded once, not a 500; a card
    number in one is not recorded."""
    _, key = mesh.new_merchant("odd gateway events")
    with mesh.client(key) as api:
        account = api.post(
            "/v1/processor_accounts",
            json={"processor": "sandbox", "credentials": {"webhook_secret": "whsec_odd"}},
        ).json()
    events = [
        {"id": "e" * 300, "type": "other"},
        {"id": "evt_long_type", "type": "t" * 200},
        {"id": "evt_\0nul", "type": "other\0"},
        {"id": f"evt_{PAN}", "type": f"card {PAN}"},
    ]
    answers = []
    for event in events * 2:  # each twice: the second is a gateway's retry
        raw = json.dumps(event).encode()
        answers.append(
            httpx.post(
                f"{mesh.api_url}{account['webhook_path']}",
                content=raw,
                headers={
                    SIGNATURE_HEADER: sign_webhook("whsec_odd", raw),
                    "content-type": "application/json",
                },
                timeout=30,
            )
        )
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    recorded = sql(
        mesh,
        "select event_id, event_type from processor_events where account_id = :a",
        a=account["id"],
    )
    assert len(recorded) == 4
    assert PAN not in str(recorded)


# The request types of the native gRPC API, by full method name.
GRPC_METHODS = {
    f"/{service.full_name}/{method.name}": method.input_type
    for module in (health_pb2, orders_pb2, processors_pb2, refunds_pb2, routing_pb2, webhooks_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
}


def _grpc_reason(error: grpc.RpcError) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    status = rpc_status.from_call(error)
    assert status is not None, error
    info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    violations: dict[str, str] = {}
    for detail in status.details:
        if detail.Unpack(bad_request):
            violations = {v.field: v.reason for v in bad_request.field_violations}
    status.details[0].Unpack(info)
    return error.code(), info.reason, violations


def _malformed_requests() -> Iterator[tuple[str, bytes]]:
    for method, kind in GRPC_METHODS.items():
        yield method, b"\xff\xff\xff\xff"  # not protobuf: a tag that never ends
        first = kind.fields_by_number.get(1)
        if first is not None and first.type == FieldDescriptor.TYPE_STRING:
            yield method, b"\x0a\x03\xffbc"  # field 1, a string, holding bytes not UTF-8


@pytest.mark.parametrize(("method", "raw"), list(_malformed_requests()))
def test_malformed_protobuf_on_the_grpc_port_is_invalid_argument(
    mesh: Mesh, method: str, raw: bytes
) -> None:
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        call: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
            method, request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.RpcError) as refused:
            call(raw, metadata=(("authorization", f"Bearer {mesh.api_key}"),), timeout=30)
    assert _grpc_reason(refused.value) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "REQUEST_MALFORMED",
        {},
    )
    assert "DecodeError" not in (refused.value.details() or "")


def test_hostile_values_over_native_grpc_are_invalid_argument(
    mesh: Mesh, merchant_key: str
) -> None:
    auth = (("authorization", f"Bearer {merchant_key}"),)
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        orders = orders_pb2_grpc.OrderServiceStub(channel)
        endpoints = webhooks_pb2_grpc.WebhookEndpointServiceStub(channel)
        calls: dict[str, Callable[[], object]] = {
            "nul": lambda: orders.CreateOrder(
                orders_pb2.CreateOrderRequest(
                    order=orders_pb2.Order(amount=1, currency="USD", description="a\0b")
                ),
                metadata=auth,
                timeout=30,
            ),
            "enum": lambda: orders.CreateOrder(
                orders_pb2.CreateOrderRequest(
                    order=orders_pb2.Order(
                        amount=1,
                        currency="USD",
                        capture_method=orders_pb2.Order.CaptureMethod.ValueType(5),
                    )
                ),
                metadata=auth,
                timeout=30,
            ),
            "list_enum": lambda: orders.ListOrders(
                orders_pb2.ListOrdersRequest(status=orders_pb2.Order.Status.ValueType(99)),
                metadata=auth,
                timeout=30,
            ),
            "timestamp": lambda: orders.ListOrders(
                orders_pb2.ListOrdersRequest(created_after=timestamp_pb2.Timestamp(seconds=2**40)),
                metadata=auth,
                timeout=30,
            ),
            "duration": lambda: endpoints.RotateWebhookEndpointSecret(
                webhooks_pb2.RotateWebhookEndpointSecretRequest(
                    webhook_endpoint="we_x", grace_period=duration_pb2.Duration(seconds=2**50)
                ),
                metadata=auth,
                timeout=30,
            ),
            "pan": lambda: orders.GetOrder(
                orders_pb2.GetOrderRequest(order=PAN), metadata=auth, timeout=30
            ),
        }
        refused: dict[str, tuple[grpc.StatusCode, str, dict[str, str]]] = {}
        for name, call in calls.items():
            with pytest.raises(grpc.RpcError) as error:
                call()
            refused[name] = _grpc_reason(error.value)
            assert PAN not in (error.value.details() or "")
    invalid = grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST"
    assert refused == {
        "nul": (*invalid, {"order.description": "NUL_CHARACTER_NOT_ALLOWED"}),
        "enum": (*invalid, {"order.capture_method": "ENUM_VALUE_UNKNOWN"}),
        "list_enum": (*invalid, {"status": "ENUM_VALUE_UNKNOWN"}),
        "timestamp": (*invalid, {"created_after": "TIMESTAMP_OUT_OF_RANGE"}),
        "duration": (*invalid, {"grace_period": "DURATION_OUT_OF_RANGE"}),
        "pan": (*invalid, {"order": "CARD_NUMBER_NOT_ALLOWED"}),
    }
    nothing_stored(mesh, merchant_key)


def test_the_edge_log_holds_no_card_number(mesh: Mesh, merchant_key: str) -> None:
    with mesh.client(merchant_key) as api:
        api.get(f"/v1/orders/{PAN}")
        api.get("/v1/orders", headers={"x-request-id": f"rid-{PAN}"})
    for service in ("edge", "worker"):
        assert PAN not in (mesh.state_dir / "logs" / f"{service}.log").read_text(), service
