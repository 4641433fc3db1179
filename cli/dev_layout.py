"""Which services `payloops dev` runs and the port each one prefers, with the text of
`payloops dev --help` that lists them, made from the same constants so it cannot drift.
No heavy imports: `--help` reads this module."""

from __future__ import annotations

# Names of the sandbox gateways to run; each gets its own ports, ledger and processor entry.
# Another sandbox instance (e.g. for failover tests) is one more entry here.
SANDBOXES: tuple[str, ...] = ("sandbox", "sandbox-b", "sandbox-c")

# Adapters of real gateways, run next to the sandboxes. Each talks to its gateway's API at the
# address in the named variable (the gateway's own by default; a local fake in the tests).
# Merchants route to them once they add a processor account with their credentials.
GATEWAYS: dict[str, str] = {
    "stripe": "PAYLOOPS_STRIPE_API_BASE",
    "razorpay": "PAYLOOPS_RAZORPAY_API_BASE",
}

# The public listeners (Envoy): fixed, a taken one fails the start (--http-port, --grpc-port).
HTTP_PORT = 8080
GRPC_PORT = 8081
# Internal services: the conventional port when it is free (stable addresses across restarts),
# otherwise any free one.
TEMPORAL_PORT = 7233
TEMPORAL_HTTP_PORT = 7243
TEMPORAL_METRICS_PORT = 7244
TEMPORAL_UI_PORT = 8233
EDGE_PORT = 50051
SANDBOX_GRPC_PORT = 50061  # + index in SANDBOXES
SANDBOX_HTTP_PORT = 8091  # + index in SANDBOXES
GATEWAY_PORT = 50071  # + index in GATEWAYS
VAULT_PORT = 50081


def _ports(first: int, count: int) -> str:
    return str(first) if count == 1 else f"{first}-{first + count - 1}"


def _public_ports() -> list[tuple[str, str]]:
    return [
        (_ports(HTTP_PORT, 1), "Envoy, REST/JSON (--http-port)"),
        (_ports(GRPC_PORT, 1), "Envoy, native gRPC (--grpc-port)"),
    ]


def _internal_ports() -> list[tuple[str, str]]:
    sandboxes, gateways = ", ".join(SANDBOXES), ", ".join(GATEWAYS)
    return [
        (_ports(EDGE_PORT, 1), "edge, gRPC (PAYLOOPS_EDGE_PORT fixes it)"),
        (_ports(VAULT_PORT, 1), "card vault, gRPC (tokens via Envoy; detokenization here only)"),
        (_ports(TEMPORAL_PORT, 1), "Temporal dev server, gRPC"),
        (_ports(TEMPORAL_HTTP_PORT, 1), "Temporal dev server, HTTP API"),
        (_ports(TEMPORAL_METRICS_PORT, 1), "Temporal dev server, metrics"),
        (_ports(TEMPORAL_UI_PORT, 1), "Temporal web UI"),
        (_ports(SANDBOX_GRPC_PORT, len(SANDBOXES)), f"sandboxes {sandboxes}, gRPC"),
        (
            _ports(SANDBOX_HTTP_PORT, len(SANDBOXES)),
            f"sandboxes {sandboxes}, 3-D Secure pages",
        ),
        (_ports(GATEWAY_PORT, len(GATEWAYS)), f"gateway adapters {gateways}, gRPC"),
        ("socket", "PostgreSQL (embedded): a unix socket, no TCP port"),
        ("socket", "Envoy admin: <state-dir>/run/envoy-admin.sock, no TCP port"),
    ]


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(port) for port, _ in _public_ports() + _internal_ports())
    return "".join(f"  {port:<{width}}  {what}\n" for port, what in rows)


def ports_help() -> str:
    """The epilog of `payloops dev --help`."""
    return (
        "Ports, all on 127.0.0.1. The public ones must be free, or the start fails:\n"
        + _table(_public_ports())
        + "Each internal service takes its port below when it is free and moves to a free "
        "one\nwhen it is taken (always, with PAYLOOPS_DEV_EPHEMERAL_PORTS=1); the start-up "
        "lines and\n<state-dir>/dev.env say where each one listens. PAYLOOPS_DATABASE_URL and\n"
        "PAYLOOPS_TEMPORAL_ADDRESS use an external PostgreSQL and Temporal instead.\n"
        + _table(_internal_ports())
    )
