"""Records payment workflow histories for the replay test (tests/orchestrator/test_replay.py).

    .venv/bin/python -m tests.orchestrator.record_histories

Starts `payloops dev` on free ports, makes one payment of each kind through the public API
(success, hard decline, 3-D Secure completed, failover after a hanging primary, manual
capture), and writes each payment's workflow history as JSON to tests/orchestrator/histories/,
its payloads decrypted.
Run it again only when a workflow change is meant to be incompatible with the payments already
in flight (and say so in the commit): compatible changes go behind `workflow.patched`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path

import httpx

from core.contracts.payment import workflow_id
from payloops.sandbox.v1 import control_pb2
from tests.conftest import Mesh, retire_mesh, start_mesh
from tests.e2e.failover_helpers import merchant_with_routing, settled, wait_for
from tests.e2e.sandbox_control import set_fault
from tests.temporal_payloads import decode_in_place

HISTORIES = Path(__file__).parent / "histories"


def _pay(api: httpx.Client, token: str, **order: object) -> dict:
    created = api.post("/v1/orders", json={"amount": 1500, "currency": "USD", **order}).json()
    paid = api.post(
        f"/v1/orders/{created['id']}:pay", json={"payment_method": {"type": "card", "token": token}}
    ).json()
    return paid


def payments(mesh: Mesh) -> dict[str, str]:
    """One order id per kind of payment, each settled."""
    api = merchant_with_routing(mesh, resolution_budget="1s")
    made = {
        "succeeded": _pay(api, "pm_card_visa")["id"],
        "hard_decline": _pay(api, "pm_card_insufficient_funds")["id"],
        "manual_capture": _pay(api, "pm_card_visa", capture_method="MANUAL")["id"],
    }
    challenged = _pay(api, "pm_card_3ds_required")
    httpx.post(challenged["next_action"]["redirect_url"], data={"outcome": "succeed"})
    made["three_d_secure"] = challenged["id"]
    set_fault(mesh, control_pb2.FAULT_MODE_HANG, name="sandbox")
    try:
        made["failover_after_hang"] = _pay(api, "pm_card_visa")["id"]
        wait_for(api, made["failover_after_hang"], settled)
    finally:
        set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name="sandbox")
    for order_id in made.values():
        wait_for(api, order_id, lambda o: settled(o) and o["status"] != "REQUIRES_ACTION")
    return made


async def save(mesh: Mesh, made: dict[str, str]) -> None:
    client = await mesh.temporal()
    HISTORIES.mkdir(exist_ok=True)
    for kind, order_id in made.items():
        handle = client.get_workflow_handle(workflow_id(order_id))
        # Most are closed by now; a failover's unknown attempt keeps its workflow open (it
        # watches for a late charge), and an open history replays just as well.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(handle.result(), timeout=20)
        history = await handle.fetch_history()
        # Kept decrypted: the mesh's keys die with it, and the replay test must not need them
        # (the worker's codec passes plain payloads through, as it does for payloads written
        # before encryption).
        assert client.data_converter.payload_codec is not None
        await decode_in_place(history, client.data_converter.payload_codec)
        (HISTORIES / f"{kind}.json").write_text(history.to_json())
        print(f"{kind}: {len(history.events)} events")


def main() -> None:
    mesh = start_mesh()
    try:
        made = payments(mesh)
        time.sleep(1)
        asyncio.run(save(mesh, made))
    finally:
        retire_mesh(mesh.process, mesh.state_dir)
    sys.stdout.flush()
    os._exit(0)  # the Temporal bridge's threads can crash interpreter teardown (sdk-python#300)


if __name__ == "__main__":
    main()
