"""Runs the Razorpay adapter: Processor + health + reflection over gRPC (grpc.aio).

    payloops serve processor razorpay --port 50071 [--api-base URL] [--timeout-ms 10000]

`--api-base` is the Razorpay API host the SDK talks to (the paths start with /v1): the real
https://api.razorpay.com, or a local fake in tests. `--timeout-ms` bounds every HTTP request to
Razorpay; the gRPC caller's deadline bounds it further.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from processors.razorpay.clients import ClientFactory
from processors.razorpay.errors import StatusInterceptor
from processors.razorpay.servicer import RazorpayServicer

log = logging.getLogger(__name__)

PROCESSOR_SERVICE = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
DEFAULT_API_BASE = "https://api.razorpay.com"
DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_WORKERS = 32
# In-flight calls get this long to finish on shutdown.
_STOP_GRACE_S = 2.0

# grpcio shares ports (SO_REUSEPORT) by default: a second server on the same port would
# silently take half the calls (another dev stack's, say). A port in use must fail the start.
NO_SHARED_PORT = [("grpc.so_reuseport", 0)]


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve(
    name: str = "razorpay",
    port: int = 0,
    *,
    api_base: str = DEFAULT_API_BASE,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    host: str = "127.0.0.1",
    workers: int = DEFAULT_WORKERS,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Runs until cancelled. Port 0 = pick a free one; on_ready(port) once listening."""
    if timeout_ms <= 0 or workers <= 0:
        raise ValueError("timeout_ms and workers must be positive")
    async with contextlib.AsyncExitStack() as cleanup:
        # Bounded: at most `workers` Razorpay requests at once; the rest wait their turn.
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="razorpay")
        cleanup.callback(pool.shutdown, wait=False, cancel_futures=True)

        server = grpc.aio.server(interceptors=[StatusInterceptor()], options=NO_SHARED_PORT)
        processor_pb2_grpc.add_ProcessorServicer_to_server(
            RazorpayServicer(name, ClientFactory(api_base, timeout_ms / 1000), pool), server
        )
        health = health_aio.HealthServicer()
        await health.set("", health_pb2.HealthCheckResponse.SERVING)
        await health.set(PROCESSOR_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        reflection.enable_server_reflection(
            (PROCESSOR_SERVICE, HEALTH_SERVICE, reflection.SERVICE_NAME), server
        )
        port = server.add_insecure_port(f"{_bind_host(host)}:{port}")

        await server.start()
        cleanup.push_async_callback(server.stop, _STOP_GRACE_S)
        cleanup.push_async_callback(health.enter_graceful_shutdown)

        log.info(
            "razorpay adapter %r listening on %s:%d (api %s, timeout %d ms)",
            name,
            host,
            port,
            api_base,
            timeout_ms,
        )
        if on_ready is not None:
            on_ready(port)
        # Not server.wait_for_termination(): cancelling it cancels grpc's own shutdown future,
        # and the server.stop() that follows then fails with CancelledError.
        await asyncio.Event().wait()


async def _serve_until_signal(args: argparse.Namespace) -> None:
    task = asyncio.create_task(
        serve(
            args.name,
            args.port,
            api_base=args.api_base,
            timeout_ms=args.timeout_ms,
            host=args.host,
            workers=args.workers,
        )
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="payloops serve processor razorpay", description="PayLoops Razorpay gateway adapter"
    )
    parser.add_argument("--name", default="razorpay", help="processor name (GetCapabilities)")
    parser.add_argument("--port", type=int, default=0, help="gRPC port, 0 = any free port")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--api-base",
        default=DEFAULT_API_BASE,
        help="Razorpay API host, without /v1 (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout-ms",
        type=int,
        default=DEFAULT_TIMEOUT_MS,
        help="timeout of each HTTP request to Razorpay (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="threads for Razorpay requests (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.timeout_ms <= 0 or args.workers <= 0:
        parser.error("--timeout-ms and --workers must be positive")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_serve_until_signal(args))
