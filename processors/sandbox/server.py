"""Runs one sandbox gateway on the kit's server: Processor + SandboxControlService + health +
reflection over gRPC, and the 3-D Secure page over HTTP.

`payloops serve processor sandbox --name sandbox --port 50061 --http-port 8061` or
`python -m processors.sandbox ...`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

import grpc

from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from processors.kit.logs import configure_logging
from processors.kit.server import ExtraService, bind_host, run, serve_processor
from processors.sandbox.challenge_page import ChallengePageServer
from processors.sandbox.config import SandboxConfig, parse_args
from processors.sandbox.control import SandboxControlServicer
from processors.sandbox.faults import Faults
from processors.sandbox.ledger import Ledger
from processors.sandbox.servicer import ProcessorServicer

DOMAIN = "sandbox.payloops.dev"
CONTROL_SERVICE = control_pb2.DESCRIPTOR.services_by_name["SandboxControlService"].full_name
# In-flight calls get this long to finish on shutdown; hung (fault) calls are then cancelled.
_STOP_GRACE_S = 1.0


def _url_host(host: str) -> str:
    """A host a browser on this machine can reach the page at."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return bind_host(host)


async def serve(config: SandboxConfig, on_ready: Callable[[int, int], None] | None = None) -> None:
    """Runs until cancelled; on_ready(grpc_port, http_port) once listening."""
    # Every clean-up step runs even when an earlier one fails or the task is cancelled again.
    async with contextlib.AsyncExitStack() as cleanup:
        ledger = Ledger(config.ledger)
        cleanup.callback(ledger.close)
        faults = Faults()

        # The page binds first: Authorize needs its port to build redirect URLs.
        page = ChallengePageServer((config.host, config.http_port), ledger)
        cleanup.callback(page.server_close)
        # A daemon thread of its own, not the loop's executor: asyncio.run() joins executor
        # threads at exit, and a page that was somehow never shut down would hang the process.
        page_thread = threading.Thread(target=page.serve_forever, name="3ds-page", daemon=True)
        page_thread.start()
        cleanup.push_async_callback(_stop_page, page, page_thread)

        def add_control(server: grpc.aio.Server) -> None:
            control_pb2_grpc.add_SandboxControlServiceServicer_to_server(
                SandboxControlServicer(ledger, faults), server
            )

        page_url = f"http://{_url_host(config.host)}:{page.port}"
        await serve_processor(
            config,
            ProcessorServicer(config.name, ledger, faults, page_url),
            domain=DOMAIN,
            stop_grace_s=_STOP_GRACE_S,
            details=f"3ds page {config.host}:{page.port}",
            services=[ExtraService(CONTROL_SERVICE, add_control)],
            on_ready=None if on_ready is None else lambda port: on_ready(port, page.port),
        )


async def _stop_page(page: ChallengePageServer, thread: threading.Thread) -> None:
    # shutdown() blocks until serve_forever's next poll (<= 0.5 s): keep it off the loop.
    await asyncio.to_thread(page.shutdown)
    await asyncio.to_thread(thread.join, 2)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    configure_logging("sandbox")
    run(serve(config))
