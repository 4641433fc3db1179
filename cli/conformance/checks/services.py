"""The standard services every PayLoops server runs beside its own: grpc.health.v1 and server
reflection (docs/processors.md, health and reflection). PayLoops' readiness probes and
operators' grpcurl rely on them."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2

from cli.conformance.checks import Check
from cli.conformance.client import PROCESSOR_SERVICE, RpcFailure
from cli.conformance.session import Session
from cli.conformance.verdicts import CheckFailed, answered

_SERVING = health_pb2.HealthCheckResponse.SERVING


def _status_name(response: health_pb2.HealthCheckResponse) -> str:
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def health(session: Session) -> str:
    overall = answered(session.client.health(""), "Health.Check(service='')")
    if overall.status != _SERVING:
        raise CheckFailed(f"Health.Check(service='') is {_status_name(overall)}, expected SERVING")
    # Per-service status is optional; when the server reports one, it must be SERVING too.
    named = session.client.health(PROCESSOR_SERVICE)
    if isinstance(named, RpcFailure):
        if named.code != grpc.StatusCode.NOT_FOUND:
            raise CheckFailed(f"Health.Check(service='{PROCESSOR_SERVICE}'): {named.describe()}")
        return "SERVING"
    if named.status != _SERVING:
        raise CheckFailed(
            f"Health.Check(service='{PROCESSOR_SERVICE}') is "
            f"{_status_name(named)}, expected SERVING"
        )
    return f"SERVING (overall and {PROCESSOR_SERVICE})"


def reflection(session: Session) -> str:
    services = answered(session.client.reflected_services(), "server reflection")
    if PROCESSOR_SERVICE not in services:
        raise CheckFailed(
            f"server reflection lists {', '.join(services) or 'no service'}, "
            f"not {PROCESSOR_SERVICE}"
        )
    return f"lists {PROCESSOR_SERVICE}"


CHECKS = (
    Check("service.health", "grpc.health.v1 Check answers SERVING", health),
    Check("service.reflection", f"server reflection lists {PROCESSOR_SERVICE}", reflection),
)
