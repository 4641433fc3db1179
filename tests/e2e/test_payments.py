"""Paying orders end to end through Envoy REST: the outcomes a merchant sees."""

from __future__ import annotations

import time

import httpx
import pytest

from payloops.sandbox.v1 import control_pb2
from tests.conftest import PAY_WAIT_SECONDS, THREE_DS_TIMEOUT_SECONDS, Mesh
from tests.e2e.sandbox_control import live_charges, set_fault

pytestmark = pytest.mark.e2e


def create_order(api: httpx.Client, **fields: object) -> dict:
    response = api.post("/v1/orders", json={"amount": 4999, "currency": "USD", **fields})
    assert response.status_code == 200, response.text
    return response.json()


def pay(api: httpx.Client, order_id: str, token: str, **extra: object) -> dict:
    response = api.post(
        f"/v1/orders/{order_id}:pay",
        json={"payment_method": {"type": "card", "token": token, **extra}},
    )
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_status(
    api: httpx.Client, order_id: str, statuses: set[str], timeout: float = 30
) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        order = api.get(f"/v1/orders/{order_id}").json()
        if order["status"] in statuses or time.monotonic() > deadline:
            return order
        time.sleep(0.2)


def test_card_payment_succeeds_with_one_attempt_on_the_sandbox(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = create_order(api, metadata={"order_ref": "A-1"}, description="two mugs")
        assert order["status"] == "REQUIRES_PAYMENT_METHOD"
        assert order["id"].startswith("ord_")
        paid = pay(api, order["id"], "pm_card_visa")
    assert paid["status"] == "SUCCEEDED"
    assert paid["amount_received"] == "4999"
    assert paid["metadata"] == {"order_ref": "A-1"}
    assert [(a["processor"], a["outcome"]) for a in paid["attempts"]] == [("sandbox", "SUCCEEDED")]
    attempt = paid["attempts"][0]
    assert attempt["attempt_key"] and attempt["processor_reference"].startswith("ch_")
    assert attempt["latency"].endswith("s")
    assert len(live_charges(mesh, order["id"])) == 1


def test_decline_fails_the_order_with_the_decline_code(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = create_order(api)
        paid = pay(api, order["id"], "pm_card_declined")
        insufficient = pay(api, create_order(api)["id"], "pm_card_insufficient_funds")
    assert paid["status"] == "FAILED"
    assert paid["failure_code"] == "generic_decline"
    assert [(a["outcome"], a["decline_code"]) for a in paid["attempts"]] == [
        ("DECLINED", "generic_decline")
    ]
    assert insufficient["failure_code"] == "insufficient_funds"
    assert live_charges(mesh, order["id"]) == []


def test_manual_capture_stops_at_requires_capture(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = create_order(api, capture_method="manual")
        paid = pay(api, order["id"], "pm_card_mastercard")
    assert paid["capture_method"] == "MANUAL"
    assert paid["status"] == "REQUIRES_CAPTURE"
    assert paid["amount_capturable"] == "4999"
    assert paid["amount_received"] == "0"


def test_three_d_secure_redirect_then_completion_succeeds(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = create_order(api, return_url="https://shop.example/return")
        paid = pay(api, order["id"], "pm_card_3ds_required")
        assert paid["status"] == "REQUIRES_ACTION"
        redirect_url = paid["next_action"]["redirect_url"]
        assert redirect_url.startswith("http://127.0.0.1:")

        page = httpx.get(redirect_url)
        assert page.status_code == 200 and "<form" in page.text
        completed = httpx.post(redirect_url, data={"outcome": "succeed"})
        assert completed.status_code == 303
        assert completed.headers["location"] == "https://shop.example/return"

        settled = wait_for_status(api, order["id"], {"SUCCEEDED", "FAILED"})
    assert settled["status"] == "SUCCEEDED"
    assert settled["attempts"][0]["outcome"] == "SUCCEEDED"
    assert "next_action" not in settled or not settled["next_action"]
    assert len(live_charges(mesh, order["id"])) == 1


def test_failed_challenge_fails_the_order(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = create_order(api)
        paid = pay(api, order["id"], "pm_card_3ds_fail")
        httpx.post(paid["next_action"]["redirect_url"], data={"outcome": "succeed"})
        settled = wait_for_status(api, order["id"], {"SUCCEEDED", "FAILED"})
    assert settled["status"] == "FAILED"
    assert settled["failure_code"] == "three_d_secure_failed"


def test_abandoned_challenge_times_out_and_releases_the_authorization(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = create_order(api)
        paid = pay(api, order["id"], "pm_card_3ds_required")
        assert paid["status"] == "REQUIRES_ACTION"
        settled = wait_for_status(
            api, order["id"], {"SUCCEEDED", "FAILED"}, timeout=THREE_DS_TIMEOUT_SECONDS + 20
        )
    assert settled["status"] == "FAILED"
    assert settled["failure_code"] == "three_d_secure_timeout"
    assert live_charges(mesh, order["id"]) == []
    # The challenge page no longer completes anything.
    assert (
        httpx.post(paid["next_action"]["redirect_url"], data={"outcome": "succeed"}).status_code
        == 409
    )


def test_paying_twice_returns_the_first_payment(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = create_order(api)
        first = pay(api, order["id"], "pm_card_visa")
        second = pay(api, order["id"], "pm_card_amex")
    assert first["status"] == second["status"] == "SUCCEEDED"
    assert second["attempts"] == first["attempts"]
    assert len(live_charges(mesh, order["id"])) == 1


def test_list_orders_pages_newest_first_and_filters_by_status(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("pagination")
    with mesh.client(key) as api:
        created = [create_order(api, amount=100 + i)["id"] for i in range(7)]
        pay(api, created[0], "pm_card_visa")
        seen: list[str] = []
        token = ""
        while True:
            page = api.get("/v1/orders", params={"page_size": 3, "page_token": token}).json()
            seen += [order["id"] for order in page["orders"]]
            token = page["next_page_token"]
            if not token:
                break
        succeeded = api.get("/v1/orders", params={"status": "SUCCEEDED"}).json()
        forged = api.get("/v1/orders", params={"page_token": "bm90IGEgdG9rZW4"})
    assert seen == list(reversed(created))
    assert [o["id"] for o in succeeded["orders"]] == [created[0]]
    assert forged.status_code == 400
    assert forged.json()["details"][0]["reason"] == "PAGE_TOKEN_INVALID"


def test_a_slow_processor_answers_processing_within_the_bounded_wait(mesh: Mesh) -> None:
    with mesh.client() as api:
        order = create_order(api)
        set_fault(
            mesh,
            control_pb2.FAULT_MODE_LATENCY,
            count=1,
            latency_ms=int((PAY_WAIT_SECONDS + 1.5) * 1000),
        )
        try:
            paid = pay(api, order["id"], "pm_card_visa")
        finally:
            set_fault(mesh, control_pb2.FAULT_MODE_CLEAR)
        settled = wait_for_status(api, order["id"], {"SUCCEEDED", "FAILED"})
    # Without the bound, PayOrder would have waited for the processor and said SUCCEEDED.
    assert paid["status"] == "PROCESSING"
    assert [a["outcome"] for a in paid["attempts"]] == ["PENDING"]
    assert settled["status"] == "SUCCEEDED"
    assert len(live_charges(mesh, order["id"])) == 1
