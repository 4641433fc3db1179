"""Runs the Razorpay adapter on the kit's server:
`payloops serve processor razorpay --port 50071 [--api-base URL] [--timeout-ms 10000]`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from processors.kit.logs import configure_logging
from processors.kit.server import run, serve_processor
from processors.razorpay.client import ClientFactory
from processors.razorpay.config import RazorpayConfig, parse_args
from processors.razorpay.errors import DOMAIN
from processors.razorpay.servicer import RazorpayServicer

# In-flight calls get this long to finish on shutdown.
_STOP_GRACE_S = 2.0


async def serve(config: RazorpayConfig, on_ready: Callable[[int], None] | None = None) -> None:
    """Runs until cancelled; on_ready(port) once listening."""
    with contextlib.ExitStack() as cleanup:
        # Bounded: at most `workers` Razorpay requests at once; the rest wait their turn.
        pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="razorpay")
        cleanup.callback(pool.shutdown, wait=False, cancel_futures=True)
        clients = ClientFactory(config.api_base, config.timeout_ms / 1000)
        await serve_processor(
            config,
            RazorpayServicer(config.name, clients, pool),
            domain=DOMAIN,
            stop_grace_s=_STOP_GRACE_S,
            details=f"api {config.api_base}, timeout {config.timeout_ms} ms",
            on_ready=on_ready,
        )


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    configure_logging("razorpay")
    run(serve(config))
