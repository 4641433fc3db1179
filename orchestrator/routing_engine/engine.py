"""The routing engine: which rule a payment matches and in which order its processors are
tried. Pure and deterministic: the random numbers are arguments, so the workflow draws them
once, records them, and a replay computes the same plan."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.contracts.vocabulary import BreakerState, CandidateReason, FailureCode
from core.routing_config.model import ANY_PROCESSOR, SUCCESS_RATE, Conditions, RoutingConfig, Rule
from orchestrator.routing_engine.facts import PaymentFacts

# Circuit-breaker states a processor may be tried in; any other state (open, a half-open
# breaker whose probe is taken) skips it. A processor missing from `health` counts as closed.
HALF_OPEN_PROBE_AVAILABLE = "half_open_probe_available"
_TRYABLE_STATES = frozenset({BreakerState.CLOSED, HALF_OPEN_PROBE_AVAILABLE})
# Share of success-rate routings that put a random non-first candidate in front, so a
# processor whose rate is low (or unknown) keeps getting the traffic that shows it recovered.
EXPLORATION_RATE = 0.1


# Why a payment failed without any processor being tried (the order's failure_code), in words.
# NO_LIVE_PROCESSOR: a live payment whose rule leaves no processor that takes live payments at
# all (every one it names is test-only or not registered). Nothing a retry fixes; the live
# routing must change.
FAILURE_MESSAGES = {
    FailureCode.ROUTING_NO_MATCH: "no routing rule matches this payment",
    FailureCode.NO_PROCESSOR_AVAILABLE: "no processor can take this payment",
    FailureCode.NO_LIVE_PROCESSOR: "no processor this payment's routing names takes live payments",
    FailureCode.PAYMENT_METHOD_UNSUPPORTED: (
        "no processor this payment's routing names can use its payment method"
    ),
}
# Skips that say nothing live-capable was named (as opposed to one that was, but is
# unusable right now: disabled, no account, breaker open, currency).
_NOT_LIVE_CAPABLE = frozenset({CandidateReason.TEST_ONLY, CandidateReason.NOT_CONFIGURED})
# Skips that say nothing named could ever take this payment method: beside processors that
# cannot use it, only ones that are not there for the payment at all. (Had one that can use it
# been merely unavailable, its breaker open say, the payment failed for that reason instead.)
_NOT_FOR_THIS_METHOD = frozenset(
    {
        CandidateReason.PAYMENT_METHOD_UNSUPPORTED,
        CandidateReason.NOT_CONFIGURED,
        CandidateReason.DISABLED,
        CandidateReason.TEST_ONLY,
    }
)


@dataclass(frozen=True)
class ProcessorInfo:
    """A registered processor as routing sees it. `currencies` empty means unknown: no
    currency is ruled out."""

    enabled: bool = True
    currencies: frozenset[str] = frozenset()
    # False when the processor needs credentials and the merchant has no account there (in
    # the payment's mode), nor does the platform.
    has_account: bool = True
    # It only simulates payments (GetCapabilities test_only): never for a live payment.
    test_only: bool = False
    # It can use the payment method in hand (its declared payment-method forms).
    can_use_method: bool = True


@dataclass(frozen=True)
class Candidate:
    processor: str
    reason: CandidateReason


@dataclass(frozen=True)
class Plan:
    rule_name: str
    # In the order to try them.
    candidates: list[Candidate]
    skipped: list[Candidate]

    @property
    def processors(self) -> list[str]:
        return [candidate.processor for candidate in self.candidates]


def match(config: RoutingConfig, facts: PaymentFacts) -> Rule | None:
    """The first rule whose conditions all hold, or None (the payment fails ROUTING_NO_MATCH)."""
    return next((rule for rule in config.rules if _matches(rule.conditions, facts)), None)


def plan(
    config: RoutingConfig,
    rule: Rule,
    processors: Mapping[str, ProcessorInfo],
    health: Mapping[str, str],
    success_rates: Mapping[str, float | None],
    draw: float,
    explore: float,
    *,
    currency: str,
    livemode: bool,
) -> Plan:
    """The processors `rule` sends a payment in `currency` to, in order, and those it leaves out.

    `processors`: every registered processor by name. `health`: circuit-breaker state by name.
    `success_rates`: recent authorization success rate (0 to 1) by name, None when unknown.
    `draw`, `explore`: uniform in [0, 1); `draw` picks a split's processor (among the tryable
    ones, in proportion to their weights) or, in success-rate mode, which candidate explores;
    `explore` < EXPLORATION_RATE makes a success-rate plan explore. The plan is not cut to
    `config.max_attempts`; the caller stops after that many. A live payment (`livemode`) skips
    test-only processors.
    """
    currency = currency.upper()
    skipped: list[Candidate] = []

    def tryable(names: Iterable[str]) -> list[str]:
        kept = []
        for name in names:
            reason = _skip_reason(name, processors, health, currency, livemode)
            if reason is None:
                kept.append(name)
            else:
                skipped.append(Candidate(name, reason))
        return kept

    if rule.split is not None:
        weights: dict[str, int] = {}
        for target in rule.split:
            weights.setdefault(target.processor, target.weight)
        available = tryable(weights)
        # Highest weight first: the fallback order, and the tie order by success rate.
        by_weight = sorted(available, key=lambda name: (-weights[name], name))
        if config.mode == SUCCESS_RATE:
            candidates = [Candidate(name, CandidateReason.RULE_ORDER) for name in by_weight]
        else:
            drawn = _draw({name: weights[name] for name in available}, draw)
            candidates = [
                Candidate(
                    name,
                    CandidateReason.SPLIT_DRAW if name == drawn else CandidateReason.FALLBACK,
                )
                for name in sorted(by_weight, key=lambda name: name != drawn)
            ]
    else:
        candidates = [
            Candidate(name, CandidateReason.RULE_ORDER)
            for name in tryable(_expand(rule.failover or (), processors))
        ]

    if config.mode == SUCCESS_RATE:
        candidates = _by_success_rate(candidates, success_rates, draw, explore)
    return Plan(rule_name=rule.name, candidates=candidates, skipped=skipped)


def _matches(c: Conditions, facts: PaymentFacts) -> bool:
    return (
        _one_of(facts.currency, c.currencies)
        and facts.amount >= c.amount_min
        and (c.amount_max == 0 or facts.amount <= c.amount_max)
        and _one_of(facts.card_network, c.card_networks)
        and _one_of(facts.card_funding, c.card_funding)
        and _one_of(facts.card_country, c.card_countries)
        and _one_of(facts.payment_method_type, c.payment_method_types)
        and all(facts.metadata.get(key) == value for key, value in c.metadata.items())
    )


def _one_of(value: str, allowed: tuple[str, ...]) -> bool:
    """No list: anything goes. A list: an unknown ("") value never matches it."""
    if not allowed:
        return True
    return bool(value) and value.casefold() in {code.casefold() for code in allowed}


def _expand(listed: tuple[str, ...], processors: Mapping[str, ProcessorInfo]) -> list[str]:
    named = set(listed) - {ANY_PROCESSOR}
    others = sorted(name for name, info in processors.items() if info.enabled and name not in named)
    expanded: list[str] = []
    for name in listed:
        for each in others if name == ANY_PROCESSOR else [name]:
            if each not in expanded:
                expanded.append(each)
    return expanded


def failure_code(rule: Rule | None, plan: Plan | None, livemode: bool) -> FailureCode:
    """Why a payment routing gave no processor to try fails (its order's failure_code)."""
    if rule is None or plan is None:
        return FailureCode.ROUTING_NO_MATCH
    reasons = {skipped.reason for skipped in plan.skipped}
    if livemode and CandidateReason.TEST_ONLY in reasons and reasons <= _NOT_LIVE_CAPABLE:
        return FailureCode.NO_LIVE_PROCESSOR
    if CandidateReason.PAYMENT_METHOD_UNSUPPORTED in reasons and reasons <= _NOT_FOR_THIS_METHOD:
        return FailureCode.PAYMENT_METHOD_UNSUPPORTED
    return FailureCode.NO_PROCESSOR_AVAILABLE


def _skip_reason(
    name: str,
    processors: Mapping[str, ProcessorInfo],
    health: Mapping[str, str],
    currency: str,
    livemode: bool,
) -> CandidateReason | None:
    info = processors.get(name)
    if info is None:
        return CandidateReason.NOT_CONFIGURED
    if not info.enabled:
        return CandidateReason.DISABLED
    if livemode and info.test_only:
        return CandidateReason.TEST_ONLY
    # Before the transient reasons: a processor that cannot use the method never could, and
    # saying "circuit open" would suggest a retry might reach it.
    if not info.can_use_method:
        return CandidateReason.PAYMENT_METHOD_UNSUPPORTED
    if not info.has_account:
        return CandidateReason.NO_ACCOUNT
    if health.get(name, BreakerState.CLOSED) not in _TRYABLE_STATES:
        return CandidateReason.CIRCUIT_OPEN
    if info.currencies and currency not in {code.upper() for code in info.currencies}:
        return CandidateReason.CURRENCY_UNSUPPORTED
    return None


def _draw(weights: Mapping[str, int], draw: float) -> str | None:
    """Walks the cumulative weights (in the given order) to where `draw` falls."""
    total = sum(weights.values())
    if total <= 0:
        return None
    point = draw * total
    cumulative = 0
    for name, weight in weights.items():
        cumulative += weight
        if point < cumulative:
            return name
    return list(weights)[-1]  # a draw of (almost) 1.0 rounding up


def _by_success_rate(
    candidates: list[Candidate], rates: Mapping[str, float | None], draw: float, explore: float
) -> list[Candidate]:
    def key(candidate: Candidate) -> tuple[int, float]:
        rate = rates.get(candidate.processor)
        return (1, 0.0) if rate is None else (0, -rate)

    ordered = [
        Candidate(c.processor, CandidateReason.SUCCESS_RATE) for c in sorted(candidates, key=key)
    ]
    if explore < EXPLORATION_RATE and len(ordered) > 1:
        pick = 1 + min(int(draw * (len(ordered) - 1)), len(ordered) - 2)
        ordered.insert(0, ordered.pop(pick))
    return ordered
