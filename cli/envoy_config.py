"""Renders envoy/envoy.yaml with the ports and paths of one deployment, and validates it.

`python -m cli.envoy_config --validate` (what `make validate-envoy` runs) renders the defaults
with an absolute descriptor path and runs `envoy --mode validate`; its exit code is Envoy's.
`--container` writes the container variant docker-compose.yml runs (envoy/envoy.compose.yaml,
`make gen`); with `--validate`, validates that committed file. The dev renderings read the
per-key rate limit from PAYLOOPS_RATE_LIMIT_PER_SECOND and _BURST; the container variant, a
committed file, keeps the template's.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from cli import dashboard_site, dev_layout, page_scripts
from cli.binaries import BinaryNotFound, find_binary
from core.config import otel_exporter
from processors.kit import otlp

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "envoy" / "envoy.yaml"
DEFAULT_DESCRIPTOR = REPO_ROOT / "gen" / "payloops.binpb"
# The static files Envoy answers itself on the REST listener are named in the template by their
# path in the repository: the hosted card fields' files, and the API reference page.
HOSTED_DIR = REPO_ROOT / "vault" / "hosted"
API_REFERENCE_PAGE = REPO_ROOT / "gen" / "openapi.html"
# Where the REST listener serves that page (the template's api_reference route).
API_REFERENCE_PATH = "/docs/api"
# Stands in the template for the hashes of the inline scripts of the page a route serves.
PAGE_INLINE_SCRIPTS = "'page-inline-scripts'"

DEFAULT_HTTP_PORT = dev_layout.HTTP_PORT
DEFAULT_GRPC_PORT = dev_layout.GRPC_PORT
# Envoy's admin API listens on a unix socket only (envoy/envoy.yaml says why).
DEFAULT_ADMIN_SOCKET = Path("/run/payloops/envoy-admin.sock")
# sockaddr_un holds 108 bytes with the terminating NUL.
MAX_SOCKET_PATH = 107
DEFAULT_EDGE_ADDRESS = f"127.0.0.1:{dev_layout.EDGE_PORT}"
DEFAULT_VAULT_ADDRESS = f"127.0.0.1:{dev_layout.VAULT_PORT}"

_FILE_ACCESS_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
_HCM = (
    "type.googleapis.com/"
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
)
_COLLECTOR_CLUSTER = "opentelemetry_collector"
# Debian's bundle of the certificate authorities the system trusts (the ca-certificates
# package, which Envoy's own images carry too).
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
_DASHBOARD_CLUSTER = "dashboard"
# The container variant (render_container), committed: `make gen` writes it, `make check-gen`
# keeps it fresh, docker-compose.yml mounts it.
CONTAINER_CONFIG = REPO_ROOT / "envoy" / "envoy.compose.yaml"
_LOCAL_RATE_LIMIT = (
    "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
)
RATE_LIMIT_PER_SECOND_VAR = "PAYLOOPS_RATE_LIMIT_PER_SECOND"
RATE_LIMIT_BURST_VAR = "PAYLOOPS_RATE_LIMIT_BURST"


@dataclass(frozen=True)
class RateLimit:
    """Requests one API key may make: `per_second` on average, `burst` at once (a token
    bucket of `burst` tokens, refilled by `per_second` every second)."""

    per_second: int = 100
    burst: int = 200

    def __post_init__(self) -> None:
        if self.per_second < 1 or self.burst < self.per_second:
            raise ValueError(
                f"the rate limit needs per_second >= 1 and burst >= per_second, "
                f"got {self.per_second}/s with a burst of {self.burst}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str], default: RateLimit | None = None) -> RateLimit:
        """PAYLOOPS_RATE_LIMIT_PER_SECOND and _BURST; the burst defaults to twice the rate."""
        fallback = default or cls()
        per_second = _positive_int(env, RATE_LIMIT_PER_SECOND_VAR, fallback.per_second)
        burst_default = fallback.burst if RATE_LIMIT_PER_SECOND_VAR not in env else 2 * per_second
        return cls(per_second, _positive_int(env, RATE_LIMIT_BURST_VAR, burst_default))


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Upstreams:
    """Where Envoy sends what: the edge (the API) and the card vault (/v1/tokens only)."""

    edge: str = DEFAULT_EDGE_ADDRESS
    vault: str = DEFAULT_VAULT_ADDRESS


@dataclass(frozen=True)
class ContainerLayout:
    """Where things are in docker-compose.yml's deployment: the upstreams by service name, the
    repository's files where the compose file mounts them into the Envoy container, the admin
    socket in the container's own /tmp (Envoy's image has no /run/payloops), the collector
    Envoy sends its spans to, and the dashboard service."""

    edges: tuple[str, ...] = ("edge-1:50051", "edge-2:50051")
    vault: str = f"vault:{dev_layout.VAULT_PORT}"
    dashboard: str = f"dashboard:{dashboard_site.SERVER_PORT}"
    collector: str = "otel-collector:4317"
    files_root: Path = Path("/etc/payloops")
    admin_socket: Path = Path("/tmp/envoy-admin.sock")


@dataclass(frozen=True)
class Tracing:
    """Where Envoy sends its spans, and how often it flushes them: OTLP over gRPC, or over
    HTTP (protobuf bodies POSTed to `http_path`) when `http_path` is set; over TLS, verified
    against the certificates in `ca_file`, when that is set."""

    collector_host: str
    collector_port: int
    flush_interval_ms: int = 5000
    http_path: str = ""
    ca_file: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Tracing | None:
        """From the standard OTEL_* variables PayLoops' own services read (core.telemetry):
        Envoy traces when they export OTLP, to the same collector, over the same protocol
        (OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL), on the same batch delay. The endpoint as the
        OTLP specification reads it: the traces endpoint as given, the common one with
        /v1/traces after its path for HTTP; an https endpoint over TLS, trusting
        OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE or else the system's certificates, as the
        services' exporters do."""
        if otel_exporter(env, "OTEL_TRACES_EXPORTER") != "otlp":
            return None
        http = otlp.protocol("traces", env) == "http/protobuf"
        own = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        common = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        endpoint = urlsplit(own or common or f"http://localhost:{4318 if http else 4317}")
        path = ""
        if http:
            path = endpoint.path if own else f"{endpoint.path.rstrip('/')}/v1/traces"
        ca_file = ""
        if endpoint.scheme == "https":
            ca_file = (
                env.get("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "").strip()
                or env.get("OTEL_EXPORTER_OTLP_CERTIFICATE", "").strip()
                or SYSTEM_CA_BUNDLE
            )
        return cls(
            collector_host=endpoint.hostname or "localhost",
            collector_port=endpoint.port or (4318 if http else 4317),
            flush_interval_ms=int(env.get("OTEL_BSP_SCHEDULE_DELAY", "5000")),
            http_path=path or ("/" if http else ""),
            ca_file=ca_file,
        )


def render(
    http_port: int = DEFAULT_HTTP_PORT,
    grpc_port: int = DEFAULT_GRPC_PORT,
    admin_socket: str | Path = DEFAULT_ADMIN_SOCKET,
    edge_address: str = DEFAULT_EDGE_ADDRESS,
    vault_address: str = DEFAULT_VAULT_ADDRESS,
    descriptor_path: str | Path = DEFAULT_DESCRIPTOR,
    access_log_path: str | Path = "/dev/stdout",
    tracing: Tracing | None = None,
    rate_limit: RateLimit | None = None,
    dashboard_build: Path = dashboard_site.BUILD_DIR,
) -> str:
    """The template with these values filled in, as YAML text; with `tracing`, both listeners
    start (or continue, from a client's `traceparent`) a trace per request and pass it on to
    the edge. `rate_limit` is the per-key limit (RateLimit's defaults when None).
    `dashboard_build` is the dashboard's build directory, read now: Envoy serves the files it
    holds when it starts (a page saying how to build it when there is none)."""
    config = _config(
        http_port,
        grpc_port,
        admin_socket,
        edge_address,
        vault_address,
        descriptor_path,
        access_log_path,
        tracing,
        rate_limit,
        files_root=REPO_ROOT,
    )
    _add_dashboard(config, dashboard_build)
    return _dump(config)


def render_container(layout: ContainerLayout | None = None) -> str:
    """The config of docker-compose.yml's Envoy: the dev template with the container's
    addresses and paths (ContainerLayout), committed as envoy/envoy.compose.yaml."""
    layout = layout or ContainerLayout()
    collector_host, collector_port = _split_address(layout.collector, "collector")
    config = _config(
        DEFAULT_HTTP_PORT,
        DEFAULT_GRPC_PORT,
        layout.admin_socket,
        layout.edges[0],
        layout.vault,
        layout.files_root / DEFAULT_DESCRIPTOR.relative_to(REPO_ROOT),
        "/dev/stdout",
        Tracing(collector_host, collector_port),
        None,
        files_root=layout.files_root,
    )
    for listener in config["static_resources"]["listeners"]:
        _socket_address(listener)["address"] = "0.0.0.0"
    clusters = {item["name"]: item for item in config["static_resources"]["clusters"]}
    for name, addresses in (("edge", layout.edges), ("vault", (layout.vault,))):
        _resolve_by_name(clusters[name], addresses)
    clusters[_COLLECTOR_CLUSTER].update(dns_lookup_family="V4_ONLY")
    _add_dashboard_service(config, layout.dashboard)
    return _dump(config)


def _config(
    http_port: int,
    grpc_port: int,
    admin_socket: str | Path,
    edge_address: str,
    vault_address: str,
    descriptor_path: str | Path,
    access_log_path: str | Path,
    tracing: Tracing | None,
    rate_limit: RateLimit | None,
    files_root: Path,
) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    if len(str(admin_socket).encode()) > MAX_SOCKET_PATH:
        raise ValueError(
            f"the admin socket path must be at most {MAX_SOCKET_PATH} bytes: {admin_socket}"
        )

    config["admin"]["address"]["pipe"]["path"] = str(admin_socket)
    listeners = {item["name"]: item for item in config["static_resources"]["listeners"]}
    _socket_address(listeners["rest"])["port_value"] = http_port
    _socket_address(listeners["grpc"])["port_value"] = grpc_port

    clusters = {item["name"]: item for item in config["static_resources"]["clusters"]}
    for name, upstream in (("edge", edge_address), ("vault", vault_address)):
        host, port = _split_address(upstream, name)
        for endpoints in clusters[name]["load_assignment"]["endpoints"]:
            for lb_endpoint in endpoints["lb_endpoints"]:
                address = _socket_address(lb_endpoint["endpoint"])
                address["address"] = host
                address["port_value"] = port

    # Found by walking rather than by position, so a new transcoder (e.g. a per-route one)
    # or access log in the template is covered too.
    for node in _dicts(config):
        if "proto_descriptor" in node:
            node["proto_descriptor"] = str(descriptor_path)
        if node.get("@type") == _FILE_ACCESS_LOG:
            node["path"] = str(access_log_path)
        if node.get("@type") == _LOCAL_RATE_LIMIT:
            _set_rate_limit(node, rate_limit or RateLimit())
        if "direct_response" in node:
            _serve_repository_file(node, files_root)
    if tracing is not None:
        _add_tracing(config, tracing)
    return config


def _dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, width=120)


def _serve_repository_file(route: dict[str, Any], files_root: Path) -> None:
    """Points a route's direct response read from a file at that file under `files_root`,
    where Envoy finds the repository (Envoy reads it at start-up, relative to its own working
    directory otherwise), and puts the hashes of the file's inline scripts (read from the
    repository here) in its headers' place for them."""
    body = route["direct_response"].get("body", {})
    if "filename" not in body:
        return
    path = REPO_ROOT / body["filename"]
    body["filename"] = str(files_root / body["filename"])
    for item in route.get("response_headers_to_add", []):
        header = item["header"]
        if PAGE_INLINE_SCRIPTS in header["value"]:
            hashes = page_scripts.inline_script_hashes(path.read_text(encoding="utf-8"))
            header["value"] = header["value"].replace(PAGE_INLINE_SCRIPTS, " ".join(hashes))


def _add_dashboard(config: dict[str, Any], build_dir: Path) -> None:
    """The dashboard's routes after the API's, on the REST listener (cli/dashboard_site.py)."""
    listeners = {item["name"]: item for item in config["static_resources"]["listeners"]}
    for node in _dicts(listeners["rest"]):
        if node.get("@type") == _HCM:
            virtual_host = node["route_config"]["virtual_hosts"][0]
            virtual_host["routes"].extend(dashboard_site.routes(build_dir))


def _add_dashboard_service(config: dict[str, Any], address: str) -> None:
    """The dashboard's paths after the API's, sent to the dashboard service, which serves the
    build it was made with (cli/dashboard_server.py)."""
    listeners = {item["name"]: item for item in config["static_resources"]["listeners"]}
    for node in _dicts(listeners["rest"]):
        if node.get("@type") == _HCM:
            virtual_host = node["route_config"]["virtual_hosts"][0]
            virtual_host["routes"].extend(dashboard_site.proxied_routes(_DASHBOARD_CLUSTER))
    cluster: dict[str, Any] = {"name": _DASHBOARD_CLUSTER, "connect_timeout": "1s"}
    _resolve_by_name(cluster, (address,))
    config["static_resources"]["clusters"].append(cluster)


def _resolve_by_name(cluster: dict[str, Any], addresses: Sequence[str]) -> None:
    """A cluster of the hosts named in `addresses` (HOST:PORT), looked up in DNS and again
    every 5 s (Envoy's default) as containers restart with new addresses; IPv4 only, as a
    container network is by default."""
    cluster.update(type="STRICT_DNS", dns_lookup_family="V4_ONLY")
    endpoints = []
    for address in addresses:
        host, port = _split_address(address, cluster["name"])
        endpoints.append(
            {"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}}
        )
    cluster["load_assignment"] = {
        "cluster_name": cluster["name"],
        "endpoints": [{"lb_endpoints": endpoints}],
    }


def _set_rate_limit(local_rate_limit: dict[str, Any], limit: RateLimit) -> None:
    for descriptor in local_rate_limit["descriptors"]:
        descriptor["token_bucket"] = {
            "max_tokens": limit.burst,
            "tokens_per_fill": limit.per_second,
            # The template's Retry-After of 1 s holds because of this interval.
            "fill_interval": "1s",
        }


def _add_tracing(config: dict[str, Any], tracing: Tracing) -> None:
    for node in list(_dicts(config)):
        if node.get("@type") == _HCM:
            node["tracing"] = {
                # Spans would otherwise record the request's URL, query included, as http.url:
                # any of it may be a card number (the access logs leave it out too).
                "max_path_tag_length": 0,
                "provider": {
                    "name": "envoy.tracers.opentelemetry",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
                        **_exporter(tracing),
                        "service_name": "payloops-envoy",
                    },
                },
            }
    collector: dict[str, Any] = {
        "name": _COLLECTOR_CLUSTER,
        "type": "STRICT_DNS",
        "connect_timeout": "1s",
    }
    if not tracing.http_path:
        # OTLP/gRPC needs HTTP/2 to the collector; OTLP/HTTP goes over HTTP/1.1.
        collector["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/"
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        }
    if tracing.ca_file:
        collector["transport_socket"] = _tls_to(tracing)
    config["static_resources"]["clusters"].append(
        collector
        | {
            "load_assignment": {
                "cluster_name": _COLLECTOR_CLUSTER,
                "endpoints": [
                    {
                        "lb_endpoints": [
                            {
                                "endpoint": {
                                    "address": {
                                        "socket_address": {
                                            "address": tracing.collector_host,
                                            "port_value": tracing.collector_port,
                                        }
                                    }
                                }
                            }
                        ]
                    }
                ],
            },
        }
    )
    # The OpenTelemetry tracer sends what it has every flush interval (a runtime key), or
    # sooner once it holds 5 spans.
    config.setdefault("layered_runtime", {"layers": []})["layers"].append(
        {
            "name": "opentelemetry_flush",
            "static_layer": {"tracing.opentelemetry.flush_interval_ms": tracing.flush_interval_ms},
        }
    )


def _tls_to(tracing: Tracing) -> dict[str, Any]:
    """TLS to the collector: its certificate verified against `ca_file` and for its name (or
    address), ALPN as the protocol needs (gRPC is HTTP/2 only)."""
    host = tracing.collector_host
    try:
        ipaddress.ip_address(host)
        san, sni = "IP_ADDRESS", {}
    except ValueError:
        san, sni = "DNS", {"sni": host}
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/"
            "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            **sni,
            "common_tls_context": {
                "alpn_protocols": ["http/1.1"] if tracing.http_path else ["h2"],
                "validation_context": {
                    "trusted_ca": {"filename": tracing.ca_file},
                    "match_typed_subject_alt_names": [
                        {"san_type": san, "matcher": {"exact": host}}
                    ],
                },
            },
        },
    }


def _exporter(tracing: Tracing) -> dict[str, Any]:
    """The OpenTelemetry tracer's service: OTLP over gRPC, or over HTTP to `http_path`."""
    if not tracing.http_path:
        return {
            "grpc_service": {"envoy_grpc": {"cluster_name": _COLLECTOR_CLUSTER}, "timeout": "1s"}
        }
    scheme = "https" if tracing.ca_file else "http"
    uri = f"{scheme}://{tracing.collector_host}:{tracing.collector_port}{tracing.http_path}"
    return {
        "http_service": {
            "http_uri": {"uri": uri, "cluster": _COLLECTOR_CLUSTER, "timeout": "1s"},
        }
    }


CONTAINER_HEADER = (
    "# Generated by `make gen` (python -m cli.envoy_config --container) from envoy/envoy.yaml:\n"
    "# do not edit. docker-compose.yml's Envoy runs it (docs/deploy.md).\n"
)


def container_config_on_this_machine(layout: ContainerLayout | None = None) -> str:
    """The committed container config with the repository's files where they are here rather
    than where the compose file mounts them, for `envoy --mode validate` (which reads every
    file the config names) and for the compose twin test."""
    root = str((layout or ContainerLayout()).files_root)
    return CONTAINER_CONFIG.read_text().replace(f"{root}/", f"{REPO_ROOT}/")


def validate(config_path: Path, envoy: str | None = None) -> subprocess.CompletedProcess[str]:
    """Runs `envoy --mode validate` on a rendered config (binds nothing)."""
    binary = envoy or str(find_binary("envoy"))
    return subprocess.run(
        [binary, "--mode", "validate", "-c", str(config_path), "--log-level", "warn"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _split_address(address: str, what: str = "edge") -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{what} address must be HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


def _socket_address(node: dict[str, Any]) -> dict[str, Any]:
    address: dict[str, Any] = node["address"]["socket_address"]
    return address


def _dicts(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _dicts(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cli.envoy_config", description="Render or validate the Envoy config."
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="render the defaults and run `envoy --mode validate` on them",
    )
    parser.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT)
    parser.add_argument("--grpc-port", type=int, default=DEFAULT_GRPC_PORT)
    parser.add_argument("--admin-socket", type=Path, default=DEFAULT_ADMIN_SOCKET)
    parser.add_argument("--edge-address", default=DEFAULT_EDGE_ADDRESS)
    parser.add_argument("--vault-address", default=DEFAULT_VAULT_ADDRESS)
    parser.add_argument("--descriptor", type=Path, default=DEFAULT_DESCRIPTOR)
    parser.add_argument("--access-log", default="/dev/stdout")
    parser.add_argument(
        "--container",
        action="store_true",
        help=f"the container variant: write {CONTAINER_CONFIG.relative_to(REPO_ROOT)} "
        "(with --validate: validate that committed file instead)",
    )
    args = parser.parse_args(argv)

    if args.container and not args.validate:
        CONTAINER_CONFIG.write_text(CONTAINER_HEADER + render_container())
        return 0
    text = (
        container_config_on_this_machine()
        if args.container
        else render(
            args.http_port,
            args.grpc_port,
            args.admin_socket,
            args.edge_address,
            args.vault_address,
            args.descriptor.resolve(),
            args.access_log,
            rate_limit=RateLimit.from_env(os.environ),
        )
    )
    if not args.validate:
        sys.stdout.write(text)
        return 0
    try:
        envoy = str(find_binary("envoy"))
    except BinaryNotFound as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="payloops-envoy-") as tmp:
        path = Path(tmp) / "envoy.yaml"
        path.write_text(text)
        result = validate(path, envoy)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
