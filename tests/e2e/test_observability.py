"""Traces and metrics (core/telemetry.py, core/metrics.py). With OTEL_TRACES_EXPORTER set, one
payment is one trace from the edge through Temporal (the update-with-start, the workflow, its
activities) to the gRPC call to the processor, every span carries the request's correlation id,
and no span carries the card token or the API key; with `otlp`, Envoy starts that trace and
every service exports it to a collector. With OTEL_METRICS_EXPORTER set, the worker
counts processor calls, amounts, latencies and webhook deliveries. Without them, nothing is
exported (the shared mesh writes no spans)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from core.contracts import search_attributes
from core.contracts.payment import workflow_id
from tests.conftest import Mesh, retire_mesh, start_mesh
from tests.e2e.failover_helpers import pay
from tests.e2e.test_webhooks import Receiver, create_endpoint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def traced_mesh() -> Iterator[Mesh]:
    # "console" writes one JSON line per span (or batch of metrics) into each service's log;
    # a short batch delay and export interval get them there quickly.
    mesh = start_mesh(
        {
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_METRICS_EXPORTER": "console",
            "OTEL_METRIC_EXPORT_INTERVAL": "300",
        }
    )
    try:
        yield mesh
    finally:
        retire_mesh(mesh.process, mesh.state_dir)


def spans(log: Path) -> list[dict[str, Any]]:
    """The span lines of a service's log (its own log lines have no "context")."""
    found = []
    for line in log.read_text().splitlines():
        if line.startswith("{") and '"context"' in line:
            entry = json.loads(line)
            if "trace_id" in entry.get("context", {}):
                found.append(entry)
    return found


def metric_points(log: Path) -> dict[str, list[dict[str, Any]]]:
    """The data points of each metric in the last metrics batch of a service's log (totals are
    cumulative, so the last batch has them all)."""
    batches = [line for line in log.read_text().splitlines() if '"resource_metrics"' in line]
    if not batches:
        return {}
    points: dict[str, list[dict[str, Any]]] = {}
    for resource in json.loads(batches[-1])["resource_metrics"]:
        for scope in resource["scope_metrics"]:
            for metric in scope["metrics"]:
                points[metric["name"]] = metric["data"]["data_points"]
    return points


def total(points: dict[str, list[dict[str, Any]]], name: str, **labels: str) -> float:
    """A counter's value (or a histogram's count) over the points with these labels."""
    return sum(
        p.get("value", p.get("count", 0))
        for p in points.get(name, [])
        if all(p["attributes"].get(k) == v for k, v in labels.items())
    )


def trace_of(mesh: Mesh, trace_id: str) -> dict[str, list[dict[str, Any]]]:
    logs = mesh.state_dir / "logs"
    return {
        service: [s for s in spans(logs / f"{service}.log") if s["context"]["trace_id"] == trace_id]
        for service in ("edge", "worker")
    }


def test_a_payment_is_one_trace_from_the_edge_to_the_processor(traced_mesh: Mesh) -> None:
    cid = f"trace-{uuid.uuid4().hex}"
    api = traced_mesh.client(**{"X-Correlation-ID": cid})
    created = api.post("/v1/orders", json={"amount": 2500, "currency": "USD"})
    assert created.status_code == 200, created.text
    order = created.json()
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
            # The first Authorize is sent by the routing step (a local activity).
            "StartActivity:route_and_authorize",
            "RunActivity:route_and_authorize",
            "/payloops.processor.v1.Processor/Authorize",
            "StartActivity:record_progress",
            "RunActivity:record_progress",
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
    # The processor call is the worker's, inside the activity that sent it.
    by_id = {s["context"]["span_id"]: s for s in every}
    call = next(s for s in every if s["name"] == "/payloops.processor.v1.Processor/Authorize")
    assert by_id[call["parent_id"]]["name"] == "RunActivity:route_and_authorize"
    # Spans name calls; they never carry what was sent.
    text = json.dumps(every)
    assert "pm_card_visa" not in text
    assert traced_mesh.api_key not in text


def test_the_worker_counts_processor_calls_amounts_latencies_and_deliveries(
    traced_mesh: Mesh,
) -> None:
    log = traced_mesh.state_dir / "logs" / "worker.log"
    edge_log = traced_mesh.state_dir / "logs" / "edge.log"
    pay_rpc = "/payloops.v1.OrderService/PayOrder"

    def now() -> tuple[float, ...]:
        points = metric_points(log)
        edge = metric_points(edge_log)
        return (
            total(points, "payment_attempts_total", processor="sandbox", outcome="succeeded"),
            total(points, "payment_attempts_total", processor="sandbox", outcome="declined"),
            total(points, "payment_amount_total", processor="sandbox", currency="EUR"),
            total(points, "processor_call_latency_seconds", processor="sandbox"),
            # End to end: one payment succeeded, one failed.
            total(points, "payment_latency_seconds", status="succeeded"),
            total(points, "payment_latency_seconds", status="failed"),
            total(points, "webhook_deliveries_total", result="delivered"),
            total(points, "webhook_delivery_lag_seconds", result="delivered"),
            # The edge served both PayOrders with OK (a decline is an answer, not an error).
            total(edge, "edge_rpc_duration_seconds", method=pay_rpc, code="OK"),
        )

    # Totals before these payments, once no earlier call is still on its way to an export.
    before = now()
    while True:
        time.sleep(1)
        latest = now()
        if latest == before:
            break
        before = latest
    api = traced_mesh.client()  # the demo merchant: its payments go to the sandboxes
    receiver = Receiver()
    try:
        create_endpoint(api, receiver.url, ["order.succeeded"])
        for token in ("pm_card_visa", "pm_card_declined"):
            order = api.post("/v1/orders", json={"amount": 1234, "currency": "EUR"}).json()
            api.post(
                f"/v1/orders/{order['id']}:pay",
                json={"payment_method": {"type": "card", "token": token}},
            )
        # One call that charged 12.34 EUR, one hard decline; two latencies; one delivery.
        changes = (1, 1, 1234, 2, 1, 1, 1, 1, 2)
        expected = tuple(b + d for b, d in zip(before, changes, strict=True))
        deadline = time.monotonic() + 30
        while now() != expected:
            assert time.monotonic() < deadline, f"{now()} != {expected}"
            time.sleep(0.3)
    finally:
        receiver.close()
    # Refused requests count under their code.
    refused = api.post("/v1/orders", json={"amount": -1, "currency": "EUR"})
    assert refused.status_code == 400
    create = "/payloops.v1.OrderService/CreateOrder"
    deadline = time.monotonic() + 30
    while not total(
        metric_points(edge_log), "edge_rpc_duration_seconds", method=create, code="INVALID_ARGUMENT"
    ):
        assert time.monotonic() < deadline, "the refused CreateOrder was not counted"
        time.sleep(0.3)
    # Every registered processor's breaker, closed here.
    breakers = {
        p["attributes"]["processor"]: p["value"]
        for p in metric_points(log).get("processor_breaker_state", [])
    }
    assert breakers.get("sandbox") == 0, breakers


def service_name(resource: resource_pb2.Resource) -> str:
    return next((a.value.string_value for a in resource.attributes if a.key == "service.name"), "")


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OpenTelemetry collector's OTLP/gRPC trace endpoint, keeping (service, span) pairs."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, trace_pb2.Span]] = []
        self.port = 0
        self._lock = threading.Lock()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        with self._lock:
            for resource in request.resource_spans:
                name = service_name(resource.resource)
                for scope in resource.scope_spans:
                    self.spans += [(name, span) for span in scope.spans]
        return trace_service_pb2.ExportTraceServiceResponse()

    def received(self) -> list[tuple[str, trace_pb2.Span]]:
        with self._lock:
            return list(self.spans)


class LogCollector(logs_service_pb2_grpc.LogsServiceServicer):
    """The collector's OTLP/gRPC logs endpoint, keeping (service, log record) pairs."""

    def __init__(self) -> None:
        self.records: list[tuple[str, logs_pb2.LogRecord]] = []
        self._lock = threading.Lock()

    def Export(
        self, request: logs_service_pb2.ExportLogsServiceRequest, context: grpc.ServicerContext
    ) -> logs_service_pb2.ExportLogsServiceResponse:
        with self._lock:
            for resource in request.resource_logs:
                name = service_name(resource.resource)
                for scope in resource.scope_logs:
                    self.records += [(name, record) for record in scope.log_records]
        return logs_service_pb2.ExportLogsServiceResponse()

    def received(self) -> list[tuple[str, logs_pb2.LogRecord]]:
        with self._lock:
            return list(self.records)


class MetricCollector(metrics_service_pb2_grpc.MetricsServiceServicer):
    """The collector's OTLP/gRPC metrics endpoint, keeping the (service, metric) names seen."""

    def __init__(self) -> None:
        self.names: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def Export(
        self,
        request: metrics_service_pb2.ExportMetricsServiceRequest,
        context: grpc.ServicerContext,
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        with self._lock:
            for resource in request.resource_metrics:
                name = service_name(resource.resource)
                for scope in resource.scope_metrics:
                    self.names |= {(name, metric.name) for metric in scope.metrics}
        return metrics_service_pb2.ExportMetricsServiceResponse()

    def received(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self.names)


def attribute(item: trace_pb2.Span | logs_pb2.LogRecord, key: str) -> str:
    found: list[common_pb2.KeyValue] = [a for a in item.attributes if a.key == key]
    return found[0].value.string_value if found else ""


@pytest.fixture(scope="module")
def log_collector() -> LogCollector:
    return LogCollector()


@pytest.fixture(scope="module")
def metric_collector() -> MetricCollector:
    return MetricCollector()


@pytest.fixture(scope="module")
def collector(
    log_collector: LogCollector, metric_collector: MetricCollector
) -> Iterator[Collector]:
    received = Collector()
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    # opentelemetry-proto's gRPC modules have no type hints.
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(received, server)  # type: ignore[no-untyped-call]
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(log_collector, server)  # type: ignore[no-untyped-call]
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(metric_collector, server)  # type: ignore[no-untyped-call]
    received.port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield received
    finally:
        server.stop(grace=None)


@pytest.fixture(scope="module")
def otlp_mesh(collector: Collector) -> Iterator[Mesh]:
    endpoint = f"http://127.0.0.1:{collector.port}"
    mesh = start_mesh(
        {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_METRIC_EXPORT_INTERVAL": "300",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_BLRP_SCHEDULE_DELAY": "100",
        }
    )
    try:
        yield mesh
    finally:
        retire_mesh(mesh.process, mesh.state_dir)


def test_with_otlp_the_trace_starts_at_envoy_and_reaches_a_collector(
    otlp_mesh: Mesh, collector: Collector
) -> None:
    cid = f"otlp-{uuid.uuid4().hex}"
    api = otlp_mesh.client(**{"X-Correlation-ID": cid})
    order = pay(api, amount=2500)
    assert order["status"] == "SUCCEEDED", order

    deadline = time.monotonic() + 30
    while True:
        spans = collector.received()
        pay_spans = [
            s
            for service, s in spans
            if service == "payloops-edge"
            and s.name == "/payloops.v1.OrderService/PayOrder"
            and attribute(s, "payloops.correlation_id") == cid
        ]
        trace = [
            (service, s)
            for service, s in spans
            if pay_spans and s.trace_id == pay_spans[0].trace_id
        ]
        services = {service for service, _ in trace}
        calls = {s.name for _, s in trace}
        if {
            "payloops-envoy",
            "payloops-edge",
            "payloops-worker",
        } <= services and "/payloops.processor.v1.Processor/Authorize" in calls:
            break
        assert time.monotonic() < deadline, f"incomplete trace: {sorted(services)} {sorted(calls)}"
        time.sleep(0.3)
    # Envoy started the trace (the client sent no traceparent) and the edge's span is its
    # child: the whole request, from the public door to the processor, is one tree.
    [envoy] = [s for service, s in trace if service == "payloops-envoy"]
    assert envoy.parent_span_id == b""
    assert pay_spans[0].parent_span_id == envoy.span_id


def test_with_otlp_logs_every_service_sends_the_payments_log_records(
    otlp_mesh: Mesh, collector: Collector, log_collector: LogCollector
) -> None:
    cid = f"logs-{uuid.uuid4().hex}"
    api = otlp_mesh.client(**{"X-Correlation-ID": cid})
    order = pay(api, amount=2500)
    assert order["status"] == "SUCCEEDED", order

    services = {"payloops-edge", "payloops-worker", "payloops-sandbox"}
    deadline = time.monotonic() + 30
    while True:
        pay_spans = [
            s
            for service, s in collector.received()
            if service == "payloops-edge"
            and s.name == "/payloops.v1.OrderService/PayOrder"
            and attribute(s, "payloops.correlation_id") == cid
        ]
        records = [
            (service, r)
            for service, r in log_collector.received()
            if pay_spans and r.trace_id == pay_spans[0].trace_id
        ]
        if services <= {service for service, _ in records}:
            break
        assert time.monotonic() < deadline, f"log records from {[s for s, _ in records]}"
        time.sleep(0.3)
    # Every record of the payment's trace names its request, its span and its level; the
    # worker's name the order too.
    for service, record in records:
        assert attribute(record, "payloops.correlation_id") == cid, (service, record)
        assert len(record.span_id) == 8 and record.severity_text, (service, record)
    assert {
        attribute(r, "payloops.order_id") for service, r in records if service == "payloops-worker"
    } == {order["id"]}
    assert any(
        r.body.string_value == "rpc=Authorize code=OK"
        for service, r in records
        if service == "payloops-sandbox"
    )
    text = str([r for _, r in records])
    assert "pm_card_visa" not in text and otlp_mesh.api_key not in text


def test_with_otlp_metrics_the_edge_the_worker_and_temporals_sdk_send_theirs(
    otlp_mesh: Mesh, metric_collector: MetricCollector
) -> None:
    api = otlp_mesh.client()
    order = pay(api, amount=2500)
    assert order["status"] == "SUCCEEDED", order
    wanted = {
        ("payloops-edge", "edge_rpc_duration_seconds"),
        ("payloops-worker", "payment_latency_seconds"),
        ("payloops-worker", "processor_call_latency_seconds"),
        ("payloops-worker", "processor_breaker_state"),
    }
    deadline = time.monotonic() + 30
    while True:
        names = metric_collector.received()
        # The worker's Temporal SDK metrics (task latencies, polls) come from its runtime.
        temporal = {name for _, name in names if name.startswith("temporal_")}
        if wanted <= names and "temporal_workflow_task_execution_latency" in temporal:
            break
        assert time.monotonic() < deadline, f"missing: {wanted - names}, temporal: {temporal}"
        time.sleep(0.3)


def test_without_an_exporter_nothing_is_traced(mesh: Mesh) -> None:
    api = mesh.client()
    order = pay(api, amount=2500)
    assert order["status"] == "SUCCEEDED", order
    logs = mesh.state_dir / "logs"
    assert spans(logs / "edge.log") == [] and spans(logs / "worker.log") == []
    assert metric_points(logs / "worker.log") == {}


def test_with_tracing_off_the_worker_and_the_adapter_log_the_correlation_id(mesh: Mesh) -> None:
    """The id travels in the workflow's input and the processor call's metadata, not only in a
    trace's baggage: the shared mesh traces nothing, and its logs still follow the payment."""
    cid = f"untraced-{uuid.uuid4().hex}"
    api = mesh.client(**{"X-Correlation-ID": cid})
    order = pay(api, amount=2500)
    assert order["status"] == "SUCCEEDED", order

    logs = mesh.state_dir / "logs"

    def worker_lines() -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in (logs / "worker.log").read_text().splitlines()
            if line.startswith("{") and cid in line
        ]

    def adapter_lines() -> list[str]:
        return [
            line
            for log in logs.glob("sandbox*.log")
            for line in log.read_text().splitlines()
            if f"correlation_id={cid} " in line
        ]

    deadline = time.monotonic() + 30
    while not (worker_lines() and adapter_lines()):
        assert time.monotonic() < deadline, "no log line carries the correlation id"
        time.sleep(0.3)
    activities = {line["activity"] for line in worker_lines() if "activity" in line}
    assert "route_and_authorize" in activities, worker_lines()
    assert {line["order_id"] for line in worker_lines()} == {order["id"]}
    assert any("rpc=Authorize code=OK" in line for line in adapter_lines()), adapter_lines()
    # The edge's line for each call names the order too, the one it created included.
    edge = [
        json.loads(line)
        for line in (logs / "edge.log").read_text().splitlines()
        if line.startswith("{") and cid in line
    ]
    assert {(line["rpc"].rsplit("/", 1)[-1], line.get("order_id")) for line in edge} == {
        ("CreateOrder", order["id"]),
        ("PayOrder", order["id"]),
    }


def test_with_tracing_off_a_webhook_deliverys_activities_log_the_payments_correlation_id(
    mesh: Mesh,
) -> None:
    """The delivery workflow's input carries the correlation id of what caused the event (here
    the PayOrder's, through the payment workflow's dispatch_event)."""
    cid = f"hooked-{uuid.uuid4().hex}"
    _, key = mesh.new_merchant("correlated hooks")
    api = mesh.client(key, **{"X-Correlation-ID": cid})
    receiver = Receiver()
    try:
        create_endpoint(api, receiver.url, ["order.succeeded"])
        order = pay(api, amount=2500)
        assert order["status"] == "SUCCEEDED", order
        log = mesh.state_dir / "logs" / "worker.log"

        def delivery_activities() -> set[str]:
            return {
                line.get("activity", "")
                for line in map(json.loads, _lines_with(log, cid))
                if line.get("workflow_id", "").startswith("webhook-")
            }

        deadline = time.monotonic() + 30
        while not {"begin_delivery", "attempt_delivery"} <= delivery_activities():
            assert time.monotonic() < deadline, delivery_activities()
            time.sleep(0.3)
    finally:
        receiver.close()
    assert receiver.requests, "the receiver got no delivery"


def _lines_with(log: Path, text: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("{") and text in line]


def test_a_payment_is_found_in_temporal_by_its_order_merchant_and_correlation_id(
    mesh: Mesh,
) -> None:
    """The payment workflow's search attributes (core.contracts.search_attributes), as the
    Temporal UI and `temporal workflow list --query` use them: the ids from the start, the
    status as the workflow upserts it. Temporal's visibility catches up eventually: polled."""
    cid = f"indexed-{uuid.uuid4().hex}"
    merchant, key = mesh.new_merchant("indexed")
    api = mesh.client(key, **{"X-Correlation-ID": cid})
    order = pay(api, amount=2500)
    assert order["status"] == "SUCCEEDED", order

    async def found(query: str) -> list[tuple[str, str]]:
        client = await mesh.temporal()
        return [
            (execution.id, execution.typed_search_attributes.get(search_attributes.STATUS) or "")
            async for execution in client.list_workflows(query)
        ]

    expected = [(workflow_id(order["id"]), "SUCCEEDED")]
    for query in (
        f'PayLoopsOrderId="{order["id"]}"',
        f'PayLoopsCorrelationId="{cid}"',
        f'PayLoopsMerchantId="{merchant}" AND PayLoopsStatus="SUCCEEDED"',
    ):
        deadline = time.monotonic() + 30
        while (listed := asyncio.run(found(query))) != expected:
            assert time.monotonic() < deadline, (query, listed)
            time.sleep(0.5)
