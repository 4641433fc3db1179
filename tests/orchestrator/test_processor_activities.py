"""How the authorize activity classifies what a processor does, against the real sandbox on
port 0 with its faults (and a scripted gateway that is down, or whose connection drops): a
result, a call provably not sent, or an unknown outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import grpc
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from core.contracts.payment import PaymentInput, PaymentMethod
from core.contracts.vocabulary import CaptureMethod
from core.db import models
from core.db.session import create_engine, session_factory
from core.processors.channels import ProcessorChannels
from core.secrets import SecretBox
from orchestrator.activities.processors import ProcessorActivities
from orchestrator.activities.types import AuthorizeCall, GatewayResult, LookupCall, Route
from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from processors.sandbox.config import SandboxConfig
from processors.sandbox.server import serve
from tests.conftest import free_port
from tests.e2e.scripted_gateway import ScriptedGateway, charge_then_drop, serving
from tests.fakes.dropping_proxy import dropping_proxy


@dataclass
class Sandbox:
    route: Route
    control: control_pb2_grpc.SandboxControlServiceAsyncStub
    # The processor registry, where the activities read where an adapter listens now.
    sessions: async_sessionmaker[AsyncSession]

    async def fault(self, mode: control_pb2.FaultMode.ValueType, **kwargs: int) -> None:
        await self.control.SetFault(control_pb2.SetFaultRequest(mode=mode, **kwargs))


@pytest_asyncio.fixture(loop_scope="session")
async def sandbox(postgres_url: str) -> AsyncIterator[Sandbox]:
    ready: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(SandboxConfig(name="sandbox"), on_ready=lambda g, h: ready.set_result((g, h)))
    )
    grpc_port, _ = await asyncio.wait_for(ready, 10)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
    engine = create_engine(postgres_url)
    yield Sandbox(
        # A name of this module's own: other tests register adapters in the same database.
        Route(processor="sandbox-activities", target=f"127.0.0.1:{grpc_port}", deadline_ms=500),
        control_pb2_grpc.SandboxControlServiceStub(channel),
        session_factory(engine),
    )
    await engine.dispose()
    await channel.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def call(sandbox: Sandbox, key: str, token: str = "pm_card_visa") -> AuthorizeCall:
    return AuthorizeCall(
        route=sandbox.route,
        attempt_key=key,
        payment=PaymentInput(
            order_id="ord_t",
            merchant_id="mer_t",
            amount=1000,
            currency="USD",
            capture_method=CaptureMethod.AUTOMATIC,
        ),
        payment_method=PaymentMethod(type="card", token=token),
    )


async def authorize(
    activities: ProcessorActivities, authorize_call: AuthorizeCall
) -> GatewayResult:
    return await ActivityEnvironment().run(activities.authorize, authorize_call)


@pytest.mark.parametrize(
    ("token", "outcome", "code", "soft"),
    [
        ("pm_card_visa", "succeeded", "", False),
        ("pm_card_declined", "declined", "generic_decline", False),
        ("pm_card_soft_decline", "declined", "try_again_later", True),
        ("pm_card_3ds_required", "requires_action", "", False),
        ("pm_card_unknown_token", "failed", "unknown_payment_method", False),
    ],
)
async def test_answers_are_results(
    sandbox: Sandbox, token: str, outcome: str, code: str, soft: bool
) -> None:
    result = await authorize(_activities(sandbox), call(sandbox, f"k-{token}", token))
    assert (result.outcome, result.decline_code, result.soft_decline) == (outcome, code, soft)


async def test_a_hanging_processor_is_an_unknown_outcome_not_a_failure(sandbox: Sandbox) -> None:
    await sandbox.fault(control_pb2.FAULT_MODE_HANG, count=1)
    with pytest.raises(ApplicationError) as raised:
        await authorize(_activities(sandbox), call(sandbox, "k-hang"))
    assert raised.value.type == "OutcomeUnknown"


async def test_unavailable_before_sending_is_not_sent(sandbox: Sandbox) -> None:
    await sandbox.fault(control_pb2.FAULT_MODE_UNAVAILABLE, count=1)
    with pytest.raises(ApplicationError) as raised:
        await authorize(_activities(sandbox), call(sandbox, "k-unavailable"))
    assert raised.value.type == "NotSent"


async def test_a_gateway_nothing_listens_on_is_not_sent(sandbox: Sandbox) -> None:
    """No connection could be made, so no call was started: provably not sent, for a payment
    and for a lookup alike."""
    activities = _activities(sandbox)
    down = replace(sandbox.route, target=f"127.0.0.1:{free_port()}")
    with pytest.raises(ApplicationError) as raised:
        await authorize(activities, replace(call(sandbox, "k-down"), route=down))
    assert raised.value.type == "NotSent"
    with pytest.raises(ApplicationError) as looked_up:
        await ActivityEnvironment().run(
            activities.get_payment, LookupCall(route=down, attempt_key="k-down")
        )
    assert looked_up.value.type == "NotSent"


async def test_a_retry_that_finds_no_connection_is_unknown(sandbox: Sandbox) -> None:
    """A retry's earlier try may have reached the gateway before its worker died: finding no
    connection now proves nothing about that one. So only the first send of a key is "not
    sent"; a retried activity, or the routing step's first call run again on a plan decided
    by an earlier run, is unknown and resolved by lookup (a FAILED order kept a charge when
    it was taken for not sent)."""
    activities = _activities(sandbox)
    down = replace(sandbox.route, target=f"127.0.0.1:{free_port()}")
    retried = ActivityEnvironment()
    retried.info = replace(retried.info, attempt=2)
    with pytest.raises(ApplicationError) as raised:
        await retried.run(activities.authorize, replace(call(sandbox, "k-retry"), route=down))
    assert raised.value.type == "OutcomeUnknown"
    with pytest.raises(ApplicationError) as rerun:
        await ActivityEnvironment().run(
            activities.send_authorize,
            replace(call(sandbox, "k-rerun"), route=down),
            False,
        )
    assert rerun.value.type == "OutcomeUnknown"


async def test_a_resend_the_adapter_says_it_did_not_send_is_unknown(sandbox: Sandbox) -> None:
    """The first send charged, its answer was lost (the worker died), and the adapter says
    NOT_SENT to the re-send: that speaks of the re-send alone. Taken as "not sent", the
    payment moved on and charged a second processor (the chaos test caught an order with two
    live charges); so the re-send's outcome is unknown, and resolving it finds the charge."""
    activities = _activities(sandbox)
    key = "k-resend-unavailable"
    first = await ActivityEnvironment().run(activities.send_authorize, call(sandbox, key), True)
    assert first.outcome == "succeeded"
    await sandbox.fault(control_pb2.FAULT_MODE_UNAVAILABLE, count=1)
    with pytest.raises(ApplicationError) as rerun:
        await ActivityEnvironment().run(activities.send_authorize, call(sandbox, key), False)
    assert rerun.value.type == "OutcomeUnknown"
    await sandbox.fault(control_pb2.FAULT_MODE_UNAVAILABLE, count=1)
    retried = ActivityEnvironment()
    retried.info = replace(retried.info, attempt=2)
    with pytest.raises(ApplicationError) as retry:
        await retried.run(activities.authorize, call(sandbox, key))
    assert retry.value.type == "OutcomeUnknown"
    looked_up = await ActivityEnvironment().run(
        activities.get_payment, LookupCall(route=sandbox.route, attempt_key=key)
    )
    assert (looked_up.outcome, looked_up.processor_reference) == (
        "succeeded",
        first.processor_reference,
    )


@pytest.mark.parametrize(
    "token",
    [
        # The processor refuses the request (as it might once credentials were rotated).
        "pm_card_unknown_token",
        # The card could not be read from the vault: nothing went out this time.
        "pm_vault_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2",
    ],
)
async def test_a_resend_refused_or_never_made_is_unknown(sandbox: Sandbox, token: str) -> None:
    """A first send is settled by a refusal; a re-send is not, whatever this request's fate:
    the earlier send of the key may have charged."""
    activities = _activities(sandbox)
    first = await ActivityEnvironment().run(
        activities.send_authorize, call(sandbox, f"k-first-{token}", token), True
    )
    assert first.outcome == "failed"
    with pytest.raises(ApplicationError) as rerun:
        await ActivityEnvironment().run(
            activities.send_authorize, call(sandbox, f"k-resend-{token}", token), False
        )
    assert rerun.value.type == "OutcomeUnknown"


async def test_a_gateway_stopped_after_use_is_not_sent(sandbox: Sandbox) -> None:
    """The worker's channel was connected; the gateway stops. Once the channel has seen its
    connection close, every call finds no connection and is not sent. (A call started before
    that is sent into the closing connection: unknown, and resolved like any other.)"""
    channels = ProcessorChannels()
    activities = _activities(sandbox, channels)
    gateway = ScriptedGateway()
    with serving(gateway) as target:
        route = replace(sandbox.route, target=target)
        answered = await authorize(activities, replace(call(sandbox, "k-1"), route=route))
        assert answered.outcome == "succeeded"
    await _connection_closed(channels)
    for key in ("k-2", "k-3"):
        with pytest.raises(ApplicationError) as raised:
            await authorize(activities, replace(call(sandbox, key), route=route))
        assert raised.value.type == "NotSent"
    assert gateway.count("Authorize") == 1


async def test_a_connection_dropped_after_the_request_is_unknown(sandbox: Sandbox) -> None:
    """The gateway got the request and charged, then the connection dropped without an answer:
    UNAVAILABLE, like a refused connection, but the call went out, so the outcome is unknown and
    the lookup finds the charge."""
    channels = ProcessorChannels()
    activities = _activities(sandbox, channels)
    gateway = ScriptedGateway()
    with serving(gateway) as upstream, dropping_proxy(upstream) as proxy:
        gateway.scripts["Authorize"] = charge_then_drop(proxy)
        route = replace(sandbox.route, target=proxy.target)
        with pytest.raises(ApplicationError) as raised:
            await authorize(activities, replace(call(sandbox, "k-dropped"), route=route))
        assert raised.value.type == "OutcomeUnknown"
        await _connection_closed(channels)  # the lookup goes on a new connection
        found = await ActivityEnvironment().run(
            activities.get_payment, LookupCall(route=route, attempt_key="k-dropped")
        )
    assert found.outcome == "succeeded"
    assert gateway.count("Authorize") == 1 and gateway.live()


async def _connection_closed(channels: ProcessorChannels) -> None:
    """Until the (only) channel of `channels` has seen its connection close."""
    (channel,) = channels._channels.values()
    while channel.get_state() is grpc.ChannelConnectivity.READY:
        await channel.wait_for_state_change(grpc.ChannelConnectivity.READY)


async def test_error_after_charge_is_unknown_and_the_retry_finds_the_charge(
    sandbox: Sandbox,
) -> None:
    activities = _activities(sandbox)
    await sandbox.fault(control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE, count=1)
    with pytest.raises(ApplicationError) as raised:
        await authorize(activities, call(sandbox, "k-ambiguous"))
    assert raised.value.type == "OutcomeUnknown"
    retried = await authorize(activities, call(sandbox, "k-ambiguous"))
    looked_up = await ActivityEnvironment().run(
        activities.get_payment, LookupCall(route=sandbox.route, attempt_key="k-ambiguous")
    )
    assert retried.outcome == looked_up.outcome == "succeeded"
    assert retried.processor_reference == looked_up.processor_reference
    charges = await sandbox.control.ListCharges(control_pb2.ListChargesRequest())
    assert [c.attempt_key for c in charges.charges].count("k-ambiguous") == 1


async def test_lookup_of_an_attempt_never_sent_is_not_found(sandbox: Sandbox) -> None:
    result = await ActivityEnvironment().run(
        _activities(sandbox).get_payment, LookupCall(route=sandbox.route, attempt_key="k-none")
    )
    assert result.outcome == "not_found"


def _activities(sandbox: Sandbox, channels: ProcessorChannels | None = None) -> ProcessorActivities:
    # The sandbox needs no credentials; its route names no processor the registry has, so
    # every call goes to the address the route records.
    return ProcessorActivities(sandbox.sessions, SecretBox(()), channels or ProcessorChannels())


async def test_a_vaulted_card_without_a_vault_fails_its_attempt_unsent(sandbox: Sandbox) -> None:
    """No card source configured: the vaulted card cannot be read, so nothing goes to the
    processor (the sandbox has no charge for the key) and the attempt fails with a stable code.
    FAILED, not NotSent: the processor is not to blame, its breaker must not count it."""
    key = "k-vaulted-no-vault"
    vaulted = "pm_vault_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"
    result = await authorize(_activities(sandbox), call(sandbox, key, vaulted))
    assert (result.outcome, result.decline_code) == ("failed", "vault_unavailable")
    listed = await sandbox.control.ListCharges(control_pb2.ListChargesRequest())
    assert [c for c in listed.charges if c.attempt_key == key] == []


async def test_a_later_call_follows_an_adapter_moved_since_the_payment_was_routed(
    sandbox: Sandbox,
) -> None:
    """The route in a workflow's history keeps the address the adapter had when the payment
    was routed. A re-send, lookup, capture or refund days later goes where the registry says
    the adapter listens now: an operator who moved it must not strand authorized payments
    until they expire."""
    moved = replace(sandbox.route, processor="sandbox-moved", target=f"127.0.0.1:{free_port()}")
    async with sandbox.sessions.begin() as session:
        session.add(
            models.Processor(
                name=moved.processor, target=sandbox.route.target, deadline_ms=500, capabilities={}
            )
        )
    activities = _activities(sandbox)
    resent = await authorize(activities, replace(call(sandbox, "k-moved"), route=moved))
    assert resent.outcome == "succeeded"
    looked_up = await ActivityEnvironment().run(
        activities.get_payment, LookupCall(route=moved, attempt_key="k-moved")
    )
    assert looked_up.outcome == "succeeded"
    # The routing step's own first call has just read the registry: its route is used as is.
    with pytest.raises(ApplicationError) as raised:
        await activities.send_authorize(
            replace(call(sandbox, "k-routed-now"), route=moved),
            first_send=True,
            route_is_fresh=True,
        )
    assert raised.value.type == "NotSent"
