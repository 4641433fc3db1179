"""Test events: a `webhook_endpoint.test` event made on request for one endpoint and delivered
to it alone, by the same workflow as every event (signed, retried, its attempts recorded), so
what a merchant's receiver gets is exactly what it will get for real."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core import ids
from core.contracts import events
from core.contracts.views import as_json
from core.db import models
from core.webhooks.deliveries import ensure_deliveries
from core.webhooks.views import endpoint_message


async def record(session: AsyncSession, endpoint: models.WebhookEndpoint) -> models.EventDelivery:
    """A new test event for `endpoint` (its object the endpoint, without secret) and its one
    delivery, pending, in the caller's transaction; the caller starts the delivery once it is
    committed."""
    event_id = await events.record(
        session,
        merchant_id=endpoint.merchant_id,
        livemode=endpoint.livemode,
        type=events.WEBHOOK_ENDPOINT_TEST,
        obj=as_json(endpoint_message(endpoint)),
        # Every request is a new event: sending a test twice sends two.
        key=f"{endpoint.id}:{events.WEBHOOK_ENDPOINT_TEST}:{ids.new_id('tst')}",
        order_id="",
    )
    event = await session.get(models.Event, event_id)
    assert event is not None, "recorded in this transaction"
    (delivery,) = await ensure_deliveries(session, event, [endpoint])
    return delivery
