"""The Stripe adapter's settings, read once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from processors.kit.config import (
    ServerConfig,
    check_api_base,
    check_positive,
    parse_config,
    server_arguments,
)

DEFAULT_API_BASE = "https://api.stripe.com"


@dataclass(frozen=True)
class StripeConfig(ServerConfig):
    name: str = "stripe"
    api_base: str = DEFAULT_API_BASE
    timeout_ms: int = 10_000  # per HTTP request to Stripe, each SDK retry included
    max_network_retries: int = 1  # SDK retries, same idempotency key

    def __post_init__(self) -> None:
        super().__post_init__()
        check_api_base(self.api_base)
        check_positive("timeout_ms", self.timeout_ms)
        if self.max_network_retries < 0:
            raise ValueError("max_network_retries must be >= 0")


def parse_args(argv: list[str] | None) -> StripeConfig:
    parser = server_arguments(
        "payloops serve processor stripe", "PayLoops Stripe gateway adapter", "stripe"
    )
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
    return parse_config(
        parser,
        argv,
        lambda args: StripeConfig(
            name=args.name,
            host=args.host,
            port=args.port,
            api_base=args.api_base,
            timeout_ms=args.timeout_ms,
            max_network_retries=args.max_network_retries,
        ),
    )
