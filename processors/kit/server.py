"""The gRPC server every adapter runs: Processor, health and reflection, the kit's
ErrorInterceptor, shut down gracefully on SIGTERM or SIGINT.

An adapter's `server.py` builds its servicer from its config and calls `serve_processor`
(inside its own clean-up for the resources it holds: HTTP clients, thread pools, files), and its
`main` ends with `run(serve(config))`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from processors.kit.config import ServerConfig
from processors.kit.interceptor import ErrorInterceptor

log = logging.getLogger(__name__)

PROCESSOR_SERVICE = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name

# grpcio shares ports (SO_REUSEPORT) by default: a second server on the same port would
# silently take half the calls (another dev stack's, say). A port in use must fail the start.
NO_SHARED_PORT = [("grpc.so_reuseport", 0)]


@dataclass(frozen=True)
class ExtraService:
    """A gRPC service served beside Processor (the sandbox's test controls)."""

    name: str  # its full name, listed by reflection
    add_to: Callable[[grpc.aio.Server], None]


def bind_host(host: str) -> str:
    """A host as it goes before ":port" (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host


async def serve_processor(
    config: ServerConfig,
    processor: processor_pb2_grpc.ProcessorServicer,
    *,
    domain: str,
    stop_grace_s: float,
    details: str = "",
    services: Sequence[ExtraService] = (),
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serves until cancelled; on_ready(port) once listening. `domain` names the adapter in
    every error's ErrorInfo; in-flight calls get `stop_grace_s` to finish when it stops, and are
    then cancelled (PayLoops resolves them by key, as any unknown outcome). `details` go on the
    "listening" log line (the gateway's address, timeouts)."""
    # Every clean-up step runs even when an earlier one fails or the task is cancelled again.
    async with contextlib.AsyncExitStack() as cleanup:
        server = grpc.aio.server(interceptors=[ErrorInterceptor(domain)], options=NO_SHARED_PORT)
        processor_pb2_grpc.add_ProcessorServicer_to_server(processor, server)
        for service in services:
            service.add_to(server)
        health = health_aio.HealthServicer()
        await health.set("", health_pb2.HealthCheckResponse.SERVING)
        await health.set(PROCESSOR_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        names = (PROCESSOR_SERVICE, *(s.name for s in services), HEALTH_SERVICE)
        reflection.enable_server_reflection((*names, reflection.SERVICE_NAME), server)
        port = server.add_insecure_port(f"{bind_host(config.host)}:{config.port}")

        await server.start()
        cleanup.push_async_callback(server.stop, stop_grace_s)
        cleanup.push_async_callback(health.enter_graceful_shutdown)

        suffix = f" ({details})" if details else ""
        log.info("processor %r listening on %s:%d%s", config.name, config.host, port, suffix)
        if on_ready is not None:
            on_ready(port)
        # Not server.wait_for_termination(): cancelling it cancels grpc's own shutdown
        # future, and the server.stop() that follows then fails with CancelledError.
        await asyncio.Event().wait()


def run(serve: Coroutine[Any, Any, None]) -> None:
    """Runs an adapter's serve() until SIGTERM or SIGINT, then lets its clean-up finish: the
    process exits 0 after a requested stop."""
    asyncio.run(_until_signal(serve))


async def _until_signal(serve: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(serve)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
