"""core/telemetry.py and core/logs.py without a mesh: tracing stays off unless asked for, a wrong
exporter name stops the start with one clear line, and a correlation id carried as trace baggage
reaches the log lines."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry import baggage, context

from core.config import Settings
from core.logs import CORRELATION_ID, JsonFormatter
from core.telemetry import configure_tracing


def test_tracing_is_off_unless_the_environment_asks() -> None:
    url = {"PAYLOOPS_DATABASE_URL": "postgresql+asyncpg://unused"}
    assert Settings.from_env(url).traces_exporter == "none"
    assert Settings.from_env(url | {"OTEL_TRACES_EXPORTER": " OTLP "}).traces_exporter == "otlp"
    disabled = url | {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}
    assert Settings.from_env(disabled).traces_exporter == "none"
    assert configure_tracing("edge", "none") is None


def test_an_unknown_exporter_is_refused_in_one_line() -> None:
    with pytest.raises(SystemExit) as refused:
        configure_tracing("edge", "jaeger")
    assert str(refused.value) == (
        "OTEL_TRACES_EXPORTER='jaeger' is not supported here: use one of none, console, otlp"
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
