"""Runs the Stripe adapter: Processor + health + reflection over gRPC (grpc.aio).

`payloops serve processor stripe --port 50062` or `python -m processors.stripe --port 50062`.
The adapter holds no payment state: any number of instances can run behind one address.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from processors.stripe.client import StripeClients
from processors.stripe.errors import ErrorInterceptor
from processors.stripe.logs import configure_logging
from processors.stripe.servicer import StripeServicer

log = logging.getLogger(__name__)

PROCESSOR_SERVICE = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
DEFAULT_API_BASE = "https://api.stripe.com"
# In-flight calls get this long to finish on shutdown; then they are cancelled (with their HTTP
# requests) and PayLoops, seeing an unknown outcome, resolves them by attempt key.
_STOP_GRACE_S = 5.0

# grpcio shares ports (SO_REUSEPORT) by default: a second server on the same port would
# silently take half the calls (another dev stack's, say). A port in use must fail the start.
NO_SHARED_PORT = [("grpc.so_reuseport", 0)]


@dataclass(frozen=True)
class StripeAdapterConfig:
    """Everything the adapter reads at start-up."""

    name: str = "stripe"
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    api_base: str = DEFAULT_API_BASE
    timeout_ms: int = 10_000  # per HTTP request to Stripe, each SDK retry included
    max_network_retries: int = 1  # SDK retries, same idempotency key

    def __post_init__(self) -> None:
        url = urlsplit(self.api_base)
        if url.scheme not in ("http", "https") or not url.netloc or url.path.strip("/"):
            raise ValueError(f"api_base must be scheme://host[:port], not {self.api_base!r}")
        if self.timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive")
        if self.max_network_retries < 0:
            raise ValueError("max_network_retries must be >= 0")


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve(config: StripeAdapterConfig, on_ready: Callable[[int], None] | None = None) -> None:
    """Runs until cancelled; on_ready(port) once listening."""
    async with contextlib.AsyncExitStack() as cleanup:
        clients = StripeClients(
            config.api_base, config.timeout_ms / 1000, config.max_network_retries
        )
        cleanup.push_async_callback(clients.close)

        server = grpc.aio.server(interceptors=[ErrorInterceptor()], options=NO_SHARED_PORT)
        processor_pb2_grpc.add_ProcessorServicer_to_server(
            StripeServicer(config.name, clients), server
        )
        health = health_aio.HealthServicer()
        await health.set("", health_pb2.HealthCheckResponse.SERVING)
        await health.set(PROCESSOR_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        reflection.enable_server_reflection(
            (PROCESSOR_SERVICE, HEALTH_SERVICE, reflection.SERVICE_NAME), server
        )
        port = server.add_insecure_port(f"{_bind_host(config.host)}:{config.port}")

        await server.start()
        cleanup.push_async_callback(server.stop, _STOP_GRACE_S)
        cleanup.push_async_callback(health.enter_graceful_shutdown)

        log.info(
            "stripe adapter %r listening on %s:%d, api %s, timeout %d ms, retries %d",
            config.name,
            config.host,
            port,
            config.api_base,
            config.timeout_ms,
            config.max_network_retries,
        )
        if on_ready is not None:
            on_ready(port)
        # Not server.wait_for_termination(): cancelling it cancels grpc's own shutdown
        # future, and the server.stop() that follows then fails with CancelledError.
        await asyncio.Event().wait()


async def _serve_until_signal(config: StripeAdapterConfig) -> None:
    task = asyncio.create_task(serve(config))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def parse_args(argv: list[str] | None) -> StripeAdapterConfig:
    parser = argparse.ArgumentParser(
        prog="payloops serve processor stripe", description="PayLoops Stripe gateway adapter"
    )
    parser.add_argument("--name", default="stripe", help="processor name (GetCapabilities)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="gRPC port, 0 = any free port")
    parser.add_argument(
        "--api-base",
        default=DEFAULT_API_BASE,
        help="Stripe API base address (a local fake in tests)",
    )
    parser.add_argument(
        "--timeout-ms", type=int, default=10_000, help="timeout of each HTTP request to Stripe"
    )
    parser.add_argument(
        "--max-network-retries",
        type=int,
        default=1,
        help="SDK retries of connection errors, 409 and 5xx (same key)",
    )
    args = parser.parse_args(argv)
    try:
        return StripeAdapterConfig(
            name=args.name,
            host=args.host,
            port=args.port,
            api_base=args.api_base,
            timeout_ms=args.timeout_ms,
            max_network_retries=args.max_network_retries,
        )
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    configure_logging()
    asyncio.run(_serve_until_signal(config))
