"""Renders envoy/envoy.yaml with the ports and paths of one deployment, and validates it.

`python -m cli.envoy_config --validate` (what `make validate-envoy` runs) renders the defaults
with an absolute descriptor path and runs `envoy --mode validate`; its exit code is Envoy's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from cli.binaries import BinaryNotFound, find_binary

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "envoy" / "envoy.yaml"
DEFAULT_DESCRIPTOR = REPO_ROOT / "gen" / "payloops.binpb"

DEFAULT_HTTP_PORT = 8080
DEFAULT_GRPC_PORT = 8081
DEFAULT_ADMIN_PORT = 9901
DEFAULT_EDGE_ADDRESS = "127.0.0.1:50051"

_FILE_ACCESS_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"


def render(
    http_port: int = DEFAULT_HTTP_PORT,
    grpc_port: int = DEFAULT_GRPC_PORT,
    admin_port: int = DEFAULT_ADMIN_PORT,
    edge_address: str = DEFAULT_EDGE_ADDRESS,
    descriptor_path: str | Path = DEFAULT_DESCRIPTOR,
    access_log_path: str | Path = "/dev/stdout",
) -> str:
    """The template with these values filled in, as YAML text."""
    config: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    edge_host, edge_port = _split_address(edge_address)

    _socket_address(config["admin"])["port_value"] = admin_port
    listeners = {item["name"]: item for item in config["static_resources"]["listeners"]}
    _socket_address(listeners["rest"])["port_value"] = http_port
    _socket_address(listeners["grpc"])["port_value"] = grpc_port

    clusters = {item["name"]: item for item in config["static_resources"]["clusters"]}
    for endpoints in clusters["edge"]["load_assignment"]["endpoints"]:
        for lb_endpoint in endpoints["lb_endpoints"]:
            address = _socket_address(lb_endpoint["endpoint"])
            address["address"] = edge_host
            address["port_value"] = edge_port

    # Found by walking rather than by position, so a new transcoder (e.g. a per-route one)
    # or access log in the template is covered too.
    for node in _dicts(config):
        if "proto_descriptor" in node:
            node["proto_descriptor"] = str(descriptor_path)
        if node.get("@type") == _FILE_ACCESS_LOG:
            node["path"] = str(access_log_path)
    return yaml.safe_dump(config, sort_keys=False, width=120)


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


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"edge address must be HOST:PORT, got {address!r}")
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
    parser.add_argument("--admin-port", type=int, default=DEFAULT_ADMIN_PORT)
    parser.add_argument("--edge-address", default=DEFAULT_EDGE_ADDRESS)
    parser.add_argument("--descriptor", type=Path, default=DEFAULT_DESCRIPTOR)
    parser.add_argument("--access-log", default="/dev/stdout")
    args = parser.parse_args(argv)

    text = render(
        args.http_port,
        args.grpc_port,
        args.admin_port,
        args.edge_address,
        args.descriptor.resolve(),
        args.access_log,
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
