"""processors/kit/otlp.py: the standard OTEL_* variables decide the service name and the
protocol; the service's own name is only the default."""

from __future__ import annotations

import http.server
import logging
import threading

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

from processors.kit import otlp


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)


def test_the_service_name_defaults_to_the_services_own() -> None:
    assert otlp.resource("payloops-edge").attributes["service.name"] == "payloops-edge"


def test_otel_service_name_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "edge-eu-1")
    assert otlp.resource("payloops-edge").attributes["service.name"] == "edge-eu-1"


def test_otel_resource_attributes_are_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "OTEL_RESOURCE_ATTRIBUTES", "service.name=edge-b,deployment.environment=staging"
    )
    attributes = otlp.resource("payloops-edge").attributes
    assert attributes["service.name"] == "edge-b"
    assert attributes["deployment.environment"] == "staging"


def test_other_resource_attributes_keep_the_default_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging")
    attributes = otlp.resource("payloops-worker").attributes
    assert attributes["service.name"] == "payloops-worker"
    assert attributes["deployment.environment"] == "staging"


def test_the_protocol_is_grpc_unless_told() -> None:
    assert otlp.protocol("logs", {}) == "grpc"
    assert otlp.protocol("logs", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}) == (
        "http/protobuf"
    )
    # The signal's own variable wins.
    assert (
        otlp.protocol(
            "traces",
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
            },
        )
        == "grpc"
    )


def test_an_unknown_protocol_stops_the_service() -> None:
    with pytest.raises(SystemExit, match="http/json"):
        otlp.protocol("metrics", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})


def test_logs_go_over_http_when_the_protocol_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf: a record reaches a real HTTP receiver as an
    OTLP ExportLogsServiceRequest at /v1/logs, with the service's name."""
    received: list[tuple[str, bytes]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        provider = otlp.export_logs("payloops-test", lambda record: {}, lambda record: record.msg)
        try:
            logging.getLogger("payloops.test").warning("over http")
            provider.force_flush()
        finally:
            provider.shutdown()
            logging.getLogger().handlers = [
                h for h in logging.getLogger().handlers if not isinstance(h, otlp.OtlpLogHandler)
            ]
            server.shutdown()
    [(path, body)] = received
    request = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
    [resource_logs] = request.resource_logs
    service = {a.key: a.value.string_value for a in resource_logs.resource.attributes}
    records = [r for scope in resource_logs.scope_logs for r in scope.log_records]
    assert path == "/v1/logs"
    assert service["service.name"] == "payloops-test"
    assert [r.body.string_value for r in records] == ["over http"]
