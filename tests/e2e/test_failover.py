"""Failover across processors (three sandboxes acting as different gateways), checked against
their ledgers: never two live charges for one order."""

from __future__ import annotations

import json
import subprocess
import time

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
from tests.e2e.sandbox_control import charges, live_charges, set_fault

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]


def attempts(order: dict) -> list[tuple[str, str, str]]:
    return [(a["processor"], a["outcome"], a["failover_reason"]) for a in order["attempts"]]


def sandbox_cli(mesh: Mesh, *args: str) -> str:
    return subprocess.run(
        [*PAYLOOPS, "sandbox", *args, "--state-dir", str(mesh.state_dir)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def test_unavailable_primary_fails_over_at_once(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh)
    sandbox_cli(mesh, "fault", "sandbox", "unavailable")
    started = time.monotonic()
    order = pay(api)
    # Provably not sent: no deadline waited out, no resolution budget spent.
    assert time.monotonic() - started < DEADLINE_SECONDS, "did not fail over at once"
    assert order["status"] == "SUCCEEDED"
    assert attempts(order) == [("sandbox", "FAILED", "not_sent"), ("sandbox-b", "SUCCEEDED", "")]
    assert charges(mesh, order["id"], "sandbox") == []
    ledger = json.loads(sandbox_cli(mesh, "ledger", "sandbox-b", "--json"))
    mine = [c for c in ledger if c["order_id"] == order["id"]]
    assert [(c["state"], c["amount"]) for c in mine] == [("captured", 1500)]


def test_hanging_primary_fails_over_within_deadline_plus_resolution_budget(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh, resolution_budget="2s")
    set_fault(mesh, control_pb2.FAULT_MODE_HANG, name="sandbox")
    started = time.monotonic()
    paid = pay(api)
    order = wait_for(api, paid["id"], settled)
    elapsed = time.monotonic() - started
    assert order["status"] == "SUCCEEDED"
    assert [a["processor"] for a in order["attempts"]] == ["sandbox", "sandbox-b"]
    assert order["attempts"][0]["failover_reason"] == "outcome_unknown"
    # The bound the merchant configured: primary deadline + resolution budget + a margin; and
    # no sooner than the deadline plus the budget spent resolving the primary first.
    assert DEADLINE_SECONDS + 2 - 0.5 < elapsed < DEADLINE_SECONDS + 2 + 4, elapsed
    assert len(live_charges(mesh, order["id"], "sandbox-b")) == 1
    assert live_charges(mesh, order["id"], "sandbox") == []


def test_soft_decline_moves_on_and_hard_decline_stops(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh)
    soft = pay(api, "pm_card_soft_decline")
    hard = pay(api, "pm_card_insufficient_funds")
    assert soft["status"] == "FAILED" and soft["failure_code"] == "try_again_later"
    assert attempts(soft) == [
        ("sandbox", "DECLINED", "soft_decline"),
        ("sandbox-b", "DECLINED", "soft_decline"),
        ("sandbox-c", "DECLINED", ""),
    ]
    assert hard["status"] == "FAILED" and hard["failure_code"] == "insufficient_funds"
    assert attempts(hard) == [("sandbox", "DECLINED", "")]


def test_max_attempts_limits_the_processors_tried(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh, max_attempts=2)
    order = pay(api, "pm_card_soft_decline")
    assert [a["processor"] for a in order["attempts"]] == ["sandbox", "sandbox-b"]


def test_charge_then_lost_response_is_found_and_used(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh)
    set_fault(mesh, control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE, count=1, name="sandbox")
    order = wait_for(api, pay(api)["id"], settled)
    assert order["status"] == "SUCCEEDED"
    assert attempts(order) == [("sandbox", "SUCCEEDED", "")]
    assert len(charges(mesh, order["id"], "sandbox")) == 1
    assert all(charges(mesh, order["id"], name) == [] for name in SANDBOXES[1:])


def test_charge_whose_answers_keep_failing_is_found_by_lookup_and_used(mesh: Mesh) -> None:
    """Every Authorize to the primary charges (or replays its charge) and then fails, so
    re-sending never gets an answer; looking the attempt up by its key finds the charge within
    the resolution budget, and no other processor is charged. (A charge that stays unknown past
    the budget and is refunded after the secondary won: tests/e2e/test_gateway_misbehaviour.)"""
    api = merchant_with_routing(mesh, resolution_budget="2s")
    set_fault(mesh, control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE, name="sandbox")
    order = wait_for(api, pay(api)["id"], settled)
    assert order["status"] == "SUCCEEDED"
    assert attempts(order) == [("sandbox", "SUCCEEDED", "")]
    assert len(live_charges(mesh, order["id"], "sandbox")) == 1
    assert all(charges(mesh, order["id"], name) == [] for name in SANDBOXES[1:])


def test_wait_policy_keeps_resolving_instead_of_failing_over(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh, resolution_budget="1s", unknown_outcome_policy="WAIT")
    # The primary answers nothing, neither the charge nor the lookups: its outcome is unknown.
    set_fault(mesh, control_pb2.FAULT_MODE_HANG, name="sandbox")
    paid = pay(api)
    assert paid["status"] == "PROCESSING"
    # Past the primary's deadline and well past the resolution budget: still on the primary.
    time.sleep(DEADLINE_SECONDS + 3)
    waiting = api.get(f"/v1/orders/{paid['id']}").json()
    assert waiting["status"] == "PROCESSING"
    assert [a["processor"] for a in waiting["attempts"]] == ["sandbox"]
    set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name="sandbox")
    order = wait_for(api, paid["id"], settled)
    assert order["status"] == "SUCCEEDED"
    assert attempts(order) == [("sandbox", "SUCCEEDED", "")]
    assert len(charges(mesh, order["id"], "sandbox")) == 1
    assert all(charges(mesh, order["id"], name) == [] for name in SANDBOXES[1:])


def test_routing_decision_is_recorded_on_the_order(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh)
    order = pay(api)
    assert order["routing"]["config_version"] == "1"
    assert order["routing"]["rule"] == "all"
    assert [(c["processor"], c["decision"]) for c in order["routing"]["candidates"]] == [
        ("sandbox", "candidate"),
        ("sandbox-b", "candidate"),
        ("sandbox-c", "candidate"),
    ]


def test_circuit_breaker_skips_a_dead_processor_and_probes_it_after_recovery(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh)
    set_fault(mesh, control_pb2.FAULT_MODE_UNAVAILABLE, name="sandbox")
    tried_first = [pay(api)["attempts"][0]["processor"] for _ in range(7)]
    # Five consecutive failures open the breaker; after that sandbox is not tried at all.
    assert tried_first[:5] == ["sandbox"] * 5
    assert tried_first[5:] == ["sandbox-b"] * 2
    skipped = pay(api)
    assert {"processor": "sandbox", "decision": "skipped", "reason": "circuit_open"} in skipped[
        "routing"
    ]["candidates"]

    set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name="sandbox")
    time.sleep(6)  # the breaker's cool-down: then one payment probes the processor
    probe = pay(api)
    after = pay(api)
    assert [a["processor"] for a in probe["attempts"]] == ["sandbox"]
    assert [a["processor"] for a in after["attempts"]] == ["sandbox"]


def test_payment_budget_stops_trying_further_processors(mesh: Mesh) -> None:
    """Every sandbox answers after 1.5 s with a soft decline; a 2 s budget leaves time for the
    primary and part of the secondary (its deadline cut to what is left), never the third."""
    api = merchant_with_routing(mesh, payment_budget="2s", resolution_budget="1s")
    for name in SANDBOXES:
        set_fault(mesh, control_pb2.FAULT_MODE_LATENCY, latency_ms=1500, name=name)
    paid = pay(api, "pm_card_soft_decline")
    order = wait_for(api, paid["id"], lambda o: o["status"] == "FAILED", timeout=60)
    assert order["status"] == "FAILED"
    assert [a["processor"] for a in order["attempts"]] == ["sandbox", "sandbox-b"]
    assert charges(mesh, order["id"], "sandbox-c") == []


@pytest.mark.parametrize("latency_ms", [940, 970, 990])
def test_a_first_charge_at_the_end_of_the_budget_is_the_payment(
    mesh: Mesh, latency_ms: int
) -> None:
    """The first call takes about the whole 1 s budget and charges. Whether its answer comes
    just in time or just after (then it is unknown, and found charged), the charge is the
    payment: the order succeeds with that one charge, never FAILED with money taken."""
    api = merchant_with_routing(mesh, payment_budget="1s", resolution_budget="1s")
    set_fault(mesh, control_pb2.FAULT_MODE_LATENCY, count=1, latency_ms=latency_ms)
    paid = pay(api)
    order = wait_for(api, paid["id"], lambda o: o["status"] in ("SUCCEEDED", "FAILED"))
    assert order["status"] == "SUCCEEDED", order
    assert len(live_charges(mesh, order["id"], "sandbox")) == 1
    assert [a["processor"] for a in order["attempts"]] == ["sandbox"]


def test_every_attempt_shows_its_key_latency_and_reason(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh)
    set_fault(mesh, control_pb2.FAULT_MODE_LATENCY, count=1, latency_ms=300, name="sandbox")
    order = pay(api, "pm_card_soft_decline")
    first, second, third = order["attempts"]
    for seq, attempt in enumerate(order["attempts"], start=1):
        assert attempt["attempt_key"] == f"{order['id']}:authorize:{attempt['processor']}:{seq}"
        assert attempt["latency"].endswith("s") and attempt["create_time"]
    assert float(first["latency"].removesuffix("s")) >= 0.3  # the injected latency shows
    assert [a["failover_reason"] for a in (first, second, third)] == [
        "soft_decline",
        "soft_decline",
        "",
    ]
    assert {a["decline_code"] for a in order["attempts"]} == {"try_again_later"}
