"""The platform's metrics (docs/observability.md). The instruments always exist; they record into
OpenTelemetry's no-op meter unless core.telemetry installed a meter provider (the standard
OTEL_METRICS_EXPORTER), so counting costs next to nothing when nobody collects.

- payment_attempts_total{processor, outcome}: every Authorize call to a processor, by how it
  ended: succeeded, authorized, requires_action, declined, failed (refused), not_sent, unknown
  (and the rarer pending, canceled, refunded: a re-sent key answered about its earlier charge).
  Re-sends while an unknown outcome is resolved count too: each is a call.
- payment_amount_total{processor, currency}: minor units processors answered as charged or
  authorized (before any later void or refund).
- payment_latency_seconds{processor, outcome}: how long each Authorize call took.
- webhook_deliveries_total{result}: merchant webhook POSTs: delivered, failed.

Labels are names and outcomes only: never an order, merchant, token or amount.
"""

from __future__ import annotations

from opentelemetry import metrics

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
    "payment_latency_seconds",
    unit="s",
    description="How long processors took to answer Authorize",
    explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
)
_deliveries = _meter.create_counter(
    "webhook_deliveries_total", unit="{delivery}", description="Merchant webhook POSTs"
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


def webhook_delivery(delivered: bool) -> None:
    outcome = DeliveryAttemptOutcome.DELIVERED if delivered else DeliveryAttemptOutcome.FAILED
    _deliveries.add(1, {"result": outcome.value})
