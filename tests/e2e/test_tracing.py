"""Tracing (core/telemetry.py): with OTEL_TRACES_EXPORTER set, one payment is one trace from the
edge through Temporal (the update-with-start, the workflow, its activities) to the gRPC call to
the processor, every span carries the request's correlation id, and no span carries the card
token or the API key. Without it, nothing is traced (the shared mesh writes no spans)."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Mesh, start_mesh, stop_mesh_process

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def traced_mesh() -> Iterator[Mesh]:
    # "console" writes one JSON line per span into each service's log; a short batch delay
    # gets them there quickly.
    mesh = start_mesh({"OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "100"})
    try:
        yield mesh
    finally:
        stop_mesh_process(mesh.process, mesh.state_dir)
        shutil.rmtree(mesh.state_dir, ignore_errors=True)


def spans(log: Path) -> list[dict[str, Any]]:
    """The span lines of a service's log (its own log lines have no "context")."""
    found = []
    for line in log.read_text().splitlines():
        if line.startswith("{") and '"context"' in line:
            entry = json.loads(line)
            if "trace_id" in entry.get("context", {}):
                found.append(entry)
    return found


def trace_of(mesh: Mesh, trace_id: str) -> dict[str, list[dict[str, Any]]]:
    logs = mesh.state_dir / "logs"
    return {
        service: [s for s in spans(logs / f"{service}.log") if s["context"]["trace_id"] == trace_id]
        for service in ("edge", "worker")
    }


def test_a_payment_is_one_trace_from_the_edge_to_the_processor(traced_mesh: Mesh) -> None:
    cid = f"trace-{uuid.uuid4().hex}"
    api = traced_mesh.client(**{"X-Correlation-ID": cid})
    order = api.post("/v1/orders", json={"amount": 2500, "currency": "USD"}).json()
    # The caller's own trace, through Envoy: the payment continues it.
    caller_trace = uuid.uuid4().hex
    paid = api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
        headers={"traceparent": f"00-{caller_trace}-{uuid.uuid4().hex[:16]}-01"},
    ).json()
    assert paid["status"] == "SUCCEEDED", paid

    wanted = {
        "edge": {
            "/payloops.v1.OrderService/PayOrder",
            "StartUpdateWithStartWorkflow:PaymentWorkflow",
        },
        "worker": {
            "RunWorkflow:PaymentWorkflow",
            "HandleUpdate:pay",
            "StartActivity:authorize",
            "RunActivity:authorize",
            "/payloops.processor.v1.Processor/Authorize",
        },
    }
    deadline = time.monotonic() + 30
    while True:
        pay_spans = [
            s
            for s in spans(traced_mesh.state_dir / "logs" / "edge.log")
            if s["name"] == "/payloops.v1.OrderService/PayOrder"
            and s["attributes"].get("payloops.correlation_id") == cid
        ]
        if pay_spans:
            trace = trace_of(traced_mesh, pay_spans[0]["context"]["trace_id"])
            names = {service: {s["name"] for s in found} for service, found in trace.items()}
            if all(wanted[service] <= names[service] for service in wanted):
                break
        assert time.monotonic() < deadline, f"trace incomplete: {pay_spans and names}"
        time.sleep(0.3)

    assert pay_spans[0]["context"]["trace_id"] == f"0x{caller_trace}"
    every = [span for found in trace.values() for span in found]
    # One trace, and every span in it knows which request it served.
    assert {s["attributes"].get("payloops.correlation_id") for s in every} == {cid}
    # The processor call is the worker's, inside the authorize activity.
    by_id = {s["context"]["span_id"]: s for s in every}
    call = next(s for s in every if s["name"] == "/payloops.processor.v1.Processor/Authorize")
    assert by_id[call["parent_id"]]["name"] == "RunActivity:authorize"
    # Spans name calls; they never carry what was sent.
    text = json.dumps(every)
    assert "pm_card_visa" not in text
    assert traced_mesh.api_key not in text


def test_without_an_exporter_nothing_is_traced(mesh: Mesh) -> None:
    api = mesh.client()
    order = api.post("/v1/orders", json={"amount": 2500, "currency": "USD"}).json()
    paid = api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
    ).json()
    assert paid["status"] == "SUCCEEDED", paid
    logs = mesh.state_dir / "logs"
    assert spans(logs / "edge.log") == [] and spans(logs / "worker.log") == []
