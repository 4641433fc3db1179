"""GetCapabilities describes the gateway in the vocabulary PayLoops routes with."""

from __future__ import annotations

from collections import Counter

import iso4217

from cli.conformance.checks import Check
from cli.conformance.session import Session
from cli.conformance.verdicts import SNAKE, CheckFailed, outcome_name
from core.payment_method_tokens import (
    TOKEN_RULE_TEXT,
    PaymentMethodForms,
    follows_token_rule,
)
from core.vaulted_cards import is_vaulted
from payloops.processor.v1 import processor_pb2 as pb

# What Authorize may give for a test token with automatic capture.
_TEST_OUTCOMES = frozenset(
    {pb.OUTCOME_SUCCEEDED, pb.OUTCOME_DECLINED, pb.OUTCOME_REQUIRES_ACTION, pb.OUTCOME_PENDING}
)


def _is_currency(code: str) -> bool:
    try:
        iso4217.Currency(code)
    except ValueError:
        return False
    return True


def problems(caps: pb.GetCapabilitiesResponse) -> list[str]:
    """Everything wrong with a GetCapabilitiesResponse, in field order."""
    found: list[str] = []
    if not caps.name or caps.name != caps.name.lower() or caps.name.split() != [caps.name]:
        found.append(f"name {caps.name!r} must be non-empty lower case without spaces")
    for code in caps.currencies:
        if code != code.upper() or not _is_currency(code):
            found.append(f"currency {code!r} is not an upper-case ISO 4217 code")
    for network in caps.card_networks:
        if not network or network != network.lower() or network.split() != [network]:
            found.append(f"card network {network!r} must be lower case")
    if caps.partial_capture and not caps.manual_capture:
        found.append("partial_capture is true but manual_capture is false")

    methods = list(caps.test_payment_methods)
    if not any(m.outcome == pb.OUTCOME_SUCCEEDED for m in methods):
        found.append("no test payment method with outcome SUCCEEDED")
    for token, count in Counter(m.token for m in methods).items():
        if count > 1:
            found.append(f"test payment method {token!r} is listed {count} times")
    for method in methods:
        label = f"test payment method {method.token!r}"
        if not method.token:
            found.append("a test payment method has no token")
        if method.outcome not in _TEST_OUTCOMES:
            found.append(
                f"{label} has outcome {outcome_name(method.outcome)}; test outcomes "
                "are SUCCEEDED, DECLINED, REQUIRES_ACTION or PENDING"
            )
        if method.outcome == pb.OUTCOME_DECLINED and not SNAKE.fullmatch(method.decline_code):
            found.append(
                f"{label} declines with decline_code {method.decline_code!r}, "
                "expected a snake_case code"
            )
        if method.outcome == pb.OUTCOME_REQUIRES_ACTION and not caps.three_d_secure:
            found.append(f"{label} requires action but three_d_secure is false")

    found += _token_problems(caps)
    for field, count in Counter(caps.credential_fields).items():
        if not field or field.split() != [field]:
            found.append(f"credential field {field!r} must be a non-empty name without spaces")
        elif count > 1:
            found.append(f"credential field {field!r} is listed {count} times")
    return found


def _token_problems(caps: pb.GetCapabilitiesResponse) -> list[str]:
    """Test tokens merchants could never pay with: ones the API refuses, ones PayLoops takes
    for its own vaulted cards, and ones outside the gateway's declared prefixes (routing would
    never send them to it)."""
    found: list[str] = []
    for prefix in caps.token_prefixes:
        if not prefix or prefix.split() != [prefix]:
            found.append(f"token prefix {prefix!r} must be non-empty, without spaces")
    forms = PaymentMethodForms(caps.accepts_raw_cards, tuple(caps.token_prefixes))
    for method in caps.test_payment_methods:
        label = f"test payment method {method.token!r}"
        if not method.token:
            continue
        if not follows_token_rule(method.token):
            found.append(f"{label} is refused by the PayLoops API: a token is {TOKEN_RULE_TEXT}")
        elif is_vaulted(method.token):
            found.append(
                f"{label} has the shape of a PayLoops vaulted card (pm_ and 24 letters or "
                "digits), so PayLoops never sends it as a token"
            )
        elif forms.declared and not forms.issued(method.token):
            found.append(
                f"{label} starts with none of the declared token_prefixes "
                f"{list(caps.token_prefixes)}, so routing never sends it here"
            )
    return found


def well_formed(session: Session) -> str:
    found = problems(session.capabilities)
    if found:
        more = f" (+{len(found) - 3} more)" if len(found) > 3 else ""
        raise CheckFailed("; ".join(found[:3]) + more)
    caps = session.capabilities
    flags = [
        flag
        for flag in ("manual_capture", "partial_capture", "partial_refund", "three_d_secure")
        if getattr(caps, flag)
    ]
    return (
        f"{caps.name}: {len(caps.test_payment_methods)} test methods, "
        f"{len(caps.currencies) or 'all'} currencies, {', '.join(flags) or 'no extras'}"
    )


CHECKS = (
    Check(
        "capabilities.well-formed",
        "GetCapabilities names the gateway in lower case, lists ISO 4217 currencies, "
        "lower-case networks, a SUCCEEDED test token and consistent flags",
        well_formed,
    ),
)
