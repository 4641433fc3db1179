"""processors/kit/otlp.py: the standard OTEL_* variables decide the service name and the
protocol; the service's own name is only the default."""

from __future__ import annotations

import pytest

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
