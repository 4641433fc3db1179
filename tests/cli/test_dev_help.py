"""`payloops dev --help` says which port each service prefers, from the constants the mesh
picks its ports with, and that a taken one is replaced by a free one."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from cli import dev_layout

REPO = Path(__file__).resolve().parents[2]


def preferred_ports() -> dict[str, int]:
    return {
        name: value
        for name, value in vars(dev_layout).items()
        if name.endswith("_PORT") and isinstance(value, int)
    }


def dev_help() -> str:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "dev", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def test_help_lists_every_preferred_port_and_every_service() -> None:
    text = dev_help()
    rows = re.findall(r"^  (\S+) +(.+)$", text, re.MULTILINE)
    first_ports = {int(port.split("-")[0]) for port, _ in rows if port[0].isdigit()}
    assert set(preferred_ports().values()) <= first_ports, text
    for first, names in (
        (dev_layout.SANDBOX_GRPC_PORT, dev_layout.SANDBOXES),
        (dev_layout.SANDBOX_HTTP_PORT, dev_layout.SANDBOXES),
        (dev_layout.GATEWAY_PORT, tuple(dev_layout.GATEWAYS)),
    ):
        assert f"{first}-{first + len(names) - 1} " in text
        assert all(name in text for name in names)
    for service in ("Envoy admin", "edge", "Temporal", "PostgreSQL", "--http-port", "--grpc-port"):
        assert service in text
    assert "moves to a free one" in " ".join(text.split())


def test_the_mesh_picks_every_port_from_the_constants_the_help_lists() -> None:
    """A port picked from anything else would be missing from --help."""
    tree = ast.parse((REPO / "cli" / "dev.py").read_text())
    picked = [
        node.args[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "pick"
    ]
    named = {
        leaf.attr
        for arg in picked
        for leaf in ast.walk(arg)
        if isinstance(leaf, ast.Attribute)
        and isinstance(leaf.value, ast.Name)
        and leaf.value.id == "dev_layout"
    }
    assert picked
    assert all(
        any(isinstance(leaf, ast.Attribute) and leaf.attr in named for leaf in ast.walk(arg))
        for arg in picked
    )
    assert named == set(preferred_ports()) - {"HTTP_PORT", "GRPC_PORT"}
