"""Money safety against a gateway that misbehaves in the ways real ones do: refusing lookups,
refusing an undo, finishing a challenge just as it expires, charging long after it was asked.
A scripted gateway (tests/e2e/scripted_gateway.py) is the primary, the sandbox `sandbox-b` the
secondary; in every case at most one charge survives and the order says which."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from payloops.processor.v1 import processor_pb2 as pb
from payloops.sandbox.v1 import control_pb2
from tests.conftest import THREE_DS_TIMEOUT_SECONDS, Mesh
from tests.e2e.failover_helpers import clean_processors, wait_for
from tests.e2e.sandbox_control import charges, live_charges, set_fault
from tests.e2e.scripted_gateway import Answer, Refuse, ScriptedGateway, scripted_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]

RESOLUTION_BUDGET_S = 1.0
# How long an unknown attempt may stay not found (10 resolution budgets), plus the first look
# of the late-charge watch and a margin.
LATE_CHARGE_WAIT_S = 10 * RESOLUTION_BUDGET_S + 5 + 15


def routed_to(mesh: Mesh, gateway: ScriptedGateway) -> httpx.Client:
    _, key = mesh.new_merchant("misbehaving gateway")
    api = mesh.client(key)
    response = api.put(
        "/v1/routing",
        json={
            "rules": [{"name": "all", "failover": {"processors": [gateway.name, "sandbox-b"]}}],
            "resolution_budget": f"{RESOLUTION_BUDGET_S:g}s",
        },
    )
    assert response.status_code == 200, response.text
    return api


def pay(api: httpx.Client, token: str = "pm_card_visa") -> dict:
    order = api.post("/v1/orders", json={"amount": 1500, "currency": "USD"}).json()
    response = api.post(
        f"/v1/orders/{order['id']}:pay", json={"payment_method": {"type": "card", "token": token}}
    )
    assert response.status_code == 200, response.text
    return response.json()


def charge_then_lose_the_answer(
    gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext
) -> Any:
    """The gateway charges, then the answer is lost (an INTERNAL error: outcome unknown)."""
    if gateway.payment is None:
        gateway.charge(request.attempt_key, amount=request.amount)
    raise Refuse(grpc.StatusCode.INTERNAL, "upstream reset after charging")


def test_a_refused_lookup_is_not_taken_as_never_charged(mesh: Mesh) -> None:
    """The primary charged but refuses lookups for a while (PERMISSION_DENIED, as a gateway
    does while its credentials rotate); the secondary hard-declines. The primary's charge is
    the payment: the order must not end FAILED while the primary holds the money."""
    with scripted_gateway(mesh) as gateway:
        gateway.scripts["Authorize"] = charge_then_lose_the_answer
        # Counted from the payment, not from the set-up: a slow machine must not have the
        # lookups back before the resolution budget has run out.
        refused_until = math.inf

        def look_up(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> Any:
            if time.monotonic() < refused_until:
                raise Refuse(grpc.StatusCode.PERMISSION_DENIED, "key rotating")
            return pb.GetPaymentResponse(payment=gateway.payment)

        gateway.scripts["GetPayment"] = look_up
        api = routed_to(mesh, gateway)
        refused_until = time.monotonic() + 4
        paid = pay(api, "pm_card_insufficient_funds")
        order = wait_for(api, paid["id"], lambda o: o["status"] in ("SUCCEEDED", "FAILED"))
    assert order["status"] == "SUCCEEDED", order
    assert [(a["processor"], a["outcome"]) for a in order["attempts"]] == [
        (gateway.name, "SUCCEEDED"),
        ("sandbox-b", "DECLINED"),
    ]
    assert gateway.live() and gateway.count("GetPayment") > 1
    assert live_charges(mesh, order["id"], "sandbox-b") == []


def test_a_refused_refund_is_retried_until_the_gateway_confirms_it(mesh: Mesh) -> None:
    """The primary's unknown attempt turns out charged after the secondary won: its refund is
    refused once, and the compensation is recorded only once a refund really went through."""
    with scripted_gateway(mesh) as gateway:
        gateway.scripts["Authorize"] = charge_then_lose_the_answer
        # Counted from the payment (see above): the secondary must have won before the
        # primary's charge can be found.
        hidden_until = math.inf

        def look_up(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> Any:
            if time.monotonic() < hidden_until:
                raise Refuse(grpc.StatusCode.UNAVAILABLE, "lookups down")
            return pb.GetPaymentResponse(payment=gateway.payment)

        refusals: list[str] = []

        def refund(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> Any:
            if not refusals:
                refusals.append(request.refund_key)
                raise Refuse(grpc.StatusCode.FAILED_PRECONDITION, "refunds paused")
            return _honest("Refund")(gateway, request, context)

        gateway.scripts["GetPayment"] = look_up
        gateway.scripts["Refund"] = refund
        api = routed_to(mesh, gateway)
        hidden_until = time.monotonic() + 3
        paid = pay(api)
        order = wait_for(
            api, paid["id"], lambda o: o["attempts"][0]["compensation"] == "refunded", timeout=60
        )
    assert order["status"] == "SUCCEEDED"
    assert [(a["processor"], a["compensation"]) for a in order["attempts"]] == [
        (gateway.name, "refunded"),
        ("sandbox-b", ""),
    ]
    assert refusals and gateway.count("Refund") >= 2
    assert not gateway.live()
    assert len(live_charges(mesh, order["id"], "sandbox-b")) == 1


def test_a_challenge_finished_as_it_expires_is_kept_not_charged_again(mesh: Mesh) -> None:
    """The customer completes 3-D Secure just as the challenge times out: the void PayLoops
    sends is refused because the payment was captured. That capture is the payment; nothing
    else is charged."""
    with scripted_gateway(mesh) as gateway:

        def challenge(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> Any:
            payment = gateway.charge(
                request.attempt_key, outcome=pb.OUTCOME_REQUIRES_ACTION, amount=request.amount
            )
            payment.next_action.redirect_url = "https://gateway.example/3ds/sp_1"
            return pb.AuthorizeResponse(payment=payment)

        def captured_first(
            gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext
        ) -> Any:
            assert gateway.payment is not None
            gateway.payment.outcome = pb.OUTCOME_SUCCEEDED  # the customer got there first
            gateway.payment.amount_captured = gateway.payment.amount
            raise Refuse(grpc.StatusCode.FAILED_PRECONDITION, "payment already captured")

        gateway.scripts["Authorize"] = challenge
        gateway.scripts["Void"] = captured_first
        api = routed_to(mesh, gateway)
        paid = pay(api)
        assert paid["status"] == "REQUIRES_ACTION"
        order = wait_for(
            api,
            paid["id"],
            lambda o: o["status"] != "REQUIRES_ACTION",
            timeout=THREE_DS_TIMEOUT_SECONDS + 30,
        )
    assert order["status"] == "SUCCEEDED", order
    assert [(a["processor"], a["outcome"]) for a in order["attempts"]] == [
        (gateway.name, "SUCCEEDED")
    ]
    assert gateway.live()
    assert charges(mesh, order["id"], "sandbox-b") == []


@pytest.mark.slow
def test_a_charge_that_turns_up_after_the_order_failed_is_refunded(mesh: Mesh) -> None:
    """The primary never answers and never shows the attempt, so after the horizon the order
    fails (the secondary declined). Later the primary's charge appears after all: it is found
    by the late-charge watch and refunded; the order stays FAILED."""
    with scripted_gateway(mesh) as gateway:

        def lost(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> Any:
            raise Refuse(grpc.StatusCode.INTERNAL, "upstream reset")

        gateway.scripts["Authorize"] = lost
        api = routed_to(mesh, gateway)
        paid = pay(api, "pm_card_insufficient_funds")
        failed = wait_for(
            api, paid["id"], lambda o: o["status"] == "FAILED", timeout=LATE_CHARGE_WAIT_S
        )
        assert failed["status"] == "FAILED", failed
        assert failed["attempts"][0]["outcome"] == "FAILED"
        gateway.charge(failed["attempts"][0]["attempt_key"])  # processed very late after all
        order = wait_for(
            api,
            paid["id"],
            lambda o: o["attempts"][0]["compensation"] == "refunded",
            timeout=LATE_CHARGE_WAIT_S,
        )
    assert order["status"] == "FAILED"
    assert order["attempts"][0]["compensation"] == "refunded"
    assert not gateway.live()


def test_a_late_charge_claims_the_order_and_the_next_charge_is_undone(mesh: Mesh) -> None:
    """The primary's unknown attempt turns out charged while the secondary is still working
    (slowly) on its own charge: the first charge to claim the order is its payment, the
    secondary's is refunded, and no third processor is tried."""
    set_fault(mesh, control_pb2.FAULT_MODE_LATENCY, latency_ms=4000, name="sandbox-b")
    with scripted_gateway(mesh) as gateway:
        gateway.scripts["Authorize"] = charge_then_lose_the_answer
        api = routed_to(mesh, gateway)
        paid = pay(api)
        order = wait_for(
            api,
            paid["id"],
            lambda o: len(o["attempts"]) == 2 and o["attempts"][1]["compensation"] == "refunded",
            timeout=60,
        )
    assert order["status"] == "SUCCEEDED"
    assert [(a["processor"], a["outcome"], a["compensation"]) for a in order["attempts"]] == [
        (gateway.name, "SUCCEEDED", ""),
        ("sandbox-b", "CANCELED", "refunded"),
    ]
    assert gateway.live()
    assert live_charges(mesh, order["id"], "sandbox-b") == []
    assert [c.state for c in charges(mesh, order["id"], "sandbox-b")] == ["refunded"]


def test_a_first_call_resent_by_a_new_worker_and_not_taken_is_not_never_charged(
    mesh: Mesh,
) -> None:
    """The worker dies after the primary charged and before the payment kept the answer; the
    new worker sends the first call again under the same key, and the primary says NOT_SENT
    (about that re-send only). Taken as "never charged", the payment moved on and the secondary
    charged too: the chaos test saw a SUCCEEDED order with two live charges. The re-send's
    outcome is unknown, so the primary is asked and its charge is the payment."""
    charged, worker_gone = threading.Event(), threading.Event()

    def charge_then_die(gateway: ScriptedGateway, request: Any, context: Any) -> Any:
        if gateway.payment is None:
            gateway.charge(request.attempt_key, amount=request.amount)
            charged.set()
            worker_gone.wait(timeout=60)  # the answer goes to a worker that is no more
            return pb.AuthorizeResponse(payment=gateway.payment)
        context.abort_with_status(rpc_status.to_status(_not_sent_status()))

    with scripted_gateway(mesh) as gateway:
        gateway.scripts["Authorize"] = charge_then_die
        api = routed_to(mesh, gateway)
        order = api.post("/v1/orders", json={"amount": 1500, "currency": "USD"}).json()
        payer = threading.Thread(target=_pay_quietly, args=(api, order["id"]), daemon=True)
        payer.start()
        old_worker = mesh.pid_of("worker")
        try:
            assert charged.wait(timeout=60), "the primary was never called"
            os.kill(old_worker, signal.SIGKILL)
        finally:
            worker_gone.set()
        order = wait_for(api, order["id"], _settled_and_undone, timeout=120)
        payer.join(timeout=60)
    assert mesh.pid_of("worker") != old_worker
    assert order["status"] == "SUCCEEDED", order
    # Whether the secondary was tried depends on how much of the resolution budget the new
    # worker had left; if it was, its charge was undone.
    assert (order["attempts"][0]["processor"], order["attempts"][0]["outcome"]) == (
        gateway.name,
        "SUCCEEDED",
    )
    assert gateway.live()
    assert live_charges(mesh, order["id"], "sandbox-b") == []


def _settled_and_undone(order: dict[str, Any]) -> bool:
    """Decided, and every charge that must not survive undone."""
    return order["status"] in ("SUCCEEDED", "FAILED") and all(
        a["outcome"] != "PENDING" and a["compensation"] != "pending" for a in order["attempts"]
    )


def _not_sent_status() -> status_pb2.Status:
    """What an adapter answers for a request its gateway never got."""
    status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message="gateway refused the connection")
    status.details.add().Pack(error_details_pb2.ErrorInfo(reason="NOT_SENT"))
    return status


def _pay_quietly(api: httpx.Client, order_id: str) -> None:
    """PayOrder while the worker dies: its answer does not matter, the order's end does."""
    with contextlib.suppress(httpx.HTTPError):
        api.post(
            f"/v1/orders/{order_id}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
        )


def _honest(method: str) -> Answer:
    from tests.e2e.scripted_gateway import _DEFAULTS

    return _DEFAULTS[method]
