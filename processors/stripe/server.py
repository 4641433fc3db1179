"""Runs the Stripe adapter on the kit's server: `payloops serve processor stripe --port 50062`
or `python -m processors.stripe --port 50062`. The adapter holds no payment state: any number
of instances can run behind one address.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from processors.kit.logs import configure_logging
from processors.kit.server import run, serve_processor
from processors.stripe.client import StripeClients
from processors.stripe.config import StripeConfig, parse_args
from processors.stripe.errors import DOMAIN
from processors.stripe.servicer import StripeServicer

# In-flight calls get this long to finish on shutdown; then they are cancelled (with their HTTP
# requests) and PayLoops, seeing an unknown outcome, resolves them by attempt key.
_STOP_GRACE_S = 5.0


async def serve(config: StripeConfig, on_ready: Callable[[int], None] | None = None) -> None:
    """Runs until cancelled; on_ready(port) once listening."""
    async with contextlib.AsyncExitStack() as cleanup:
        clients = StripeClients(
            config.api_base, config.timeout_ms / 1000, config.max_network_retries
        )
        cleanup.push_async_callback(clients.close)
        await serve_processor(
            config,
            StripeServicer(config.name, clients),
            domain=DOMAIN,
            stop_grace_s=_STOP_GRACE_S,
            details=(
                f"api {config.api_base}, timeout {config.timeout_ms} ms, "
                f"retries {config.max_network_retries}"
            ),
            on_ready=on_ready,
        )


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    # The SDK logs every request and error at INFO; the adapter's line per RPC says what
    # mattered, with Stripe's request id in error details.
    configure_logging("stripe", quiet=("stripe",))
    run(serve(config))
