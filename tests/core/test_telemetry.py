"""core/telemetry.py and core/logs.py without a mesh: traces and metrics stay off unless asked
for, a wrong exporter name stops the start with one clear line, and a correlation id carried as
trace baggage reaches the log lines."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry import baggage, context

from core.config import Settings
from core.logs import CORRELATION_ID, JsonFormatter
from core.telemetry import configure_telemetry

URL = {"PAYLOOPS_DATABASE_URL": "postgresql+asyncpg://unused"}


def test_telemetry_is_off_unless_the_environment_asks() -> None:
    off = Settings.from_env(URL)
    assert (off.traces_exporter, off.metrics_exporter) == ("none", "none")
    on = Settings.from_env(
        URL | {"OTEL_TRACES_EXPORTER": " OTLP ", "OTEL_METRICS_EXPORTER": "console"}
    )
    assert (on.traces_exporter, on.metrics_exporter) == ("otlp", "console")
    disabled = Settings.from_env(
        URL
        | {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_SDK_DISABLED": "true",
        }
    )
    assert (disabled.traces_exporter, disabled.metrics_exporter) == ("none", "none")
    assert configure_telemetry("edge", off).temporal_interceptors() == []


@pytest.mark.parametrize("variable", ["OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER"])
def test_an_unknown_exporter_is_refused_in_one_line(variable: str) -> None:
    with pytest.raises(SystemExit) as refused:
        configure_telemetry("edge", Settings.from_env(URL | {variable: "jaeger"}))
    assert str(refused.value) == (
        f"{variable}='jaeger' is not supported here: use one of none, console, otlp"
    )


def test_a_correlation_id_carried_as_baggage_is_in_the_log_line() -> None:
    record = logging.LogRecord("payloops.worker", logging.INFO, __file__, 1, "hello", None, None)
    formatter = JsonFormatter("worker")
    assert "correlation_id" not in json.loads(formatter.format(record))
    token = context.attach(baggage.set_baggage(CORRELATION_ID, "req-42"))
    try:
        assert json.loads(formatter.format(record))["correlation_id"] == "req-42"
    finally:
        context.detach(token)
