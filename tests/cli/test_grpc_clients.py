"""The CLI's synchronous gRPC clients (sandbox fault/ledger, readiness probes), unit-tested with
grpcio-testing: the test plays the server on a grpc_testing channel and sees exactly what the
client sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import grpc
import grpc_testing
import pytest
from grpc_health.v1 import health_pb2

from cli import probes, sandbox_commands
from payloops.sandbox.v1 import control_pb2, control_pb2_grpc

CONTROL = control_pb2.DESCRIPTOR.services_by_name["SandboxControlService"]
HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"]


@pytest.fixture
def channel() -> grpc_testing.Channel:
    return grpc_testing.channel([CONTROL, HEALTH], grpc_testing.strict_real_time())


InThread = Callable[..., Future[Any]]


@pytest.fixture
def in_thread() -> Iterator[InThread]:
    """The client blocks until the test (the server) answers, so it runs on another thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit


def test_fault_command_sends_mode_count_and_latency(
    channel: grpc_testing.Channel, in_thread: InThread
) -> None:
    stub = control_pb2_grpc.SandboxControlServiceStub(channel)
    done = in_thread(sandbox_commands.set_fault, stub, "latency", 3, 800)
    _, request, rpc = channel.take_unary_unary(CONTROL.methods_by_name["SetFault"])
    rpc.terminate(control_pb2.SetFaultResponse(), (), grpc.StatusCode.OK, "")
    done.result(timeout=5)
    assert request == control_pb2.SetFaultRequest(
        mode=control_pb2.FAULT_MODE_LATENCY, count=3, latency_ms=800
    )


def test_ledger_command_lists_every_charge_field(
    channel: grpc_testing.Channel, in_thread: InThread
) -> None:
    stub = control_pb2_grpc.SandboxControlServiceStub(channel)
    done = in_thread(sandbox_commands.ledger, stub)
    _, _, rpc = channel.take_unary_unary(CONTROL.methods_by_name["ListCharges"])
    charge = control_pb2.Charge(
        attempt_key="ord_1:authorize:sandbox:1",
        processor_reference="ch_1",
        order_id="ord_1",
        amount=4999,
        currency="USD",
        state="captured",
        amount_captured=4999,
    )
    rpc.terminate(control_pb2.ListChargesResponse(charges=[charge]), (), grpc.StatusCode.OK, "")
    assert done.result(timeout=5) == [
        {
            "attempt_key": "ord_1:authorize:sandbox:1",
            "processor_reference": "ch_1",
            "order_id": "ord_1",
            "amount": 4999,
            "currency": "USD",
            "state": "captured",
            "amount_captured": 4999,
            "amount_refunded": 0,
        }
    ]


def test_a_sandbox_error_reaches_the_command(
    channel: grpc_testing.Channel, in_thread: InThread
) -> None:
    stub = control_pb2_grpc.SandboxControlServiceStub(channel)
    done = in_thread(sandbox_commands.ledger, stub)
    _, _, rpc = channel.take_unary_unary(CONTROL.methods_by_name["ListCharges"])
    rpc.terminate(None, (), grpc.StatusCode.UNAVAILABLE, "sandbox stopped")
    with pytest.raises(grpc.RpcError) as raised:
        done.result(timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    ("status", "code", "ready"),
    [
        (health_pb2.HealthCheckResponse.SERVING, grpc.StatusCode.OK, True),
        (health_pb2.HealthCheckResponse.NOT_SERVING, grpc.StatusCode.OK, False),
        (None, grpc.StatusCode.UNAVAILABLE, False),
        (None, grpc.StatusCode.NOT_FOUND, False),  # the service asked about is unknown
    ],
)
def test_readiness_probe_is_true_only_when_serving(
    channel: grpc_testing.Channel,
    in_thread: InThread,
    status: int | None,
    code: grpc.StatusCode,
    ready: bool,
) -> None:
    done = in_thread(probes.serving, channel, "temporal.api.workflowservice.v1.WorkflowService")
    _, request, rpc = channel.take_unary_unary(HEALTH.methods_by_name["Check"])
    response = None if status is None else health_pb2.HealthCheckResponse(status=status)
    rpc.terminate(response, (), code, "")
    assert done.result(timeout=5) is ready
    assert request.service == "temporal.api.workflowservice.v1.WorkflowService"
