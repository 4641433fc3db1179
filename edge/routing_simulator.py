"""Where one payment would go: RoutingService.SimulateRouting. The decision is the payment
activity's own (orchestrator/routing_engine/inputs.py `decide`), over the same processor
registry, accounts, circuit breakers and success rates; only what a real payment draws at
random is fixed here, and the chances of the draw are answered beside the plan.

- A split in priority mode: the plan shown is the one where the draw lands on the heaviest
  tryable processor (ties by name); `first_choice_shares` gives each one's chance.
- Success-rate mode: no exploration in the plan shown; the explored share is in
  `first_choice_shares` (EXPLORATION_RATE, spread evenly over the others).
- A circuit breaker past its cool-down: the first candidate is assumed to get its probe; a
  later one is a half-open fallback, exactly as the activity marks it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core import money
from core.contracts.payment import CardHints, PaymentInput, PaymentMethod
from core.contracts.vocabulary import (
    BreakerVerdict,
    CandidateDecision,
    CandidateReason,
    CaptureMethod,
)
from core.errors import FieldViolation
from core.routing_config import validation
from core.routing_config.model import SUCCESS_RATE, RoutingConfig, Rule
from orchestrator.routing_engine.engine import EXPLORATION_RATE, Plan, failure_code
from orchestrator.routing_engine.facts import PaymentFacts, facts_for
from orchestrator.routing_engine.inputs import RoutingInputs, decide, routing_inputs
from payloops.v1 import orders_pb2, routing_pb2

DEFAULT_PAYMENT_METHOD_TYPE = "card"
# `explore` at or above EXPLORATION_RATE never explores.
_NO_EXPLORATION = 1.0


def payment_violations(payment: routing_pb2.SimulatedPayment) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if payment.amount <= 0:
        found.append(FieldViolation("payment.amount", "AMOUNT_INVALID", "must be positive"))
    elif payment.amount > money.largest_amount():
        found.append(
            FieldViolation(
                "payment.amount",
                "AMOUNT_TOO_LARGE",
                f"must be at most {money.largest_amount()}",
            )
        )
    if not money.is_currency(payment.currency.upper()):
        found.append(
            FieldViolation(
                "payment.currency", "CURRENCY_UNKNOWN", "is not an ISO 4217 currency code"
            )
        )
    # The vocabulary a rule's conditions use: a value no rule could name is a typo.
    if payment.card_network and payment.card_network.lower() not in validation.CARD_NETWORKS:
        found.append(
            FieldViolation(
                "payment.card_network",
                "CARD_NETWORK_UNKNOWN",
                f"must be one of {', '.join(sorted(validation.CARD_NETWORKS))}",
            )
        )
    if payment.card_funding and payment.card_funding.lower() not in validation.CARD_FUNDING:
        found.append(
            FieldViolation(
                "payment.card_funding", "CARD_FUNDING_UNKNOWN", "must be credit, debit or prepaid"
            )
        )
    if payment.card_country and not validation.is_country(payment.card_country):
        found.append(
            FieldViolation(
                "payment.card_country", "CARD_COUNTRY_INVALID", "must be an ISO 3166-1 alpha-2 code"
            )
        )
    return found


def facts_of(payment: routing_pb2.SimulatedPayment) -> PaymentFacts:
    """The facts a real payment of this shape is routed on, through the worker's own
    `facts_for` (so a sandbox test token fills in its card the same way)."""
    return facts_for(
        PaymentInput(
            order_id="",
            merchant_id="",
            amount=payment.amount,
            currency=payment.currency,
            capture_method=CaptureMethod.AUTOMATIC,
            metadata=dict(payment.metadata),
        ),
        PaymentMethod(
            type=payment.payment_method_type or DEFAULT_PAYMENT_METHOD_TYPE,
            token=payment.payment_method,
            card=CardHints(
                network=payment.card_network,
                funding=payment.card_funding,
                country=payment.card_country,
            ),
        ),
    )


async def simulate(
    session: AsyncSession,
    merchant_id: str,
    livemode: bool,
    config: RoutingConfig,
    payment: routing_pb2.SimulatedPayment,
) -> routing_pb2.SimulateRoutingResponse:
    """Without `config_version` and `draft`, which the caller knows."""
    inputs = await routing_inputs(session, merchant_id, livemode, config)
    facts = facts_of(payment)
    token = payment.payment_method or None
    rule, decided = decide(
        config, inputs, facts, token=token, livemode=livemode, draw=0.0, explore=_NO_EXPLORATION
    )
    if rule is not None and decided is not None and _draws_a_split(config, rule):
        rule, decided = decide(
            config,
            inputs,
            facts,
            token=token,
            livemode=livemode,
            draw=heaviest_draw(rule, decided),
            explore=_NO_EXPLORATION,
        )
    response = routing_pb2.SimulateRoutingResponse(
        rule=rule.name if rule else "", max_attempts=config.max_attempts
    )
    if decided is not None:
        response.candidates.extend(candidates(decided, inputs))
        response.first_choice_shares.extend(
            routing_pb2.FirstChoiceShare(processor=name, share=share)
            for name, share in first_choice_shares(config, rule, decided)
        )
    if decided is None or not decided.candidates:
        response.failure_code = failure_code(rule, decided, livemode).value
    return response


def candidates(decided: Plan, inputs: RoutingInputs) -> list[orders_pb2.RoutingCandidate]:
    """As the activity records them on the order: the candidates in order, then the skipped."""
    found = []
    for index, candidate in enumerate(decided.candidates):
        reason = candidate.reason
        if index > 0 and inputs.breakers.get(candidate.processor) == BreakerVerdict.PROBE:
            reason = CandidateReason.CIRCUIT_HALF_OPEN
        found.append(
            orders_pb2.RoutingCandidate(
                processor=candidate.processor, decision=CandidateDecision.CANDIDATE, reason=reason
            )
        )
    found += [
        orders_pb2.RoutingCandidate(
            processor=s.processor, decision=CandidateDecision.SKIPPED, reason=s.reason
        )
        for s in decided.skipped
    ]
    return found


def _draws_a_split(config: RoutingConfig, rule: Rule) -> bool:
    return rule.split is not None and config.mode != SUCCESS_RATE


def _split_weights(rule: Rule, tryable: set[str]) -> dict[str, int]:
    """The weights the engine draws over: the split's order, first listing of a name, tryable
    processors only."""
    weights: dict[str, int] = {}
    for target in rule.split or ():
        if target.processor in tryable:
            weights.setdefault(target.processor, target.weight)
    return weights


def heaviest_draw(rule: Rule, decided: Plan) -> float:
    """A draw that lands in the middle of the heaviest tryable processor's share."""
    weights = _split_weights(rule, set(decided.processors))
    total = sum(weights.values())
    if total == 0:
        return 0.0
    heaviest = min(weights, key=lambda name: (-weights[name], name))
    before = 0
    for name, weight in weights.items():
        if name == heaviest:
            return (before + weight / 2) / total
        before += weight
    return 0.0


def first_choice_shares(
    config: RoutingConfig, rule: Rule | None, decided: Plan
) -> list[tuple[str, float]]:
    """Each candidate's chance of being tried first, in the plan's order."""
    names: Sequence[str] = decided.processors
    if rule is None or not names:
        return []
    if config.mode == SUCCESS_RATE:
        if len(names) == 1:
            return [(names[0], 1.0)]
        others = EXPLORATION_RATE / (len(names) - 1)
        return [(names[0], 1.0 - EXPLORATION_RATE)] + [(name, others) for name in names[1:]]
    if rule.split is not None:
        weights = _split_weights(rule, set(names))
        total = sum(weights.values())
        return [(name, weights[name] / total) for name in names]
    return [(names[0], 1.0)] + [(name, 0.0) for name in names[1:]]
