"""OpenTelemetry for the edge and the worker (docs/observability.md): traces, one per request from
the edge through the payment workflow and its activities to the call to the processor, and the
metrics of core.metrics.

Both are off unless the standard variables ask for them, so a payment pays nothing for them by
default: `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` = `otlp` (to
`OTEL_EXPORTER_OTLP_ENDPOINT`; the other `OTEL_EXPORTER_OTLP_*` and `OTEL_METRIC_EXPORT_INTERVAL`
apply) or `console` (one JSON line per span or metrics batch on stderr, that is in the service's
log). The request's correlation id travels with the trace as W3C baggage (through Temporal's
headers too) and is set on every span as `payloops.correlation_id`.

Spans carry RPC names, status codes and Temporal workflow and activity names, never message
bodies: no card token, credential or secret reaches a span.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from contextvars import Token
from datetime import timedelta

from opentelemetry import baggage, context, metrics, trace
from opentelemetry.instrumentation.grpc import (
    GrpcAioInstrumentorClient,
    GrpcAioInstrumentorServer,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.util.types import AnyValue
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.runtime import OpenTelemetryConfig, Runtime, TelemetryConfig

from core.card_numbers import mask_card_numbers
from core.config import Settings
from core.logs import CORRELATION_ID, correlation_id, masked_message, record_fields
from processors.kit import otlp

EXPORTERS = ("none", "console", "otlp")
# stderr has every log line already, as JSON.
LOG_EXPORTERS = ("none", "otlp")
# The order id of a log record, named like the correlation id's attribute.
ORDER_ID = "payloops.order_id"
_FORMATTER = logging.Formatter()


class Telemetry:
    """What this process installed: a tracer, meter and logger provider, any or none."""

    def __init__(
        self,
        tracer: TracerProvider | None,
        meter: MeterProvider | None,
        logs: LoggerProvider | None = None,
        temporal_metrics: OpenTelemetryConfig | None = None,
    ) -> None:
        self._tracer = tracer
        self._meter = meter
        self._logs = logs
        self._temporal_metrics = temporal_metrics

    @property
    def metrics_on(self) -> bool:
        return self._meter is not None

    def temporal_runtime(self) -> Runtime | None:
        """For the worker's `Client.connect`: with OTLP metrics, a Temporal runtime that sends
        the SDK's own metrics (workflow and activity task latencies, polls, failures) to the
        same collector; None keeps the default runtime."""
        if self._temporal_metrics is None:
            return None
        return Runtime(telemetry=TelemetryConfig(metrics=self._temporal_metrics))

    def temporal_interceptors(self) -> Sequence[Interceptor]:
        """For `Client.connect`: with tracing, client calls start spans and a worker on that
        client continues them in workflows and activities."""
        return [TracingInterceptor()] if self._tracer is not None else []

    def shutdown(self) -> None:
        """Sends what is still buffered (a process that exits without it loses it)."""
        if self._tracer is not None:
            self._tracer.shutdown()
        if self._meter is not None:
            self._meter.shutdown()
        if self._logs is not None:
            self._logs.shutdown()


def configure_telemetry(service: str, settings: Settings) -> Telemetry:
    """Installs what `settings` asks for (read from OTEL_* at start-up). With tracing, every
    grpc.aio server and channel created afterwards is instrumented; with log export, every
    log record of the process goes out as well as to stderr (call after configure_logging)."""
    span_exporter = _span_exporter(settings.traces_exporter)
    metric_exporter = _metric_exporter(settings.metrics_exporter)
    _check("OTEL_LOGS_EXPORTER", settings.logs_exporter, LOG_EXPORTERS)
    resource = otlp.resource(f"payloops-{service}")
    tracer = None
    if span_exporter is not None:
        tracer = TracerProvider(resource=resource)
        tracer.add_span_processor(_CorrelationIds())
        tracer.add_span_processor(BatchSpanProcessor(span_exporter))
        trace.set_tracer_provider(tracer)
        # The instrumentation package ships no type hints.
        GrpcAioInstrumentorServer().instrument()  # type: ignore[no-untyped-call]
        GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]
    meter = None
    if metric_exporter is not None:
        meter = MeterProvider(
            resource=resource, metric_readers=[PeriodicExportingMetricReader(metric_exporter)]
        )
        metrics.set_meter_provider(meter)
    logs = None
    if settings.logs_exporter == "otlp":
        logs = otlp.export_logs(f"payloops-{service}", _log_attributes, _log_body)
    temporal_metrics = _temporal_metrics() if settings.metrics_exporter == "otlp" else None
    return Telemetry(tracer, meter, logs, temporal_metrics)


def _temporal_metrics(env: Mapping[str, str] | None = None) -> OpenTelemetryConfig:
    """The Temporal SDK's metrics to where the OTEL_EXPORTER_OTLP_* variables send ours."""
    env = os.environ if env is None else env
    http = otlp.protocol("metrics", env) == "http/protobuf"
    url = env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "")
    if not url:
        base = env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://localhost:4318" if http else "http://localhost:4317",
        )
        url = base.rstrip("/") + "/v1/metrics" if http else base
    headers = dict(
        (name.strip(), value.strip())
        for name, _, value in (
            part.partition("=") for part in env.get("OTEL_EXPORTER_OTLP_HEADERS", "").split(",")
        )
        if name.strip()
    )
    interval_ms = float(env.get("OTEL_METRIC_EXPORT_INTERVAL", "60000"))
    return OpenTelemetryConfig(
        url=url,
        headers=headers,
        metric_periodicity=timedelta(milliseconds=interval_ms),
        durations_as_seconds=True,
        http=http,
    )


def _log_attributes(record: logging.LogRecord) -> dict[str, AnyValue]:
    fields = record_fields(record)
    attributes: dict[str, AnyValue] = {}
    # The span attribute's names, so one query finds a request's spans and log records.
    if cid := fields.pop("correlation_id", ""):
        attributes[CORRELATION_ID] = cid
    if order := fields.pop("order_id", ""):
        attributes[ORDER_ID] = order
    for name, value in fields.items():
        attributes[name] = value if isinstance(value, str | int | float | bool) else str(value)
    return attributes


def _log_body(record: logging.LogRecord) -> str:
    message = masked_message(record)
    if record.exc_info:
        message += "\n" + mask_card_numbers(_FORMATTER.formatException(record.exc_info))
    return message


def with_correlation_id(cid: str) -> Token[context.Context]:
    """Puts the request's correlation id in the current context's baggage (and on the current
    span); returns the token for `context.detach`."""
    trace.get_current_span().set_attribute(CORRELATION_ID, cid)
    return context.attach(baggage.set_baggage(CORRELATION_ID, cid))


class _CorrelationIds(SpanProcessor):
    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        carried = baggage.get_baggage(CORRELATION_ID, parent_context)
        cid = carried if isinstance(carried, str) else correlation_id.get()
        if cid:
            span.set_attribute(CORRELATION_ID, cid)

    def on_end(self, span: ReadableSpan) -> None:
        pass


def _span_exporter(name: str) -> SpanExporter | None:
    _check("OTEL_TRACES_EXPORTER", name)
    if name == "console":
        return ConsoleSpanExporter(
            out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
    if name == "otlp":
        return otlp.span_exporter()
    return None


def _metric_exporter(name: str) -> MetricExporter | None:
    _check("OTEL_METRICS_EXPORTER", name)
    if name == "console":
        return ConsoleMetricExporter(
            out=sys.stderr, formatter=lambda batch: batch.to_json(indent=None) + "\n"
        )
    if name == "otlp":
        return otlp.metric_exporter()
    return None


def _check(variable: str, name: str, supported: tuple[str, ...] = EXPORTERS) -> None:
    if name not in supported:
        raise SystemExit(
            f"{variable}={name!r} is not supported here: use one of {', '.join(supported)}"
        )
