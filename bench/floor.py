"""(b) The floors: the cheapest Temporal workflows a payment could be, on the mesh's own Temporal
server, with their worker in the bench process on a task queue of their own. Three shapes:

* ACTIVITY: start a workflow, run one regular activity, hand back the result. What the bench
  measured as its only floor until the payment's first Authorize became a local activity; it
  costs the server more than a payment's first step does (an activity task, its own round trip).
* LOCAL_ACTIVITY: the same with a local activity, run by the worker inside the workflow task.
* UPDATE_WITH_START: one update-with-start call whose update hands the workflow its input and
  waits for one local activity's result: the cheapest durable shape a synchronous payment API
  can have (PayOrder is an update-with-start whose handler waits for the first Authorize, a
  local activity). The payment is compared with this one.
"""

from __future__ import annotations

import contextlib
import enum
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.load import Operation
from core.payload_codec import PayloadEncryption, new_key

AMOUNT = 4999
_ACTIVITY_TIMEOUT = timedelta(seconds=10)
_EXECUTION_TIMEOUT = timedelta(seconds=30)


class FloorShape(enum.Enum):
    ACTIVITY = "1 activity"
    LOCAL_ACTIVITY = "1 local activity"
    UPDATE_WITH_START = "update-with-start, 1 local act."


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
            noop_authorize, request.amount, start_to_close_timeout=_ACTIVITY_TIMEOUT
        )
        return FloorResult(amount=amount)


@workflow.defn
class LocalFloorWorkflow:
    @workflow.run
    async def run(self, request: FloorInput) -> FloorResult:
        amount = await workflow.execute_local_activity(
            noop_authorize, request.amount, start_to_close_timeout=_ACTIVITY_TIMEOUT
        )
        return FloorResult(amount=amount)


@workflow.defn
class UpdateFloorWorkflow:
    """The payment's shape, stripped: the run waits for the update's input (PayOrder's payment
    method), runs the local activity (the first Authorize), and the update answers with its
    result once the run has it."""

    def __init__(self) -> None:
        self._amount: int | None = None
        self._result: int | None = None

    @workflow.run
    async def run(self, request: FloorInput) -> FloorResult:
        await workflow.wait_condition(lambda: self._amount is not None)
        assert self._amount is not None
        result = await workflow.execute_local_activity(
            noop_authorize, self._amount, start_to_close_timeout=_ACTIVITY_TIMEOUT
        )
        self._result = result
        await workflow.wait_condition(workflow.all_handlers_finished)
        return FloorResult(amount=result)

    @workflow.update
    async def pay(self, request: FloorInput) -> FloorResult:
        self._amount = request.amount
        await workflow.wait_condition(lambda: self._result is not None)
        assert self._result is not None
        return FloorResult(amount=self._result)


def _starter(
    client: Client, task_queue: str, shape: FloorShape
) -> Callable[[], Awaitable[FloorResult]]:
    """One floor operation, as a client of the server: its result once it is known."""
    request = FloorInput(amount=AMOUNT)

    def workflow_id() -> str:
        return f"bench-{uuid.uuid4().hex}"

    if shape is FloorShape.UPDATE_WITH_START:

        async def update_with_start() -> FloorResult:
            start = WithStartWorkflowOperation(
                UpdateFloorWorkflow.run,
                request,
                id=workflow_id(),
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                execution_timeout=_EXECUTION_TIMEOUT,
            )
            return await client.execute_update_with_start_workflow(
                UpdateFloorWorkflow.pay, request, start_workflow_operation=start
            )

        return update_with_start
    run = FloorWorkflow.run if shape is FloorShape.ACTIVITY else LocalFloorWorkflow.run

    async def execute() -> FloorResult:
        return await client.execute_workflow(
            run,
            request,
            id=workflow_id(),
            task_queue=task_queue,
            execution_timeout=_EXECUTION_TIMEOUT,
        )

    return execute


@contextlib.asynccontextmanager
async def floor_workflow(
    address: str, namespace: str, shape: FloorShape = FloorShape.ACTIVITY
) -> AsyncIterator[Operation]:
    # Payloads and headers encrypted as the platform's are (core.payload_codec), with a key of
    # its own: a payment pays that too.
    client = await Client.connect(
        address, namespace=namespace, plugins=[PayloadEncryption([new_key()])]
    )
    task_queue = f"bench-floor-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[FloorWorkflow, LocalFloorWorkflow, UpdateFloorWorkflow],
        activities=[noop_authorize],
        graceful_shutdown_timeout=timedelta(seconds=2),
        # The same runner as the orchestrator's worker (orchestrator/worker.py): the floor must
        # not pay a sandbox cost the platform does not.
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    start = _starter(client, task_queue, shape)

    async def operation() -> None:
        result = await start()
        if result.amount != AMOUNT:
            raise RuntimeError(f"unexpected result {result}")

    async with worker:
        yield operation
