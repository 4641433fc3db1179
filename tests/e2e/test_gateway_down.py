"""A gateway that is down (its process killed, nothing listening on its port) against one whose
connection drops after it got the request. The first was never sent anything: the payment
fails over at once and the breaker counts it. The second may have charged: its outcome is
unknown and resolved with the same gateway before any other is charged."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.routing_config.model import DEFAULT_RESOLUTION_BUDGET_SECONDS
from orchestrator.routing_engine.breaker import THRESHOLD
from tests.conftest import PAY_WAIT_SECONDS, Mesh, start_sandbox
from tests.e2e.failover_helpers import clean_processors, pay, settled, wait_for
from tests.e2e.sandbox_control import charges
from tests.e2e.scripted_gateway import ScriptedGateway, charge_then_drop, registered, serving
from tests.fakes.dropping_proxy import dropping_proxy

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]

SECONDARY = "sandbox-b"


@pytest.fixture
def killable_gateway(mesh: Mesh) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A sandbox gateway in a process of its own, registered in the mesh; killed at the end
    if the test has not killed it."""
    name = f"killable-{uuid.uuid4().hex[:6]}"
    workdir = Path(tempfile.mkdtemp(prefix="pl-kill-", dir="/tmp"))
    target, process = start_sandbox(name, workdir)
    try:
        with registered(mesh, name, target):
            yield name, process
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def routed_to(mesh: Mesh, primary: str) -> httpx.Client:
    """A merchant routing `primary`, then the secondary, with the default resolution budget."""
    _, key = mesh.new_merchant("gateway down")
    api = mesh.client(key)
    response = api.put(
        "/v1/routing",
        json={"rules": [{"name": "all", "failover": {"processors": [primary, SECONDARY]}}]},
    )
    assert response.status_code == 200, response.text
    return api


def attempts(order: dict) -> list[tuple[str, str, str]]:
    return [(a["processor"], a["outcome"], a["failover_reason"]) for a in order["attempts"]]


def test_a_killed_gateway_is_failed_over_at_once_and_opens_its_breaker(
    mesh: Mesh, killable_gateway: tuple[str, subprocess.Popen[bytes]]
) -> None:
    # A payment that waited out the resolution budget would answer PROCESSING: PayOrder's wait
    # is shorter.
    assert PAY_WAIT_SECONDS < DEFAULT_RESOLUTION_BUDGET_SECONDS
    name, process = killable_gateway
    api = routed_to(mesh, name)
    assert attempts(pay(api)) == [(name, "SUCCEEDED", "")]  # the worker is connected to it
    process.kill()  # SIGKILL, by its pid: nothing listens on its port any more
    process.wait()

    for _ in range(THRESHOLD):
        order = pay(api)
        # Answered by PayOrder itself: no deadline and no resolution budget waited out.
        assert order["status"] == "SUCCEEDED", order
        assert attempts(order) == [(name, "FAILED", "not_sent"), (SECONDARY, "SUCCEEDED", "")]
        down = order["attempts"][0]
        assert (down["decline_code"], down["decline_message"]) == (
            "processor_unavailable",
            "the processor could not be reached: nothing was sent",
        )
        assert [c.state for c in charges(mesh, order["id"], SECONDARY)] == ["captured"]

    # THRESHOLD unreachable calls in a row opened its breaker: now it is not even called.
    skipped = pay(api)
    assert attempts(skipped) == [(SECONDARY, "SUCCEEDED", "")]
    assert {"processor": name, "decision": "skipped", "reason": "circuit_open"} in skipped[
        "routing"
    ]["candidates"]


def test_a_connection_dropped_after_the_request_is_resolved_not_failed_over(mesh: Mesh) -> None:
    """The gateway charges, then every connection to it drops before the answer (also on each
    re-send): the call went out, so the outcome is unknown. The lookup finds the charge, which
    is the payment; the secondary is never charged."""
    gateway = ScriptedGateway()
    with (
        serving(gateway) as upstream,
        dropping_proxy(upstream) as proxy,
        registered(mesh, gateway.name, proxy.target),
    ):
        gateway.scripts["Authorize"] = charge_then_drop(proxy)
        api = routed_to(mesh, gateway.name)
        order = wait_for(api, pay(api)["id"], settled)
    assert order["status"] == "SUCCEEDED", order
    assert attempts(order) == [(gateway.name, "SUCCEEDED", "")]
    assert gateway.count("GetPayment") >= 1 and gateway.live()
    assert charges(mesh, order["id"], SECONDARY) == []
