"""Horizontal scale survives crashes: on the compose twin (two edges behind Envoy's load
balancing, two workers on one task queue), 300 payments flow from a few concurrent clients
while one edge and one worker are SIGKILLed mid-run and started again with the same command.

Each client sends an Idempotency-Key with every POST and retries only a connection error
(its own, or Envoy's SERVICE_UNAVAILABLE for a connection the dead edge dropped), always with
the same key; a retry that finds the dead call's claim still held is told
IDEMPOTENCY_KEY_IN_USE and retries too. At the end every order is terminal with the status its
card gives, the merchant has exactly the orders the clients made (a retried create made no
second one), the sandbox's ledger holds exactly one live charge per succeeded order and none
for a failed one, and every request sent is accounted for: answered, or a counted connection
error or in-use reply that was retried.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest

from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from tests.deploy.twin import Twin, bring_up, made_merchant, running_twin

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1200)]

PAYMENTS = 300
CLIENTS = 4
# Every tenth payment is declined: failed orders must leave no live charge either.
DECLINED_EVERY = 10
KILLED = ("edge-1", "worker-1")
KILL_AFTER = PAYMENTS // 3
DOWN_S = 2.0
# A retry waits out the dead call's claim on its key (the edge takes a claim over after 60 s).
RETRY_FOR_S = 150.0
RETRY_PAUSE_S = 0.25
SETTLE_FOR_S = 180.0
IN_FLIGHT = frozenset({"PROCESSING", "REQUIRES_PAYMENT_METHOD"})
LIVE = frozenset({"authorized", "captured"})


@dataclass
class Tally:
    posts_sent: int = 0
    answered: int = 0
    connection_errors: int = 0
    in_use: int = 0
    payments_made: int = 0
    expected: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def twin() -> Iterator[Twin]:
    with running_twin() as started:
        yield started


def _reason(response: httpx.Response) -> str:
    try:
        details = response.json().get("details", [])
    except ValueError:
        return ""
    reasons = [d.get("reason", "") for d in details if d.get("@type", "").endswith("ErrorInfo")]
    return reasons[0] if reasons else ""


async def _post(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], tally: Tally
) -> dict[str, Any]:
    """One POST with one Idempotency-Key, retried with that key on a connection error (and on
    the in-use reply a retry can meet); any other answer than 200 fails the test."""
    key = str(uuid.uuid4())
    deadline = time.monotonic() + RETRY_FOR_S
    while True:
        tally.posts_sent += 1
        try:
            response = await http.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            tally.connection_errors += 1
        else:
            reason = _reason(response)
            if response.status_code == 503 and reason == "SERVICE_UNAVAILABLE":
                tally.connection_errors += 1
            elif response.status_code == 409 and reason == "IDEMPOTENCY_KEY_IN_USE":
                tally.in_use += 1
            else:
                assert response.status_code == 200, f"POST {path}: {response.text}"
                tally.answered += 1
                answered: dict[str, Any] = response.json()
                return answered
        assert time.monotonic() < deadline, f"POST {path} still failing after {RETRY_FOR_S} s"
        await asyncio.sleep(RETRY_PAUSE_S)


async def _get(http: httpx.AsyncClient, path: str) -> dict[str, Any]:
    """A GET, retried on a connection error (reads are safe to repeat, and not counted)."""
    deadline = time.monotonic() + RETRY_FOR_S
    while True:
        try:
            response = await http.get(path)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code != 503:
            assert response.status_code == 200, f"GET {path}: {response.text}"
            body: dict[str, Any] = response.json()
            return body
        assert time.monotonic() < deadline, f"GET {path} still failing"
        await asyncio.sleep(RETRY_PAUSE_S)


async def _client(http: httpx.AsyncClient, numbers: asyncio.Queue[int], tally: Tally) -> None:
    while not numbers.empty():
        number = numbers.get_nowait()
        declined = number % DECLINED_EVERY == 0
        order = await _post(http, "/v1/orders", {"amount": 1000 + number, "currency": "USD"}, tally)
        token = "pm_card_declined" if declined else "pm_card_visa"
        await _post(
            http,
            f"/v1/orders/{order['id']}:pay",
            {"payment_method": {"type": "card", "token": token}},
            tally,
        )
        tally.expected[order["id"]] = "FAILED" if declined else "SUCCEEDED"
        tally.payments_made += 1


async def _crash_and_restart(twin: Twin, tally: Tally) -> dict[str, int]:
    """Once a third of the payments are made: SIGKILL one edge and one worker by their pids,
    then start each again with its own command and wait for its health check."""
    while tally.payments_made < KILL_AFTER:
        await asyncio.sleep(0.05)
    killed = {name: twin.kill(name) for name in KILLED}
    await asyncio.sleep(DOWN_S)
    for name in KILLED:
        # From this (the main) thread: a child dies with the thread that started it.
        twin.start_service(name)
    for name in KILLED:
        await asyncio.to_thread(twin.wait_healthy, name)
    return killed


async def _settled(http: httpx.AsyncClient, order_id: str) -> str:
    deadline = time.monotonic() + SETTLE_FOR_S
    while (status := (await _get(http, f"/v1/orders/{order_id}"))["status"]) in IN_FLIGHT:
        assert time.monotonic() < deadline, f"order {order_id} still {status}"
        await asyncio.sleep(0.5)
    settled: str = status
    return settled


async def _merchant_order_ids(http: httpx.AsyncClient) -> list[str]:
    ids: list[str] = []
    token = ""
    while True:
        page = await _get(http, f"/v1/orders?page_size=100&page_token={token}")
        ids += [order["id"] for order in page["orders"]]
        token = page.get("next_page_token", "")
        if not token:
            return ids


async def _pay_through_crashes(twin: Twin, api_url: str, api_key: str) -> None:
    tally = Tally()
    numbers: asyncio.Queue[int] = asyncio.Queue()
    for number in range(PAYMENTS):
        numbers.put_nowait(number)
    async with httpx.AsyncClient(
        base_url=api_url,
        timeout=60,
        trust_env=False,
        headers={"Authorization": f"Bearer {api_key}"},
    ) as http:
        chaos = asyncio.create_task(_crash_and_restart(twin, tally))
        await asyncio.gather(*(_client(http, numbers, tally) for _ in range(CLIENTS)))
        killed = await chaos
        statuses = {order_id: await _settled(http, order_id) for order_id in tally.expected}
        merchant_orders = await _merchant_order_ids(http)

    # The crash was a crash, and the service came back as a new process.
    for name, pid in killed.items():
        dead = [p for started, p in twin.processes if started == name and p.pid == pid]
        assert dead[0].returncode == -signal.SIGKILL, name
        assert twin.process(name).pid != pid and twin.process(name).poll() is None, name

    # Every request accounted for: answered, or a counted error that was retried.
    assert tally.payments_made == len(tally.expected) == PAYMENTS
    assert tally.answered == 2 * PAYMENTS
    assert tally.posts_sent == tally.answered + tally.connection_errors + tally.in_use
    print(
        f"\n{PAYMENTS} payments, {tally.posts_sent} POSTs: {tally.answered} answered, "
        f"{tally.connection_errors} connection errors and {tally.in_use} in-use replies retried"
    )

    assert statuses == tally.expected
    assert sorted(merchant_orders) == sorted(tally.expected)

    ledger = control_pb2_grpc.SandboxControlServiceStub(
        grpc.insecure_channel(f"{twin.addresses['sandbox']}:50061")
    ).ListCharges(control_pb2.ListChargesRequest(), timeout=30)
    live: dict[str, int] = {}
    for charge in ledger.charges:
        assert charge.order_id in tally.expected, f"a charge for an unknown order: {charge}"
        if charge.state in LIVE:
            live[charge.order_id] = live.get(charge.order_id, 0) + 1
    succeeded = {order_id for order_id, status in statuses.items() if status == "SUCCEEDED"}
    assert live == dict.fromkeys(succeeded, 1)


def test_payments_survive_an_edge_and_a_worker_killed_mid_run(twin: Twin) -> None:
    api_url = bring_up(twin)
    asyncio.run(_pay_through_crashes(twin, api_url, made_merchant(twin)["api_key"]))
