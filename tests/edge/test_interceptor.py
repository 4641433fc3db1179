"""The edge interceptor on a real grpc.aio server on loopback, with the standard health and
reflection services the edge also serves: undecodable requests are INVALID_ARGUMENT with
REQUEST_MALFORMED for every kind of method (unary, server streaming, bidirectional), decoded
requests still reach their handlers, and an unexpected error is logged without the request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from core.logs import JsonFormatter
from edge.interceptors import EdgeInterceptor

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
HEALTH_WATCH = "/grpc.health.v1.Health/Watch"
REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
FAILING = "/probe.Probe/Fail"
NOT_UTF8 = b"\x0a\x03\xffbc"  # field 1 (a string in both request types) = b"\xffbc"
SECRET_INPUT = "merchant-secret-input-7731"


async def _fail(request: health_pb2.HealthCheckRequest, context: Any) -> Any:
    # What a database error does: its text quotes the value it refused.
    raise ValueError(f"cannot store {request.service!r}")


@pytest.fixture
async def target() -> AsyncIterator[str]:
    server = grpc.aio.server(interceptors=[EdgeInterceptor()])
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    reflection.enable_server_reflection(
        [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "probe.Probe",
                {
                    "Fail": grpc.unary_unary_rpc_method_handler(
                        _fail,
                        request_deserializer=health_pb2.HealthCheckRequest.FromString,
                        response_serializer=health_pb2.HealthCheckResponse.SerializeToString,
                    )
                },
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)


def _reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return str(info.reason)


def _raw(channel: grpc.aio.Channel, method: str, streaming: str) -> Any:
    """A call that sends bytes as they are: no serializer on the way out."""
    kinds = {
        "unary": channel.unary_unary,
        "server": channel.unary_stream,
        "both": channel.stream_stream,
    }
    return kinds[streaming](method, request_serializer=None, response_deserializer=None)


@pytest.mark.parametrize(
    ("method", "streaming"),
    [(HEALTH_CHECK, "unary"), (HEALTH_WATCH, "server"), (REFLECTION, "both")],
)
@pytest.mark.parametrize("raw", [NOT_UTF8, b"\xff\xff\xff\xff"])
async def test_undecodable_requests_are_invalid_argument_for_every_kind_of_method(
    target: str, method: str, streaming: str, raw: bytes
) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        call = _raw(channel, method, streaming)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            if streaming == "unary":
                await call(raw, timeout=10)
            elif streaming == "server":
                async for _ in call(raw, timeout=10):
                    pass
            else:
                async for _ in call(iter([raw]), timeout=10):
                    pass
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _reason(refused.value) == "REQUEST_MALFORMED"
    assert "DecodeError" not in (refused.value.details() or "")


async def test_decoded_requests_still_reach_their_handlers(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        checked = await stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
        watch = stub.Watch(health_pb2.HealthCheckRequest(), timeout=10)
        first = await watch.read()
        watch.cancel()
        reflected = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
        )
        services = [response async for response in reflected]
    assert checked.status == health_pb2.HealthCheckResponse.SERVING
    assert isinstance(first, health_pb2.HealthCheckResponse)
    assert first.status == health_pb2.HealthCheckResponse.SERVING
    assert "grpc.health.v1.Health" in str(services[0].list_services_response)


async def test_a_nul_in_a_streaming_request_is_refused_too(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="a\x00b"), timeout=10
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await watch.read()
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _reason(refused.value) == "INVALID_REQUEST"


async def test_an_unexpected_error_is_logged_without_what_the_request_held(
    target: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="payloops.edge")
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(
            FAILING,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await call(health_pb2.HealthCheckRequest(service=SECRET_INPUT), timeout=10)
    assert failed.value.code() == grpc.StatusCode.INTERNAL
    assert SECRET_INPUT not in (failed.value.details() or "")
    lines = [JsonFormatter("edge").format(record) for record in caplog.records]
    unhandled = [line for line in lines if "unhandled error" in line]
    assert len(unhandled) == 1
    # Where it failed is there (type and stack), what it was given is not.
    assert "ValueError" in unhandled[0] and "_fail" in unhandled[0]
    assert not [line for line in lines if SECRET_INPUT in line]
