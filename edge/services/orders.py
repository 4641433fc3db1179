"""OrderService: create, read, list and pay orders, for the merchant behind the API key and in
the key's mode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors, ids
from core.contracts import views
from core.contracts.payment import CardHints, PaymentMethod
from core.contracts.vocabulary import CaptureMethod, OrderStatus
from core.db import models
from core.logs import correlation_id, order_id
from edge import read_model, validation
from edge.auth import Caller, authenticate
from edge.context import ServicerContext, request_header
from edge.idempotency import Claim, Idempotency
from edge.lifecycle import Lifecycle
from edge.page_tokens import Cursor, PageTokens, page_size, page_size_violations
from edge.payments import Payments
from edge.services import customers
from payloops.v1 import orders_pb2, orders_pb2_grpc

# The requests that move an order along; each names it in `order`.
_Transition = (
    orders_pb2.PayOrderRequest | orders_pb2.CaptureOrderRequest | orders_pb2.CancelOrderRequest
)
_CAPTURE_METHODS = {
    orders_pb2.Order.CAPTURE_METHOD_UNSPECIFIED: CaptureMethod.AUTOMATIC,
    orders_pb2.Order.AUTOMATIC: CaptureMethod.AUTOMATIC,
    orders_pb2.Order.MANUAL: CaptureMethod.MANUAL,
}

# Whoever pays an order last, while it is unpaid, is the request a merchant quotes.
_PAID_BY = (
    update(models.Order)
    .where(
        models.Order.id == bindparam("order_id"),
        models.Order.status == OrderStatus.REQUIRES_PAYMENT_METHOD,
    )
    .values(paid_correlation_id=bindparam("paying_correlation_id"))
)

# Built once: every CreateOrder runs it (see orchestrator/activities/orders.py).
_NEW_ORDER = (
    insert(models.Order)
    .values(
        id=bindparam("order_id"),
        merchant_id=bindparam("merchant"),
        livemode=bindparam("mode"),
        amount=bindparam("order_amount"),
        currency=bindparam("order_currency"),
        capture_method=bindparam("order_capture_method"),
        description=bindparam("order_description"),
        metadata_=bindparam("order_metadata"),
        return_url=bindparam("order_return_url"),
        customer_id=bindparam("order_customer"),
        created_correlation_id=bindparam("order_correlation_id"),
        status=OrderStatus.REQUIRES_PAYMENT_METHOD,
    )
    .returning(models.Order)
)


class OrderService(orders_pb2_grpc.OrderServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        payments: Payments,
        lifecycle: Lifecycle,
        idempotency: Idempotency,
        page_tokens: PageTokens,
    ) -> None:
        self._sessions = sessions
        self._payments = payments
        self._lifecycle = lifecycle
        self._idempotency = idempotency
        self._page_tokens = page_tokens

    async def CreateOrder(
        self, request: orders_pb2.CreateOrderRequest, context: ServicerContext
    ) -> orders_pb2.Order:
        key = request_header(context.invocation_metadata(), "idempotency-key")
        # One transaction: who is calling, the key's claim, the order, the stored response. A
        # failure anywhere leaves nothing behind, not even the claim.
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            if violations := validation.order_violations(request.order):
                raise errors.invalid(violations)
            claim = None
            if key is not None:
                claimed = await self._idempotency.claim(
                    session, caller, key, "CreateOrder", request, orders_pb2.Order
                )
                if not isinstance(claimed, Claim):
                    return claimed
                claim = claimed
            if request.order.customer:
                await customers.find(session, caller, request.order.customer)
            created = await self._create(session, caller, request.order)
            if claim is not None:
                await self._idempotency.store(session, claim, created)
        return created

    async def GetOrder(
        self, request: orders_pb2.GetOrderRequest, context: ServicerContext
    ) -> orders_pb2.Order:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            return await _read(session, caller, request.order)

    async def ListOrders(
        self, request: orders_pb2.ListOrdersRequest, context: ServicerContext
    ) -> orders_pb2.ListOrdersResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            violations = page_size_violations(request.page_size)
            if violations := violations + validation.list_orders_violations(request):
                raise errors.invalid(violations)
            size = page_size(request.page_size)
            wanted = _order_filter(request)
            scope = wanted.scope(caller)
            after = (
                self._page_tokens.decode(request.page_token, scope) if request.page_token else None
            )
            rows = await read_model.list_orders(session, caller, wanted, after, size + 1)
            page = rows[:size]
            response = orders_pb2.ListOrdersResponse(orders=await views.to_messages(session, page))
        if len(rows) > size:
            last = page[-1]
            response.next_page_token = self._page_tokens.encode(
                Cursor(last.created_at, last.id), scope
            )
        return response

    async def PayOrder(
        self, request: orders_pb2.PayOrderRequest, context: ServicerContext
    ) -> orders_pb2.Order:
        return await self._transition(
            context,
            "PayOrder",
            request,
            self._pay,
            violations=lambda: validation.payment_method_violations(request.payment_method),
        )

    async def CaptureOrder(
        self, request: orders_pb2.CaptureOrderRequest, context: ServicerContext
    ) -> orders_pb2.Order:
        return await self._transition(context, "CaptureOrder", request, self._capture)

    async def CancelOrder(
        self, request: orders_pb2.CancelOrderRequest, context: ServicerContext
    ) -> orders_pb2.Order:
        return await self._transition(context, "CancelOrder", request, self._cancel)

    async def _pay(self, order: models.Order, request: orders_pb2.PayOrderRequest) -> bool:
        # Only an unpaid order starts a payment; any other is returned as it stands.
        if order.status != OrderStatus.REQUIRES_PAYMENT_METHOD:
            return False
        method = request.payment_method
        # One transaction: a refused method leaves the order's payer as it was.
        async with self._sessions.begin() as session:
            saved = await customers.saved_method_for(session, order, method.token)
            if request.off_session and saved is None:
                raise customers.not_saved(order)
            await session.execute(
                _PAID_BY, {"order_id": order.id, "paying_correlation_id": correlation_id.get()}
            )
        return await self._payments.pay(
            order,
            PaymentMethod(
                type=method.type.lower(),
                token=method.token,
                card=CardHints(
                    network=method.card.network.lower(),
                    funding=method.card.funding.lower(),
                    country=method.card.country.upper(),
                    bin=method.card.bin,
                ),
                off_session=request.off_session,
                network_transaction_id=(
                    saved.network_transaction_id if request.off_session and saved else ""
                ),
            ),
        )

    async def _capture(self, order: models.Order, request: orders_pb2.CaptureOrderRequest) -> None:
        if not 0 <= request.amount <= order.amount:
            raise errors.capture_amount_invalid(order.amount)
        await self._lifecycle.capture(order, request.amount)

    async def _cancel(self, order: models.Order, request: orders_pb2.CancelOrderRequest) -> None:
        await self._lifecycle.cancel(order)

    async def _transition(
        self,
        context: ServicerContext,
        method: str,
        request: _Transition,
        act: Callable[[models.Order, Any], Awaitable[Any]],
        violations: Callable[[], list[errors.FieldViolation]] = list,
    ) -> orders_pb2.Order:
        """Pay, capture or cancel: idempotent (the claim is committed before the work, so a
        duplicate sees it and waits), done by the order's payment workflow, answered with the
        order as it then stands."""
        key = request_header(context.invocation_metadata(), "idempotency-key")
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            if found := violations():
                raise errors.invalid(found)
            claim = None
            if key is not None:
                claimed = await self._idempotency.claim(
                    session, caller, key, method, request, orders_pb2.Order
                )
                if not isinstance(claimed, Claim):
                    return claimed
                claim = claimed
            order = await read_model.get_order(session, caller, request.order)
        async with self._idempotency.settling(claim):
            if order is None:
                raise _not_found(request.order)
            started = await act(order, request)
            async with self._sessions.begin() as session:
                answer = await _read(session, caller, order.id)
                if started is True and answer.status == orders_pb2.Order.REQUIRES_PAYMENT_METHOD:
                    # The workflow has the payment but has not written its first step yet.
                    answer.status = orders_pb2.Order.PROCESSING
                if claim is not None:
                    await self._idempotency.store(session, claim, answer)
            return answer

    async def _create(
        self, session: AsyncSession, caller: Caller, order: orders_pb2.Order
    ) -> orders_pb2.Order:
        new_order = ids.new_id("ord")
        # The call's log line names the order it made (edge.interceptors).
        order_id.set(new_order)
        row = (
            await session.execute(
                _NEW_ORDER,
                {
                    "order_id": new_order,
                    "merchant": caller.merchant_id,
                    "mode": caller.livemode,
                    "order_amount": order.amount,
                    "order_currency": order.currency.upper(),
                    "order_capture_method": _CAPTURE_METHODS[order.capture_method],
                    "order_description": order.description,
                    "order_metadata": dict(order.metadata),
                    "order_return_url": order.return_url,
                    "order_customer": order.customer or None,
                    "order_correlation_id": correlation_id.get(),
                },
            )
        ).scalar_one()
        return views.order_message(row, attempts=[])


def _order_filter(request: orders_pb2.ListOrdersRequest) -> read_model.OrderFilter:
    return read_model.OrderFilter(
        status=orders_pb2.Order.Status.Name(request.status).lower() if request.status else None,
        processor=request.processor,
        currency=request.currency.upper(),
        created_after=(
            request.created_after.ToDatetime(tzinfo=UTC)
            if request.HasField("created_after")
            else None
        ),
        created_before=(
            request.created_before.ToDatetime(tzinfo=UTC)
            if request.HasField("created_before")
            else None
        ),
        metadata_key=request.metadata_key,
        metadata_value=request.metadata_value,
        amount_min=request.amount_min,
        amount_max=request.amount_max,
        failure_code=request.failure_code,
        query=request.query.strip(),
    )


async def _read(session: AsyncSession, caller: Caller, order_id: str) -> orders_pb2.Order:
    order = await read_model.get_order(session, caller, order_id)
    if order is None:
        raise _not_found(order_id)
    (message,) = await views.to_messages(session, [order])
    return message


def _not_found(order_id: str) -> errors.PayLoopsError:
    return errors.PayLoopsError(
        errors.ORDER_NOT_FOUND, f"no order {order_id!r}", metadata={"order": order_id}
    )
