"""Routing config validation: each mistake is reported with a stable reason at its field path."""

from __future__ import annotations

import pytest

from core.routing_config.defaults import default_config
from core.routing_config.model import Conditions, RoutingConfig, Rule, WeightedTarget
from core.routing_config.validation import violations
from payloops.v1 import routing_pb2

KNOWN = {"stripe", "razorpay", "sandbox"}
OK_RULE = Rule("all", failover=("stripe", "*"))
OK_RULE_PROTO = routing_pb2.RoutingRule(
    name="all", failover=routing_pb2.FailoverTarget(processors=["stripe"])
)


def found(config: RoutingConfig) -> set[tuple[str, str]]:
    return {(v.field, v.reason) for v in violations(config, KNOWN)}


def with_rule(rule: Rule, **settings: object) -> RoutingConfig:
    return RoutingConfig(rules=(rule,), **settings)  # type: ignore[arg-type]


def test_a_good_config_and_the_default_have_no_violations() -> None:
    good = RoutingConfig(
        rules=(
            Rule(
                "big_inr",
                Conditions(
                    currencies=("inr",),
                    amount_min=100,
                    amount_max=100,
                    card_networks=("RuPay",),
                    card_funding=("debit",),
                    card_countries=("in",),
                    payment_method_types=("card",),
                    metadata={"tier": "gold"},
                ),
                split=(WeightedTarget("razorpay", 99), WeightedTarget("stripe", 1)),
            ),
            OK_RULE,
        ),
        mode="success_rate",
        unknown_outcome_policy="wait",
        max_attempts=10,
        payment_budget_seconds=600,
        resolution_budget_seconds=1,
    )
    assert found(good) == set()
    assert violations(default_config(), {"stripe", "razorpay"}) == []


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (RoutingConfig(rules=()), {("rules", "RULES_EMPTY")}),
        (
            RoutingConfig(rules=tuple(Rule(f"r{i}", failover=("stripe",)) for i in range(101))),
            {("rules", "RULES_TOO_MANY")},
        ),
        (with_rule(Rule("", failover=("stripe",))), {("rules[0].name", "RULE_NAME_REQUIRED")}),
        (
            with_rule(Rule("x" * 65, failover=("stripe",))),
            {("rules[0].name", "RULE_NAME_TOO_LONG")},
        ),
        (
            RoutingConfig(rules=(OK_RULE, Rule("other", failover=("sandbox",)), OK_RULE)),
            {("rules[2].name", "RULE_NAME_DUPLICATE")},
        ),
        (with_rule(Rule("r")), {("rules[0].target", "TARGET_MISSING")}),
        (
            with_rule(Rule("r", failover=("stripe",), split=(WeightedTarget("stripe", 100),))),
            {("rules[0].target", "TARGET_AMBIGUOUS")},
        ),
        (with_rule(Rule("r", failover=())), {("rules[0].failover.processors", "TARGET_EMPTY")}),
        (with_rule(Rule("r", split=())), {("rules[0].split.targets", "TARGET_EMPTY")}),
        (
            with_rule(Rule("r", failover=("stripe", "adyen"))),
            {("rules[0].failover.processors[1]", "PROCESSOR_UNKNOWN")},
        ),
        (
            with_rule(Rule("r", failover=("",))),
            {("rules[0].failover.processors[0]", "PROCESSOR_REQUIRED")},
        ),
        (
            with_rule(Rule("r", failover=("stripe", "*", "stripe"))),
            {("rules[0].failover.processors[2]", "PROCESSOR_DUPLICATE")},
        ),
        (
            with_rule(Rule("r", failover=("*", "*"))),
            {("rules[0].failover.processors[1]", "PROCESSOR_DUPLICATE")},
        ),
        (
            with_rule(Rule("r", split=(WeightedTarget("stripe", 50), WeightedTarget("adyen", 50)))),
            {("rules[0].split.targets[1].processor", "PROCESSOR_UNKNOWN")},
        ),
        (
            with_rule(Rule("r", split=(WeightedTarget("stripe", 50), WeightedTarget("*", 50)))),
            {("rules[0].split.targets[1].processor", "PROCESSOR_UNKNOWN")},
        ),
        (
            with_rule(
                Rule("r", split=(WeightedTarget("stripe", 50), WeightedTarget("stripe", 50)))
            ),
            {("rules[0].split.targets[1].processor", "PROCESSOR_DUPLICATE")},
        ),
        (
            with_rule(
                Rule("r", split=(WeightedTarget("stripe", 60), WeightedTarget("sandbox", 30)))
            ),
            {("rules[0].split.targets", "SPLIT_WEIGHTS_NOT_100")},
        ),
        (
            with_rule(
                Rule("r", split=(WeightedTarget("stripe", 101), WeightedTarget("sandbox", -1)))
            ),
            {
                ("rules[0].split.targets[0].weight", "SPLIT_WEIGHT_OUT_OF_RANGE"),
                ("rules[0].split.targets[1].weight", "SPLIT_WEIGHT_OUT_OF_RANGE"),
            },
        ),
        (
            with_rule(
                Rule("r", split=(WeightedTarget("stripe", 100), WeightedTarget("sandbox", 0)))
            ),
            {("rules[0].split.targets[1].weight", "SPLIT_WEIGHT_OUT_OF_RANGE")},
        ),
        (
            with_rule(
                Rule("r", Conditions(currencies=("USD", "usd", "XYZ", "XAU")), failover=("stripe",))
            ),
            {
                ("rules[0].conditions.currencies[2]", "CURRENCY_UNKNOWN"),
                ("rules[0].conditions.currencies[3]", "CURRENCY_UNKNOWN"),
            },
        ),
        (
            with_rule(Rule("r", Conditions(amount_min=-1), failover=("stripe",))),
            {("rules[0].conditions.amount_min", "AMOUNT_MIN_NEGATIVE")},
        ),
        (
            # Larger than any order (and a card number, were it echoed back).
            with_rule(
                Rule(
                    "r",
                    Conditions(amount_min=4242424242424242, amount_max=4242424242424242),
                    failover=("stripe",),
                )
            ),
            {
                ("rules[0].conditions.amount_min", "AMOUNT_BOUND_TOO_LARGE"),
                ("rules[0].conditions.amount_max", "AMOUNT_BOUND_TOO_LARGE"),
            },
        ),
        (
            with_rule(Rule("r", Conditions(amount_min=500, amount_max=499), failover=("stripe",))),
            {("rules[0].conditions.amount_max", "AMOUNT_RANGE_INVALID")},
        ),
        (
            with_rule(
                Rule("r", Conditions(card_networks=("visa", "maestro")), failover=("stripe",))
            ),
            {("rules[0].conditions.card_networks[1]", "CARD_NETWORK_UNKNOWN")},
        ),
        (
            with_rule(Rule("r", Conditions(card_funding=("charge",)), failover=("stripe",))),
            {("rules[0].conditions.card_funding[0]", "CARD_FUNDING_UNKNOWN")},
        ),
        (
            with_rule(
                Rule("r", Conditions(card_countries=("US", "USA", "1N")), failover=("stripe",))
            ),
            {
                ("rules[0].conditions.card_countries[1]", "CARD_COUNTRY_INVALID"),
                ("rules[0].conditions.card_countries[2]", "CARD_COUNTRY_INVALID"),
            },
        ),
        (
            with_rule(Rule("r", Conditions(payment_method_types=(" ",)), failover=("stripe",))),
            {("rules[0].conditions.payment_method_types[0]", "PAYMENT_METHOD_TYPE_INVALID")},
        ),
        (
            with_rule(Rule("r", Conditions(metadata={"": "x"}), failover=("stripe",))),
            {("rules[0].conditions.metadata", "METADATA_KEY_INVALID")},
        ),
        (with_rule(OK_RULE, mode="round_robin"), {("mode", "MODE_UNKNOWN")}),
        (
            with_rule(OK_RULE, unknown_outcome_policy="unknown"),
            {("unknown_outcome_policy", "UNKNOWN_OUTCOME_POLICY_UNKNOWN")},
        ),
        (with_rule(OK_RULE, max_attempts=0), {("max_attempts", "MAX_ATTEMPTS_OUT_OF_RANGE")}),
        (with_rule(OK_RULE, max_attempts=11), {("max_attempts", "MAX_ATTEMPTS_OUT_OF_RANGE")}),
        (
            with_rule(OK_RULE, payment_budget_seconds=0.5),
            {("payment_budget", "PAYMENT_BUDGET_OUT_OF_RANGE")},
        ),
        (
            with_rule(OK_RULE, payment_budget_seconds=601),
            {("payment_budget", "PAYMENT_BUDGET_OUT_OF_RANGE")},
        ),
        (
            with_rule(OK_RULE, resolution_budget_seconds=0.9),
            {("resolution_budget", "RESOLUTION_BUDGET_OUT_OF_RANGE")},
        ),
        (
            with_rule(OK_RULE, resolution_budget_seconds=121),
            {("resolution_budget", "RESOLUTION_BUDGET_OUT_OF_RANGE")},
        ),
    ],
)
def test_each_violation(config: RoutingConfig, expected: set[tuple[str, str]]) -> None:
    assert found(config) == expected


def test_every_violation_is_reported_at_once() -> None:
    config = RoutingConfig(
        rules=(
            Rule("a", Conditions(currencies=("EURO",)), failover=()),
            Rule("a", split=(WeightedTarget("ghost", 90),)),
        ),
        max_attempts=20,
    )
    assert found(config) == {
        ("rules[0].conditions.currencies[0]", "CURRENCY_UNKNOWN"),
        ("rules[0].failover.processors", "TARGET_EMPTY"),
        ("rules[1].name", "RULE_NAME_DUPLICATE"),
        ("rules[1].split.targets[0].processor", "PROCESSOR_UNKNOWN"),
        ("rules[1].split.targets", "SPLIT_WEIGHTS_NOT_100"),
        ("max_attempts", "MAX_ATTEMPTS_OUT_OF_RANGE"),
    }


def test_from_proto_fills_defaults_and_keeps_an_empty_target_distinct_from_none() -> None:
    message = routing_pb2.RoutingConfig(
        rules=[
            routing_pb2.RoutingRule(name="empty", failover=routing_pb2.FailoverTarget()),
            routing_pb2.RoutingRule(name="none"),
        ]
    )
    config = RoutingConfig.from_proto(message)
    assert (
        config.mode,
        config.unknown_outcome_policy,
        config.max_attempts,
        config.payment_budget_seconds,
        config.resolution_budget_seconds,
    ) == ("priority", "failover", 3, 60.0, 10.0)
    assert found(config) == {
        ("rules[0].failover.processors", "TARGET_EMPTY"),
        ("rules[1].target", "TARGET_MISSING"),
    }


def test_an_explicit_zero_budget_is_not_the_default() -> None:
    message = routing_pb2.RoutingConfig(rules=[OK_RULE_PROTO])
    message.payment_budget.SetInParent()
    assert found(RoutingConfig.from_proto(message)) == {
        ("payment_budget", "PAYMENT_BUDGET_OUT_OF_RANGE")
    }


def test_an_enum_number_without_a_name_is_rejected() -> None:
    message = routing_pb2.RoutingConfig(rules=[OK_RULE_PROTO], mode=7)  # type: ignore[arg-type]
    assert found(RoutingConfig.from_proto(message)) == {("mode", "MODE_UNKNOWN")}


def test_config_round_trips_through_json_and_proto() -> None:
    config = RoutingConfig(
        rules=(
            Rule(
                "split",
                Conditions(
                    currencies=("INR",),
                    amount_min=1,
                    amount_max=2,
                    card_networks=("rupay",),
                    card_funding=("debit",),
                    card_countries=("IN",),
                    payment_method_types=("card",),
                    metadata={"a": "b"},
                ),
                split=(WeightedTarget("razorpay", 70), WeightedTarget("stripe", 30)),
            ),
            Rule("rest", failover=("stripe", "*")),
        ),
        mode="success_rate",
        unknown_outcome_policy="wait",
        max_attempts=5,
        payment_budget_seconds=90.5,
        resolution_budget_seconds=30,
    )
    assert RoutingConfig.from_json(config.to_json()) == config
    assert RoutingConfig.from_proto(config.to_proto()) == config
