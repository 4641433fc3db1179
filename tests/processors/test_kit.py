"""The gateway kit (processors/kit) on real gRPC servers on loopback: the one interceptor's
mapping of the one error type to google.rpc.Status, the bootstrap's health, reflection and
extra services, and a kit-built adapter process that stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from processors.kit.config import ServerConfig
from processors.kit.errors import (
    ProcessorError,
    failed_precondition,
    invalid,
    not_found,
    not_sent,
    unauthenticated,
)
from processors.kit.logs import correlation_id
from processors.kit.server import ExtraService, serve_processor

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "kit-test.payloops.dev"
DEADLINE_S = 5


class ScriptedProcessor(processor_pb2_grpc.ProcessorServicer):
    """GetCapabilities raises what the test scripted, and notes the correlation id it ran
    under."""

    def __init__(self) -> None:
        self.raises: Exception | None = None
        self.correlation_ids: list[str] = []

    async def GetCapabilities(
        self, request: pb.GetCapabilitiesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetCapabilitiesResponse:
        self.correlation_ids.append(correlation_id.get())
        if self.raises is not None:
            raise self.raises
        return pb.GetCapabilitiesResponse(name="kit-test")


class RefusingControl(control_pb2_grpc.SandboxControlServiceServicer):
    """A service beside Processor whose refusals go through the same interceptor."""

    async def SetFault(
        self, request: control_pb2.SetFaultRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> control_pb2.SetFaultResponse:
        raise invalid("INVALID_FAULT", "mode is required")


@dataclass
class Running:
    port: int
    channel: grpc.aio.Channel
    processor: ScriptedProcessor
    stub: processor_pb2_grpc.ProcessorAsyncStub


@contextlib.asynccontextmanager
async def running(services: Sequence[ExtraService] = (), port: int = 0) -> AsyncIterator[Running]:
    # The RPCs it leaves out answer UNIMPLEMENTED (grpc's default); the stubs call them abstract.
    processor = ScriptedProcessor()  # type: ignore[abstract]
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve_processor(
            ServerConfig(name="kit-test", port=port),
            processor,
            domain=DOMAIN,
            stop_grace_s=0.5,
            services=services,
            on_ready=ready.set_result,
        )
    )
    started: set[asyncio.Future[Any]] = {ready, task}
    await asyncio.wait(started, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises the start-up error
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{ready.result()}") as channel:
            yield Running(
                ready.result(), channel, processor, processor_pb2_grpc.ProcessorStub(channel)
            )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[Running]:
    control = ExtraService(
        "payloops.sandbox.v1.SandboxControlService",
        lambda s: control_pb2_grpc.add_SandboxControlServiceServicer_to_server(
            RefusingControl(),  # type: ignore[abstract]  # ListCharges: UNIMPLEMENTED
            s,
        ),
    )
    async with running([control]) as started:
        yield started


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    details: str
    status_code: int
    info: error_details_pb2.ErrorInfo


async def refusal(server: Running, raised: Exception) -> Answer:
    server.processor.raises = raised
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=DEADLINE_S)
    return answer_of(caught.value)


def answer_of(error: grpc.aio.AioRpcError) -> Answer:
    status = rpc_status.from_call(error)
    assert status is not None, "the error carries no google.rpc.Status"
    infos = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            infos.append(info)
    assert len(infos) == 1, status
    return Answer(error.code(), error.details() or "", status.code, infos[0])


# -- the interceptor ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "code", "reason"),
    [
        (invalid("AMOUNT_NOT_POSITIVE", "amount must be positive"), "INVALID_ARGUMENT", ""),
        (failed_precondition("PAYMENT_STATE_CONFLICT", "no"), "FAILED_PRECONDITION", ""),
        (not_found("PAYMENT_NOT_FOUND", "none"), "NOT_FOUND", ""),
        (unauthenticated("SIGNATURE_INVALID", "bad"), "UNAUTHENTICATED", ""),
        (not_sent("refused"), "UNAVAILABLE", "NOT_SENT"),
        (
            ProcessorError(grpc.StatusCode.DEADLINE_EXCEEDED, "GATEWAY_TIMEOUT", "slow"),
            "DEADLINE_EXCEEDED",
            "",
        ),
    ],
)
async def test_a_processor_error_ends_the_call_with_its_code_reason_and_domain(
    server: Running, raised: ProcessorError, code: str, reason: str
) -> None:
    found = await refusal(server, raised)
    assert found.code == grpc.StatusCode[code]
    # The Status in the trailer says the same code as the call (the contract requires it).
    assert found.status_code == found.code.value[0]
    assert found.info.reason == (reason or raised.reason)
    assert found.info.domain == DOMAIN
    assert found.details == raised.message


async def test_error_metadata_reaches_the_caller(server: Running) -> None:
    raised = not_sent("rate limited", {"gateway_http_status": "429", "step": "create"})
    found = await refusal(server, raised)
    assert dict(found.info.metadata) == {"gateway_http_status": "429", "step": "create"}


async def test_an_unexpected_exception_is_internal_and_quotes_nothing(server: Running) -> None:
    found = await refusal(server, RuntimeError("boom with sk_test_secret_value"))
    # INTERNAL: the contract's "outcome unknown", the only safe reading of an adapter crash.
    assert (found.code, found.info.reason) == (grpc.StatusCode.INTERNAL, "ADAPTER_ERROR")
    assert found.info.domain == DOMAIN
    assert "sk_test_secret_value" not in found.details


async def test_services_beside_processor_are_answered_the_same_way(server: Running) -> None:
    stub = control_pb2_grpc.SandboxControlServiceStub(server.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SetFault(control_pb2.SetFaultRequest(), timeout=DEADLINE_S)
    found = answer_of(caught.value)
    assert (found.code, found.info.reason, found.info.domain) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_FAULT",
        DOMAIN,
    )


async def test_the_callers_correlation_id_is_the_rpcs(server: Running) -> None:
    server.processor.raises = None
    server.processor.correlation_ids.clear()
    request = pb.GetCapabilitiesRequest()
    await server.stub.GetCapabilities(
        request, metadata=(("x-correlation-id", "cid-42"),), timeout=DEADLINE_S
    )
    await server.stub.GetCapabilities(request, timeout=DEADLINE_S)
    assert server.processor.correlation_ids == ["cid-42", ""]


# -- the bootstrap --------------------------------------------------------------------------


async def test_health_answers_serving(server: Running) -> None:
    health = health_pb2_grpc.HealthStub(server.channel)
    for service in ("", "payloops.processor.v1.Processor"):
        response = await health.Check(
            health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE_S
        )
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_processor_health_and_the_extra_services(server: Running) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(server.channel)
    call = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    response = await call.read()
    call.cancel()
    names = {s.name for s in response.list_services_response.service}
    assert {
        "payloops.processor.v1.Processor",
        "payloops.sandbox.v1.SandboxControlService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names


async def test_a_port_in_use_fails_the_start(server: Running) -> None:
    # grpcio shares ports by default; a second adapter must not silently take half the calls.
    with pytest.raises(RuntimeError):
        async with running(port=server.port):
            pass


def test_an_adapter_process_serves_and_stops_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.processors.kit_adapter", "--port", "0"],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "listening on 127.0.0.1:" in line, line
        port = int(line.rsplit(":", 1)[1].split()[0])
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = processor_pb2_grpc.ProcessorStub(channel)
            assert stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=10).name == "kit-echo"
            with pytest.raises(grpc.RpcError) as caught:
                stub.Authorize(pb.AuthorizeRequest(amount=100), timeout=10)
        assert isinstance(caught.value, grpc.Call)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
