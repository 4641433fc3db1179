"""The routing engine: which rule a payment matches, and the order its processors are tried in."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from core.contracts.payment import CardHints, PaymentInput, PaymentMethod
from core.contracts.vocabulary import CandidateReason, CaptureMethod
from core.routing_config.defaults import default_config
from core.routing_config.model import SUCCESS_RATE, Conditions, RoutingConfig, Rule, WeightedTarget
from orchestrator.routing_engine import (
    Candidate,
    PaymentFacts,
    Plan,
    ProcessorInfo,
    facts_for,
    failure_code,
    match,
    plan,
)

ALL_UP = {name: ProcessorInfo() for name in ("razorpay", "sandbox", "stripe")}


def facts(amount: int = 1000, currency: str = "USD", **card: str) -> PaymentFacts:
    return PaymentFacts(
        amount=amount,
        currency=currency,
        payment_method_type="card",
        card_network=card.get("network", "visa"),
        card_funding=card.get("funding", "credit"),
        card_country=card.get("country", "US"),
        metadata={"channel": "web", "tier": "gold"},
    )


def config(*rules: Rule, mode: str = "priority") -> RoutingConfig:
    return RoutingConfig(rules=rules, mode=mode)


def matches(conditions: Conditions, payment: PaymentFacts) -> bool:
    return match(config(Rule("r", conditions, failover=("stripe",))), payment) is not None


def route(
    cfg: RoutingConfig,
    payment: PaymentFacts,
    processors: dict[str, ProcessorInfo] | None = None,
    *,
    health: dict[str, str] | None = None,
    rates: dict[str, float | None] | None = None,
    draw: float = 0.0,
    explore: float = 0.5,
    livemode: bool = False,
) -> Plan:
    rule = match(cfg, payment)
    assert rule is not None
    return plan(
        cfg,
        rule,
        ALL_UP if processors is None else processors,
        health or {},
        rates or {},
        draw,
        explore,
        currency=payment.currency,
        livemode=livemode,
    )


@pytest.mark.parametrize(
    ("conditions", "payment", "expected"),
    [
        (Conditions(currencies=("USD", "EUR")), facts(currency="EUR"), True),
        (Conditions(currencies=("usd",)), facts(currency="USD"), True),
        (Conditions(currencies=("INR",)), facts(currency="USD"), False),
        (Conditions(amount_min=1000, amount_max=2000), facts(amount=1000), True),
        (Conditions(amount_min=1000, amount_max=2000), facts(amount=2000), True),
        (Conditions(amount_min=1000, amount_max=2000), facts(amount=999), False),
        (Conditions(amount_min=1000, amount_max=2000), facts(amount=2001), False),
        (Conditions(amount_min=1000), facts(amount=10**15), True),  # amount_max 0: no upper bound
        (Conditions(card_networks=("Mastercard", "amex")), facts(network="mastercard"), True),
        (Conditions(card_networks=("amex",)), facts(network="visa"), False),
        (Conditions(card_networks=("visa",)), facts(network=""), False),  # unknown never matches
        (Conditions(card_funding=("debit",)), facts(funding="debit"), True),
        (Conditions(card_funding=("debit",)), facts(funding="credit"), False),
        (Conditions(card_countries=("in", "US")), facts(country="IN"), True),
        (Conditions(card_countries=("IN",)), facts(country="GB"), False),
        (Conditions(payment_method_types=("card",)), facts(), True),
        (Conditions(payment_method_types=("upi",)), facts(), False),
        (Conditions(metadata={"channel": "web"}), facts(), True),
        (Conditions(metadata={"channel": "web", "tier": "gold"}), facts(), True),
        (Conditions(metadata={"channel": "app"}), facts(), False),
        (Conditions(metadata={"missing": ""}), facts(), False),
        (Conditions(), facts(), True),
    ],
)
def test_each_condition_type(conditions: Conditions, payment: PaymentFacts, expected: bool) -> None:
    assert matches(conditions, payment) is expected


def test_conditions_combine_with_and() -> None:
    both = Conditions(currencies=("INR",), card_networks=("rupay",), amount_max=500_000)
    assert matches(both, facts(currency="INR", network="rupay", amount=500_000))
    assert not matches(both, facts(currency="INR", network="visa", amount=1000))
    assert not matches(both, facts(currency="USD", network="rupay", amount=1000))
    assert not matches(both, facts(currency="INR", network="rupay", amount=500_001))


def test_first_matching_rule_wins_and_no_match_is_none() -> None:
    cfg = config(
        Rule("big", Conditions(amount_min=10_000), failover=("stripe",)),
        Rule("usd", Conditions(currencies=("USD",)), failover=("sandbox",)),
        Rule("usd_too", Conditions(currencies=("USD",)), failover=("razorpay",)),
    )
    assert match(cfg, facts(amount=50_000)).name == "big"  # type: ignore[union-attr]
    assert match(cfg, facts(amount=500)).name == "usd"  # type: ignore[union-attr]
    assert match(cfg, facts(amount=500, currency="GBP")) is None


def test_failover_list_keeps_its_order() -> None:
    cfg = config(Rule("r", failover=("sandbox", "stripe", "razorpay")))
    assert route(cfg, facts()).candidates == [
        Candidate("sandbox", CandidateReason.RULE_ORDER),
        Candidate("stripe", CandidateReason.RULE_ORDER),
        Candidate("razorpay", CandidateReason.RULE_ORDER),
    ]


def test_star_is_every_other_enabled_processor_by_name() -> None:
    processors = {
        **ALL_UP,
        "adyen": ProcessorInfo(),
        "zeta": ProcessorInfo(),
        "old": ProcessorInfo(enabled=False),
    }
    cfg = config(Rule("r", failover=("stripe", "*", "adyen")))
    result = route(cfg, facts(), processors)
    assert result.processors == ["stripe", "razorpay", "sandbox", "zeta", "adyen"]
    assert result.skipped == []  # a disabled processor is not one of "every enabled"


def test_skipped_processors_say_why() -> None:
    processors = {
        "stripe": ProcessorInfo(),
        "razorpay": ProcessorInfo(enabled=False),
        "sandbox": ProcessorInfo(),
        "inr_only": ProcessorInfo(currencies=frozenset({"INR"})),
        "usd_ok": ProcessorInfo(currencies=frozenset({"usd", "EUR"})),
        "probing": ProcessorInfo(),
    }
    cfg = config(
        Rule(
            "r",
            failover=("ghost", "razorpay", "stripe", "inr_only", "usd_ok", "sandbox", "probing"),
        )
    )
    result = route(
        cfg,
        facts(currency="usd"),
        processors,
        health={"stripe": "open", "sandbox": "closed", "probing": "half_open_probe_available"},
    )
    assert result.skipped == [
        Candidate("ghost", CandidateReason.NOT_CONFIGURED),
        Candidate("razorpay", CandidateReason.DISABLED),
        Candidate("stripe", CandidateReason.CIRCUIT_OPEN),
        Candidate("inr_only", CandidateReason.CURRENCY_UNSUPPORTED),
    ]
    assert result.processors == ["usd_ok", "sandbox", "probing"]


def test_processors_that_cannot_use_the_payment_method_are_skipped_before_transient_reasons() -> (
    None
):
    processors = {
        "tok-gateway": ProcessorInfo(),
        "sandbox": ProcessorInfo(can_use_method=False),
        "stripe": ProcessorInfo(can_use_method=False),
    }
    cfg = config(Rule("r", failover=("tok-gateway", "sandbox", "stripe")))
    result = route(cfg, facts(), processors, health={"stripe": "open", "tok-gateway": "open"})
    assert result.processors == []
    assert result.skipped == [
        Candidate("tok-gateway", CandidateReason.CIRCUIT_OPEN),
        Candidate("sandbox", CandidateReason.PAYMENT_METHOD_UNSUPPORTED),
        Candidate("stripe", CandidateReason.PAYMENT_METHOD_UNSUPPORTED),
    ]
    assert failure_code(match(cfg, facts()), result, False) == "no_processor_available"


def test_a_live_payment_skips_test_only_processors_and_a_test_payment_does_not() -> None:
    processors = {
        "sandbox": ProcessorInfo(test_only=True),
        "stripe": ProcessorInfo(),
        "sandbox-b": ProcessorInfo(test_only=True),
    }
    cfg = config(Rule("r", failover=("sandbox", "*")))
    live = route(cfg, facts(), processors, livemode=True)
    assert live.processors == ["stripe"]
    assert live.skipped == [
        Candidate("sandbox", CandidateReason.TEST_ONLY),
        Candidate("sandbox-b", CandidateReason.TEST_ONLY),
    ]
    split = config(Rule("r", split=(WeightedTarget("sandbox", 90), WeightedTarget("stripe", 10))))
    assert route(split, facts(), processors, livemode=True).processors == ["stripe"]
    test = route(cfg, facts(), processors, livemode=False)
    assert (test.processors, test.skipped) == (["sandbox", "sandbox-b", "stripe"], [])


@pytest.mark.parametrize(
    ("failover", "processors", "livemode", "expected"),
    [
        # Only test-only (or unregistered) processors named: nothing live-capable is left.
        (("sandbox",), {"sandbox": ProcessorInfo(test_only=True)}, True, "no_live_processor"),
        (
            ("ghost", "sandbox"),
            {"sandbox": ProcessorInfo(test_only=True)},
            True,
            "no_live_processor",
        ),
        # A live-capable processor was named but cannot take it now: another reason.
        (
            ("sandbox", "stripe"),
            {"sandbox": ProcessorInfo(test_only=True), "stripe": ProcessorInfo(has_account=False)},
            True,
            "no_processor_available",
        ),
        (("ghost",), {}, True, "no_processor_available"),
        (("sandbox",), {"sandbox": ProcessorInfo(enabled=False)}, False, "no_processor_available"),
        # Nothing named can use the payment method (another gateway's token): that says why.
        (
            ("sandbox", "ghost", "off"),
            {
                "sandbox": ProcessorInfo(can_use_method=False),
                "off": ProcessorInfo(enabled=False),
            },
            False,
            "payment_method_unsupported",
        ),
        # The one processor that can use it is not usable by this merchant: that is the
        # reason, not the method the others could never use.
        (
            ("tok-gateway", "sandbox"),
            {
                "tok-gateway": ProcessorInfo(has_account=False),
                "sandbox": ProcessorInfo(can_use_method=False),
            },
            False,
            "no_processor_available",
        ),
    ],
)
def test_a_payment_with_nothing_to_try_fails_with_a_stable_code(
    failover: tuple[str, ...], processors: dict[str, ProcessorInfo], livemode: bool, expected: str
) -> None:
    cfg = config(Rule("r", failover=failover))
    rule = match(cfg, facts())
    decided = route(cfg, facts(), processors, livemode=livemode)
    assert decided.processors == []
    assert failure_code(rule, decided, livemode) == expected
    assert failure_code(None, None, livemode) == "routing_no_match"


def test_split_lands_within_two_points_of_its_weights() -> None:
    cfg = config(
        Rule(
            "r",
            split=(
                WeightedTarget("stripe", 70),
                WeightedTarget("razorpay", 20),
                WeightedTarget("sandbox", 10),
            ),
        )
    )
    draws = random.Random(20260101)
    firsts = Counter(route(cfg, facts(), draw=draws.random()).processors[0] for _ in range(10_000))
    for name, weight in (("stripe", 70), ("razorpay", 20), ("sandbox", 10)):
        assert abs(firsts[name] / 100 - weight) <= 2, firsts


def test_split_draw_is_followed_by_fallbacks_by_weight_then_name() -> None:
    cfg = config(
        Rule(
            "r",
            split=(
                WeightedTarget("sandbox", 20),
                WeightedTarget("stripe", 60),
                WeightedTarget("razorpay", 20),
            ),
        )
    )
    # Cumulative in listed order: sandbox [0, .2), stripe [.2, .8), razorpay [.8, 1).
    assert route(cfg, facts(), draw=0.9).candidates == [
        Candidate("razorpay", CandidateReason.SPLIT_DRAW),
        Candidate("stripe", CandidateReason.FALLBACK),
        Candidate("sandbox", CandidateReason.FALLBACK),
    ]
    assert route(cfg, facts(), draw=0.1).candidates == [
        Candidate("sandbox", CandidateReason.SPLIT_DRAW),
        Candidate("stripe", CandidateReason.FALLBACK),
        Candidate("razorpay", CandidateReason.FALLBACK),
    ]
    assert route(cfg, facts(), draw=0.5).processors == ["stripe", "razorpay", "sandbox"]


def test_split_draws_among_the_processors_that_can_be_tried() -> None:
    cfg = config(Rule("r", split=(WeightedTarget("stripe", 50), WeightedTarget("razorpay", 50))))
    result = route(cfg, facts(), draw=0.1, health={"stripe": "open"})
    assert result.candidates == [Candidate("razorpay", CandidateReason.SPLIT_DRAW)]
    assert result.skipped == [Candidate("stripe", CandidateReason.CIRCUIT_OPEN)]


def test_success_rate_mode_orders_by_rate_unknown_last_ties_in_rule_order() -> None:
    processors = {name: ProcessorInfo() for name in "abcde"}
    cfg = config(Rule("r", failover=("a", "b", "c", "d", "e")), mode=SUCCESS_RATE)
    result = route(cfg, facts(), processors, rates={"a": None, "b": 0.80, "c": 0.95, "d": 0.80})
    assert result.processors == ["c", "b", "d", "a", "e"]
    assert {c.reason for c in result.candidates} == {"success_rate"}


def test_success_rate_mode_explores_a_non_first_candidate_one_time_in_ten() -> None:
    processors = {name: ProcessorInfo() for name in "abc"}
    cfg = config(Rule("r", failover=("a", "b", "c")), mode=SUCCESS_RATE)
    rates: dict[str, float | None] = {"a": 0.5, "b": 0.9, "c": 0.1}
    assert route(cfg, facts(), processors, rates=rates, explore=0.1).processors == ["b", "a", "c"]
    assert route(cfg, facts(), processors, rates=rates, explore=0.05, draw=0.2).processors == [
        "a",
        "b",
        "c",
    ]
    assert route(cfg, facts(), processors, rates=rates, explore=0.05, draw=0.7).processors == [
        "c",
        "b",
        "a",
    ]
    numbers = random.Random(7)
    firsts = Counter(
        route(
            cfg, facts(), processors, rates=rates, draw=numbers.random(), explore=numbers.random()
        ).processors[0]
        for _ in range(10_000)
    )
    assert abs(firsts["b"] / 100 - 90) <= 2 and abs(firsts["c"] / 100 - 5) <= 2, firsts


def test_success_rate_mode_with_one_candidate_has_nothing_to_explore() -> None:
    cfg = config(Rule("r", failover=("stripe",)), mode=SUCCESS_RATE)
    assert route(cfg, facts(), explore=0.0, draw=0.99).processors == ["stripe"]


@pytest.mark.parametrize(
    ("currency", "rule", "first"),
    [
        ("INR", "inr", "razorpay"),
        ("USD", "usd_eur", "stripe"),
        ("eur", "usd_eur", "stripe"),
        ("GBP", "default", "stripe"),
    ],
)
def test_default_config(currency: str, rule: str, first: str) -> None:
    result = route(default_config(), facts(currency=currency))
    assert result.rule_name == rule
    others = sorted(set(ALL_UP) - {first})
    assert result.processors == [first, *others]


def test_default_config_with_only_the_sandbox_registered() -> None:
    result = route(default_config(), facts(currency="USD"), {"sandbox": ProcessorInfo()})
    assert result.candidates == [Candidate("sandbox", CandidateReason.RULE_ORDER)]
    assert result.skipped == [Candidate("stripe", CandidateReason.NOT_CONFIGURED)]


def test_plans_are_deterministic() -> None:
    cfg = config(Rule("r", split=(WeightedTarget("stripe", 50), WeightedTarget("razorpay", 50))))
    assert route(cfg, facts(), draw=0.42) == route(cfg, facts(), draw=0.42)


ORDER = PaymentInput(
    order_id="ord_1",
    merchant_id="m_1",
    amount=4999,
    currency="inr",
    capture_method=CaptureMethod.AUTOMATIC,
    metadata={"k": "v"},
)


@pytest.mark.parametrize(
    ("token", "network", "funding", "country"),
    [
        ("pm_card_visa", "visa", "credit", "US"),
        ("pm_card_mastercard", "mastercard", "credit", "US"),
        ("pm_card_amex", "amex", "credit", "US"),
        ("pm_card_rupay", "rupay", "debit", "IN"),
        ("pm_card_declined", "visa", "credit", "US"),
        ("pm_card_3ds_required", "visa", "credit", "US"),
        ("pm_unknown", "", "", ""),
    ],
)
def test_facts_from_sandbox_tokens(token: str, network: str, funding: str, country: str) -> None:
    found = facts_for(ORDER, PaymentMethod(type="card", token=token))
    assert found == PaymentFacts(
        amount=4999,
        currency="INR",
        payment_method_type="card",
        card_network=network,
        card_funding=funding,
        card_country=country,
        metadata={"k": "v"},
    )


def test_facts_prefer_the_merchants_hints() -> None:
    found = facts_for(
        ORDER,
        PaymentMethod(
            type="CARD", token="pm_card_visa", card=CardHints(network="Mastercard", country="gb")
        ),
    )
    assert (
        found.payment_method_type,
        found.card_network,
        found.card_funding,
        found.card_country,
    ) == ("card", "mastercard", "credit", "GB")


def test_facts_route_a_rupay_card_by_its_token() -> None:
    cfg = config(
        Rule("rupay", Conditions(card_networks=("rupay",)), failover=("razorpay",)),
        Rule("rest", failover=("stripe",)),
    )
    rupay = facts_for(ORDER, PaymentMethod(type="card", token="pm_card_rupay"))
    visa = facts_for(ORDER, PaymentMethod(type="card", token="pm_card_visa"))
    assert route(cfg, rupay).processors == ["razorpay"]
    assert route(cfg, visa).processors == ["stripe"]


def test_success_rate_mode_orders_a_split_by_rate_with_weights_breaking_ties() -> None:
    split = (
        WeightedTarget("sandbox", 10),
        WeightedTarget("stripe", 60),
        WeightedTarget("razorpay", 30),
    )
    cfg = config(Rule("r", split=split), mode=SUCCESS_RATE)
    assert route(cfg, facts(), rates={"sandbox": 0.99}, draw=0.0).candidates == [
        Candidate("sandbox", CandidateReason.SUCCESS_RATE),
        Candidate("stripe", CandidateReason.SUCCESS_RATE),
        Candidate("razorpay", CandidateReason.SUCCESS_RATE),
    ]
