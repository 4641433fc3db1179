"""RefundService: refunds of the calling merchant's paid orders, in the API key's mode. The
refund workflow reserves the amount and talks to the processor; this service validates, keeps
Idempotency-Key semantics, and reads refunds back for the merchant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors, ids
from core.contracts import views
from core.contracts.payment import RefundInput
from core.contracts.vocabulary import RefundReason
from core.db import models
from core.logs import correlation_id
from edge import read_model
from edge.auth import Caller, authenticate
from edge.context import ServicerContext, request_header
from edge.idempotency import Claim, Idempotency
from edge.lifecycle import Lifecycle
from payloops.v1 import refunds_pb2, refunds_pb2_grpc

_REASONS = frozenset(RefundReason)


class RefundService(refunds_pb2_grpc.RefundServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        lifecycle: Lifecycle,
        idempotency: Idempotency,
    ) -> None:
        self._sessions = sessions
        self._lifecycle = lifecycle
        self._idempotency = idempotency

    async def CreateRefund(
        self, request: refunds_pb2.CreateRefundRequest, context: ServicerContext
    ) -> refunds_pb2.Refund:
        key = request_header(context.invocation_metadata(), "idempotency-key")
        wanted = request.refund
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            found = []
            if wanted.amount < 0:
                found.append(
                    errors.FieldViolation(
                        "refund.amount", "REFUND_AMOUNT_NEGATIVE", "must be positive (or 0 for all)"
                    )
                )
            if wanted.reason and wanted.reason not in _REASONS:
                found.append(
                    errors.FieldViolation(
                        "refund.reason",
                        "REFUND_REASON_UNKNOWN",
                        f"one of {', '.join(RefundReason)}",
                    )
                )
            if found:
                raise errors.invalid(found)
            claim = None
            if key is not None:
                claimed = await self._idempotency.claim(
                    session, caller, key, "CreateRefund", request, refunds_pb2.Refund
                )
                if not isinstance(claimed, Claim):
                    return claimed
                claim = claimed
            order = await read_model.get_order(session, caller, request.order)
        # With an Idempotency-Key, the refund's id (and its workflow's) follows from it: a
        # retry after a lost answer joins the same refund instead of making a second one.
        refund_id = _refund_id(caller, key) if key is not None else ids.new_id("re")
        async with self._idempotency.settling(claim):
            if order is None:
                raise errors.PayLoopsError(
                    errors.ORDER_NOT_FOUND,
                    f"no order {request.order!r}",
                    metadata={"order": request.order},
                )
            await self._lifecycle.refund(
                RefundInput(
                    refund_id=refund_id,
                    order_id=order.id,
                    merchant_id=caller.merchant_id,
                    livemode=caller.livemode,
                    amount=wanted.amount,
                    reason=RefundReason(wanted.reason or RefundReason.REQUESTED_BY_CUSTOMER),
                    correlation_id=correlation_id.get(),
                )
            )
            async with self._sessions.begin() as session:
                refund = await session.get(models.Refund, refund_id, populate_existing=True)
                assert refund is not None  # reserved before lifecycle.refund returned
                answer = views.refund_message(refund)
                if claim is not None:
                    await self._idempotency.store(session, claim, answer)
            return answer

    async def ListRefunds(
        self, request: refunds_pb2.ListRefundsRequest, context: ServicerContext
    ) -> refunds_pb2.ListRefundsResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            if await read_model.get_order(session, caller, request.order) is None:
                raise errors.PayLoopsError(
                    errors.ORDER_NOT_FOUND,
                    f"no order {request.order!r}",
                    metadata={"order": request.order},
                )
            rows = await session.execute(
                select(models.Refund)
                .where(
                    models.Refund.order_id == request.order,
                    models.Refund.merchant_id == caller.merchant_id,
                    models.Refund.livemode == caller.livemode,
                )
                .order_by(models.Refund.created_at, models.Refund.id)
            )
            return refunds_pb2.ListRefundsResponse(
                refunds=[views.refund_message(r) for r in rows.scalars()]
            )

    async def GetRefund(
        self, request: refunds_pb2.GetRefundRequest, context: ServicerContext
    ) -> refunds_pb2.Refund:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            refund = await session.get(models.Refund, request.refund)
            # Another merchant's refund, or one of the other mode, is exactly as missing as
            # one that never existed.
            if (
                refund is None
                or refund.merchant_id != caller.merchant_id
                or refund.livemode != caller.livemode
            ):
                raise errors.PayLoopsError(
                    errors.REFUND_NOT_FOUND,
                    f"no refund {request.refund!r}",
                    metadata={"refund": request.refund},
                )
            return views.refund_message(refund)


def _refund_id(caller: Caller, key: str) -> str:
    """The refund an Idempotency-Key makes, in the key's mode: the same key string sent in the
    other mode is another refund. Test mode keeps the derivation it always had, so a retry of a
    test refund requested before modes were walls still joins that refund."""
    namespace = f"{caller.merchant_id}:live" if caller.livemode else caller.merchant_id
    return ids.derived_id("re", f"{namespace}:{key}")
