"""HealthService: GET /health answers whether the edge reaches PostgreSQL and Temporal."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from core import errors
from edge.context import ServicerContext
from payloops.v1 import health_pb2, health_pb2_grpc

_CHECK_TIMEOUT = 2.0


class HealthService(health_pb2_grpc.HealthServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], temporal: Client) -> None:
        self._sessions = sessions
        self._temporal = temporal

    async def GetHealth(
        self, request: health_pb2.GetHealthRequest, context: ServicerContext
    ) -> health_pb2.Health:
        checks = dict(await asyncio.gather(self._database(), self._workflows()))
        if any(result != "ok" for result in checks.values()):
            raise errors.PayLoopsError(errors.DEPENDENCY_UNAVAILABLE, "degraded", metadata=checks)
        return health_pb2.Health(status="ok", checks=checks)

    async def _database(self) -> tuple[str, str]:
        try:
            async with asyncio.timeout(_CHECK_TIMEOUT), self._sessions() as session:
                await session.execute(text("select 1"))
        except Exception as error:
            return "database", type(error).__name__
        return "database", "ok"

    async def _workflows(self) -> tuple[str, str]:
        try:
            async with asyncio.timeout(_CHECK_TIMEOUT):
                await self._temporal.service_client.check_health()
        except Exception as error:
            return "temporal", type(error).__name__
        return "temporal", "ok"
