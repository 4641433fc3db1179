"""The routing configuration as frozen values, with its two encodings: plain dicts for the
`routing_configs.config` JSONB column and `payloops.v1.RoutingConfig` for the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from google.protobuf import duration_pb2

from payloops.v1 import routing_pb2

PRIORITY = "priority"
SUCCESS_RATE = "success_rate"
MODES = (PRIORITY, SUCCESS_RATE)
FAILOVER = "failover"
WAIT = "wait"
UNKNOWN_OUTCOME_POLICIES = (FAILOVER, WAIT)
# In a failover list: every other enabled processor, by name.
ANY_PROCESSOR = "*"

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_PAYMENT_BUDGET_SECONDS = 60.0
DEFAULT_RESOLUTION_BUDGET_SECONDS = 10.0
# A mode or policy number this code has no name for; validation rejects it.
UNKNOWN = "unknown"

_Mode = routing_pb2.RoutingConfig.Mode
_Policy = routing_pb2.RoutingConfig.UnknownOutcomePolicy


@dataclass(frozen=True)
class Conditions:
    """All must hold (AND); an empty field does not constrain. Codes are compared ignoring case."""

    currencies: tuple[str, ...] = ()
    amount_min: int = 0
    # Inclusive; 0 means no upper bound.
    amount_max: int = 0
    card_networks: tuple[str, ...] = ()
    card_funding: tuple[str, ...] = ()
    card_countries: tuple[str, ...] = ()
    payment_method_types: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WeightedTarget:
    processor: str
    # Whole percent, 1 to 100.
    weight: int


@dataclass(frozen=True)
class Rule:
    """A named rule with one target: an ordered `failover` list or a weighted `split`. None means
    that target is not set; a set but empty one is a different mistake (TARGET_EMPTY)."""

    name: str
    conditions: Conditions = field(default_factory=Conditions)
    failover: tuple[str, ...] | None = None
    split: tuple[WeightedTarget, ...] | None = None


@dataclass(frozen=True)
class RoutingConfig:
    rules: tuple[Rule, ...] = ()
    mode: str = PRIORITY
    unknown_outcome_policy: str = FAILOVER
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    payment_budget_seconds: float = DEFAULT_PAYMENT_BUDGET_SECONDS
    resolution_budget_seconds: float = DEFAULT_RESOLUTION_BUDGET_SECONDS

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": [_rule_to_json(rule) for rule in self.rules],
            "mode": self.mode,
            "unknown_outcome_policy": self.unknown_outcome_policy,
            "max_attempts": self.max_attempts,
            "payment_budget_seconds": self.payment_budget_seconds,
            "resolution_budget_seconds": self.resolution_budget_seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RoutingConfig:
        return cls(
            rules=tuple(_rule_from_json(rule) for rule in data.get("rules", ())),
            mode=str(data.get("mode", PRIORITY)),
            unknown_outcome_policy=str(data.get("unknown_outcome_policy", FAILOVER)),
            max_attempts=int(data.get("max_attempts", DEFAULT_MAX_ATTEMPTS)),
            payment_budget_seconds=float(
                data.get("payment_budget_seconds", DEFAULT_PAYMENT_BUDGET_SECONDS)
            ),
            resolution_budget_seconds=float(
                data.get("resolution_budget_seconds", DEFAULT_RESOLUTION_BUDGET_SECONDS)
            ),
        )

    def to_proto(self) -> routing_pb2.RoutingConfig:
        """Without `version` and `update_time`, which belong to the stored row."""
        return routing_pb2.RoutingConfig(
            rules=[_rule_to_proto(rule) for rule in self.rules],
            mode=_Mode.Value(self.mode.upper()) if self.mode in MODES else _Mode.MODE_UNSPECIFIED,
            unknown_outcome_policy=(
                _Policy.Value(self.unknown_outcome_policy.upper())
                if self.unknown_outcome_policy in UNKNOWN_OUTCOME_POLICIES
                else _Policy.UNKNOWN_OUTCOME_POLICY_UNSPECIFIED
            ),
            max_attempts=self.max_attempts,
            payment_budget=_duration(self.payment_budget_seconds),
            resolution_budget=_duration(self.resolution_budget_seconds),
        )

    @classmethod
    def from_proto(cls, message: routing_pb2.RoutingConfig) -> RoutingConfig:
        """Unset fields get their defaults; codes are normalised (currencies and countries upper
        case, networks, funding and payment method types lower case). `version` and
        `update_time` are ignored."""
        return cls(
            rules=tuple(_rule_from_proto(rule) for rule in message.rules),
            mode=_enum_name(_Mode, message.mode, PRIORITY),
            unknown_outcome_policy=_enum_name(_Policy, message.unknown_outcome_policy, FAILOVER),
            max_attempts=message.max_attempts or DEFAULT_MAX_ATTEMPTS,
            payment_budget_seconds=(
                message.payment_budget.ToTimedelta().total_seconds()
                if message.HasField("payment_budget")
                else DEFAULT_PAYMENT_BUDGET_SECONDS
            ),
            resolution_budget_seconds=(
                message.resolution_budget.ToTimedelta().total_seconds()
                if message.HasField("resolution_budget")
                else DEFAULT_RESOLUTION_BUDGET_SECONDS
            ),
        )


def _rule_to_json(rule: Rule) -> dict[str, Any]:
    c = rule.conditions
    data: dict[str, Any] = {
        "name": rule.name,
        "conditions": {
            "currencies": list(c.currencies),
            "amount_min": c.amount_min,
            "amount_max": c.amount_max,
            "card_networks": list(c.card_networks),
            "card_funding": list(c.card_funding),
            "card_countries": list(c.card_countries),
            "payment_method_types": list(c.payment_method_types),
            "metadata": dict(c.metadata),
        },
    }
    if rule.failover is not None:
        data["failover"] = {"processors": list(rule.failover)}
    if rule.split is not None:
        data["split"] = {
            "targets": [{"processor": t.processor, "weight": t.weight} for t in rule.split]
        }
    return data


def _rule_from_json(data: Mapping[str, Any]) -> Rule:
    c = data.get("conditions", {})
    failover = data.get("failover")
    split = data.get("split")
    return Rule(
        name=str(data.get("name", "")),
        conditions=Conditions(
            currencies=_strings(c.get("currencies", ())),
            amount_min=int(c.get("amount_min", 0)),
            amount_max=int(c.get("amount_max", 0)),
            card_networks=_strings(c.get("card_networks", ())),
            card_funding=_strings(c.get("card_funding", ())),
            card_countries=_strings(c.get("card_countries", ())),
            payment_method_types=_strings(c.get("payment_method_types", ())),
            metadata={str(k): str(v) for k, v in c.get("metadata", {}).items()},
        ),
        failover=None if failover is None else _strings(failover.get("processors", ())),
        split=None
        if split is None
        else tuple(
            WeightedTarget(str(t["processor"]), int(t["weight"])) for t in split.get("targets", ())
        ),
    )


def _rule_to_proto(rule: Rule) -> routing_pb2.RoutingRule:
    c = rule.conditions
    message = routing_pb2.RoutingRule(
        name=rule.name,
        conditions=routing_pb2.RoutingConditions(
            currencies=c.currencies,
            amount_min=c.amount_min,
            amount_max=c.amount_max,
            card_networks=c.card_networks,
            card_funding=c.card_funding,
            card_countries=c.card_countries,
            payment_method_types=c.payment_method_types,
            metadata=c.metadata,
        ),
    )
    if rule.failover is not None:
        message.failover.SetInParent()
        message.failover.processors.extend(rule.failover)
    elif rule.split is not None:
        message.split.SetInParent()
        message.split.targets.extend(
            routing_pb2.WeightedProcessor(processor=t.processor, weight=t.weight)
            for t in rule.split
        )
    return message


def _rule_from_proto(message: routing_pb2.RoutingRule) -> Rule:
    c = message.conditions
    target = message.WhichOneof("target")
    return Rule(
        name=message.name,
        conditions=Conditions(
            currencies=tuple(code.upper() for code in c.currencies),
            amount_min=c.amount_min,
            amount_max=c.amount_max,
            card_networks=tuple(code.lower() for code in c.card_networks),
            card_funding=tuple(code.lower() for code in c.card_funding),
            card_countries=tuple(code.upper() for code in c.card_countries),
            payment_method_types=tuple(code.lower() for code in c.payment_method_types),
            metadata=dict(c.metadata),
        ),
        failover=tuple(message.failover.processors) if target == "failover" else None,
        split=tuple(WeightedTarget(t.processor, t.weight) for t in message.split.targets)
        if target == "split"
        else None,
    )


def _strings(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple(str(value) for value in values)


def _duration(seconds: float) -> duration_pb2.Duration:
    message = duration_pb2.Duration()
    message.FromTimedelta(timedelta(seconds=seconds))
    return message


def _enum_name(enum: Any, number: int, default: str) -> str:
    if number == 0:
        return default
    try:
        return str(enum.Name(number)).lower()
    except ValueError:
        return UNKNOWN
