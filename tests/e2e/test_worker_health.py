"""/health says degraded when no worker polls the task queue (edge/services/health.py), and
healthy again once one does: Temporal accepts payments with no worker, so only this tells an
operator that they will wait. The edge itself still serves: the answer stays a 200."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cli.state import StatePaths
from tests.conftest import Mesh, retire_mesh, start_mesh
from tests.e2e.failover_helpers import pay

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# An idle worker renews its long polls about once a minute; this mesh calls it missing sooner,
# so the test need not wait minutes. Between payments this mesh may look degraded: only the
# moments right after a payment, or a stopped worker, are asserted.
SILENCE_SECONDS = 15


@pytest.fixture(scope="module")
def own_mesh() -> Iterator[Mesh]:
    mesh = start_mesh({"PAYLOOPS_WORKER_SILENCE_SECONDS": str(SILENCE_SECONDS)})
    try:
        yield mesh
    finally:
        retire_mesh(mesh.process, mesh.state_dir)


def health(mesh: Mesh) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{mesh.api_url}/health", timeout=10)
    return answer.status_code, answer.json()


def healthy_after_a_payment(mesh: Mesh) -> None:
    """A payment makes the worker poll afresh; then /health is ok."""
    deadline = time.monotonic() + 90
    while True:
        assert pay(mesh.client(), amount=700)["status"] == "SUCCEEDED"
        code, body = health(mesh)
        assert code == 200, body
        if body["status"] == "ok":
            assert body["checks"] == {"database": "ok", "temporal": "ok", "worker": "ok"}
            return
        assert time.monotonic() < deadline, body


def test_a_stopped_worker_turns_health_degraded_until_it_polls_again(own_mesh: Mesh) -> None:
    healthy_after_a_payment(own_mesh)
    # Stopped rather than killed: the dev supervisor would restart a dead worker at once. A
    # stopped one holds its connection open and polls no more, as a hung worker would.
    worker = int(StatePaths.at(own_mesh.state_dir).pid_file("worker").read_text())
    os.kill(worker, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + SILENCE_SECONDS + 90
        while True:
            code, body = health(own_mesh)
            assert code == 200, body
            if body["status"] != "ok":
                break
            assert time.monotonic() < deadline, "health stayed ok without a polling worker"
            time.sleep(1)
        assert body == {
            "status": "degraded",
            "checks": {"database": "ok", "temporal": "ok", "worker": "no_poller"},
        }
    finally:
        os.kill(worker, signal.SIGCONT)
    healthy_after_a_payment(own_mesh)
