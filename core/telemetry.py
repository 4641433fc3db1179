"""Tracing with OpenTelemetry (DESIGN.md §7): one trace per request, from the edge through the
payment workflow and its activities to the call to the processor.

Off unless the standard `OTEL_TRACES_EXPORTER` asks for it, so a payment pays nothing for it by
default: `otlp` sends spans to `OTEL_EXPORTER_OTLP_ENDPOINT` (the other `OTEL_EXPORTER_OTLP_*`
variables apply), `console` writes one JSON line per span to stderr, that is into the service's
log. The request's correlation id travels with the trace as W3C baggage (through Temporal's
headers too) and is set on every span as `payloops.correlation_id`.

Spans carry RPC names, status codes and Temporal workflow and activity names, never message
bodies: no card token, credential or secret reaches a span.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextvars import Token

from opentelemetry import baggage, context, trace
from opentelemetry.instrumentation.grpc import (
    GrpcAioInstrumentorClient,
    GrpcAioInstrumentorServer,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from temporalio.contrib.opentelemetry import TracingInterceptor

from core.logs import CORRELATION_ID, correlation_id

EXPORTERS = ("none", "console", "otlp")


class Tracing:
    """The process's tracer provider, installed globally; `None` of it when tracing is off."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider

    def temporal_interceptors(self) -> Sequence[TracingInterceptor]:
        """For `Client.connect`: client calls start spans, and a worker on that client
        continues them in workflows and activities."""
        return [TracingInterceptor()]

    def shutdown(self) -> None:
        """Sends the spans still buffered (a process that exits without it loses them)."""
        self._provider.shutdown()


def configure_tracing(service: str, exporter: str) -> Tracing | None:
    """Installs tracing for this process when `exporter` (Settings.traces_exporter) asks for it,
    and instruments every grpc.aio server and channel created afterwards."""
    if exporter == "none":
        return None
    spans_to = _exporter(exporter)
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"payloops-{service}"}))
    provider.add_span_processor(_CorrelationIds())
    provider.add_span_processor(BatchSpanProcessor(spans_to))
    trace.set_tracer_provider(provider)
    # The instrumentation package ships no type hints.
    GrpcAioInstrumentorServer().instrument()  # type: ignore[no-untyped-call]
    GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]
    return Tracing(provider)


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


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter(
            out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise SystemExit(
        f"OTEL_TRACES_EXPORTER={name!r} is not supported here: use one of {', '.join(EXPORTERS)}"
    )
