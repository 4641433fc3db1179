"""The same API for internal teams, over native gRPC through Envoy's second listener."""

from __future__ import annotations

import time

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from payloops.v1 import orders_pb2, orders_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.sandbox_control import live_charges

pytestmark = pytest.mark.e2e


def test_create_pay_get_and_errors_over_native_grpc(mesh: Mesh) -> None:
    stub = orders_pb2_grpc.OrderServiceStub(grpc.insecure_channel(mesh.grpc_target))
    auth = (("authorization", f"Bearer {mesh.api_key}"),)
    order = stub.CreateOrder(
        orders_pb2.CreateOrderRequest(order=orders_pb2.Order(amount=1250, currency="EUR")),
        metadata=auth,
        timeout=30,
    )
    paid, call = stub.PayOrder.with_call(
        orders_pb2.PayOrderRequest(
            order=order.id,
            payment_method=orders_pb2.PaymentMethod(type="card", token="pm_card_visa"),
        ),
        metadata=auth,
        timeout=30,
    )
    assert paid.status == orders_pb2.Order.SUCCEEDED
    assert [a.processor for a in paid.attempts] == ["sandbox"]
    assert dict(call.initial_metadata())["x-correlation-id"]

    declined = stub.PayOrder(
        orders_pb2.PayOrderRequest(
            order=stub.CreateOrder(
                orders_pb2.CreateOrderRequest(order=orders_pb2.Order(amount=1250, currency="EUR")),
                metadata=auth,
            ).id,
            payment_method=orders_pb2.PaymentMethod(type="card", token="pm_card_declined"),
        ),
        metadata=auth,
        timeout=30,
    )
    assert declined.status == orders_pb2.Order.FAILED
    assert declined.failure_code == "generic_decline"

    with pytest.raises(grpc.RpcError) as missing:
        stub.GetOrder(orders_pb2.GetOrderRequest(order="ord_missing"), metadata=auth, timeout=10)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    status = rpc_status.from_call(missing.value)
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("ORDER_NOT_FOUND", "payloops.dev")

    with pytest.raises(grpc.RpcError) as unauthenticated:
        stub.GetOrder(orders_pb2.GetOrderRequest(order=order.id), timeout=10)
    assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _stub_and_auth(
    mesh: Mesh, api_key: str | None = None
) -> tuple[orders_pb2_grpc.OrderServiceStub, tuple[tuple[str, str], ...]]:
    stub = orders_pb2_grpc.OrderServiceStub(grpc.insecure_channel(mesh.grpc_target))
    return stub, (("authorization", f"Bearer {api_key or mesh.api_key}"),)


def test_three_d_secure_over_native_grpc(mesh: Mesh) -> None:
    stub, auth = _stub_and_auth(mesh)
    order = stub.CreateOrder(
        orders_pb2.CreateOrderRequest(order=orders_pb2.Order(amount=3000, currency="USD")),
        metadata=auth,
        timeout=30,
    )
    paid = stub.PayOrder(
        orders_pb2.PayOrderRequest(
            order=order.id,
            payment_method=orders_pb2.PaymentMethod(type="card", token="pm_card_3ds_required"),
        ),
        metadata=auth,
        timeout=30,
    )
    assert paid.status == orders_pb2.Order.REQUIRES_ACTION
    assert httpx.post(paid.next_action.redirect_url, data={"outcome": "succeed"}).status_code in (
        200,
        303,
    )
    deadline = time.monotonic() + 30
    while (
        current := stub.GetOrder(
            orders_pb2.GetOrderRequest(order=order.id), metadata=auth, timeout=10
        )
    ).status == orders_pb2.Order.REQUIRES_ACTION and time.monotonic() < deadline:
        time.sleep(0.2)
    assert current.status == orders_pb2.Order.SUCCEEDED
    assert len(live_charges(mesh, order.id)) == 1


def test_list_orders_pages_and_filters_over_native_grpc(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("grpc pagination")
    stub, auth = _stub_and_auth(mesh, key)
    created = [
        stub.CreateOrder(
            orders_pb2.CreateOrderRequest(order=orders_pb2.Order(amount=200 + i, currency="USD")),
            metadata=auth,
            timeout=30,
        ).id
        for i in range(5)
    ]
    stub.PayOrder(
        orders_pb2.PayOrderRequest(
            order=created[-1],
            payment_method=orders_pb2.PaymentMethod(type="card", token="pm_card_visa"),
        ),
        metadata=auth,
        timeout=30,
    )
    seen: list[str] = []
    token = ""
    while True:
        page = stub.ListOrders(
            orders_pb2.ListOrdersRequest(page_size=2, page_token=token), metadata=auth, timeout=10
        )
        assert len(page.orders) <= 2
        seen += [o.id for o in page.orders]
        token = page.next_page_token
        if not token:
            break
    succeeded = stub.ListOrders(
        orders_pb2.ListOrdersRequest(status=orders_pb2.Order.SUCCEEDED), metadata=auth, timeout=10
    )
    assert seen == list(reversed(created))
    assert [o.id for o in succeeded.orders] == [created[-1]]


def test_idempotency_key_metadata_over_native_grpc(mesh: Mesh) -> None:
    stub, auth = _stub_and_auth(mesh)
    request = orders_pb2.CreateOrderRequest(order=orders_pb2.Order(amount=777, currency="USD"))
    keyed = (*auth, ("idempotency-key", f"grpc-{time.time_ns()}"))
    first = stub.CreateOrder(request, metadata=keyed, timeout=30)
    replayed, call = stub.CreateOrder.with_call(request, metadata=keyed, timeout=30)
    assert replayed.id == first.id
    assert dict(call.initial_metadata())["idempotent-replayed"] == "true"
    with pytest.raises(grpc.RpcError) as reused:
        stub.CreateOrder(
            orders_pb2.CreateOrderRequest(order=orders_pb2.Order(amount=778, currency="USD")),
            metadata=keyed,
            timeout=30,
        )
    assert reused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_details_pb2.ErrorInfo()
    rpc_status.from_call(reused.value).details[0].Unpack(info)
    assert info.reason == "IDEMPOTENCY_KEY_REUSED"
