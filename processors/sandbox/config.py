"""The sandbox's settings, read once at start-up. Several sandboxes with different names can
run side by side, so failover can be exercised without external gateways."""

from __future__ import annotations

from dataclasses import dataclass

from processors.kit.config import ServerConfig, check_port, parse_config, server_arguments


@dataclass(frozen=True)
class SandboxConfig(ServerConfig):
    name: str = "sandbox"
    http_port: int = 0  # the 3-D Secure page; 0: any free port
    ledger: str | None = None  # SQLite file for the charge ledger; None: in memory

    def __post_init__(self) -> None:
        super().__post_init__()
        check_port("http_port", self.http_port)


def parse_args(argv: list[str] | None) -> SandboxConfig:
    parser = server_arguments(
        "python -m processors.sandbox", "PayLoops sandbox payment gateway", "sandbox"
    )
    parser.add_argument(
        "--http-port", type=int, default=0, help="3-D Secure page port, 0 = any free port"
    )
    parser.add_argument(
        "--ledger", default=None, help="SQLite file for the charge ledger (default: in memory)"
    )
    return parse_config(
        parser,
        argv,
        lambda args: SandboxConfig(
            name=args.name,
            host=args.host,
            port=args.port,
            http_port=args.http_port,
            ledger=args.ledger,
        ),
    )
