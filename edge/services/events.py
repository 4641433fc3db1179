"""EventService: a merchant's events (newest first, in the API key's mode), each event's
deliveries with every attempt, and redelivery. Events are written by the worker as things
happen (core/contracts/events.py); the edge only reads them, and starts deliveries again on request
(core/webhooks/deliveries.py)."""

from __future__ import annotations

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors, ids
from core.contracts import events
from core.contracts.vocabulary import EndpointStatus
from core.db import models
from core.webhooks import deliveries as webhook_deliveries
from core.webhooks.views import delivery_messages, event_message
from edge.auth import Caller, authenticate
from edge.context import ServicerContext
from edge.delivery_starter import DeliveryStarter
from edge.page_tokens import Cursor, PageTokens, page_size, page_size_violations
from edge.services.webhook_endpoints import find as find_endpoint
from payloops.v1 import webhooks_pb2, webhooks_pb2_grpc


class EventService(webhooks_pb2_grpc.EventServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        page_tokens: PageTokens,
        deliveries: DeliveryStarter,
    ) -> None:
        self._sessions = sessions
        self._page_tokens = page_tokens
        self._deliveries = deliveries

    async def ListEvents(
        self, request: webhooks_pb2.ListEventsRequest, context: ServicerContext
    ) -> webhooks_pb2.ListEventsResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            violations = page_size_violations(request.page_size) + _filter_violations(request)
            if violations:
                raise errors.invalid(violations)
            size = page_size(request.page_size)
            # The token is bound to who asked, in which mode, with which filters.
            scope = f"events|{caller.merchant_id}|{caller.livemode}|{request.type}|{request.order}"
            after = (
                self._page_tokens.decode(request.page_token, scope) if request.page_token else None
            )
            query = events_query(caller, request.type, request.order, after, size + 1)
            rows = list((await session.execute(query)).scalars())
        page = rows[:size]
        response = webhooks_pb2.ListEventsResponse(events=[event_message(e) for e in page])
        if len(rows) > size:
            response.next_page_token = self._page_tokens.encode(
                Cursor(page[-1].created_at, page[-1].id), scope
            )
        return response

    async def GetEvent(
        self, request: webhooks_pb2.GetEventRequest, context: ServicerContext
    ) -> webhooks_pb2.Event:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            return event_message(await _find(session, caller, request.event))

    async def ListEventDeliveries(
        self, request: webhooks_pb2.ListEventDeliveriesRequest, context: ServicerContext
    ) -> webhooks_pb2.ListEventDeliveriesResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            event = await _find(session, caller, request.event)
            rows = await session.execute(
                select(models.EventDelivery)
                .where(models.EventDelivery.event_id == event.id)
                .order_by(models.EventDelivery.created_at, models.EventDelivery.id)
            )
            return webhooks_pb2.ListEventDeliveriesResponse(
                deliveries=await delivery_messages(session, list(rows.scalars()))
            )

    async def RedeliverEvent(
        self, request: webhooks_pb2.RedeliverEventRequest, context: ServicerContext
    ) -> webhooks_pb2.ListEventDeliveriesResponse:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            event = await _find(session, caller, request.event)
            if request.webhook_endpoint:
                endpoint = await find_endpoint(session, caller, request.webhook_endpoint)
                if endpoint.status != EndpointStatus.ENABLED:
                    raise errors.PayLoopsError(
                        errors.WEBHOOK_ENDPOINT_DISABLED,
                        f"webhook endpoint {endpoint.id!r} is disabled; enable it first",
                        metadata={"webhook_endpoint": endpoint.id},
                    )
                endpoints = [endpoint]
            else:
                endpoints = await webhook_deliveries.listening_endpoints(session, event)
            deliveries = await webhook_deliveries.ensure_deliveries(session, event, endpoints)
        await self._deliveries.redeliver(deliveries)
        async with self._sessions() as session:
            rows = await session.execute(
                select(models.EventDelivery)
                .where(models.EventDelivery.id.in_([d.id for d in deliveries]))
                .order_by(models.EventDelivery.created_at, models.EventDelivery.id)
            )
            messages = await delivery_messages(session, list(rows.scalars()))
        for message in messages:
            # An attempt is due now, whatever the previous run ended with; the workflow's own
            # first step writes the same to the database.
            message.status = webhooks_pb2.EventDelivery.PENDING
        return webhooks_pb2.ListEventDeliveriesResponse(deliveries=messages)


def _filter_violations(request: webhooks_pb2.ListEventsRequest) -> list[errors.FieldViolation]:
    found = []
    if request.type and request.type not in events.TYPES:
        found.append(
            errors.FieldViolation(
                "type",
                "EVENT_TYPE_UNKNOWN",
                f"{request.type!r} is not an event type; one of {', '.join(events.TYPES)}",
            )
        )
    if request.order and not ids.ORDER_ID.fullmatch(request.order):
        found.append(
            errors.FieldViolation(
                "order", "ORDER_ID_MALFORMED", "is not an order id (ord_ and letters or digits)"
            )
        )
    return found


def events_query(
    caller: Caller, type: str, order: str, after: Cursor | None, limit: int
) -> Select[models.Event]:
    """A page of the caller's events, newest first, of one type and about one order when
    given. An order's events are read from their own index (events_order_page), in the page's
    order, however far back they are among the merchant's."""
    query = select(models.Event).where(
        models.Event.merchant_id == caller.merchant_id,
        models.Event.livemode == caller.livemode,
    )
    if type:
        query = query.where(models.Event.type == type)
    if order:
        query = query.where(models.Event.order_id == order)
    if after is not None:
        query = query.where(
            tuple_(models.Event.created_at, models.Event.id)
            < tuple_(after.created_at, after.order_id)
        )
    return query.order_by(models.Event.created_at.desc(), models.Event.id.desc()).limit(limit)


async def _find(session: AsyncSession, caller: Caller, event_id: str) -> models.Event:
    event = (
        await session.execute(
            select(models.Event).where(
                models.Event.id == event_id,
                models.Event.merchant_id == caller.merchant_id,
                models.Event.livemode == caller.livemode,
            )
        )
    ).scalar_one_or_none()
    if event is None:
        raise errors.PayLoopsError(
            errors.EVENT_NOT_FOUND, f"no event {event_id!r}", metadata={"event": event_id}
        )
    return event
