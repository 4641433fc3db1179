"""(b) The floor: a minimal one-activity workflow on the mesh's own Temporal server, with its own
worker in the bench process on its own task queue. A payment through the platform is at least
this (start a workflow, run an activity, hand back the result), so it cannot be faster."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.load import Operation
from core.payload_codec import PayloadEncryption, new_key


@dataclass(frozen=True)
class FloorInput:
    amount: int


@dataclass(frozen=True)
class FloorResult:
    amount: int


@activity.defn
async def noop_authorize(amount: int) -> int:
    return amount


@workflow.defn
class FloorWorkflow:
    @workflow.run
    async def run(self, request: FloorInput) -> FloorResult:
        amount = await workflow.execute_activity(
            noop_authorize, request.amount, start_to_close_timeout=timedelta(seconds=10)
        )
        return FloorResult(amount=amount)


@contextlib.asynccontextmanager
async def floor_workflow(address: str, namespace: str) -> AsyncIterator[Operation]:
    # Payloads and headers encrypted as the platform's are (core.payload_codec), with a key of
    # its own: a payment pays that too.
    client = await Client.connect(
        address, namespace=namespace, plugins=[PayloadEncryption([new_key()])]
    )
    task_queue = f"bench-floor-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[FloorWorkflow],
        activities=[noop_authorize],
        graceful_shutdown_timeout=timedelta(seconds=2),
        # The same runner as the orchestrator's worker (orchestrator/worker.py): the floor must
        # not pay a sandbox cost the platform does not.
        workflow_runner=UnsandboxedWorkflowRunner(),
    )

    async def operation() -> None:
        result = await client.execute_workflow(
            FloorWorkflow.run,
            FloorInput(amount=4999),
            id=f"bench-{uuid.uuid4().hex}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=30),
        )
        if result.amount != 4999:
            raise RuntimeError(f"unexpected result {result}")

    async with worker:
        yield operation
