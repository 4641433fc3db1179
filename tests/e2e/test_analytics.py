"""Payment analytics through Envoy, over REST and native gRPC: real payments at the sandboxes
(one authorized, one declined, one saved by failover) land in the buckets they belong to, and
neither another merchant's payments nor the other mode's ever count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import timestamp_pb2

from payloops.sandbox.v1 import control_pb2
from payloops.sdk import PayLoops
from payloops.v1 import analytics_pb2, analytics_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.failover_helpers import SANDBOXES, clean_processors, pay
from tests.e2e.sandbox_control import set_fault

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]

PAYMENTS = "/v1/analytics/payments"


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "start_time": (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        "end_time": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
    }


def _figures(api: httpx.Client, **params: str) -> list[dict[str, Any]]:
    response = api.get(PAYMENTS, params={**_window(), **params})
    assert response.status_code == 200, response.text
    buckets: list[dict[str, Any]] = response.json()["buckets"]
    return buckets


def _merchant_with_both_modes(mesh: Mesh) -> tuple[httpx.Client, httpx.Client, str]:
    _, test_key, live_key = mesh.new_live_merchant("analytics")
    api = mesh.client(test_key)
    routing = {"rules": [{"name": "all", "failover": {"processors": list(SANDBOXES)}}]}
    assert api.put("/v1/routing", json=routing).status_code == 200
    return api, mesh.client(live_key), test_key


def _pay_eur(api: httpx.Client, amount: int) -> None:
    order = api.post("/v1/orders", json={"amount": amount, "currency": "EUR"}).json()
    paid = api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
    )
    assert paid.json()["status"] == "SUCCEEDED", paid.text


def test_payments_land_in_their_buckets_over_rest_and_grpc(mesh: Mesh) -> None:
    api, live, test_key = _merchant_with_both_modes(mesh)
    assert pay(api)["status"] == "SUCCEEDED"
    assert pay(api, "pm_card_insufficient_funds")["status"] == "FAILED"
    _pay_eur(api, 700)
    set_fault(mesh, control_pb2.FAULT_MODE_UNAVAILABLE, name="sandbox")
    saved = pay(api, amount=2000)
    set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name="sandbox")
    assert [a["processor"] for a in saved["attempts"]] == ["sandbox", "sandbox-b"]
    # What must never count: the other mode's order, another merchant's payment.
    assert live.post("/v1/orders", json={"amount": 99, "currency": "USD"}).status_code == 200
    _, other_key = mesh.new_merchant("analytics neighbour")
    assert pay(mesh.client(other_key))["status"] == "SUCCEEDED"

    [totals] = _figures(api)
    assert {
        key: totals[key]
        for key in ("group", "total_count", "succeeded_count", "failed_count", "failover_count")
    } == {
        "group": "",
        "total_count": "4",
        "succeeded_count": "3",
        "failed_count": "1",
        "failover_count": "1",
    }
    assert totals["success_rate"] == 0.75
    assert totals["volumes"] == [
        {"currency": "EUR", "amount": "700", "succeeded_amount": "700", "count": "1"},
        {"currency": "USD", "amount": "5000", "succeeded_amount": "3500", "count": "3"},
    ]
    assert totals["failover_saved"] == [{"currency": "USD", "amount": "2000"}]
    assert totals["latency_p50"].endswith("s") and totals["latency_p95"].endswith("s")

    by_processor = {
        bucket["group"]: (bucket["total_count"], bucket["succeeded_count"], bucket["failed_count"])
        for bucket in _figures(api, group_by="processor")
    }
    assert by_processor == {"sandbox": ("3", "2", "1"), "sandbox-b": ("1", "1", "0")}

    [live_totals] = _figures(live, group_by="status")
    assert (live_totals["group"], live_totals["total_count"]) == ("REQUIRES_PAYMENT_METHOD", "1")
    assert "success_rate" not in live_totals and "latency_p50" not in live_totals

    # Through the Python SDK, over both of its transports.
    for transport in ("http", "grpc"):
        client = PayLoops(
            test_key, base_url=mesh.api_url, grpc_target=mesh.grpc_target, transport=transport
        )
        now = datetime.now(UTC)
        [from_sdk] = client.analytics.payments(
            start_time=now - timedelta(hours=1), end_time=now + timedelta(hours=1)
        ).buckets
        assert (from_sdk.total_count, from_sdk.failover_count) == (4, 1), transport
        assert [(v.currency, v.amount) for v in from_sdk.volumes] == [("EUR", 700), ("USD", 5000)]

    # Over native gRPC: hourly, by currency (the window may straddle an hour: add them up).
    window = _window()
    request = analytics_pb2.GetPaymentAnalyticsRequest(
        interval=analytics_pb2.GetPaymentAnalyticsRequest.HOUR,
        group_by=analytics_pb2.GetPaymentAnalyticsRequest.CURRENCY,
    )
    request.start_time.FromJsonString(window["start_time"])
    request.end_time.FromJsonString(window["end_time"])
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        answer = analytics_pb2_grpc.AnalyticsServiceStub(channel).GetPaymentAnalytics(
            request, metadata=(("authorization", f"Bearer {test_key}"),), timeout=30
        )
    per_currency: dict[str, int] = {}
    for bucket in answer.buckets:
        assert bucket.end_time.ToDatetime() - bucket.start_time.ToDatetime() == timedelta(hours=1)
        per_currency[bucket.group] = per_currency.get(bucket.group, 0) + bucket.total_count
    assert per_currency == {"EUR": 1, "USD": 3}


def _refusal(api: httpx.Client, **params: str) -> tuple[int, str, list[tuple[str, str]]]:
    response = api.get(PAYMENTS, params=params)
    body = response.json()
    info = next(d for d in body["details"] if d["@type"].endswith("ErrorInfo"))
    violations = [
        (v["field"], v["reason"])
        for d in body["details"]
        if d["@type"].endswith("BadRequest")
        for v in d["field_violations"]
    ]
    return response.status_code, info["reason"], violations


def _at(moment: datetime) -> str:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp.ToJsonString()


def test_unbounded_or_empty_windows_are_refused_with_stable_reasons(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("analytics bounds")
    api = mesh.client(key)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    refused = "INVALID_REQUEST"
    assert _refusal(api) == (
        400,
        refused,
        [("start_time", "START_TIME_REQUIRED"), ("end_time", "END_TIME_REQUIRED")],
    )
    assert _refusal(api, start_time=_at(start), end_time=_at(start)) == (
        400,
        refused,
        [("end_time", "WINDOW_EMPTY")],
    )
    assert _refusal(api, start_time=_at(start), end_time=_at(start + timedelta(days=91))) == (
        400,
        refused,
        [("end_time", "WINDOW_TOO_LONG")],
    )
    hourly_quarter = {
        "start_time": _at(start),
        "end_time": _at(start + timedelta(days=60)),
        "interval": "HOUR",
    }
    assert _refusal(api, **hourly_quarter) == (400, refused, [("interval", "TOO_MANY_BUCKETS")])
    unknown = api.get(PAYMENTS, params={**hourly_quarter, "interval": "week"})
    assert unknown.status_code == 400, unknown.text
    # The widest window there is, daily: 90 days.
    widest = api.get(
        PAYMENTS,
        params={
            "start_time": _at(start),
            "end_time": _at(start + timedelta(days=90)),
            "interval": "day",
        },
    )
    assert (widest.status_code, widest.json()) == (200, {"buckets": []})
