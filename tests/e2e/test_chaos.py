"""Chaos: hundreds of payments from concurrent clients while faults flip at random on every
sandbox and the worker is killed and restarted. Afterwards every order is settled and the
ledgers hold exactly one surviving charge per succeeded order and none for failed ones."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from payloops.sandbox.v1 import control_pb2
from tests.conftest import Mesh
from tests.e2e.failover_helpers import SANDBOXES, clean_processors, merchant_with_routing
from tests.e2e.sandbox_control import charges_by_order, set_fault

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.usefixtures("clean_processors"),
    pytest.mark.timeout(600),
]
__all__ = ["clean_processors"]

PAYMENTS = 300
CLIENTS = 8
# Mostly cards that succeed; declines of both kinds; 3-D Secure challenges, completed or not.
TOKENS = ["pm_card_visa"] * 7 + ["pm_card_soft_decline", "pm_card_declined", "pm_card_3ds_required"]
FAULTS = [
    (control_pb2.FAULT_MODE_HANG, {"count": 1}),
    (control_pb2.FAULT_MODE_UNAVAILABLE, {"count": 3}),
    (control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE, {"count": 2}),
    (control_pb2.FAULT_MODE_LATENCY, {"count": 5, "latency_ms": 300}),
    (control_pb2.FAULT_MODE_CLEAR, {}),
]


def test_chaos_never_charges_twice_or_loses_a_payment(mesh: Mesh) -> None:
    api = merchant_with_routing(mesh, resolution_budget="1s", max_attempts=3)
    rng = random.Random(20261126)
    stop = threading.Event()

    def flip_faults() -> None:
        while not stop.wait(0.3):
            name = rng.choice(SANDBOXES)
            mode, extra = rng.choice(FAULTS)
            set_fault(mesh, mode, name=name, **extra)

    started: Counter[str] = Counter()
    started_lock = threading.Lock()
    kills: list[tuple[int, int | None]] = []  # (killed pid, pid of the worker that replaced it)

    def kill_worker_at(milestones: set[int]) -> None:
        """The worker dies while payments are in flight (after so many have started), and
        `payloops dev` must bring up a new one."""
        with started_lock:
            started["payments"] += 1
            due = started["payments"] in milestones
        if due:
            old = mesh.pid_of("worker")
            os.kill(old, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while _worker_pid(mesh) in (old, None) and time.monotonic() < deadline:
                time.sleep(0.2)
            kills.append((old, _worker_pid(mesh)))

    def pay(index: int) -> str:
        token = TOKENS[index % len(TOKENS)]
        with mesh.client(api.headers["Authorization"].removeprefix("Bearer ")) as client:
            order = client.post(
                "/v1/orders", json={"amount": 1000 + index, "currency": "USD"}
            ).json()
            kill_worker_at({PAYMENTS // 4, PAYMENTS * 2 // 3})
            paid = client.post(
                f"/v1/orders/{order['id']}:pay",
                json={"payment_method": {"type": "card", "token": token}},
            )
            redirect = (
                (paid.json().get("next_action") or {}).get("redirect_url")
                if paid.status_code == 200
                else None
            )
            if redirect and index % 2 == 0:
                # Half the customers finish their challenge; the others abandon it.
                with contextlib.suppress(httpx.HTTPError):
                    httpx.post(redirect, data={"outcome": "succeed"}, timeout=10)
            return str(order["id"])

    flipper = threading.Thread(target=flip_faults, daemon=True)
    flipper.start()
    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            order_ids = list(pool.map(pay, range(PAYMENTS)))
    finally:
        stop.set()
        flipper.join()
    for name in SANDBOXES:
        set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name=name)
    assert len(kills) == 2 and all(old != new for old, new in kills), kills

    # Settled, and every unknown attempt resolved (its compensation done), within a bound.
    # Read back with ListOrders (this merchant has exactly these orders): a few requests a
    # round rather than one per order. A read that times out while the mesh recovers counts as
    # "not yet"; the bound still holds.
    deadline = time.monotonic() + 240
    orders: dict[str, dict] = {}
    while True:
        try:
            orders = {o["id"]: o for o in _all_orders(api)}
        except httpx.TransportError as error:
            print(f"chaos: read failed while recovering ({error!r}); retrying")
            orders = {}
        pending = [
            o
            for o in orders.values()
            if o["status"] not in ("SUCCEEDED", "FAILED")
            or any(
                a["outcome"] == "PENDING" or a["compensation"] == "pending" for a in o["attempts"]
            )
        ]
        if (len(orders) == PAYMENTS and not pending) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert sorted(orders) == sorted(order_ids), "the orders could not be read back in time"

    live = charges_by_order(mesh, SANDBOXES, live_only=True)
    statuses = Counter(o["status"] for o in orders.values())
    surviving = Counter(len(live.get(o, [])) for o in order_ids)
    compensated = sum(1 for o in orders.values() for a in o["attempts"] if a["compensation"])
    failovers = sum(1 for o in orders.values() if len(o["attempts"]) > 1)
    print(
        f"\nchaos: {PAYMENTS} payments, statuses {dict(statuses)}, orders by surviving "
        f"charges {dict(surviving)}, failovers {failovers}, compensations {compensated}, "
        f"worker kills {len(kills)}, still pending {len(pending)}"
    )
    assert not pending, [(o["id"], o["status"]) for o in pending[:5]]
    for order_id, order in orders.items():
        expected = 1 if order["status"] == "SUCCEEDED" else 0
        assert len(live.get(order_id, [])) == expected, (order_id, order)


def _all_orders(api: httpx.Client) -> list[dict]:
    found: list[dict] = []
    token = ""
    while True:
        page = api.get("/v1/orders", params={"page_size": 100, "page_token": token}).json()
        found += page["orders"]
        token = page["next_page_token"]
        if not token:
            return found


def _worker_pid(mesh: Mesh) -> int | None:
    """None while `payloops dev` is between the old worker and the new one."""
    try:
        return mesh.pid_of("worker")
    except (FileNotFoundError, ValueError):
        return None
