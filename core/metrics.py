"""The platform's metrics (docs/observability.md). The instruments always exist; they record into
OpenTelemetry's no-op meter unless core.telemetry installed a meter provider (the standard
OTEL_METRICS_EXPORTER), so counting costs next to nothing when nobody collects.

- payment_attempts_total{processor, outcome}: every Authorize call to a processor, by how it
  ended: succeeded, authorized, requires_action, declined, failed (refused), not_sent, unknown
  (and the rarer pending, canceled, refunded: a re-sent key answered about its earlier charge).
  Re-sends while an unknown outcome is resolved count too: each is a call.
- payment_amount_total{processor, currency}: minor units processors answered as charged or
  authorized (before any later void or refund).
- processor_call_latency_seconds{processor, outcome}: how long each Authorize call took.
- payment_latency_seconds{status}: a payment end to end, from PayOrder to the status that ends
  it (succeeded, failed, requires_capture, canceled), through failovers and 3-D Secure, and
  through unknown attempts resolved before a failure is decided; once per payment (not again
  when an authorization is captured or expires, nor when a write is retried).
- edge_rpc_duration_seconds{method, code}: every RPC the edge served, by method and gRPC status
  code: its count is the request rate, the counts with a code other than OK the errors.
- processor_breaker_state{processor}: each processor's circuit breaker as the worker last
  wrote it: 0 closed, 1 half-open, 2 open.
- webhook_deliveries_total{result}: merchant webhook POSTs: delivered, failed.
- webhook_delivery_lag_seconds{result}: from the event to each POST's answer.

Labels are names and outcomes only: never an order, merchant, token or amount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from core.contracts.vocabulary import DeliveryAttemptOutcome, GatewayOutcome

# Processors answer in milliseconds to seconds; the SDK's default buckets are for milliseconds.
LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]

_meter = metrics.get_meter("payloops")
_attempts = _meter.create_counter(
    "payment_attempts_total", unit="{attempt}", description="Authorize calls to processors"
)
_amount = _meter.create_counter(
    "payment_amount_total",
    unit="{minor_unit}",
    description="Amounts processors charged or authorized, in minor units",
)
_latency = _meter.create_histogram(
    "processor_call_latency_seconds",
    unit="s",
    description="How long processors took to answer Authorize",
    explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
)
_payment_latency = _meter.create_histogram(
    "payment_latency_seconds",
    unit="s",
    description="From PayOrder to the status that ends the payment",
    explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
)
_edge_rpcs = _meter.create_histogram(
    "edge_rpc_duration_seconds",
    unit="s",
    description="RPCs the edge served, by method and status code",
    explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
)
_deliveries = _meter.create_counter(
    "webhook_deliveries_total", unit="{delivery}", description="Merchant webhook POSTs"
)
_delivery_lag = _meter.create_histogram(
    "webhook_delivery_lag_seconds",
    unit="s",
    description="From the event to the answer of each webhook POST",
    explicit_bucket_boundaries_advisory=[*LATENCY_BUCKETS_S, 60.0, 300.0, 3600.0, 86400.0],
)
_CHARGED = (GatewayOutcome.SUCCEEDED, GatewayOutcome.AUTHORIZED)


def authorize_call(
    processor: str, outcome: GatewayOutcome, seconds: float, amount: int = 0, currency: str = ""
) -> None:
    """One Authorize call and how it ended (the amount counts only if it charged)."""
    labels = {"processor": processor, "outcome": outcome.value}
    _attempts.add(1, labels)
    _latency.record(seconds, labels)
    if outcome in _CHARGED:
        _amount.add(amount, {"processor": processor, "currency": currency})


def breaker_gauge(observe: Callable[[CallbackOptions], Iterable[Observation]]) -> None:
    """Registers the processor_breaker_state gauge, read through `observe`."""
    _meter.create_observable_gauge(
        "processor_breaker_state",
        callbacks=[observe],
        unit="{state}",
        description="Circuit breaker per processor: 0 closed, 1 half-open, 2 open",
    )


def payment_settled(status: str, seconds: float) -> None:
    _payment_latency.record(seconds, {"status": status})


def edge_rpc(method: str, code: str, seconds: float) -> None:
    _edge_rpcs.record(seconds, {"method": method, "code": code})


def webhook_delivery(delivered: bool, lag_seconds: float | None = None) -> None:
    outcome = DeliveryAttemptOutcome.DELIVERED if delivered else DeliveryAttemptOutcome.FAILED
    _deliveries.add(1, {"result": outcome.value})
    if lag_seconds is not None:
        _delivery_lag.record(lag_seconds, {"result": outcome.value})
