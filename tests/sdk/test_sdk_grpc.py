"""`transport="grpc"` against a local gRPC server of our own speaking payloops.v1.OrderService:
the request messages the REST-shaped calls become, the metadata they carry, and how a
google.rpc.Status with its details becomes the same error as over REST."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from concurrent import futures
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2, field_mask_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from payloops.sdk import (
    APIConnectionError,
    AsyncPayLoops,
    InvalidRequestError,
    NotFoundError,
    PayLoops,
    _operations,
    _retry,
)
from payloops.sdk._grpc import _method, request_message
from payloops.sdk._operation import Request
from payloops.v1 import customers_pb2, orders_pb2

KEY = "sk_test_unit"


def _status(code: int, message: str, reason: str, *violations: tuple[str, str]) -> Any:
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="payloops.dev"))
    details = [info]
    if violations:
        bad = any_pb2.Any()
        bad.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, reason=r)
                    for f, r in violations
                ]
            )
        )
        details.append(bad)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=details))


class FakeOrders:
    """Scripted answers per method; every call's metadata is recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, str]]] = []
        self.unavailable_first = True

    def handler(self) -> grpc.GenericRpcHandler:
        def unary(name: str, request_type: Any, serve: Callable[..., Any]) -> Any:
            def answer(request: Any, context: grpc.ServicerContext) -> Any:
                metadata = {k: str(v) for k, v in context.invocation_metadata()}
                self.calls.append((name, request, metadata))
                context.send_initial_metadata((("x-correlation-id", "corr-9"),))
                return serve(request, context)

            return grpc.unary_unary_rpc_method_handler(
                answer,
                request_deserializer=request_type.FromString,
                response_serializer=lambda message: message.SerializeToString(),
            )

        return grpc.method_handlers_generic_handler(
            "payloops.v1.OrderService",
            {
                "CreateOrder": unary("CreateOrder", orders_pb2.CreateOrderRequest, self.create),
                "GetOrder": unary("GetOrder", orders_pb2.GetOrderRequest, self.get),
                "PayOrder": unary("PayOrder", orders_pb2.PayOrderRequest, self.pay),
                "ListOrders": unary("ListOrders", orders_pb2.ListOrdersRequest, self.list),
            },
        )

    def create(self, request: Any, context: grpc.ServicerContext) -> Any:
        if self.unavailable_first:
            self.unavailable_first = False
            context.abort_with_status(
                _status(code_pb2.UNAVAILABLE, "try again", "SERVICE_UNAVAILABLE")
            )
        return orders_pb2.Order(
            id="ord_1",
            amount=request.order.amount,
            currency=request.order.currency,
            status=orders_pb2.Order.REQUIRES_PAYMENT_METHOD,
        )

    def get(self, request: Any, context: grpc.ServicerContext) -> Any:
        context.abort_with_status(_status(code_pb2.NOT_FOUND, "no order", "ORDER_NOT_FOUND"))

    def pay(self, request: Any, context: grpc.ServicerContext) -> Any:
        context.abort_with_status(
            _status(
                code_pb2.INVALID_ARGUMENT,
                "invalid request",
                "INVALID_REQUEST",
                ("payment_method.token", "TOKEN_MISSING"),
            )
        )

    def list(self, request: Any, context: grpc.ServicerContext) -> Any:
        if request.page_token:
            return orders_pb2.ListOrdersResponse(orders=[orders_pb2.Order(id="ord_1")])
        return orders_pb2.ListOrdersResponse(
            orders=[orders_pb2.Order(id="ord_2")], next_page_token="next"
        )


@pytest.fixture
def fake() -> Iterator[tuple[FakeOrders, str]]:
    orders = FakeOrders()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((orders.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield orders, f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait(5)


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    asked: list[float] = []
    monkeypatch.setattr(_retry, "sleep", asked.append)
    return asked


def test_a_retry_over_grpc_carries_the_same_idempotency_key(
    fake: tuple[FakeOrders, str], delays: list[float]
) -> None:
    orders, target = fake
    client = PayLoops(KEY, transport="grpc", grpc_target=target)

    order = client.orders.create(amount=4999, currency="usd", capture_method="manual")

    assert (order.id, order.amount, order.status) == ("ord_1", 4999, "requires_payment_method")
    assert order.amount_refunded == 0 and order.livemode is False, "zero values are read too"
    (_, first, sent), (_, second, again) = orders.calls
    assert first == second
    assert first.order.capture_method == orders_pb2.Order.MANUAL
    assert sent["authorization"] == f"Bearer {KEY}"
    assert sent["idempotency-key"] == again["idempotency-key"]
    assert len(delays) == 1


def test_a_grpc_status_becomes_the_same_error_as_over_rest(
    fake: tuple[FakeOrders, str], delays: list[float]
) -> None:
    _, target = fake
    client = PayLoops(KEY, transport="grpc", grpc_target=target)

    with pytest.raises(NotFoundError) as missing:
        client.orders.retrieve("ord_x")
    with pytest.raises(InvalidRequestError) as invalid:
        client.orders.pay("ord_x", payment_method={"type": "card", "token": ""})

    assert (missing.value.http_status, missing.value.code) == (404, code_pb2.NOT_FOUND)
    assert (missing.value.reason, missing.value.message) == ("ORDER_NOT_FOUND", "no order")
    assert missing.value.correlation_id == "corr-9"
    assert [(v.field, v.reason) for v in invalid.value.field_violations] == [
        ("payment_method.token", "TOKEN_MISSING")
    ]
    assert delays == []


async def test_the_async_grpc_transport(fake: tuple[FakeOrders, str]) -> None:
    orders, target = fake
    orders.unavailable_first = False
    async with AsyncPayLoops(KEY, transport="grpc", grpc_target=target) as client:
        order = await client.orders.create(amount=1, currency="USD")
        ids = [o.id async for o in client.orders.list_all(status="succeeded")]
        with pytest.raises(NotFoundError):
            await client.orders.retrieve("ord_x")

    assert order.id == "ord_1" and ids == ["ord_2", "ord_1"]
    listed = [request for name, request, _ in orders.calls if name == "ListOrders"]
    assert [(r.status, r.page_token) for r in listed] == [
        (orders_pb2.Order.SUCCEEDED, ""),
        (orders_pb2.Order.SUCCEEDED, "next"),
    ]


def test_no_server_is_an_api_connection_error(delays: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = PayLoops(KEY, transport="grpc", grpc_target=f"127.0.0.1:{port}", timeout=5)

    with pytest.raises(APIConnectionError, match="GetOrder"):
        client.orders.retrieve("ord_1")
    assert len(delays) == 2, "retried, as over REST"


def test_request_messages_follow_the_http_rules() -> None:
    """Path parameters (dotted too), query and body land where the transcoder puts them."""
    update = request_message(
        _method("payloops.v1.CustomerService", "UpdateCustomer"),
        Request(
            path={"customer.id": "cus_1"},
            query={"update_mask": "description,metadata"},
            body={"description": "", "metadata": {"a": "b"}},
        ),
    )
    listed = request_message(
        _method("payloops.v1.OrderService", "ListOrders"),
        Request(
            query={"status": "requires_capture", "created_after": datetime(2025, 1, 1, tzinfo=UTC)}
        ),
    )
    paid = request_message(
        _method(_operations.PAY_ORDER.service, _operations.PAY_ORDER.name),
        Request(path={"order": "ord_1"}, body={"payment_method": {"type": "card", "token": "t"}}),
    )

    assert update == customers_pb2.UpdateCustomerRequest(
        customer=customers_pb2.Customer(id="cus_1", metadata={"a": "b"}),
        update_mask=field_mask_pb2.FieldMask(paths=["description", "metadata"]),
    )
    assert listed.status == orders_pb2.Order.REQUIRES_CAPTURE
    assert listed.created_after.ToDatetime(UTC) == datetime(2025, 1, 1, tzinfo=UTC)
    assert paid == orders_pb2.PayOrderRequest(
        order="ord_1", payment_method=orders_pb2.PaymentMethod(type="card", token="t")
    )
    with pytest.raises(ValueError, match="order"):
        request_message(
            _method("payloops.v1.OrderService", "GetOrder"), Request(path={"order": ""})
        )
