"""RoutingService: read and replace the routing configuration of the merchant behind the API
key, in the key's mode (test and live each have their own). Every replacement is validated
whole and stored as a new version."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from core.db import models
from core.routing import store, validation
from core.routing.model import RoutingConfig
from edge.auth import authenticate
from edge.context import ServicerContext
from edge.validation import looks_like_card_number
from payloops.v1 import routing_pb2, routing_pb2_grpc


class RoutingService(routing_pb2_grpc.RoutingServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def GetRoutingConfig(
        self, request: routing_pb2.GetRoutingConfigRequest, context: ServicerContext
    ) -> routing_pb2.RoutingConfig:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
        stored = await store.latest(self._sessions, caller.merchant_id, caller.livemode)
        return _message(stored.config, stored.version, stored.update_time)

    async def UpdateRoutingConfig(
        self, request: routing_pb2.UpdateRoutingConfigRequest, context: ServicerContext
    ) -> routing_pb2.RoutingConfig:
        config = RoutingConfig.from_proto(request.routing_config)
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            known = set((await session.execute(select(models.Processor.name))).scalars())
        found = validation.violations(config, known) + list(_card_numbers(config))
        if found:
            raise errors.invalid(found)
        version, update_time = await store.save(
            self._sessions, caller.merchant_id, caller.livemode, config
        )
        return _message(config, version, update_time)


def _message(
    config: RoutingConfig, version: int, update_time: datetime | None
) -> routing_pb2.RoutingConfig:
    message = config.to_proto()
    message.version = version
    if update_time is not None:
        message.update_time.FromDatetime(update_time)
    return message


def _card_numbers(config: RoutingConfig) -> Iterator[errors.FieldViolation]:
    """Free text in a config is stored and shown back, so it must not hold a card number."""
    for index, rule in enumerate(config.rules):
        path = f"rules[{index}]"
        texts = [(f"{path}.name", rule.name)]
        # The key goes in the path only when it is not the offending text.
        texts += [(f"{path}.conditions.metadata", key) for key in rule.conditions.metadata]
        texts += [
            (f"{path}.conditions.metadata.{key}", value)
            for key, value in rule.conditions.metadata.items()
            if not looks_like_card_number(key)
        ]
        texts += [
            (f"{path}.conditions.payment_method_types[{i}]", text)
            for i, text in enumerate(rule.conditions.payment_method_types)
        ]
        for field, text in texts:
            if looks_like_card_number(text):
                yield errors.FieldViolation(
                    field, "CARD_NUMBER_NOT_ALLOWED", "looks like a card number; remove it"
                )
