"""The same API for internal teams, over native gRPC through Envoy's second listener."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from payloops.v1 import orders_pb2, orders_pb2_grpc
from tests.conftest import Mesh

pytestmark = pytest.mark.e2e


def test_create_pay_get_and_errors_over_native_grpc(mesh: Mesh) -> None:
    stub = orders_pb2_grpc.OrderServiceStub(grpc.insecure_channel(mesh.grpc_target))
    auth = (("authorization", f"Bearer {mesh.api_key}"),)
    order = stub.CreateOrder(orders_pb2.CreateOrderRequest(
        order=orders_pb2.Order(amount=1250, currency="EUR")), metadata=auth, timeout=30)
    paid, call = stub.PayOrder.with_call(orders_pb2.PayOrderRequest(
        order=order.id,
        payment_method=orders_pb2.PaymentMethod(type="card", token="pm_card_visa")),
        metadata=auth, timeout=30)
    assert paid.status == orders_pb2.Order.SUCCEEDED
    assert [a.processor for a in paid.attempts] == ["sandbox"]
    assert dict(call.initial_metadata())["x-correlation-id"]

    declined = stub.PayOrder(orders_pb2.PayOrderRequest(
        order=stub.CreateOrder(orders_pb2.CreateOrderRequest(
            order=orders_pb2.Order(amount=1250, currency="EUR")), metadata=auth).id,
        payment_method=orders_pb2.PaymentMethod(type="card", token="pm_card_declined")),
        metadata=auth, timeout=30)
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
