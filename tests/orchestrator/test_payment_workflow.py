"""The payment workflow on Temporal's time-skipping dev server, with stand-in activities
registered under the real activity names (as temporalio's samples test their workflows): each
stand-in answers as the test scripts a processor to answer, and keeps what it was asked. The
branches the e2e tests reach only slowly (a resolution budget, a challenge's time limit, an
authorization's expiry: seconds to days of workflow time) run here in seconds of wall time.
Each test asserts what the workflow decided: its result, the calls the stand-ins received and
what it wrote to the read model. Every run's history is then replayed under the sandbox, as
the recorded histories are (test_replay.py), which catches non-deterministic workflow code on
the branches those histories do not take."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from core.contracts.payment import (
    CAPTURE_UPDATE,
    CaptureRequest,
    LifecycleResult,
    PaymentInput,
    PaymentMethod,
    PaymentOutcome,
    workflow_id,
)
from core.contracts.vocabulary import (
    AttemptOutcome,
    CancellationReason,
    CaptureMethod,
    Compensation,
    FailoverReason,
    FailureCode,
    GatewayOutcome,
    OrderStatus,
    UndoMethod,
)
from orchestrator.activities.types import (
    AttemptRecord,
    AuthorizeCall,
    CaptureCall,
    GatewayResult,
    LookupCall,
    OrderUpdate,
    Progress,
    Route,
    RoutedFirstCall,
    RoutePlan,
    RouteRequest,
    UndoCall,
    unanswered,
)
from orchestrator.keys import attempt_key, undo_key
from orchestrator.workflows.payment import PaymentWorkflow
from tests.orchestrator.codec import ENCRYPTION

# A processor that never answered (a deadline, a dropped connection): the stand-in raises.
NO_ANSWER = None
Answer = Callable[["StandIns"], GatewayResult | None]


def answers(*results: GatewayResult | None) -> Answer:
    """The results in turn; the last one again and again."""
    left = list(results)
    return lambda _: left.pop(0) if len(left) > 1 else left[0]


def once_paid(then: GatewayResult, until_then: GatewayResult | None = NO_ANSWER) -> Answer:
    """`until_then` until the order was recorded SUCCEEDED (another attempt won), then `then`."""
    return lambda stand_ins: (
        then if OrderStatus.SUCCEEDED in stand_ins.order_statuses() else until_then
    )


@dataclass(frozen=True)
class Call:
    activity: str
    processor: str
    key: str
    reference: str = ""


class StandIns:
    """The activities a payment calls, as the script answers them: processors keyed by
    (activity, processor name); the read model keeps the writes."""

    def __init__(self, plan: RoutePlan, script: dict[tuple[str, str], Answer]) -> None:
        self.plan = plan
        self.script = script
        self.order_id = ""
        self.calls: list[Call] = []
        self.writes: list[Progress] = []
        # A call the script has no answer for: the test fails at once instead of waiting for
        # a payment that the stand-ins' refusals would keep open.
        self.unscripted: Call | None = None
        self.surprised = asyncio.Event()
        # Void and refund wait for it; a test closes it to hold an undo in flight.
        self.undo_gate = asyncio.Event()
        self.undo_gate.set()
        self.undo_asked = asyncio.Event()

    def key(self, processor: str, seq: int) -> str:
        return attempt_key(self.order_id, processor, seq)

    def order_statuses(self) -> list[OrderStatus]:
        return [order.status for order in self.orders()]

    def orders(self) -> list[OrderUpdate]:
        return [write.order for write in self.writes if write.order is not None]

    def attempts(self, seq: int) -> list[AttemptRecord]:
        return [w.attempt for w in self.writes if w.attempt is not None and w.attempt.seq == seq]

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.route_and_authorize,
            self.authorize,
            self.get_payment,
            self.void_payment,
            self.refund_payment,
            self.capture_payment,
            self.record_progress,
        ]

    def _answer(self, call: Call) -> GatewayResult:
        script = self.script.get((call.activity, call.processor))
        if script is None:
            self.unscripted = call
            self.surprised.set()
            raise ApplicationError(f"no answer scripted for {call}", non_retryable=True)
        result = script(self)
        if result is NO_ANSWER:
            raise ApplicationError("the processor did not answer in time", non_retryable=True)
        return result

    def _called(self, call: Call) -> GatewayResult:
        self.calls.append(call)
        return self._answer(call)

    @activity.defn(name="route_and_authorize")
    async def route_and_authorize(self, request: RouteRequest) -> RoutedFirstCall:
        self.order_id = request.payment.order_id
        route = self.plan.routes[0]
        try:
            first = self._called(Call("authorize", route.processor, self.key(route.processor, 1)))
        except ApplicationError as error:  # as the real step classifies a call that raised
            first = unanswered(error)
        return RoutedFirstCall(self.plan, first)

    @activity.defn(name="authorize")
    async def authorize(self, call: AuthorizeCall) -> GatewayResult:
        return self._called(Call("authorize", call.route.processor, call.attempt_key))

    @activity.defn(name="get_payment")
    async def get_payment(self, call: LookupCall) -> GatewayResult:
        return self._called(Call("get_payment", call.route.processor, call.attempt_key))

    @activity.defn(name="void_payment")
    async def void_payment(self, call: UndoCall) -> GatewayResult:
        return await self._undo("void_payment", call)

    @activity.defn(name="refund_payment")
    async def refund_payment(self, call: UndoCall) -> GatewayResult:
        return await self._undo("refund_payment", call)

    async def _undo(self, name: str, call: UndoCall) -> GatewayResult:
        asked = Call(name, call.route.processor, call.key, call.processor_reference)
        self.calls.append(asked)
        self.undo_asked.set()
        await self.undo_gate.wait()
        return self._answer(asked)

    @activity.defn(name="capture_payment")
    async def capture_payment(self, call: CaptureCall) -> GatewayResult:
        return self._called(
            Call("capture_payment", call.route.processor, call.key, call.processor_reference)
        )

    @activity.defn(name="record_progress")
    async def record_progress(self, progress: Progress) -> str | None:
        self.writes.append(progress)
        return None  # no event recorded: nobody listens


def plan_for(*processors: str) -> RoutePlan:
    return RoutePlan(
        config_version=1,
        rule="default",
        routes=[Route(name, target=f"{name}.invalid:443", deadline_ms=5000) for name in processors],
        considered=[],
        unknown_outcome_policy="failover",
        max_attempts=len(processors),
        payment_budget_seconds=60,
        resolution_budget_seconds=2,
        three_ds_timeout_seconds=600,
        three_ds_poll_seconds=120,
    )


@asynccontextmanager
async def paying(
    env: WorkflowEnvironment,
    stand_ins: StandIns,
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC,
) -> AsyncIterator[WorkflowHandle[PaymentWorkflow, PaymentOutcome]]:
    """A payment started by PayOrder (its method in the start input), run by a worker with
    the stand-ins until the block ends."""
    task_queue = f"payments-{uuid.uuid4()}"
    order_id = f"ord_{uuid.uuid4().hex[:20]}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[PaymentWorkflow],
        activities=stand_ins.activities(),
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield await env.client.start_workflow(
            PaymentWorkflow.run,
            PaymentInput(
                order_id=order_id,
                merchant_id="mer_test",
                amount=1500,
                currency="USD",
                capture_method=capture_method,
                payment_method=PaymentMethod(type="card", token="pm_card_visa"),
            ),
            id=workflow_id(order_id),
            task_queue=task_queue,
        )


async def outcome(
    handle: WorkflowHandle[PaymentWorkflow, PaymentOutcome], stand_ins: StandIns
) -> PaymentOutcome:
    """The workflow's result, once its history replays under the sandbox."""
    finished = asyncio.ensure_future(handle.result())
    surprised = asyncio.ensure_future(stand_ins.surprised.wait())
    await asyncio.wait({finished, surprised}, return_when=asyncio.FIRST_COMPLETED)
    if not finished.done():
        finished.cancel()
        await handle.terminate("the test failed")
        pytest.fail(f"the workflow made a call the test did not expect: {stand_ins.unscripted}")
    surprised.cancel()
    replayer = Replayer(workflows=[PaymentWorkflow], plugins=[ENCRYPTION])
    await replayer.replay_workflow(await handle.fetch_history())
    return finished.result()


async def until_undo_asked(
    handle: WorkflowHandle[PaymentWorkflow, PaymentOutcome], stand_ins: StandIns
) -> None:
    """Waits for the workflow's first void or refund; fails if the workflow ends first."""
    asked = asyncio.ensure_future(stand_ins.undo_asked.wait())
    ended = asyncio.ensure_future(handle.result())
    await asyncio.wait({asked, ended}, return_when=asyncio.FIRST_COMPLETED)
    if not asked.done():
        asked.cancel()
        pytest.fail(f"the workflow ended without undoing anything: {ended.result()}")
    ended.cancel()


async def pay(env: WorkflowEnvironment, stand_ins: StandIns) -> PaymentOutcome:
    async with paying(env, stand_ins) as handle:
        return await outcome(handle, stand_ins)


def charge(outcome: GatewayOutcome, reference: str) -> GatewayResult:
    return GatewayResult(outcome=outcome, processor_reference=reference, latency_ms=40)


CANCELED = GatewayResult(outcome=GatewayOutcome.CANCELED)


async def test_a_soft_decline_moves_on_to_the_next_processor(
    temporal_env: WorkflowEnvironment,
) -> None:
    soft = GatewayResult(
        outcome=GatewayOutcome.DECLINED, decline_code="try_again_later", soft_decline=True
    )
    stand_ins = StandIns(
        plan_for("alpha", "beta"),
        {
            ("authorize", "alpha"): answers(soft),
            ("authorize", "beta"): answers(charge(GatewayOutcome.SUCCEEDED, "ch_beta")),
        },
    )
    assert await pay(temporal_env, stand_ins) == PaymentOutcome(status=OrderStatus.SUCCEEDED)
    assert stand_ins.calls == [
        Call("authorize", "alpha", stand_ins.key("alpha", 1)),
        Call("authorize", "beta", stand_ins.key("beta", 2)),
    ]
    assert [(a.outcome, a.decline_code, a.failover_reason) for a in stand_ins.attempts(1)] == [
        (AttemptOutcome.DECLINED, "try_again_later", FailoverReason.SOFT_DECLINE)
    ]
    assert [(a.outcome, a.processor_reference) for a in stand_ins.attempts(2)] == [
        (AttemptOutcome.PENDING, ""),
        (AttemptOutcome.SUCCEEDED, "ch_beta"),
    ]
    assert stand_ins.order_statuses() == [OrderStatus.SUCCEEDED]


async def test_an_unknown_outcome_is_resolved_by_looking_the_attempt_up(
    temporal_env: WorkflowEnvironment,
) -> None:
    # The first call's answer is lost; the re-send under the same key is refused, which
    # proves nothing; the lookup finds the charge. The next processor is never asked.
    refused = GatewayResult(outcome=GatewayOutcome.FAILED, decline_code="idempotency_key_in_use")
    stand_ins = StandIns(
        plan_for("alpha", "beta"),
        {
            ("authorize", "alpha"): answers(NO_ANSWER, refused),
            ("get_payment", "alpha"): answers(charge(GatewayOutcome.SUCCEEDED, "ch_alpha")),
        },
    )
    assert await pay(temporal_env, stand_ins) == PaymentOutcome(status=OrderStatus.SUCCEEDED)
    key = stand_ins.key("alpha", 1)
    assert stand_ins.calls == [
        Call("authorize", "alpha", key),
        Call("authorize", "alpha", key),
        Call("get_payment", "alpha", key),
    ]
    assert [(a.outcome, a.processor_reference) for a in stand_ins.attempts(1)] == [
        (AttemptOutcome.SUCCEEDED, "ch_alpha")
    ]
    assert stand_ins.order_statuses() == [OrderStatus.SUCCEEDED]
    # The first call's lost answer counts against the processor's health.
    [settled] = stand_ins.writes
    assert settled.health is not None and not settled.health.answered


@pytest.mark.parametrize(
    ("late", "undo", "compensation"),
    [
        (GatewayOutcome.SUCCEEDED, UndoMethod.REFUND, Compensation.REFUNDED),
        (GatewayOutcome.AUTHORIZED, UndoMethod.VOID, Compensation.VOIDED),
    ],
)
async def test_a_charge_found_after_failover_is_undone(
    temporal_env: WorkflowEnvironment,
    late: GatewayOutcome,
    undo: UndoMethod,
    compensation: Compensation,
) -> None:
    # alpha never answers within the resolution budget, so the payment moves on and beta
    # wins; alpha's attempt stays open, and when it turns out charged it is undone.
    stand_ins = StandIns(
        plan_for("alpha", "beta"),
        {
            ("authorize", "alpha"): answers(NO_ANSWER),
            ("get_payment", "alpha"): once_paid(then=charge(late, "ch_alpha")),
            ("authorize", "beta"): answers(charge(GatewayOutcome.SUCCEEDED, "ch_beta")),
            (f"{undo}_payment", "alpha"): answers(CANCELED),
        },
    )
    assert await pay(temporal_env, stand_ins) == PaymentOutcome(status=OrderStatus.SUCCEEDED)
    first = stand_ins.key("alpha", 1)
    undone = [c for c in stand_ins.calls if c.activity in ("void_payment", "refund_payment")]
    assert undone == [Call(f"{undo}_payment", "alpha", undo_key(first, undo), "ch_alpha")]
    assert [(a.outcome, a.failover_reason, a.compensation) for a in stand_ins.attempts(1)] == [
        (AttemptOutcome.PENDING, FailoverReason.OUTCOME_UNKNOWN, Compensation.NONE),
        (late, FailoverReason.OUTCOME_UNKNOWN, Compensation.PENDING),
        (AttemptOutcome.CANCELED, FailoverReason.OUTCOME_UNKNOWN, compensation),
    ]
    assert stand_ins.attempts(2)[-1].outcome == AttemptOutcome.SUCCEEDED
    assert stand_ins.order_statuses() == [OrderStatus.SUCCEEDED]


async def test_an_unfinished_3ds_challenge_times_out_and_is_released(
    temporal_env: WorkflowEnvironment,
) -> None:
    challenged = GatewayResult(
        outcome=GatewayOutcome.REQUIRES_ACTION,
        processor_reference="ch_alpha",
        redirect_url="https://alpha.invalid/3ds/ch_alpha",
    )
    stand_ins = StandIns(
        plan_for("alpha", "beta"),
        {
            ("authorize", "alpha"): answers(challenged),
            ("get_payment", "alpha"): answers(challenged),
            ("void_payment", "alpha"): answers(CANCELED),
        },
    )
    assert await pay(temporal_env, stand_ins) == PaymentOutcome(
        status=OrderStatus.FAILED, failure_code=FailureCode.THREE_D_SECURE_TIMEOUT
    )
    key = stand_ins.key("alpha", 1)
    lookups = [call for call in stand_ins.calls if call.activity == "get_payment"]
    assert lookups and set(lookups) == {Call("get_payment", "alpha", key)}
    # The challenge is voided so no authorization is left hanging; the customer's failed
    # challenge stops the payment: beta is never tried.
    assert [call for call in stand_ins.calls if call.activity != "get_payment"] == [
        Call("authorize", "alpha", key),
        Call("void_payment", "alpha", undo_key(key, UndoMethod.VOID), "ch_alpha"),
    ]
    required, failed = stand_ins.orders()
    assert (required.status, required.next_action_url) == (
        OrderStatus.REQUIRES_ACTION,
        challenged.redirect_url,
    )
    assert (failed.status, failed.failure_code) == (
        OrderStatus.FAILED,
        FailureCode.THREE_D_SECURE_TIMEOUT,
    )


def manual_capture_stand_ins() -> StandIns:
    return StandIns(
        replace(plan_for("alpha"), authorization_ttl_seconds=7 * 24 * 3600),
        {
            ("authorize", "alpha"): answers(charge(GatewayOutcome.AUTHORIZED, "ch_alpha")),
            ("void_payment", "alpha"): answers(CANCELED),
            ("capture_payment", "alpha"): answers(charge(GatewayOutcome.SUCCEEDED, "ch_alpha")),
        },
    )


async def test_an_expired_authorization_is_voided_and_never_captured(
    temporal_env: WorkflowEnvironment,
) -> None:
    stand_ins = manual_capture_stand_ins()
    async with paying(temporal_env, stand_ins, capture_method=CaptureMethod.MANUAL) as handle:
        assert await outcome(handle, stand_ins) == PaymentOutcome(status=OrderStatus.CANCELED)
        closed = (await handle.describe()).close_time
        # A capture after the expiry finds the payment closed.
        with pytest.raises(RPCError):
            await handle.execute_update(
                CAPTURE_UPDATE, CaptureRequest(), result_type=LifecycleResult
            )
    key = stand_ins.key("alpha", 1)
    assert stand_ins.calls == [
        Call("authorize", "alpha", key),
        Call("void_payment", "alpha", undo_key(key, UndoMethod.VOID), "ch_alpha"),
    ]
    authorized, canceled = stand_ins.orders()
    assert (authorized.status, authorized.amount_capturable) == (OrderStatus.REQUIRES_CAPTURE, 1500)
    assert closed is not None and closed >= datetime.fromisoformat(authorized.capture_before)
    assert (canceled.status, canceled.cancellation_reason) == (
        OrderStatus.CANCELED,
        CancellationReason.AUTHORIZATION_EXPIRED,
    )
    assert stand_ins.attempts(1)[-1].outcome == AttemptOutcome.CANCELED
    # The payment ended at REQUIRES_CAPTURE, measured there; the authorization's expiry is
    # not a second end of it.
    assert (authorized.pay_seconds > 0, canceled.pay_seconds) == (True, 0)


async def test_a_capture_that_arrives_as_the_authorization_expires_is_answered_canceled(
    temporal_env: WorkflowEnvironment,
) -> None:
    stand_ins = manual_capture_stand_ins()
    stand_ins.undo_gate.clear()
    async with paying(temporal_env, stand_ins, capture_method=CaptureMethod.MANUAL) as handle:
        await until_undo_asked(handle, stand_ins)
        # The order still shows REQUIRES_CAPTURE while its void is in flight, so the capture
        # is accepted; the void decides.
        capture = await handle.start_update(
            CAPTURE_UPDATE,
            CaptureRequest(),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=LifecycleResult,
        )
        stand_ins.undo_gate.set()
        assert await capture.result() == LifecycleResult(status=OrderStatus.CANCELED)
        assert await outcome(handle, stand_ins) == PaymentOutcome(status=OrderStatus.CANCELED)
    assert not [call for call in stand_ins.calls if call.activity == "capture_payment"]
    assert stand_ins.orders()[-1].cancellation_reason == CancellationReason.AUTHORIZATION_EXPIRED


async def test_a_failure_decided_once_an_unknown_attempt_is_resolved_is_measured_once(
    temporal_env: WorkflowEnvironment,
) -> None:
    """alpha's answer is lost and beta declines: the order cannot be FAILED while alpha may
    still have charged. Once alpha's lookup says declined, the workflow fails the order: that
    write ends the payment and carries its latency (payment_latency_seconds), the only one."""
    hard = GatewayResult(outcome=GatewayOutcome.DECLINED, decline_code="do_not_honor")

    def alpha_known_once_beta_declined(stand_ins: StandIns) -> GatewayResult | None:
        declined = [a for a in stand_ins.attempts(2) if a.outcome == AttemptOutcome.DECLINED]
        return hard if declined else NO_ANSWER

    stand_ins = StandIns(
        plan_for("alpha", "beta"),
        {
            ("authorize", "alpha"): answers(NO_ANSWER),
            ("get_payment", "alpha"): alpha_known_once_beta_declined,
            ("authorize", "beta"): answers(hard),
        },
    )
    assert await pay(temporal_env, stand_ins) == PaymentOutcome(
        status=OrderStatus.FAILED, failure_code="do_not_honor"
    )
    [failed] = stand_ins.orders()
    assert failed.status == OrderStatus.FAILED
    assert failed.pay_seconds > 0
