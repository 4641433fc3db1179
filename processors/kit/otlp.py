"""OTLP export as the standard OTEL_* variables describe it, for the adapters and for every
other PayLoops process too (edge and worker reuse it through core.telemetry): it depends on
OpenTelemetry alone.

- The protocol: `OTEL_EXPORTER_OTLP_PROTOCOL` (or the signal's own
  `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`), `grpc` when unset or `http/protobuf`; the exporters
  read the endpoint, headers and timeouts from the other OTEL_EXPORTER_OTLP_* variables.
- The resource: `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` as given; the service's own
  name (`payloops-edge`, …) only when neither names one.
- Logs: a logging handler that sends every record of the process as an OTLP log record, with
  its level, the trace and span of the context it was logged in, and the attributes its
  process adds (the correlation id, the order id).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Literal

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import get_current
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.util.types import AnyValue

PROTOCOLS = ("grpc", "http/protobuf")
Signal = Literal["traces", "metrics", "logs"]

# What a record adds besides its level, body and trace: OTLP attributes.
Attributes = Callable[[logging.LogRecord], Mapping[str, AnyValue]]

_SEVERITIES = (
    (logging.CRITICAL, SeverityNumber.FATAL, "FATAL"),
    (logging.ERROR, SeverityNumber.ERROR, "ERROR"),
    (logging.WARNING, SeverityNumber.WARN, "WARN"),
    (logging.INFO, SeverityNumber.INFO, "INFO"),
    (logging.DEBUG, SeverityNumber.DEBUG, "DEBUG"),
)
_HTTP_MISSING = (
    "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf needs the opentelemetry-exporter-otlp-proto-http "
    "package, which is not installed: install it or use grpc"
)


def protocol(signal: Signal, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    given = env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", ""
    )
    chosen = given.strip().lower() or "grpc"
    if chosen not in PROTOCOLS:
        raise SystemExit(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={given!r} is not supported here: use one of "
            f"{', '.join(PROTOCOLS)}"
        )
    return chosen


def resource(default_service: str, env: Mapping[str, str] | None = None) -> Resource:
    """The process's resource: the OTEL_* variables' attributes, and `default_service` as its
    name unless they name one."""
    env = os.environ if env is None else env
    detected = Resource.create()
    named = env.get("OTEL_SERVICE_NAME", "").strip() or any(
        part.split("=", 1)[0].strip() == SERVICE_NAME
        for part in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(",")
    )
    if named:
        return detected
    return detected.merge(Resource({SERVICE_NAME: default_service}))


def span_exporter() -> SpanExporter:
    try:
        if protocol("traces") == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            return OTLPSpanExporter()
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
            OTLPSpanExporter as OTLPHttpSpanExporter,
        )
    except ImportError:
        raise SystemExit(_HTTP_MISSING) from None
    exporter: SpanExporter = OTLPHttpSpanExporter()
    return exporter


def metric_exporter() -> MetricExporter:
    try:
        if protocol("metrics") == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter,
            )

            return OTLPMetricExporter()
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # type: ignore[import-not-found,unused-ignore]
            OTLPMetricExporter as OTLPHttpMetricExporter,
        )
    except ImportError:
        raise SystemExit(_HTTP_MISSING) from None
    exporter: MetricExporter = OTLPHttpMetricExporter()
    return exporter


def log_exporter() -> LogRecordExporter:
    try:
        if protocol("logs") == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

            return OTLPLogExporter()
        from opentelemetry.exporter.otlp.proto.http._log_exporter import (  # type: ignore[import-not-found,unused-ignore]
            OTLPLogExporter as OTLPHttpLogExporter,
        )
    except ImportError:
        raise SystemExit(_HTTP_MISSING) from None
    exporter: LogRecordExporter = OTLPHttpLogExporter()
    return exporter


def export_logs(
    default_service: str, attributes: Attributes, body: Callable[[logging.LogRecord], str]
) -> LoggerProvider:
    """Sends every record of the root logger over OTLP from now on (besides its other
    handlers); shut the returned provider down at exit to send what is still buffered."""
    provider = LoggerProvider(resource=resource(default_service))
    provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter()))
    logging.getLogger().addHandler(OtlpLogHandler(provider, attributes, body))
    return provider


class OtlpLogHandler(logging.Handler):
    def __init__(
        self,
        provider: LoggerProvider,
        attributes: Attributes,
        body: Callable[[logging.LogRecord], str],
    ) -> None:
        super().__init__()
        self._provider = provider
        self._attributes = attributes
        self._body = body

    def emit(self, record: logging.LogRecord) -> None:
        # The exporter's own complaints (a collector that is down) would feed themselves.
        if record.name.startswith("opentelemetry"):
            return
        number, text = _severity(record.levelno)
        try:
            entry = LogRecord(
                timestamp=int(record.created * 1e9),
                context=get_current(),
                severity_number=number,
                severity_text=text,
                body=self._body(record),
                attributes={"logger": record.name, **self._attributes(record)},
            )
            self._provider.get_logger(record.name).emit(entry)
        except Exception:
            self.handleError(record)


def _severity(level: int) -> tuple[SeverityNumber, str]:
    for floor, number, text in _SEVERITIES:
        if level >= floor:
            return number, text
    return SeverityNumber.TRACE, "TRACE"
