"""What the API returns, as frozen dataclasses, and how they are read from the JSON wire format.

On the wire int64 fields are JSON strings ("4999"), enums are upper-case names ("SUCCEEDED"),
durations are strings of seconds ("0.034s") and timestamps RFC 3339. Here they are ints,
lower-case strings ("succeeded"), milliseconds and timezone-aware datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_FRACTION = re.compile(r"\.(\d+)")


@dataclass(frozen=True)
class NextAction:
    """What the customer must do next: open `redirect_url` to complete 3-D Secure."""

    redirect_url: str


@dataclass(frozen=True)
class Attempt:
    """One try at one processor."""

    processor: str
    outcome: str  # pending, succeeded, authorized, requires_action, declined, failed, canceled
    decline_code: str
    decline_message: str
    latency_ms: int
    attempt_key: str
    processor_reference: str
    created: datetime | None = None
    # Why the payment moved on to another processor after this attempt ("soft_decline",
    # "not_sent", "outcome_unknown"); empty for the attempt that settled the order.
    failover_reason: str = ""
    # "voided" or "refunded" when this attempt was charged although another one won.
    compensation: str = ""


@dataclass(frozen=True)
class RoutingCandidate:
    """One processor considered for a payment: `decision` is "candidate" or "skipped"."""

    processor: str
    decision: str
    reason: str


@dataclass(frozen=True)
class RoutingDecision:
    """Which routing configuration and rule routed the order, and each processor considered."""

    config_version: int
    rule: str
    candidates: list[RoutingCandidate]


@dataclass(frozen=True)
class Order:
    """An order and what happened when it was paid. Amounts are minor units of `currency`."""

    id: str
    # requires_payment_method, processing, requires_action, requires_capture, succeeded,
    # failed or canceled.
    status: str
    amount: int
    currency: str
    capture_method: str  # automatic or manual
    description: str
    metadata: dict[str, str]
    return_url: str
    amount_capturable: int
    amount_received: int
    amount_refunded: int
    attempts: list[Attempt]
    next_action: NextAction | None
    failure_code: str
    failure_message: str
    livemode: bool
    created: datetime | None
    updated: datetime | None = None
    routing: RoutingDecision | None = None  # set once the order is paid


@dataclass(frozen=True)
class OrderPage:
    """One page of `orders.list`, newest first. `auto_paging_iter()` walks on to the end."""

    data: list[Order]
    next_page_token: str
    _fetch_next: Callable[[str], OrderPage] | None = field(default=None, repr=False, compare=False)

    @property
    def has_more(self) -> bool:
        return bool(self.next_page_token)

    def __iter__(self) -> Iterator[Order]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def auto_paging_iter(self) -> Iterator[Order]:
        """Every order from this page on, fetching later pages as it goes."""
        page: OrderPage = self
        while True:
            yield from page.data
            if not page.has_more or page._fetch_next is None:
                return
            page = page._fetch_next(page.next_page_token)


def order_from_json(raw: Mapping[str, Any]) -> Order:
    next_action = raw.get("next_action")
    return Order(
        id=_str(raw, "id"),
        status=_enum(raw, "status"),
        amount=_int(raw, "amount"),
        currency=_str(raw, "currency"),
        capture_method=_enum(raw, "capture_method") or "automatic",
        description=_str(raw, "description"),
        metadata={str(k): str(v) for k, v in (raw.get("metadata") or {}).items()},
        return_url=_str(raw, "return_url"),
        amount_capturable=_int(raw, "amount_capturable"),
        amount_received=_int(raw, "amount_received"),
        amount_refunded=_int(raw, "amount_refunded"),
        attempts=[_attempt_from_json(a) for a in raw.get("attempts") or []],
        next_action=(
            NextAction(redirect_url=_str(next_action, "redirect_url"))
            if isinstance(next_action, Mapping) and next_action.get("redirect_url")
            else None
        ),
        failure_code=_str(raw, "failure_code"),
        failure_message=_str(raw, "failure_message"),
        livemode=bool(raw.get("livemode", False)),
        created=_timestamp(raw.get("create_time")),
        updated=_timestamp(raw.get("update_time")),
        routing=_routing_from_json(raw.get("routing")),
    )


def _routing_from_json(raw: object) -> RoutingDecision | None:
    if not isinstance(raw, Mapping) or not raw:
        return None
    return RoutingDecision(
        config_version=_int(raw, "config_version"),
        rule=_str(raw, "rule"),
        candidates=[
            RoutingCandidate(
                processor=_str(c, "processor"),
                decision=_str(c, "decision"),
                reason=_str(c, "reason"),
            )
            for c in raw.get("candidates") or []
        ],
    )


def _attempt_from_json(raw: Mapping[str, Any]) -> Attempt:
    return Attempt(
        processor=_str(raw, "processor"),
        outcome=_enum(raw, "outcome"),
        decline_code=_str(raw, "decline_code"),
        decline_message=_str(raw, "decline_message"),
        latency_ms=_duration_ms(raw.get("latency")),
        attempt_key=_str(raw, "attempt_key"),
        processor_reference=_str(raw, "processor_reference"),
        created=_timestamp(raw.get("create_time")),
        failover_reason=_str(raw, "failover_reason"),
        compensation=_str(raw, "compensation"),
    )


def _str(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return "" if value is None else str(value)


def _int(raw: Mapping[str, Any], name: str) -> int:
    """int64 arrives as a JSON string; a number is accepted as well."""
    value = raw.get(name)
    return 0 if value in (None, "") else int(value)


def _enum(raw: Mapping[str, Any], name: str) -> str:
    value = _str(raw, name).lower()
    return "" if value.endswith("_unspecified") else value


def _duration_ms(value: object) -> int:
    """A google.protobuf.Duration in JSON, such as "0.034s", in whole milliseconds."""
    if not isinstance(value, str) or not value.endswith("s"):
        return 0
    return round(float(value[:-1]) * 1000)


def _timestamp(value: object) -> datetime | None:
    """RFC 3339 as protobuf prints it ("…T12:00:00.123456789Z"), as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    # fromisoformat before Python 3.11 takes only 3 or 6 fraction digits; protobuf prints 9.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    return datetime.fromisoformat(text)
