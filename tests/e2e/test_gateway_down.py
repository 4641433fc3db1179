"""A gateway that is down (its process killed, nothing listening on its port) against one whose
connection drops after it got the request. The first was never sent anything: the payment
fails over at once and the breaker counts it. The second may have charged: its outcome is
unknown and resolved with the same gateway before any other is charged. A merchant sees the
breaker a down gateway opened in its list of available processors."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from core.routing_config.model import DEFAULT_RESOLUTION_BUDGET_SECONDS
from orchestrator.routing_engine.breaker import COOL_DOWN, THRESHOLD
from payloops.sdk import PayLoops
from payloops.v1 import processors_pb2, processors_pb2_grpc
from tests.conftest import PAY_WAIT_SECONDS, Mesh, start_sandbox
from tests.e2e.failover_helpers import clean_processors, pay, settled, wait_for
from tests.e2e.mesh_db import sql
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


def health_over_rest(api: httpx.Client) -> dict[str, dict[str, Any]]:
    answer = api.get("/v1/available_processors")
    assert answer.status_code == 200, answer.text
    return {p["name"]: p["health"] for p in answer.json()["processors"]}


def test_a_merchant_sees_the_breaker_a_killed_gateway_opened_over_rest_and_grpc(
    mesh: Mesh, killable_gateway: tuple[str, subprocess.Popen[bytes]]
) -> None:
    name, process = killable_gateway
    _, key = mesh.new_merchant("breaker watcher")
    api = routed_to(mesh, name)
    with mesh.client(key) as watcher:
        before = health_over_rest(watcher)
    # No breaker row yet: closed, with nothing to date.
    assert before[name] == {"state": "CLOSED", "consecutive_failures": 0, "probe_ready": False}

    process.kill()
    process.wait()
    for _ in range(THRESHOLD):
        assert attempts(pay(api))[0] == (name, "FAILED", "not_sent")
    [(opened_at,)] = sql(
        mesh, "select opened_at from processor_health where processor = :n", n=name
    )

    # The breaker is the platform's: a merchant that never paid there sees it open too.
    with mesh.client(key) as watcher:
        shown = health_over_rest(watcher)
    down = shown[name]
    assert (down["state"], down["consecutive_failures"]) == ("OPEN", THRESHOLD)
    opened = datetime.fromisoformat(down["open_time"])
    assert opened == opened_at
    assert datetime.fromisoformat(down["retry_time"]) - opened == COOL_DOWN
    assert isinstance(down["probe_ready"], bool) and "update_time" in down
    # The gateway the payments failed over to answered every time.
    assert shown[SECONDARY] == {"state": "CLOSED", "consecutive_failures": 0, "probe_ready": False}

    with grpc.insecure_channel(mesh.grpc_target) as channel:
        answer = processors_pb2_grpc.ProcessorAccountServiceStub(channel).ListAvailableProcessors(
            processors_pb2.ListAvailableProcessorsRequest(),
            metadata=(("authorization", f"Bearer {key}"),),
            timeout=30,
        )
    by_name = {p.name: p.health for p in answer.processors}
    assert by_name[name].state == processors_pb2.ProcessorHealth.OPEN
    assert by_name[name].consecutive_failures == THRESHOLD
    assert by_name[name].open_time.ToDatetime(tzinfo=opened_at.tzinfo) == opened_at
    assert by_name[SECONDARY].state == processors_pb2.ProcessorHealth.CLOSED
    assert not by_name[SECONDARY].HasField("open_time")

    # And through the Python SDK, as its models read it.
    client = PayLoops(key, base_url=mesh.api_url)
    [from_sdk] = [p for p in client.processor_accounts.available_processors() if p.name == name]
    assert from_sdk.health is not None
    assert (from_sdk.health.state, from_sdk.health.open_time) == ("open", opened_at)


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
