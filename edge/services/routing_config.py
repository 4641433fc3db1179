"""RoutingService: read and replace the routing configuration of the merchant behind the API
key, in the key's mode (test and live each have their own). Every replacement is validated
whole and stored as a new version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from core.audit import AuditAction
from core.db import models
from core.routing_config import store, validation
from core.routing_config.model import RoutingConfig
from edge.auth import authenticate
from edge.context import ServicerContext
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
        found = validation.violations(config, known)
        if found:
            raise errors.invalid(found)
        async with self._sessions.begin() as session:
            version, update_time = await store.save_in(
                session, caller.merchant_id, caller.livemode, config
            )
            caller.record_change(
                session,
                AuditAction.ROUTING_UPDATED,
                "routing_config",
                str(version),
                {"version": version, "rules": [rule.name for rule in config.rules]},
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
