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

import sys
from collections.abc import Sequence
from contextvars import Token

from opentelemetry import baggage, context, metrics, trace
from opentelemetry.instrumentation.grpc import (
    GrpcAioInstrumentorClient,
    GrpcAioInstrumentorServer,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from core.config import Settings
from core.logs import CORRELATION_ID, correlation_id

EXPORTERS = ("none", "console", "otlp")


class Telemetry:
    """What this process installed: a tracer provider, a meter provider, either or none."""

    def __init__(self, tracer: TracerProvider | None, meter: MeterProvider | None) -> None:
        self._tracer = tracer
        self._meter = meter

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


def configure_telemetry(service: str, settings: Settings) -> Telemetry:
    """Installs what `settings` asks for (read from OTEL_* at start-up). With tracing, every
    grpc.aio server and channel created afterwards is instrumented."""
    span_exporter = _span_exporter(settings.traces_exporter)
    metric_exporter = _metric_exporter(settings.metrics_exporter)
    resource = Resource.create({SERVICE_NAME: f"payloops-{service}"})
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
    return Telemetry(tracer, meter)


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
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def _metric_exporter(name: str) -> MetricExporter | None:
    _check("OTEL_METRICS_EXPORTER", name)
    if name == "console":
        return ConsoleMetricExporter(
            out=sys.stderr, formatter=lambda batch: batch.to_json(indent=None) + "\n"
        )
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter()
    return None


def _check(variable: str, name: str) -> None:
    if name not in EXPORTERS:
        raise SystemExit(
            f"{variable}={name!r} is not supported here: use one of {', '.join(EXPORTERS)}"
        )
