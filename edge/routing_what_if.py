"""RoutingService.WhatIfRouting: the merchant's recent payments (one mode) replayed through a
draft configuration, next to where they actually went.

What is replayed: the newest MAX_PAYMENTS orders of the window that routing decided (paid at
least once), each on the facts it was routed on: amount, currency and metadata from the order,
payment method type and card network, funding and country as the routing step recorded them
(orders routed before those were recorded have them unknown, so card conditions do not match
them). The draft decides through the payment activity's own engine, with today's processors
and accounts, as if every circuit breaker were closed (a breaker's state is a moment's, not the
window's), without the payment method's form (history does not keep the token), a split's draw
fixed per order from its id (the same answer on every call) and, in success-rate mode, the
observed rates below (at least SUCCESS_RATE_MIN_ATTEMPTS) without exploration.

The expected success rate is an estimate of first attempts: each processor's observed success
rate over the replayed payments' attempts (finished attempts that succeeded, authorized or
asked for 3-D Secure, over all finished attempts), averaged over the payments by the processor
they go to first; payments going to a processor without finished attempts, or to none, are left
out of the mean. Actual and draft are estimated alike, so the two compare."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, any_, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from core.contracts.vocabulary import AttemptOutcome, CandidateDecision
from core.db import models
from core.errors import FieldViolation
from core.routing_config.model import RoutingConfig
from orchestrator.routing_engine.facts import PaymentFacts
from orchestrator.routing_engine.inputs import (
    ANSWERED_OK,
    SUCCESS_RATE_MIN_ATTEMPTS,
    RoutingInputs,
    decide,
    routing_inputs,
)
from payloops.v1 import routing_pb2

DEFAULT_DAYS = 7
MAX_DAYS = 30
# The work of one call is bounded: at most this many payments are replayed, the newest.
MAX_PAYMENTS = 10_000
_NO_EXPLORATION = 1.0


def days_violations(days: int) -> list[FieldViolation]:
    if days == 0 or 1 <= days <= MAX_DAYS:
        return []
    return [FieldViolation("days", "DAYS_OUT_OF_RANGE", f"must be 1 to {MAX_DAYS}")]


@dataclass(frozen=True)
class Replayed:
    """One payment of the window: its facts and the processor it was first sent to."""

    order_id: str
    facts: PaymentFacts
    actual: str


@dataclass(frozen=True)
class Rate:
    attempts: int
    successes: int

    @property
    def value(self) -> float:
        return self.successes / self.attempts


async def what_if(
    session: AsyncSession, merchant_id: str, livemode: bool, config: RoutingConfig, days: int
) -> routing_pb2.WhatIfRoutingResponse:
    start = await session.scalar(select(func.now() - timedelta(days=days or DEFAULT_DAYS)))
    assert isinstance(start, datetime)
    payments, truncated = await _payments(session, merchant_id, livemode, start)
    rates = await _rates(session, payments)
    inputs = await routing_inputs(session, merchant_id, livemode, config)
    # Breakers are a moment's state; in success-rate mode the window's own rates rank.
    inputs = RoutingInputs(
        registered=inputs.registered,
        accounts=inputs.accounts,
        breakers={},
        success_rates={p.name: _rank_rate(rates.get(p.name)) for p in inputs.registered},
    )
    drafted = [(payment, _first_choice(config, inputs, payment, livemode)) for payment in payments]
    response = routing_pb2.WhatIfRoutingResponse(
        payments=len(payments),
        truncated=truncated,
        splits=splits(drafted),
        processor_rates=[
            routing_pb2.WhatIfProcessorRate(
                processor=name,
                attempts=rate.attempts,
                successes=rate.successes,
                success_rate=rate.value,
            )
            for name, rate in sorted(rates.items())
        ],
        actual_expected_success_rate=expected_rate([p.actual for p, _ in drafted], rates),
        draft_expected_success_rate=expected_rate([d for _, d in drafted], rates),
    )
    response.start_time.FromDatetime(start)
    return response


def _rank_rate(rate: Rate | None) -> float | None:
    """As the live ranking: below SUCCESS_RATE_MIN_ATTEMPTS a rate is unknown."""
    if rate is None or rate.attempts < SUCCESS_RATE_MIN_ATTEMPTS:
        return None
    return rate.value


def _first_choice(
    config: RoutingConfig, inputs: RoutingInputs, payment: Replayed, livemode: bool
) -> str:
    _, decided = decide(
        config,
        inputs,
        payment.facts,
        token=None,
        livemode=livemode,
        draw=order_draw(payment.order_id),
        explore=_NO_EXPLORATION,
    )
    return decided.processors[0] if decided and decided.processors else ""


def order_draw(order_id: str) -> float:
    """A draw in [0, 1) fixed by the order's id: the same replay gives the same split."""
    digest = hashlib.sha256(order_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def splits(drafted: list[tuple[Replayed, str]]) -> list[routing_pb2.WhatIfSplit]:
    """Payments and amounts per (first processor, currency), actual against draft."""
    actual_count: Counter[tuple[str, str]] = Counter()
    actual_amount: Counter[tuple[str, str]] = Counter()
    draft_count: Counter[tuple[str, str]] = Counter()
    draft_amount: Counter[tuple[str, str]] = Counter()
    for payment, draft in drafted:
        currency, amount = payment.facts.currency, payment.facts.amount
        actual_count[payment.actual, currency] += 1
        actual_amount[payment.actual, currency] += amount
        draft_count[draft, currency] += 1
        draft_amount[draft, currency] += amount
    return [
        routing_pb2.WhatIfSplit(
            processor=processor,
            currency=currency,
            actual_payments=actual_count[processor, currency],
            actual_amount=actual_amount[processor, currency],
            draft_payments=draft_count[processor, currency],
            draft_amount=draft_amount[processor, currency],
        )
        for processor, currency in sorted(set(actual_count) | set(draft_count))
    ]


def expected_rate(first_choices: list[str], rates: dict[str, Rate]) -> float:
    """The mean observed rate of the processors the payments go to first; payments going to
    one without a rate (or to none) are left out. 0 when none has a rate."""
    known = [rates[name].value for name in first_choices if name in rates]
    return sum(known) / len(known) if known else 0.0


async def _payments(
    session: AsyncSession, merchant_id: str, livemode: bool, start: datetime
) -> tuple[list[Replayed], bool]:
    order = models.Order
    rows = await session.execute(
        select(order.id, order.amount, order.currency, order.metadata_, order.routing)
        .where(
            order.merchant_id == merchant_id,
            order.livemode == livemode,
            order.created_at >= start,
            # Routed at least once: orders never paid have nothing to compare.
            order.routing.has_key("rule"),
        )
        .order_by(order.created_at.desc(), order.id.desc())
        .limit(MAX_PAYMENTS + 1)
    )
    found = [
        replayed(order_id, amount, currency, metadata, routing)
        for order_id, amount, currency, metadata, routing in rows
    ]
    return found[:MAX_PAYMENTS], len(found) > MAX_PAYMENTS


def replayed(
    order_id: str, amount: int, currency: str, metadata: dict[str, str], routing: dict[str, Any]
) -> Replayed:
    facts: dict[str, str] = routing.get("facts") or {}
    first = next(
        (
            c["processor"]
            for c in routing.get("candidates", [])
            if c.get("decision") == CandidateDecision.CANDIDATE
        ),
        "",
    )
    return Replayed(
        order_id=order_id,
        facts=PaymentFacts(
            amount=amount,
            currency=currency.upper(),
            payment_method_type=str(facts.get("payment_method_type", "")),
            card_network=str(facts.get("card_network", "")),
            card_funding=str(facts.get("card_funding", "")),
            card_country=str(facts.get("card_country", "")),
            metadata=dict(metadata),
        ),
        actual=str(first),
    )


async def _rates(session: AsyncSession, payments: list[Replayed]) -> dict[str, Rate]:
    """Over the attempts of the replayed payments only: as bounded as the replay itself."""
    attempt = models.Attempt
    ok = func.sum(case((attempt.outcome.in_(ANSWERED_OK), 1), else_=0))
    replayed_ids = bindparam("ids", [p.order_id for p in payments], type_=ARRAY(String))
    rows = await session.execute(
        select(attempt.processor, func.count(), ok)
        .where(
            attempt.order_id == any_(replayed_ids),
            attempt.outcome != AttemptOutcome.PENDING,
        )
        .group_by(attempt.processor)
    )
    return {name: Rate(int(total), int(succeeded)) for name, total, succeeded in rows}
