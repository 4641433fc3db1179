"""The Razorpay adapter's settings, read once at start-up.

`api_base` is the Razorpay API host the SDK talks to (the paths start with /v1): the real
https://api.razorpay.com, or a local fake in tests. `timeout_ms` bounds every HTTP request to
Razorpay; the gRPC caller's deadline bounds it further. `workers` is how many Razorpay requests
run at once (the SDK is synchronous: one thread each).
"""

from __future__ import annotations

from dataclasses import dataclass

from processors.kit.config import (
    ServerConfig,
    check_api_base,
    check_positive,
    parse_config,
    server_arguments,
)

DEFAULT_API_BASE = "https://api.razorpay.com"
DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_WORKERS = 32


@dataclass(frozen=True)
class RazorpayConfig(ServerConfig):
    name: str = "razorpay"
    api_base: str = DEFAULT_API_BASE
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    workers: int = DEFAULT_WORKERS

    def __post_init__(self) -> None:
        super().__post_init__()
        check_api_base(self.api_base)
        check_positive("timeout_ms", self.timeout_ms)
        check_positive("workers", self.workers)


def parse_args(argv: list[str] | None) -> RazorpayConfig:
    parser = server_arguments(
        "payloops serve processor razorpay", "PayLoops Razorpay gateway adapter", "razorpay"
    )
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
    return parse_config(
        parser,
        argv,
        lambda args: RazorpayConfig(
            name=args.name,
            host=args.host,
            port=args.port,
            api_base=args.api_base,
            timeout_ms=args.timeout_ms,
            workers=args.workers,
        ),
    )
