"""ProcessorWebhookService: gateway webhooks, verified by the adapter that knows the gateway.

The exact bytes Envoy received (google.api.HttpBody) and the request headers go to the
adapter's ParseWebhook with the secret of the account the path names (or the platform's). A
verified event is recorded once by the gateway's event id and wakes the payment it is about:
its workflow looks the payment up again at once instead of at its next poll. PayLoops never
takes a webhook's word for a payment's state; the workflow asks the gateway itself.
"""

from __future__ import annotations

import hashlib
import logging

import grpc
from google.protobuf import empty_pb2
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core import errors
from core.card_numbers import looks_like_card_number, mask_card_numbers
from core.contracts.payment import GATEWAY_EVENT_SIGNAL, workflow_id
from core.contracts.vocabulary import GatewayEventOutcome
from core.db import models
from core.processors import accounts as processor_accounts
from core.processors.channels import ProcessorChannels
from core.secrets import SecretBox
from edge.context import ServicerContext
from payloops.processor.v1 import processor_pb2
from payloops.v1 import processors_pb2, processors_pb2_grpc

log = logging.getLogger("payloops.edge")

# Request metadata that is Envoy's or gRPC's, not the gateway's.
_NOT_FROM_THE_GATEWAY = ("grpc-", "x-envoy-", ":", "authorization")
# The lengths of the columns an event's texts are kept in or looked up by (core.db.models).
_EVENT_ID_LENGTH = 255
_EVENT_TYPE_LENGTH = 100
_ATTEMPT_KEY_LENGTH = 200
_REFERENCE_LENGTH = 255


class ProcessorWebhookService(processors_pb2_grpc.ProcessorWebhookServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        channels: ProcessorChannels,
        temporal: Client,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._channels = channels
        self._temporal = temporal

    async def ReceiveProcessorWebhook(
        self, request: processors_pb2.ReceiveProcessorWebhookRequest, context: ServicerContext
    ) -> empty_pb2.Empty:
        async with self._sessions() as session:
            processor = await session.get(models.Processor, request.processor)
            if processor is None:
                raise errors.PayLoopsError(
                    errors.PROCESSOR_NOT_FOUND, f"no processor {request.processor!r}"
                )
            account = await processor_accounts.for_webhook(
                session, request.processor, request.processor_account
            )
        if request.processor_account and account is None:
            raise errors.PayLoopsError(
                errors.PROCESSOR_ACCOUNT_NOT_FOUND,
                f"no processor account {request.processor_account!r}",
            )
        event = await self._verified(processor, account, request, context)
        event_id = _event_id(event.event_id, request.body.data)
        async with self._sessions.begin() as session:
            seen = await session.get(models.ProcessorEvent, (processor.name, event_id))
            if seen is not None:
                return empty_pb2.Empty()  # a gateway retry: acknowledged, nothing new
            order_id, attempt_key = await _payment_of(session, processor.name, event, account)
            delivered = bool(order_id) and await self._wake(order_id, event)
            outcome = GatewayEventOutcome.DELIVERED if delivered else GatewayEventOutcome.UNMATCHED
            await session.execute(
                insert(models.ProcessorEvent)
                .values(
                    processor=processor.name,
                    event_id=event_id,
                    account_id=account.id if account else "",
                    event_type=_fitted(event.event_type, _EVENT_TYPE_LENGTH),
                    attempt_key=attempt_key,
                    order_id=order_id,
                    outcome=outcome,
                )
                .on_conflict_do_nothing()
            )
        log.info(
            "gateway event %s %s: %s",
            processor.name,
            event.event_type,
            outcome,
            extra={
                "fields": {"processor": processor.name, "event_id": event_id, "order_id": order_id}
            },
        )
        return empty_pb2.Empty()

    async def _verified(
        self,
        processor: models.Processor,
        account: models.ProcessorAccount | None,
        request: processors_pb2.ReceiveProcessorWebhookRequest,
        context: ServicerContext,
    ) -> processor_pb2.ParseWebhookResponse:
        headers = {
            key: value
            for key, value in (context.invocation_metadata() or ())
            if isinstance(value, str) and not key.startswith(_NOT_FROM_THE_GATEWAY)
        }
        if request.body.content_type:
            headers["content-type"] = request.body.content_type
        values = self._box.open(account.credentials) if account is not None else {}
        stub = self._channels.stub(processor.target, processor.tls, processor.tls_ca_pem)
        try:
            return await stub.ParseWebhook(
                processor_pb2.ParseWebhookRequest(
                    headers=headers,
                    body=request.body.data,
                    credentials=processor_pb2.Credentials(
                        values=values, livemode=account.livemode if account else False
                    ),
                ),
                timeout=processor.deadline_ms / 1000,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.INVALID_ARGUMENT):
                raise errors.PayLoopsError(
                    errors.WEBHOOK_SIGNATURE_INVALID,
                    "the webhook could not be verified; nothing was changed",
                ) from error
            # Not verified either way: the gateway retries later, which is what we want.
            raise errors.PayLoopsError(
                errors.DEPENDENCY_UNAVAILABLE, "the processor adapter is unavailable"
            ) from error

    async def _wake(self, order_id: str, event: processor_pb2.ParseWebhookResponse) -> bool:
        reference = event.payment.processor_reference or event.refund.payment_reference
        try:
            await self._temporal.get_workflow_handle(workflow_id(order_id)).signal(
                GATEWAY_EVENT_SIGNAL, reference
            )
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False  # that payment's workflow has finished: nothing left to wake
            raise errors.PayLoopsError(
                errors.DEPENDENCY_UNAVAILABLE, "payments are briefly unavailable"
            ) from error
        return True


def _event_id(given: str, body: bytes) -> str:
    """The id an event is recorded (and its duplicates dropped) by. A signed event is still
    input: anyone with an account's webhook secret signs what they like. An id that cannot be
    kept as it is (longer than its column, a NUL, which PostgreSQL text refuses, or a card
    number) is kept as its digest, which is the same for every copy of the event."""
    if not given:
        return hashlib.sha256(body).hexdigest()
    if len(given) > _EVENT_ID_LENGTH or "\x00" in given or looks_like_card_number(given):
        return "sha256:" + hashlib.sha256(given.encode()).hexdigest()
    return given


def _fitted(text: str, length: int) -> str:
    """A text that is only recorded: without NULs or card numbers, cut to its column."""
    return mask_card_numbers(text.replace("\x00", ""))[:length]


def _fits(text: str, length: int) -> bool:
    return len(text) <= length and "\x00" not in text


async def _payment_of(
    session: AsyncSession,
    processor: str,
    event: processor_pb2.ParseWebhookResponse,
    account: models.ProcessorAccount | None,
) -> tuple[str, str]:
    """The order and attempt an event is about, if PayLoops made that attempt: by attempt key,
    else by the gateway's reference. A merchant account's event only ever reaches that
    merchant's orders, and an account's event only orders of the account's mode."""
    attempt_key = event.payment.attempt_key
    reference = event.payment.processor_reference or event.refund.payment_reference
    if not (_fits(attempt_key, _ATTEMPT_KEY_LENGTH) and _fits(reference, _REFERENCE_LENGTH)):
        # Not a key or reference PayLoops made (longer than its column, or with a NUL, which
        # the query could not even carry): about no payment of ours.
        return "", ""
    query = (
        select(
            models.Attempt.order_id,
            models.Attempt.attempt_key,
            models.Order.merchant_id,
            models.Order.livemode,
        )
        .join(models.Order, models.Order.id == models.Attempt.order_id)
        .where(models.Attempt.processor == processor)
    )
    if attempt_key:
        query = query.where(models.Attempt.attempt_key == attempt_key)
    elif reference:
        query = query.where(models.Attempt.processor_reference == reference)
    else:
        return "", ""
    found = (await session.execute(query.limit(1))).first()
    if found is None:
        return "", attempt_key
    order_id, key, merchant_id, livemode = found
    if account is not None and (
        account.livemode != livemode
        or (account.merchant_id is not None and account.merchant_id != merchant_id)
    ):
        return "", key
    return order_id, key
