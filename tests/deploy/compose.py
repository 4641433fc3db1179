"""docker-compose.yml as a real compose implementation reads it: `docker-compose config`
(Debian's docker-compose, which needs no container engine for that) resolves the anchors,
merges and `${VAR:?…}` interpolation, and refuses what the compose schema refuses."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
# Installed by `make compose-tools` (CI runs it), as `make chromium` installs the browser.
DOCKER_COMPOSE = "docker-compose"


def docker_compose() -> str:
    found = shutil.which(DOCKER_COMPOSE)
    assert found, (
        "docker-compose is missing: `make compose-tools` installs Debian's (as root), "
        "or `sudo apt-get install -y docker-compose`"
    )
    return found


def run_config(
    env: Mapping[str, str], compose_file: Path = COMPOSE_FILE, quiet: bool = False
) -> subprocess.CompletedProcess[str]:
    """`docker-compose -f FILE config` with exactly `env` (and PATH) as its environment."""
    return subprocess.run(
        [docker_compose(), "-f", str(compose_file), "config", *(["-q"] if quiet else [])],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=compose_file.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def resolved(env: Mapping[str, str], compose_file: Path = COMPOSE_FILE) -> dict[str, Any]:
    result = run_config(env, compose_file)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def required_variables(compose_file: Path = COMPOSE_FILE) -> set[str]:
    """The names of the file's `${VAR:?…}` variables."""
    import re

    return set(re.findall(r"\$\{([A-Z0-9_]+):\?", compose_file.read_text()))
