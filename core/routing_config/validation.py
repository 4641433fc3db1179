"""Checks a routing configuration before it is saved. Every problem is reported at once, each
with a stable reason and an AIP-193 field path such as `rules[1].split.targets[0].processor`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Set

from core import money
from core.errors import FieldViolation
from core.routing_config.model import (
    ANY_PROCESSOR,
    MODES,
    UNKNOWN_OUTCOME_POLICIES,
    Conditions,
    RoutingConfig,
    Rule,
)

MAX_RULES = 100
MAX_RULE_NAME = 64
MIN_ATTEMPTS, MAX_ATTEMPTS = 1, 10
MIN_PAYMENT_BUDGET_SECONDS, MAX_PAYMENT_BUDGET_SECONDS = 1, 600
MIN_RESOLUTION_BUDGET_SECONDS, MAX_RESOLUTION_BUDGET_SECONDS = 1, 120
CARD_NETWORKS = frozenset(
    {"visa", "mastercard", "amex", "rupay", "discover", "jcb", "unionpay", "diners"}
)
CARD_FUNDING = frozenset({"credit", "debit", "prepaid"})
_COUNTRY = re.compile(r"[A-Za-z]{2}")


def is_country(code: str) -> bool:
    """Shaped like an ISO 3166-1 alpha-2 code (any case)."""
    return _COUNTRY.fullmatch(code) is not None


def violations(config: RoutingConfig, known_processors: Set[str]) -> list[FieldViolation]:
    """`known_processors`: the registered processor names, enabled or not."""
    found: list[FieldViolation] = []
    if not config.rules:
        found.append(
            FieldViolation(
                "rules",
                "RULES_EMPTY",
                "needs at least one rule; add one without conditions as a catch-all",
            )
        )
    elif len(config.rules) > MAX_RULES:
        found.append(
            FieldViolation("rules", "RULES_TOO_MANY", f"must have at most {MAX_RULES} rules")
        )
    names: set[str] = set()
    for index, rule in enumerate(config.rules):
        path = f"rules[{index}]"
        if not rule.name:
            found.append(FieldViolation(f"{path}.name", "RULE_NAME_REQUIRED", "is required"))
        elif len(rule.name) > MAX_RULE_NAME:
            found.append(
                FieldViolation(
                    f"{path}.name",
                    "RULE_NAME_TOO_LONG",
                    f"must be at most {MAX_RULE_NAME} characters",
                )
            )
        elif rule.name in names:
            found.append(
                FieldViolation(f"{path}.name", "RULE_NAME_DUPLICATE", "another rule has this name")
            )
        names.add(rule.name)
        found += _conditions(f"{path}.conditions", rule.conditions)
        found += _target(path, rule, known_processors)
    if config.mode not in MODES:
        found.append(FieldViolation("mode", "MODE_UNKNOWN", "must be PRIORITY or SUCCESS_RATE"))
    if config.unknown_outcome_policy not in UNKNOWN_OUTCOME_POLICIES:
        found.append(
            FieldViolation(
                "unknown_outcome_policy",
                "UNKNOWN_OUTCOME_POLICY_UNKNOWN",
                "must be FAILOVER or WAIT",
            )
        )
    if not MIN_ATTEMPTS <= config.max_attempts <= MAX_ATTEMPTS:
        found.append(
            FieldViolation(
                "max_attempts",
                "MAX_ATTEMPTS_OUT_OF_RANGE",
                f"must be {MIN_ATTEMPTS} to {MAX_ATTEMPTS}",
            )
        )
    if not (
        MIN_PAYMENT_BUDGET_SECONDS <= config.payment_budget_seconds <= MAX_PAYMENT_BUDGET_SECONDS
    ):
        found.append(
            FieldViolation("payment_budget", "PAYMENT_BUDGET_OUT_OF_RANGE", "must be 1s to 600s")
        )
    if not (
        MIN_RESOLUTION_BUDGET_SECONDS
        <= config.resolution_budget_seconds
        <= MAX_RESOLUTION_BUDGET_SECONDS
    ):
        found.append(
            FieldViolation(
                "resolution_budget", "RESOLUTION_BUDGET_OUT_OF_RANGE", "must be 1s to 120s"
            )
        )
    return found


def _conditions(path: str, c: Conditions) -> Iterator[FieldViolation]:
    for i, code in enumerate(c.currencies):
        if not money.is_currency(code.upper()):
            yield FieldViolation(
                f"{path}.currencies[{i}]", "CURRENCY_UNKNOWN", "is not an ISO 4217 currency code"
            )
    if c.amount_min < 0:
        yield FieldViolation(f"{path}.amount_min", "AMOUNT_MIN_NEGATIVE", "must not be negative")
    # No order is larger: a bigger bound means nothing, and echoing an arbitrary 13-19 digit
    # number back could repeat a card number.
    for name, bound in (("amount_min", c.amount_min), ("amount_max", c.amount_max)):
        if bound > money.largest_amount():
            yield FieldViolation(
                f"{path}.{name}",
                "AMOUNT_BOUND_TOO_LARGE",
                f"must be at most {money.largest_amount()}, the largest amount of any order",
            )
    if c.amount_max != 0 and c.amount_max < c.amount_min:
        yield FieldViolation(
            f"{path}.amount_max",
            "AMOUNT_RANGE_INVALID",
            "must be at least amount_min (or 0 for no upper bound)",
        )
    for i, network in enumerate(c.card_networks):
        if network.lower() not in CARD_NETWORKS:
            yield FieldViolation(
                f"{path}.card_networks[{i}]",
                "CARD_NETWORK_UNKNOWN",
                f"must be one of {', '.join(sorted(CARD_NETWORKS))}",
            )
    for i, funding in enumerate(c.card_funding):
        if funding.lower() not in CARD_FUNDING:
            yield FieldViolation(
                f"{path}.card_funding[{i}]",
                "CARD_FUNDING_UNKNOWN",
                "must be credit, debit or prepaid",
            )
    for i, country in enumerate(c.card_countries):
        if not is_country(country):
            yield FieldViolation(
                f"{path}.card_countries[{i}]",
                "CARD_COUNTRY_INVALID",
                "must be an ISO 3166-1 alpha-2 code",
            )
    for i, method_type in enumerate(c.payment_method_types):
        if not method_type.strip():
            yield FieldViolation(
                f"{path}.payment_method_types[{i}]",
                "PAYMENT_METHOD_TYPE_INVALID",
                "must not be empty",
            )
    for key in c.metadata:
        if not key:
            yield FieldViolation(
                f"{path}.metadata", "METADATA_KEY_INVALID", "keys must not be empty"
            )


def _target(path: str, rule: Rule, known: Set[str]) -> Iterator[FieldViolation]:
    if rule.failover is None and rule.split is None:
        yield FieldViolation(
            f"{path}.target", "TARGET_MISSING", "needs a target: failover or split"
        )
        return
    if rule.failover is not None and rule.split is not None:
        yield FieldViolation(
            f"{path}.target", "TARGET_AMBIGUOUS", "must have either failover or split, not both"
        )
    if rule.failover is not None:
        if not rule.failover:
            yield FieldViolation(
                f"{path}.failover.processors", "TARGET_EMPTY", "must list at least one processor"
            )
        seen: set[str] = set()
        for i, name in enumerate(rule.failover):
            field = f"{path}.failover.processors[{i}]"
            if name != ANY_PROCESSOR:
                yield from _processor(field, name, known)
            if name in seen:
                yield FieldViolation(field, "PROCESSOR_DUPLICATE", "is already in this list")
            seen.add(name)
    if rule.split is not None:
        if not rule.split:
            yield FieldViolation(
                f"{path}.split.targets", "TARGET_EMPTY", "must list at least one processor"
            )
            return
        seen = set()
        for i, target in enumerate(rule.split):
            field = f"{path}.split.targets[{i}]"
            if target.processor == ANY_PROCESSOR:
                yield FieldViolation(
                    f"{field}.processor",
                    "PROCESSOR_UNKNOWN",
                    '"*" is allowed in failover lists only',
                )
            else:
                yield from _processor(f"{field}.processor", target.processor, known)
            if target.processor in seen:
                yield FieldViolation(
                    f"{field}.processor", "PROCESSOR_DUPLICATE", "is already in this split"
                )
            seen.add(target.processor)
            if not 1 <= target.weight <= 100:
                yield FieldViolation(
                    f"{field}.weight",
                    "SPLIT_WEIGHT_OUT_OF_RANGE",
                    "must be a whole percentage from 1 to 100",
                )
        total = sum(target.weight for target in rule.split)
        if total != 100:
            yield FieldViolation(
                f"{path}.split.targets",
                "SPLIT_WEIGHTS_NOT_100",
                f"weights must sum to 100, not {total}",
            )


def _processor(field: str, name: str, known: Set[str]) -> Iterator[FieldViolation]:
    if not name:
        yield FieldViolation(field, "PROCESSOR_REQUIRED", "is required")
    elif name not in known:
        registered = ", ".join(sorted(known)) or "none"
        yield FieldViolation(
            field, "PROCESSOR_UNKNOWN", f"is not a registered processor (registered: {registered})"
        )
