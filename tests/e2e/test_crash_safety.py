"""A worker killed in the middle of a payment: the order still completes, charged once."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import httpx
import pytest

from core.config import DEFAULT_TASK_QUEUE
from core.contracts.payment import WORKFLOW_TYPE, PaymentInput, PaymentMethod, workflow_id
from core.contracts.vocabulary import CaptureMethod
from payloops.sandbox.v1 import control_pb2
from tests.conftest import Mesh
from tests.e2e.mesh_db import sql
from tests.e2e.sandbox_control import charges, live_charges, set_fault

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def wait_until(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def pay_in_background(mesh: Mesh, order_id: str) -> threading.Thread:
    def pay() -> None:
        with mesh.client() as api:
            api.post(
                f"/v1/orders/{order_id}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            )

    thread = threading.Thread(target=pay, daemon=True)
    thread.start()
    return thread


def settled(mesh: Mesh, order_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    with mesh.client() as api:
        while True:
            order = api.get(f"/v1/orders/{order_id}").json()
            if order["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
                return order
            time.sleep(0.2)


@pytest.mark.parametrize("kill_when", ["while_processor_answers", "right_after_the_charge"])
def test_worker_killed_mid_payment_completes_with_one_charge(mesh: Mesh, kill_when: str) -> None:
    with mesh.client() as api:
        order = api.post("/v1/orders", json={"amount": 3100, "currency": "USD"}).json()
    # The processor takes 1.5 s to answer, which leaves time to kill the worker mid-call.
    set_fault(mesh, control_pb2.FAULT_MODE_LATENCY, count=1, latency_ms=1500)
    worker_pid = mesh.pid_of("worker")
    payer = pay_in_background(mesh, order["id"])
    try:
        if kill_when == "while_processor_answers":
            wait_until(lambda: _status(mesh, order["id"]) == "PROCESSING", timeout=30)
        else:
            wait_until(lambda: charges(mesh, order["id"]), timeout=30)
        os.kill(worker_pid, signal.SIGKILL)
        # payloops dev restarts the worker; Temporal hands it the unfinished payment.
        wait_until(lambda: _restarted(mesh, worker_pid), timeout=30)
        final = settled(mesh, order["id"])
    finally:
        set_fault(mesh, control_pb2.FAULT_MODE_CLEAR)
        payer.join(timeout=30)
    assert final["status"] == "SUCCEEDED"
    assert len(charges(mesh, order["id"])) == 1
    assert len(live_charges(mesh, order["id"])) == 1


def _status(mesh: Mesh, order_id: str) -> str:
    with httpx.Client(
        base_url=mesh.api_url, headers={"Authorization": f"Bearer {mesh.api_key}"}
    ) as api:
        return str(api.get(f"/v1/orders/{order_id}").json()["status"])


def _restarted(mesh: Mesh, old_pid: int) -> bool:
    try:
        return mesh.pid_of("worker") != old_pid
    except (FileNotFoundError, ValueError):
        return False


def test_pay_while_no_worker_runs_answers_processing_and_completes_later(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = api.post("/v1/orders", json={"amount": 2200, "currency": "USD"}).json()
        worker_pid = mesh.pid_of("worker")
        os.kill(worker_pid, signal.SIGSTOP)  # alive but deaf: nothing takes the payment's task
        try:
            paid = api.post(
                f"/v1/orders/{order['id']}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            )
        finally:
            os.kill(worker_pid, signal.SIGCONT)
    assert paid.status_code == 200, paid.text
    # The payment is in Temporal's hands: PROCESSING, not "requires a payment method".
    assert paid.json()["status"] == "PROCESSING"
    final = settled(mesh, order["id"])
    assert final["status"] == "SUCCEEDED"
    assert len(charges(mesh, order["id"])) == 1


def test_a_payment_whose_pay_update_was_lost_still_pays(mesh: Mesh) -> None:
    """PayOrder hands the payment method to the workflow twice: in the start input, which
    Temporal keeps from the start, and in the `pay` update, which it keeps only once a workflow
    task accepts it. A worker that dies during that first task could lose the update; the
    workflow started here has no update at all, as if it were lost, and must pay anyway."""
    with mesh.client() as api:
        order = api.post("/v1/orders", json={"amount": 2400, "currency": "USD"}).json()
    ((merchant_id,),) = sql(mesh, "select merchant_id from orders where id = :id", id=order["id"])
    payment = PaymentInput(
        order_id=order["id"],
        merchant_id=merchant_id,
        amount=2400,
        currency="USD",
        capture_method=CaptureMethod.AUTOMATIC,
        payment_method=PaymentMethod(type="card", token="pm_card_visa"),
    )

    async def start() -> None:
        client = await mesh.temporal()
        await client.start_workflow(
            WORKFLOW_TYPE, payment, id=workflow_id(order["id"]), task_queue=DEFAULT_TASK_QUEUE
        )

    asyncio.run(start())
    final = settled(mesh, order["id"])
    assert final["status"] == "SUCCEEDED"
    assert len(charges(mesh, order["id"])) == 1
