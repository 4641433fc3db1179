"""HealthService: GET /health answers whether the edge reaches PostgreSQL and Temporal, and
whether a worker is polling the task queue.

Without the database or Temporal the edge cannot serve: 503 DEPENDENCY_UNAVAILABLE. Without a
worker it still serves (orders are created and read, payments accepted, and they wait for a
worker): 200 with status "degraded" and the worker check "no_poller", so a probe that only
reads the code does not take every edge out of service for what no edge can fix, and
monitoring that reads the status sees the platform degraded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from core import errors
from edge.context import ServicerContext
from payloops.v1 import health_pb2, health_pb2_grpc

_CHECK_TIMEOUT = 2.0
# A worker polls for both: one without the other cannot finish a payment.
_QUEUE_TYPES = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
NO_POLLER = "no_poller"
DEGRADED = "degraded"
# What the edge itself cannot serve without.
_EDGE_NEEDS = ("database", "temporal")


class WorkerPresence:
    """Whether a worker polls the task queue, from Temporal's record of its pollers. Temporal
    keeps a poller listed for minutes after it stopped; its last access time is what tells
    a live worker (whose long polls renew it) from a dead one."""

    def __init__(self, temporal: Client, task_queue: str, silence_seconds: float) -> None:
        self._temporal = temporal
        self._task_queue = task_queue
        self._silence = timedelta(seconds=silence_seconds)

    async def check(self) -> str:
        results = await asyncio.gather(*(self._polled(kind) for kind in _QUEUE_TYPES))
        return "ok" if all(results) else NO_POLLER

    async def _polled(self, kind: TaskQueueType.ValueType) -> bool:
        described = await self._temporal.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self._temporal.namespace,
                task_queue=TaskQueue(name=self._task_queue),
                task_queue_type=kind,
            )
        )
        since = datetime.now(UTC) - self._silence
        return any(poller.last_access_time.ToDatetime(UTC) >= since for poller in described.pollers)


class HealthService(health_pb2_grpc.HealthServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        temporal: Client,
        workers: WorkerPresence,
    ) -> None:
        self._sessions = sessions
        self._temporal = temporal
        self._workers = workers

    async def GetHealth(
        self, request: health_pb2.GetHealthRequest, context: ServicerContext
    ) -> health_pb2.Health:
        checks = dict(await asyncio.gather(self._database(), self._workflows(), self._worker()))
        if any(checks[needed] != "ok" for needed in _EDGE_NEEDS):
            raise errors.PayLoopsError(errors.DEPENDENCY_UNAVAILABLE, "degraded", metadata=checks)
        status = "ok" if all(result == "ok" for result in checks.values()) else DEGRADED
        return health_pb2.Health(status=status, checks=checks)

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

    async def _worker(self) -> tuple[str, str]:
        try:
            async with asyncio.timeout(_CHECK_TIMEOUT):
                return "worker", await self._workers.check()
        except Exception as error:
            return "worker", type(error).__name__
