"""What `payloops dev` runs as child processes, how each is started and how it proves it is
ready. Which ones, and on which ports, is cli.dev_layout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cli import envoy_config, probes
from cli.dev_layout import GATEWAYS
from cli.procs import Child
from cli.state import StatePaths
from core.contracts import search_attributes

# The dev server's default history poll limits quantize every round trip to ~50 ms; these
# remove that. Updates (PayOrder's `pay`) must be enabled explicitly, and the version check
# would try to phone home from an offline machine.
TEMPORAL_DYNAMIC_CONFIG = (
    "history.transferProcessorMaxPollRPS=10000",
    "history.transferProcessorMaxPollHostRPS=10000",
    "history.timerProcessorMaxPollRPS=10000",
    "history.timerProcessorMaxPollHostRPS=10000",
    "history.visibilityProcessorMaxPollRPS=10000",
    "history.visibilityProcessorMaxPollHostRPS=10000",
    "frontend.enableUpdateWorkflowExecution=true",
    "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true",
    "frontend.enableServerVersionCheck=false",
)
# The history file in write-ahead-log mode, synced at checkpoints rather than at every commit:
# a payment's workflow takes a fraction of the server's time and CPU it took with the default
# rollback journal (docs/benchmarks.md, "The local Temporal server"). A committed transaction
# survives a crash of the server process (the log is in the file system); only an OS crash or a
# power cut can lose the last ones, which is right for a development server (production runs a
# Temporal cluster on PostgreSQL).
TEMPORAL_SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def _nothing() -> None:
    return None


@dataclass
class Service:
    child: Child
    probe: Callable[[], bool]  # "ready now?"
    ready_timeout: float
    summary: str  # printed after "ready"
    prepare: Callable[[], None] = field(default=_nothing)  # before every (re)start

    @property
    def name(self) -> str:
        return self.child.name


@dataclass(frozen=True)
class SandboxPorts:
    grpc: int
    http: int


def env_name(name: str) -> str:
    """`sandbox-b` -> `SANDBOX_B`, for PAYLOOPS_PROCESSOR_<NAME>_TARGET and the like."""
    return name.upper().replace("-", "_")


def sandbox_env(sandboxes: Mapping[str, SandboxPorts]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, ports in sandboxes.items():
        values[f"PAYLOOPS_PROCESSOR_{env_name(name)}_TARGET"] = f"127.0.0.1:{ports.grpc}"
        values[f"PAYLOOPS_SANDBOX_{env_name(name)}_HTTP"] = f"http://127.0.0.1:{ports.http}"
    return values


def _child(state: StatePaths, name: str, argv: list[str], env: dict[str, str]) -> Child:
    return Child(
        name=name, argv=argv, env=env, log_path=state.log(name), pid_path=state.pid_file(name)
    )


def _serve(*args: str) -> list[str]:
    # The same interpreter and code as the supervisor; `payloops serve …` is also what
    # containers run.
    return [sys.executable, "-m", "cli.main", "serve", *args]


@dataclass(frozen=True)
class TemporalPorts:
    grpc: int
    # Its HTTP API and metrics would otherwise be on ports of the server's own choosing, which
    # nobody could list among the platform's listeners (webhooks must never reach them).
    http: int
    metrics: int
    # The web UI (workflows searchable by id); None runs the server headless.
    ui: int | None = None

    def listeners(self) -> list[str]:
        ports = (self.grpc, self.http, self.metrics, *([self.ui] if self.ui else []))
        return [f"127.0.0.1:{port}" for port in ports]


def temporal_argv(
    binary: Path,
    db_file: Path,
    ports: TemporalPorts,
    sqlite_pragmas: Sequence[str] = TEMPORAL_SQLITE_PRAGMAS,
) -> list[str]:
    """The dev server's command line (bench/temporal_journal.py compares its journal modes)."""
    argv = [
        str(binary),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(ports.grpc),
        "--http-port",
        str(ports.http),
        "--metrics-port",
        str(ports.metrics),
        *(["--ui-ip", "127.0.0.1", "--ui-port", str(ports.ui)] if ports.ui else ["--headless"]),
        "--db-filename",
        str(db_file),
        "--log-level",
        "warn",
    ]
    for value in TEMPORAL_DYNAMIC_CONFIG:
        argv += ["--dynamic-config-value", value]
    argv += search_attributes.dev_server_flags()
    for pragma in sqlite_pragmas:
        argv += ["--sqlite-pragma", pragma]
    return argv


def otel_env(collector_url: str) -> dict[str, str]:
    """`payloops dev --otel URL`: every service sends its traces, metrics and logs over OTLP to
    the collector at URL (Envoy its traces)."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
    }


def temporal(state: StatePaths, binary: Path, ports: TemporalPorts, env: dict[str, str]) -> Service:
    argv = temporal_argv(binary, state.temporal_db, ports)
    target = f"127.0.0.1:{ports.grpc}"
    # The OTEL_* variables configure PayLoops' own tracing. The dev server reads them too and
    # refuses to start on values it does not know (OTEL_TRACES_EXPORTER=console): it is not
    # traced.
    untraced = {key: value for key, value in env.items() if not key.startswith("OTEL_")}
    ui = f"UI http://127.0.0.1:{ports.ui}  " if ports.ui else ""
    # Its own metrics, in Prometheus' text format, for a collector to scrape.
    metrics = f"metrics http://127.0.0.1:{ports.metrics}/metrics  "
    return Service(
        child=_child(state, "temporal", argv, untraced),
        probe=lambda: probes.grpc_serving(target, probes.TEMPORAL_SERVICE),
        ready_timeout=60,
        summary=f"{target}  {ui}{metrics}(history in {state.temporal_db})",
    )


def sandbox(state: StatePaths, name: str, ports: SandboxPorts, env: dict[str, str]) -> Service:
    argv = _serve(
        "processor",
        "sandbox",
        "--name",
        name,
        "--port",
        str(ports.grpc),
        "--http-port",
        str(ports.http),
        "--ledger",
        str(state.ledger(name)),
    )
    target = f"127.0.0.1:{ports.grpc}"
    return Service(
        child=_child(state, f"sandbox-{name}", argv, env),
        probe=lambda: probes.grpc_serving(target),
        ready_timeout=60,
        summary=f"gRPC {target}  3-D Secure pages http://127.0.0.1:{ports.http}",
    )


def gateway(state: StatePaths, name: str, port: int, env: dict[str, str]) -> Service:
    argv = _serve("processor", name, "--port", str(port))
    if api_base := env.get(GATEWAYS[name]):
        argv += ["--api-base", api_base]
    target = f"127.0.0.1:{port}"
    return Service(
        child=_child(state, name, argv, env),
        probe=lambda: probes.grpc_serving(target),
        ready_timeout=60,
        summary=f"gRPC {target}  API {api_base or 'the real one'}",
    )


def edge(state: StatePaths, port: int, env: dict[str, str]) -> Service:
    target = f"127.0.0.1:{port}"
    return Service(
        child=_child(state, "edge", _serve("edge", "--port", str(port)), env),
        probe=lambda: probes.grpc_serving(target),
        ready_timeout=60,
        summary=f"gRPC {target}",
    )


def vault(state: StatePaths, port: int, env: dict[str, str]) -> Service:
    target = f"127.0.0.1:{port}"
    return Service(
        child=_child(state, "vault", _serve("vault", "--port", str(port)), env),
        probe=lambda: probes.grpc_serving(target),
        ready_timeout=60,
        summary=f"gRPC {target}",
    )


def worker(state: StatePaths, temporal_address: str, env: dict[str, str]) -> Service:
    ready_file = state.run / "worker.ready"
    return Service(
        child=_child(state, "worker", _serve("worker", "--ready-file", str(ready_file)), env),
        probe=ready_file.exists,
        ready_timeout=90,
        summary=f"polling Temporal at {temporal_address}",
        # A ready file from the previous run (or incarnation) must not count.
        prepare=lambda: ready_file.unlink(missing_ok=True),
    )


@dataclass(frozen=True)
class EnvoyPorts:
    http: int
    grpc: int


def listeners(
    envoy_ports: EnvoyPorts,
    edge_port: int,
    vault_port: int,
    sandboxes: Mapping[str, SandboxPorts],
    gateways: Mapping[str, int],
) -> list[str]:
    """The addresses these services listen on (Envoy's admin has none: a unix socket)."""
    ports = [
        envoy_ports.http,
        envoy_ports.grpc,
        edge_port,
        vault_port,
        *(port for sandbox in sandboxes.values() for port in (sandbox.grpc, sandbox.http)),
        *gateways.values(),
    ]
    return [f"127.0.0.1:{port}" for port in ports]


# Generous, unless PAYLOOPS_RATE_LIMIT_* say otherwise: the e2e suite and the bench send
# everything with one key, as fast as they can, and must never meet the limit.
DEV_RATE_LIMIT = envoy_config.RateLimit(per_second=10_000, burst=20_000)


def envoy(
    state: StatePaths,
    binary: Path,
    ports: EnvoyPorts,
    upstreams: envoy_config.Upstreams,
    env: dict[str, str],
) -> Service:
    admin_socket = state.envoy_admin_socket

    def prepare() -> None:
        # A socket file left by a killed Envoy would make the new one fail to bind.
        admin_socket.unlink(missing_ok=True)
        state.envoy_config.write_text(
            envoy_config.render(
                http_port=ports.http,
                grpc_port=ports.grpc,
                admin_socket=admin_socket,
                edge_address=upstreams.edge,
                vault_address=upstreams.vault,
                descriptor_path=envoy_config.DEFAULT_DESCRIPTOR,
                access_log_path=state.log("envoy-access"),
                tracing=envoy_config.Tracing.from_env(env),
                rate_limit=envoy_config.RateLimit.from_env(env, default=DEV_RATE_LIMIT),
            )
        )

    # --disable-hot-restart: no shared-memory domain socket, so several Envoys (other state
    # folders, other engineers) can run on one host.
    argv = [
        str(binary),
        "-c",
        str(state.envoy_config),
        "--disable-hot-restart",
        "--log-level",
        "warn",
    ]
    return Service(
        child=_child(state, "envoy", argv, env),
        probe=lambda: probes.unix_http_ok(admin_socket, "/ready", expect_body="LIVE"),
        ready_timeout=30,
        summary=(
            f"REST http://127.0.0.1:{ports.http}  gRPC 127.0.0.1:{ports.grpc}  "
            f"admin unix:{admin_socket}"
        ),
        prepare=prepare,
    )
