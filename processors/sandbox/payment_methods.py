"""The sandbox's test payment methods: one token, one deterministic outcome
(docs/design.md, the sandbox).

Kept as plain data so the table GetCapabilities advertises and the behaviour Authorize
implements can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Behaviour(StrEnum):
    """What Authorize does with a token."""

    SUCCEED = "succeed"
    DECLINE = "decline"
    # Challenge first; the customer's choice on the 3DS page decides.
    CHALLENGE = "challenge"
    # Challenge first, then decline whatever the customer does.
    CHALLENGE_THEN_DECLINE = "challenge_then_decline"


@dataclass(frozen=True)
class DeclineCode:
    code: str
    message: str
    soft: bool


@dataclass(frozen=True)
class TestCard:
    token: str
    behaviour: Behaviour
    network: str
    country: str
    last4: str
    description: str
    decline_code: str = ""
    funding: str = "credit"


DECLINE_CODES: dict[str, DeclineCode] = {
    d.code: d
    for d in (
        DeclineCode("generic_decline", "The card was declined.", soft=False),
        DeclineCode("insufficient_funds", "The card has insufficient funds.", soft=False),
        DeclineCode("try_again_later", "The issuer is temporarily unavailable.", soft=True),
        DeclineCode("three_d_secure_failed", "3-D Secure authentication failed.", soft=False),
    )
}

THREE_DS_FAILED = "three_d_secure_failed"

TEST_CARDS: dict[str, TestCard] = {
    c.token: c
    for c in (
        TestCard("pm_card_visa", Behaviour.SUCCEED, "visa", "US", "4242", "Visa, succeeds"),
        TestCard(
            "pm_card_mastercard",
            Behaviour.SUCCEED,
            "mastercard",
            "US",
            "4444",
            "Mastercard, succeeds",
        ),
        TestCard("pm_card_amex", Behaviour.SUCCEED, "amex", "US", "8431", "Amex, succeeds"),
        TestCard(
            "pm_card_rupay",
            Behaviour.SUCCEED,
            "rupay",
            "IN",
            "0005",
            "RuPay (India) debit, succeeds",
            funding="debit",
        ),
        TestCard(
            "pm_card_declined",
            Behaviour.DECLINE,
            "visa",
            "US",
            "0002",
            "Hard decline: generic_decline",
            decline_code="generic_decline",
        ),
        TestCard(
            "pm_card_insufficient_funds",
            Behaviour.DECLINE,
            "visa",
            "US",
            "9995",
            "Hard decline: insufficient_funds",
            decline_code="insufficient_funds",
        ),
        TestCard(
            "pm_card_soft_decline",
            Behaviour.DECLINE,
            "visa",
            "US",
            "0119",
            "Soft decline: try_again_later",
            decline_code="try_again_later",
        ),
        TestCard(
            "pm_card_3ds_required",
            Behaviour.CHALLENGE,
            "visa",
            "US",
            "3155",
            "Requires 3-D Secure; the challenge page decides",
        ),
        TestCard(
            "pm_card_3ds_fail",
            Behaviour.CHALLENGE_THEN_DECLINE,
            "visa",
            "US",
            "3220",
            "Requires 3-D Secure, then declines: three_d_secure_failed",
            decline_code=THREE_DS_FAILED,
        ),
    )
}

CARD_NETWORKS: tuple[str, ...] = ("visa", "mastercard", "amex", "rupay")
