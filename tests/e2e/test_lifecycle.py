"""The payment lifecycle through Envoy: manual capture (full and partial), cancel (void, or an
unpaid order), refunds (partial, several, never above what was captured, even 50 at once),
authorization expiry, and illegal transitions refused with the order's status. Checked
against the sandbox's ledger."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2

from core import errors
from core.config import DEFAULT_TASK_QUEUE
from core.contracts.vocabulary import OrderStatus
from core.db import models
from edge.lifecycle import Lifecycle
from payloops.processor.v1 import processor_pb2 as pb
from tests.conftest import AUTHORIZATION_TTL_SECONDS, Mesh
from tests.e2e.failover_helpers import clean_processors, wait_for
from tests.e2e.sandbox_control import charges
from tests.e2e.scripted_gateway import Refuse, ScriptedGateway, scripted_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]


def order(api: httpx.Client, amount: int = 4999, **fields: object) -> dict:
    created = api.post("/v1/orders", json={"amount": amount, "currency": "USD", **fields})
    assert created.status_code == 200, created.text
    return created.json()


def paid(api: httpx.Client, amount: int = 4999, **fields: object) -> dict:
    created = order(api, amount, **fields)
    response = api.post(
        f"/v1/orders/{created['id']}:pay",
        json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
    )
    assert response.status_code == 200, response.text
    return response.json()


def refund(api: httpx.Client, order_id: str, amount: int = 0, **fields: object) -> httpx.Response:
    return api.post(f"/v1/orders/{order_id}/refunds", json={"amount": amount, **fields})


def reason(response: httpx.Response) -> tuple[int, str, dict]:
    body = response.json()
    info = next(d for d in body["details"] if d["@type"].endswith("ErrorInfo"))
    return response.status_code, info["reason"], info.get("metadata", {})


def test_manual_capture_in_full(mesh: Mesh) -> None:
    with mesh.client() as api:
        authorized = paid(api, capture_method="MANUAL")
        assert authorized["status"] == "REQUIRES_CAPTURE"
        assert authorized["amount_capturable"] == "4999" and authorized["capture_before"]
        captured = api.post(f"/v1/orders/{authorized['id']}:capture", json={})
    assert captured.status_code == 200, captured.text
    body = captured.json()
    assert (body["status"], body["amount_received"], body["amount_capturable"]) == (
        "SUCCEEDED",
        "4999",
        "0",
    )
    [charge] = charges(mesh, authorized["id"])
    assert (charge.state, charge.amount_captured) == ("captured", 4999)


def test_partial_capture_releases_the_rest(mesh: Mesh) -> None:
    with mesh.client() as api:
        authorized = paid(api, capture_method="MANUAL")
        too_much = api.post(f"/v1/orders/{authorized['id']}:capture", json={"amount": 5000})
        captured = api.post(f"/v1/orders/{authorized['id']}:capture", json={"amount": 3000})
        again = api.post(f"/v1/orders/{authorized['id']}:capture", json={})
    assert too_much.status_code == 400
    assert captured.json()["status"] == "SUCCEEDED"
    assert captured.json()["amount_received"] == "3000"
    [charge] = charges(mesh, authorized["id"])
    assert charge.amount_captured == 3000
    assert reason(again)[:2] == (400, "ORDER_NOT_CAPTURABLE")
    assert reason(again)[2]["status"] == "SUCCEEDED"


def test_cancel_voids_an_authorization(mesh: Mesh) -> None:
    with mesh.client() as api:
        authorized = paid(api, capture_method="MANUAL")
        canceled = api.post(f"/v1/orders/{authorized['id']}:cancel", json={})
        capture_after = api.post(f"/v1/orders/{authorized['id']}:capture", json={})
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "CANCELED"
    assert canceled.json()["cancellation_reason"] == "requested_by_merchant"
    assert [c.state for c in charges(mesh, authorized["id"])] == ["voided"]
    assert reason(capture_after)[:2] == (400, "ORDER_NOT_CAPTURABLE")


def test_a_canceled_unpaid_order_is_never_charged(mesh: Mesh) -> None:
    with mesh.client() as api:
        created = order(api)
        canceled = api.post(f"/v1/orders/{created['id']}:cancel", json={})
        pay = api.post(
            f"/v1/orders/{created['id']}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
        )
    assert canceled.json()["status"] == "CANCELED"
    assert pay.status_code == 200 and pay.json()["status"] == "CANCELED"
    assert charges(mesh, created["id"]) == []


def test_an_uncaptured_authorization_expires_and_is_voided(mesh: Mesh) -> None:
    with mesh.client() as api:
        authorized = paid(api, capture_method="MANUAL")
        expired = wait_for(
            api,
            authorized["id"],
            lambda o: o["status"] == "CANCELED",
            timeout=AUTHORIZATION_TTL_SECONDS + 30,
        )
    assert expired["status"] == "CANCELED"
    assert expired["cancellation_reason"] == "authorization_expired"
    assert [c.state for c in charges(mesh, authorized["id"])] == ["voided"]


def test_illegal_transitions_name_the_current_status(mesh: Mesh) -> None:
    with mesh.client() as api:
        done = paid(api)
        unpaid = order(api)
        capture = api.post(f"/v1/orders/{done['id']}:capture", json={})
        cancel = api.post(f"/v1/orders/{done['id']}:cancel", json={})
        refund_unpaid = refund(api, unpaid["id"])
        capture_unpaid = api.post(f"/v1/orders/{unpaid['id']}:capture", json={})
        missing = api.post("/v1/orders/ord_missing:capture", json={})
    assert reason(capture) == (400, "ORDER_NOT_CAPTURABLE", {"status": "SUCCEEDED"})
    assert reason(cancel) == (400, "ORDER_NOT_CANCELABLE", {"status": "SUCCEEDED"})
    assert reason(refund_unpaid)[:2] == (400, "ORDER_NOT_REFUNDABLE")
    assert reason(capture_unpaid) == (
        400,
        "ORDER_NOT_CAPTURABLE",
        {"status": "REQUIRES_PAYMENT_METHOD"},
    )
    assert reason(missing)[:2] == (404, "ORDER_NOT_FOUND")


def test_the_workflows_refusal_of_a_capture_amount_is_the_edges_field_violation(
    mesh: Mesh,
) -> None:
    """The edge checks a capture's amount before the workflow sees it; the workflow checks it
    again, and its refusal reaches the merchant in the same words (not a bare INVALID_REQUEST)."""
    with mesh.client() as api:
        authorized = paid(api, capture_method="MANUAL")
    row = models.Order(id=authorized["id"], status=OrderStatus.REQUIRES_CAPTURE, amount=4999)

    async def capture_too_much() -> errors.PayLoopsError:
        client = await mesh.temporal()
        lifecycle = Lifecycle(client, DEFAULT_TASK_QUEUE, wait_seconds=20)
        with pytest.raises(errors.PayLoopsError) as refused:
            await lifecycle.capture(row, amount=5000)
        return refused.value

    status = asyncio.run(capture_too_much()).to_status()
    info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info) and info.reason == "INVALID_REQUEST"
    assert len(status.details) == 2 and status.details[1].Unpack(bad_request)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [
        ("amount", "CAPTURE_AMOUNT_INVALID")
    ]
    with mesh.client() as api:
        assert api.get(f"/v1/orders/{authorized['id']}").json()["status"] == "REQUIRES_CAPTURE"


def test_partial_refunds_add_up_and_an_over_refund_is_rejected(mesh: Mesh) -> None:
    with mesh.client() as api:
        done = paid(api)
        first = refund(api, done["id"], 1000, reason="requested_by_customer")
        second = refund(api, done["id"], 2000, reason="duplicate")
        over = refund(api, done["id"], 2000)
        rest = refund(api, done["id"])
        nothing_left = refund(api, done["id"])
        listed = api.get(f"/v1/orders/{done['id']}/refunds").json()["refunds"]
        final = api.get(f"/v1/orders/{done['id']}").json()
        one = api.get(f"/v1/refunds/{first.json()['id']}")
    assert [r.json()["status"] for r in (first, second, rest)] == ["SUCCEEDED"] * 3
    assert [r.json()["amount"] for r in (first, second, rest)] == ["1000", "2000", "1999"]
    assert reason(over)[:2] == (400, "REFUND_EXCEEDS_CAPTURED")
    assert "1999" in over.json()["message"]
    assert reason(nothing_left)[:2] == (400, "REFUND_EXCEEDS_CAPTURED")
    assert [r["amount"] for r in listed] == ["1000", "2000", "1999"]
    assert (final["amount_refunded"], final["amount_refund_pending"]) == ("4999", "0")
    assert one.json()["order"] == done["id"] and one.json()["processor"] == "sandbox"
    [charge] = charges(mesh, done["id"])
    assert (charge.state, charge.amount_refunded) == ("refunded", 4999)


def test_fifty_concurrent_refunds_never_exceed_the_capture(mesh: Mesh) -> None:
    with mesh.client() as api:
        done = paid(api, 4999)

    def one(_: int) -> httpx.Response:
        with mesh.client() as api:
            return refund(api, done["id"], 100)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(one, range(50)))
    outcomes = Counter(r.json().get("status") or reason(r)[1] for r in answers)
    with mesh.client() as api:
        final = api.get(f"/v1/orders/{done['id']}").json()
        listed = api.get(f"/v1/orders/{done['id']}/refunds").json()["refunds"]
    assert outcomes == {"SUCCEEDED": 49, "REFUND_EXCEEDS_CAPTURED": 1}, outcomes
    assert final["amount_refunded"] == "4900" and final["amount_refund_pending"] == "0"
    assert len(listed) == 49
    [charge] = charges(mesh, done["id"])
    assert charge.amount_refunded == 4900


def test_another_merchants_refund_is_not_found(mesh: Mesh) -> None:
    _, other_key = mesh.new_merchant("nosy")
    with mesh.client() as api, mesh.client(other_key) as other:
        done = paid(api)
        made = refund(api, done["id"], 500).json()
        assert reason(other.get(f"/v1/refunds/{made['id']}"))[:2] == (404, "REFUND_NOT_FOUND")
        assert reason(other.get(f"/v1/orders/{done['id']}/refunds"))[:2] == (404, "ORDER_NOT_FOUND")
        assert reason(refund(other, done["id"], 100))[:2] == (404, "ORDER_NOT_FOUND")


def test_a_refund_the_processor_rejects_is_recorded_and_its_amount_restored(mesh: Mesh) -> None:
    with scripted_gateway(mesh) as gateway:
        refusals: list[str] = []

        def refuse_once(
            gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext
        ) -> Any:
            if not refusals:
                refusals.append(request.refund_key)
                raise Refuse(grpc.StatusCode.FAILED_PRECONDITION, "charge is disputed")
            from tests.e2e.scripted_gateway import _DEFAULTS

            return _DEFAULTS["Refund"](gateway, request, context)

        gateway.scripts["Refund"] = refuse_once
        _, key = mesh.new_merchant("refund refused")
        with mesh.client(key) as api:
            assert (
                api.put(
                    "/v1/routing",
                    json={"rules": [{"name": "all", "failover": {"processors": [gateway.name]}}]},
                ).status_code
                == 200
            )
            done = paid(api, 2000)
            rejected = refund(api, done["id"], 1500)
            after = api.get(f"/v1/orders/{done['id']}").json()
            accepted = refund(api, done["id"], 2000)
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["failure_code"]) == (
        "FAILED",
        "failed_precondition",
    )
    assert (after["amount_refunded"], after["amount_refund_pending"]) == ("0", "0")
    assert accepted.json()["status"] == "SUCCEEDED"  # the whole amount was refundable again
    assert gateway.payment is not None
    assert gateway.payment.amount_refunded == 2000
    assert gateway.payment.outcome == pb.OUTCOME_SUCCEEDED


def test_refunds_replay_with_an_idempotency_key(mesh: Mesh) -> None:
    with mesh.client() as api:
        done = paid(api)
        headers = {"Idempotency-Key": f"refund-{time.time_ns()}"}
        first = api.post(f"/v1/orders/{done['id']}/refunds", json={"amount": 700}, headers=headers)
        again = api.post(f"/v1/orders/{done['id']}/refunds", json={"amount": 700}, headers=headers)
        listed = api.get(f"/v1/orders/{done['id']}/refunds").json()["refunds"]
    assert first.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert len(listed) == 1


def test_cancel_releases_a_payment_waiting_on_3d_secure(mesh: Mesh) -> None:
    with mesh.client() as api:
        created = order(api)
        challenged = api.post(
            f"/v1/orders/{created['id']}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_3ds_required"}},
        ).json()
        assert challenged["status"] == "REQUIRES_ACTION"
        canceled = api.post(f"/v1/orders/{created['id']}:cancel", json={})
        final = wait_for(api, created["id"], lambda o: o["status"] != "REQUIRES_ACTION")
    assert canceled.status_code == 200, canceled.text
    assert final["status"] == "CANCELED"
    assert [c.state for c in charges(mesh, created["id"])] == ["voided"]


def test_every_transition_is_an_event_with_the_object_as_the_api_shows_it(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("events")
    with mesh.client(key) as api:
        captured = paid(api, capture_method="MANUAL")
        api.post(f"/v1/orders/{captured['id']}:capture", json={"amount": 4000})
        made = refund(api, captured["id"], 1000).json()
        canceled = paid(api, capture_method="MANUAL")
        api.post(f"/v1/orders/{canceled['id']}:cancel", json={})
        events = api.get("/v1/events", params={"page_size": 100}).json()["events"]
        order_now = api.get(f"/v1/orders/{captured['id']}").json()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert [e["object"]["id"] for e in by_type["order.requires_capture"]] == [
        canceled["id"],
        captured["id"],
    ]
    [captured_event] = by_type["order.captured"]
    assert captured_event["object"]["amount_received"] == "4000"
    assert captured_event["object"]["status"] == "SUCCEEDED"
    [refunded] = by_type["refund.succeeded"]
    assert refunded["object"]["id"] == made["id"] and refunded["object"]["amount"] == "1000"
    [cancel_event] = by_type["order.canceled"]
    assert cancel_event["object"]["cancellation_reason"] == "requested_by_merchant"
    # The event carries the order as it was when the event happened, in the API's own shape.
    assert set(captured_event["object"]) == set(order_now)
