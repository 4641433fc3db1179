"""The CLI's way to the platform operator's API: the API's URL and the admin key, from the
environment (PAYLOOPS_API_URL, PAYLOOPS_ADMIN_API_KEY) or else from the running `payloops dev`
mesh's dev.env in the state dir."""

from __future__ import annotations

import os
from typing import Any

import httpx

from cli.state import StatePaths, read_env

TIMEOUT_SECONDS = 30.0


class NoApi(Exception):
    """Neither the environment nor a running mesh says where the API is."""


def admin_client(state_dir: str) -> httpx.Client:
    env_file = StatePaths.at(state_dir).dev_env
    dev = read_env(env_file) if env_file.exists() else {}
    url = os.environ.get("PAYLOOPS_API_URL") or dev.get("PAYLOOPS_API_URL")
    key = os.environ.get("PAYLOOPS_ADMIN_API_KEY") or dev.get("PAYLOOPS_ADMIN_API_KEY")
    if not url or not key:
        raise NoApi(
            f"no API to call: set PAYLOOPS_API_URL and PAYLOOPS_ADMIN_API_KEY, or start "
            f"`payloops dev` (it writes {env_file})"
        )
    return httpx.Client(
        base_url=url,
        timeout=TIMEOUT_SECONDS,
        trust_env=False,
        headers={"Authorization": f"Bearer {key}"},
    )


def problem(response: httpx.Response) -> str:
    """The API's refusal in one line: its reason and message, never the request."""
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    reasons = [d.get("reason", "") for d in body.get("details", []) if "reason" in d]
    return f"HTTP {response.status_code} {' '.join(reasons)}: {body.get('message', '')}".strip()
