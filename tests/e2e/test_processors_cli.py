"""`payloops processors` against the running mesh: a deadline set with the CLI is what the next
payment's call to that processor gets, with nothing restarted."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from payloops.sandbox.v1 import control_pb2
from tests.conftest import PAYLOOPS, REPO, Mesh
from tests.e2e.failover_helpers import (
    DEADLINE_SECONDS,
    SANDBOXES,
    clean_processors,
    merchant_with_routing,
    pay,
    settled,
    wait_for,
)
from tests.e2e.sandbox_control import live_charges, set_fault

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]

DEFAULT_DEADLINE_MS = int(DEADLINE_SECONDS * 1000)


def processors_cli(mesh: Mesh, *args: str) -> str:
    # The state dir, not our environment, says which database: as a user's shell would.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLOOPS_")}
    result = subprocess.run(
        [*PAYLOOPS, "processors", *args, "--state-dir", str(mesh.state_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def target(mesh: Mesh, name: str) -> str:
    return mesh.env[f"PAYLOOPS_PROCESSOR_{name.upper().replace('-', '_')}_TARGET"]


@pytest.fixture
def sandbox_deadline_restored(mesh: Mesh) -> Iterator[None]:
    """Other tests count on the deadline `payloops dev` registers."""
    yield
    processors_cli(
        mesh, "add", "sandbox", target(mesh, "sandbox"), "--deadline-ms", str(DEFAULT_DEADLINE_MS)
    )


def test_list_shows_the_sandboxes_payloops_dev_registered(mesh: Mesh) -> None:
    listed = {p["name"]: p for p in json.loads(processors_cli(mesh, "list", "--json"))}
    assert {
        name: (listed[name]["target"], listed[name]["deadline_ms"], listed[name]["enabled"])
        for name in SANDBOXES
    } == {name: (target(mesh, name), DEFAULT_DEADLINE_MS, True) for name in SANDBOXES}


@pytest.mark.usefixtures("sandbox_deadline_restored")
def test_a_deadline_set_with_the_cli_applies_to_the_next_payment(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh, resolution_budget="1s")
    # Every call to sandbox takes 1.5 s: within the registered 5 s, it is simply slow.
    set_fault(mesh, control_pb2.FAULT_MODE_LATENCY, latency_ms=1500, name="sandbox")
    slow = wait_for(api, pay(api)["id"], settled)
    assert [(a["processor"], a["outcome"]) for a in slow["attempts"]] == [("sandbox", "SUCCEEDED")]

    out = processors_cli(mesh, "add", "sandbox", target(mesh, "sandbox"), "--deadline-ms", "300")
    assert "deadline 300 ms" in out
    listed = {p["name"]: p for p in json.loads(processors_cli(mesh, "list", "--json"))}
    assert listed["sandbox"]["deadline_ms"] == 300
    # Now the same slowness is past the deadline: no answer, so the payment moves on.
    cut = wait_for(api, pay(api)["id"], settled)
    assert cut["status"] == "SUCCEEDED"
    assert [(a["processor"], a["failover_reason"]) for a in cut["attempts"]] == [
        ("sandbox", "outcome_unknown"),
        ("sandbox-b", ""),
    ]
    assert len(live_charges(mesh, cut["id"], "sandbox-b")) == 1

    # And back: the next payment waits for sandbox again.
    processors_cli(
        mesh, "add", "sandbox", target(mesh, "sandbox"), "--deadline-ms", str(DEFAULT_DEADLINE_MS)
    )
    again = wait_for(api, pay(api)["id"], settled)
    assert [(a["processor"], a["outcome"]) for a in again["attempts"]] == [("sandbox", "SUCCEEDED")]
