"""OrderService: create, read, list and pay orders, for the merchant behind the API key."""

from __future__ import annotations

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors, ids
from core.db import models
from core.payment_contract import CardHints, PaymentMethod
from edge import read_model, validation
from edge.auth import Caller, authenticate
from edge.context import request_header
from edge.idempotency import Idempotency
from edge.page_tokens import Cursor, PageTokens
from edge.payments import Payments
from payloops.v1 import orders_pb2, orders_pb2_grpc

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CAPTURE_METHODS = {orders_pb2.Order.CAPTURE_METHOD_UNSPECIFIED: "automatic",
                    orders_pb2.Order.AUTOMATIC: "automatic",
                    orders_pb2.Order.MANUAL: "manual"}


class OrderService(orders_pb2_grpc.OrderServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], payments: Payments,
                 idempotency: Idempotency, page_tokens: PageTokens) -> None:
        self._sessions = sessions
        self._payments = payments
        self._idempotency = idempotency
        self._page_tokens = page_tokens

    async def CreateOrder(self, request: orders_pb2.CreateOrderRequest,
                          context: grpc.aio.ServicerContext) -> orders_pb2.Order:
        caller = await authenticate(self._sessions, context)
        if violations := validation.order_violations(request.order):
            raise errors.invalid(violations)
        return await self._idempotent(caller, context, "CreateOrder", request,
                                      lambda: self._create(caller, request.order))

    async def GetOrder(self, request: orders_pb2.GetOrderRequest,
                       context: grpc.aio.ServicerContext) -> orders_pb2.Order:
        caller = await authenticate(self._sessions, context)
        return await self._read(caller, request.order)

    async def ListOrders(self, request: orders_pb2.ListOrdersRequest,
                         context: grpc.aio.ServicerContext) -> orders_pb2.ListOrdersResponse:
        caller = await authenticate(self._sessions, context)
        if request.page_size < 0:
            raise errors.invalid([errors.FieldViolation("page_size", "PAGE_SIZE_NEGATIVE",
                                                        "must not be negative")])
        size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        status = (orders_pb2.Order.Status.Name(request.status).lower()
                  if request.status else None)
        scope = f"{caller.merchant_id}|{status or ''}"
        after = self._page_tokens.decode(request.page_token, scope) if request.page_token \
            else None
        async with self._sessions() as session:
            rows = await read_model.list_orders(session, caller.merchant_id, status, after,
                                                size + 1)
            page = rows[:size]
            response = orders_pb2.ListOrdersResponse(
                orders=await read_model.to_messages(session, page))
        if len(rows) > size:
            last = page[-1]
            response.next_page_token = self._page_tokens.encode(
                Cursor(last.created_at, last.id), scope)
        return response

    async def PayOrder(self, request: orders_pb2.PayOrderRequest,
                       context: grpc.aio.ServicerContext) -> orders_pb2.Order:
        caller = await authenticate(self._sessions, context)
        if violations := validation.payment_method_violations(request.payment_method):
            raise errors.invalid(violations)
        return await self._idempotent(caller, context, "PayOrder", request,
                                      lambda: self._pay(caller, request))

    async def _create(self, caller: Caller, order: orders_pb2.Order) -> orders_pb2.Order:
        order_id = ids.new_id("ord")
        async with self._sessions.begin() as session:
            session.add(models.Order(
                id=order_id, merchant_id=caller.merchant_id, livemode=caller.livemode,
                amount=order.amount, currency=order.currency.upper(),
                capture_method=_CAPTURE_METHODS[order.capture_method],
                description=order.description, metadata_=dict(order.metadata),
                return_url=order.return_url, status="requires_payment_method"))
        return await self._read(caller, order_id)

    async def _pay(self, caller: Caller, request: orders_pb2.PayOrderRequest) -> orders_pb2.Order:
        async with self._sessions() as session:
            order = await read_model.get_order(session, caller.merchant_id, request.order)
        if order is None:
            raise _not_found(request.order)
        # Only an unpaid order starts a payment; any other is returned as it stands.
        started = False
        if order.status == "requires_payment_method":
            method = request.payment_method
            started = await self._payments.pay(order, PaymentMethod(
                type=method.type.lower(), token=method.token,
                card=CardHints(network=method.card.network.lower(),
                               funding=method.card.funding.lower(),
                               country=method.card.country.upper(),
                               bin=method.card.bin)))
        paid = await self._read(caller, request.order)
        if started and paid.status == orders_pb2.Order.REQUIRES_PAYMENT_METHOD:
            # The workflow has the payment but has not written its first step yet.
            paid.status = orders_pb2.Order.PROCESSING
        return paid

    async def _read(self, caller: Caller, order_id: str) -> orders_pb2.Order:
        async with self._sessions() as session:
            order = await read_model.get_order(session, caller.merchant_id, order_id)
            if order is None:
                raise _not_found(order_id)
            (message,) = await read_model.to_messages(session, [order])
        return message

    async def _idempotent(self, caller: Caller, context: grpc.aio.ServicerContext, method: str,
                          request: orders_pb2.CreateOrderRequest | orders_pb2.PayOrderRequest,
                          call: object) -> orders_pb2.Order:
        key = request_header(context.invocation_metadata(), "idempotency-key")
        if key is None:
            return await call()  # type: ignore[operator,no-any-return]
        return await self._idempotency.run(caller.merchant_id, key, method, request,
                                           orders_pb2.Order, call)  # type: ignore[arg-type]


def _not_found(order_id: str) -> errors.PayLoopsError:
    return errors.PayLoopsError(errors.ORDER_NOT_FOUND, f"no order {order_id!r}",
                                metadata={"order": order_id})
