"""Runs one sandbox gateway: Processor + SandboxControlService + health + reflection over gRPC,
and the 3-D Secure page over HTTP. Several instances with different names can run side by
side so failover can be exercised without external gateways.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from payloops.processor.v1 import processor_pb2, processor_pb2_grpc
from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from processors.sandbox.challenge_page import ChallengePageServer
from processors.sandbox.control import SandboxControlServicer
from processors.sandbox.faults import Faults
from processors.sandbox.ledger import Ledger
from processors.sandbox.servicer import ProcessorServicer

log = logging.getLogger(__name__)

PROCESSOR_SERVICE = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name
CONTROL_SERVICE = control_pb2.DESCRIPTOR.services_by_name["SandboxControlService"].full_name
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name

# In-flight calls get this long to finish on shutdown; hung (fault) calls are then cancelled.
_STOP_GRACE_S = 1.0

# grpcio shares ports (SO_REUSEPORT) by default: a second server on the same port would
# silently take half the calls (another dev stack's, say). A port in use must fail the start.
NO_SHARED_PORT = [("grpc.so_reuseport", 0)]


def _url_host(host: str) -> str:
    """A host a browser on this machine can reach the page at."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return _bind_host(host)


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve(
    name: str,
    grpc_port: int,
    http_port: int,
    ledger_path: str | None = None,
    host: str = "127.0.0.1",
    on_ready: Callable[[int, int], None] | None = None,
) -> None:
    """Runs until cancelled. Port 0 = pick a free one; on_ready(grpc_port, http_port) once
    listening."""
    # Every cleanup step runs even when an earlier one fails or the task is cancelled again.
    async with contextlib.AsyncExitStack() as cleanup:
        ledger = Ledger(ledger_path)
        cleanup.callback(ledger.close)
        faults = Faults()

        # The page binds first: Authorize needs its port to build redirect URLs.
        page = ChallengePageServer((host, http_port), ledger)
        cleanup.callback(page.server_close)
        http_port = page.port

        server = grpc.aio.server(options=NO_SHARED_PORT)
        processor_pb2_grpc.add_ProcessorServicer_to_server(
            ProcessorServicer(name, ledger, faults, f"http://{_url_host(host)}:{http_port}"), server
        )
        control_pb2_grpc.add_SandboxControlServiceServicer_to_server(
            SandboxControlServicer(ledger, faults), server
        )
        health = health_aio.HealthServicer()
        await health.set("", health_pb2.HealthCheckResponse.SERVING)
        await health.set(PROCESSOR_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        reflection.enable_server_reflection(
            (PROCESSOR_SERVICE, CONTROL_SERVICE, HEALTH_SERVICE, reflection.SERVICE_NAME), server
        )
        grpc_port = server.add_insecure_port(f"{_bind_host(host)}:{grpc_port}")

        await server.start()
        cleanup.push_async_callback(server.stop, _STOP_GRACE_S)
        # A daemon thread of its own, not the loop's executor: asyncio.run() joins executor
        # threads at exit, and a page that was somehow never shut down would hang the process.
        page_thread = threading.Thread(target=page.serve_forever, name="3ds-page", daemon=True)
        page_thread.start()
        cleanup.push_async_callback(_stop_page, page, page_thread)
        cleanup.push_async_callback(health.enter_graceful_shutdown)

        log.info(
            "sandbox %r listening: grpc %s:%d, 3ds page %s:%d",
            name,
            host,
            grpc_port,
            host,
            http_port,
        )
        if on_ready is not None:
            on_ready(grpc_port, http_port)
        # Not server.wait_for_termination(): cancelling it cancels grpc's own shutdown
        # future, and the server.stop() that follows then fails with CancelledError.
        await asyncio.Event().wait()


async def _stop_page(page: ChallengePageServer, thread: threading.Thread) -> None:
    # shutdown() blocks until serve_forever's next poll (<= 0.5 s): keep it off the loop.
    await asyncio.to_thread(page.shutdown)
    await asyncio.to_thread(thread.join, 2)


async def _serve_until_signal(args: argparse.Namespace) -> None:
    task = asyncio.create_task(serve(args.name, args.port, args.http_port, args.ledger))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m processors.sandbox", description="PayLoops sandbox payment gateway"
    )
    parser.add_argument("--name", default="sandbox", help="processor name (GetCapabilities)")
    parser.add_argument("--port", type=int, default=0, help="gRPC port, 0 = any free port")
    parser.add_argument(
        "--http-port", type=int, default=0, help="3-D Secure page port, 0 = any free port"
    )
    parser.add_argument(
        "--ledger", default=None, help="SQLite file for the charge ledger (default: in memory)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_serve_until_signal(args))
