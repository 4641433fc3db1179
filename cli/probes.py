"""Readiness probes: each answers "ready now?" quickly and never raises."""

from __future__ import annotations

import contextlib
import sys
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

TEMPORAL_SERVICE = "temporal.api.workflowservice.v1.WorkflowService"

# Everything probed is on loopback: an http_proxy in the environment must not be used.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


def grpc_serving(target: str, service: str = "", timeout: float = 1.0) -> bool:
    """grpc.health.v1 Check on `target` answers SERVING."""
    with grpc.insecure_channel(target, options=_CHANNEL_OPTIONS) as channel:
        return serving(channel, service, timeout)


def serving(channel: grpc.Channel, service: str = "", timeout: float = 1.0) -> bool:
    try:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    except grpc.RpcError:
        return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(url: str, expect_body: str | None = None, timeout: float = 2.0) -> bool:
    """GET answers 200 (and, if given, the body starts with expect_body)."""
    with (
        contextlib.suppress(OSError, urllib.error.URLError),
        _OPENER.open(url, timeout=timeout) as response,
    ):
        body = response.read().decode(errors="replace")
        return bool(
            response.status == 200 and (expect_body is None or body.startswith(expect_body))
        )
    return False


def unix_http_ok(
    socket_path: str | Path, path: str, expect_body: str, timeout: float = 2.0
) -> bool:
    """GET `path` over the unix socket answers 200 and a body that starts with expect_body."""
    try:
        with httpx.Client(
            transport=httpx.HTTPTransport(uds=str(socket_path)), timeout=timeout, trust_env=False
        ) as client:
            response = client.get(f"http://localhost{path}")
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.text.startswith(expect_body)


def main(argv: list[str]) -> int:
    """`python -m cli.probes grpc HOST:PORT` or `python -m cli.probes http URL`: exit 0 when
    ready. A container's health check (docker-compose.yml), with the image's own Python:
    the images carry no curl or grpc_health_probe."""
    match argv:
        case ["grpc", target]:
            return 0 if grpc_serving(target, timeout=3.0) else 1
        case ["http", url]:
            return 0 if http_ok(url, timeout=3.0) else 1
    print("usage: python -m cli.probes grpc HOST:PORT | http URL", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
