"""Idempotency-Key with Stripe semantics, and concurrent duplicate payments."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from payloops.sandbox.v1 import control_pb2
from tests.conftest import Mesh
from tests.e2e.sandbox_control import charges, live_charges, set_fault

pytestmark = pytest.mark.e2e


def test_replayed_create_returns_the_same_order(mesh: Mesh) -> None:
    key = str(uuid.uuid4())
    body = {"amount": 2500, "currency": "GBP", "metadata": {"cart": "c-9"}}
    with mesh.client(**{"Idempotency-Key": key}) as api:
        first = api.post("/v1/orders", json=body)
        replay = api.post("/v1/orders", json=body)
        listed = api.get("/v1/orders", params={"page_size": 100}).json()["orders"]
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert [o["id"] for o in listed].count(first.json()["id"]) == 1


def test_same_key_with_a_different_body_is_rejected(mesh: Mesh) -> None:
    key = str(uuid.uuid4())
    with mesh.client(**{"Idempotency-Key": key}) as api:
        api.post("/v1/orders", json={"amount": 100, "currency": "USD"})
        other = api.post("/v1/orders", json={"amount": 200, "currency": "USD"})
    assert other.status_code == 400
    assert other.json()["details"][0]["reason"] == "IDEMPOTENCY_KEY_REUSED"


def test_keys_are_scoped_per_merchant(mesh: Mesh) -> None:
    key = str(uuid.uuid4())
    _, other_key = mesh.new_merchant("same idempotency key")
    with (
        mesh.client(**{"Idempotency-Key": key}) as a,
        mesh.client(other_key, **{"Idempotency-Key": key}) as b,
    ):
        first = a.post("/v1/orders", json={"amount": 100, "currency": "USD"}).json()
        second = b.post("/v1/orders", json={"amount": 100, "currency": "USD"}).json()
    assert first["id"] != second["id"]


def test_a_stored_error_is_replayed(mesh: Mesh) -> None:
    key = str(uuid.uuid4())
    with mesh.client(**{"Idempotency-Key": key}) as api:
        body = {"payment_method": {"type": "card", "token": "pm_card_visa"}}
        first = api.post("/v1/orders/ord_doesnotexist:pay", json=body)
        replay = api.post("/v1/orders/ord_doesnotexist:pay", json=body)
    assert first.status_code == replay.status_code == 404
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"


def test_twenty_concurrent_pays_charge_once(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = api.post("/v1/orders", json={"amount": 7700, "currency": "USD"}).json()

    def pay(_: int) -> dict:
        with mesh.client() as api:
            response = api.post(
                f"/v1/orders/{order['id']}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            )
            assert response.status_code == 200, response.text
            return response.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(pay, range(20)))
    with mesh.client() as api:
        final = api.get(f"/v1/orders/{order['id']}").json()
    assert final["status"] == "SUCCEEDED"
    assert len(final["attempts"]) == 1
    assert {r["status"] for r in results} <= {"SUCCEEDED", "PROCESSING"}
    assert len(charges(mesh, order["id"])) == 1
    assert len(live_charges(mesh, order["id"])) == 1


def test_concurrent_duplicates_with_one_key_get_one_answer(mesh: Mesh) -> None:
    key = str(uuid.uuid4())

    def create(_: int) -> tuple[int, str]:
        with mesh.client(**{"Idempotency-Key": key}) as api:
            response = api.post("/v1/orders", json={"amount": 4100, "currency": "EUR"})
            return response.status_code, response.json().get("id", "")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(create, range(10)))
    assert {status for status, _ in results} == {200}
    assert len({order_id for _, order_id in results}) == 1


def test_duplicates_of_a_pay_still_in_progress_wait_and_replay_it(mesh: Mesh) -> None:
    """A PayOrder commits its claim before the work: a duplicate (a client's retry after a
    dropped connection, say) that finds the claim still held waits for it and replays its
    answer, rather than failing."""
    with mesh.client() as api:
        order = api.post("/v1/orders", json={"amount": 6100, "currency": "USD"}).json()
    set_fault(mesh, control_pb2.FAULT_MODE_LATENCY, count=1, latency_ms=2500)
    key = str(uuid.uuid4())

    def pay(delay_s: float) -> tuple[int, dict[str, Any]]:
        time.sleep(delay_s)
        with mesh.client(**{"Idempotency-Key": key}) as api:
            response = api.post(
                f"/v1/orders/{order['id']}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            )
            return response.status_code, response.json()

    # The first claims the key; the others arrive while its payment is still with the processor.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(pay, [0.0, 0.8, 0.9, 1.0]))
    assert [status for status, _ in results] == [200] * 4, results
    assert all(body == results[0][1] for _, body in results)
    assert len(live_charges(mesh, order["id"])) == 1
