"""Orders for the routing activity's tests, and the routing step run on them as the payment
workflow runs it, against the real SQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import ids
from core.config import Settings
from core.contracts.payment import PaymentInput, PaymentMethod
from core.contracts.vocabulary import CaptureMethod
from core.db import models
from orchestrator.activities.routing import RoutingActivities
from orchestrator.activities.types import RoutePlan, RouteRequest


async def new_order(sessions: async_sessionmaker[AsyncSession], merchant_id: str) -> str:
    """A 15.00 USD test order of the merchant, not paid yet."""
    order_id = ids.new_id("ord")
    async with sessions.begin() as session:
        session.add(
            models.Order(
                id=order_id,
                merchant_id=merchant_id,
                livemode=False,
                amount=1500,
                currency="USD",
                capture_method=CaptureMethod.AUTOMATIC,
                status="requires_payment_method",
            )
        )
    return order_id


async def route(
    sessions: async_sessionmaker[AsyncSession], merchant_id: str, order_id: str
) -> RoutePlan:
    """The payment workflow's routing step for the order (a card payment)."""
    return await RoutingActivities(sessions, Settings(database_url="")).route_payment(
        RouteRequest(
            payment=PaymentInput(
                order_id=order_id,
                merchant_id=merchant_id,
                amount=1500,
                currency="USD",
                capture_method=CaptureMethod.AUTOMATIC,
            ),
            payment_method=PaymentMethod(type="card", token="pm_card_visa"),
        )
    )
