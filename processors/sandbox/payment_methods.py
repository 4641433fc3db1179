"""The sandbox's test payment methods: one token, one deterministic outcome, so a test (and a
merchant trying PayLoops out) chooses what happens by the token it sends. The same outcomes
come with raw test card numbers (TEST_CARD_NUMBERS), the way a card vaulted with PayLoops
reaches a gateway that takes card data.

Kept as plain data so the table GetCapabilities advertises and the behaviour Authorize
implements can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from payloops.processor.v1 import processor_pb2
from processors.kit.capabilities import TestMethod
from processors.sandbox.declines import THREE_DS_FAILED


class Behaviour(StrEnum):
    """What Authorize does with a token."""

    SUCCEED = "succeed"
    DECLINE = "decline"
    # Challenge first; the customer's choice on the 3DS page decides.
    CHALLENGE = "challenge"
    # Challenge first, then decline whatever the customer does.
    CHALLENGE_THEN_DECLINE = "challenge_then_decline"


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
            "pm_card_processing_error",
            Behaviour.DECLINE,
            "visa",
            "US",
            "0267",
            "Soft decline: processing_error",
            decline_code="processing_error",
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

# Raw test card numbers (any future expiry, any CVC) and the test token each behaves as. Like
# Stripe's where Stripe has one, and ending in the token's last four digits, so a payment shows
# the same card whichever form paid it (hence Amex 3714 4963 5398 431, not 3782…). RuPay has no
# public test number: 6521… is a RuPay BIN.
TEST_CARD_NUMBERS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "371449635398431": "pm_card_amex",
    "6521000000020005": "pm_card_rupay",
    "4000000000000002": "pm_card_declined",
    "4000000000009995": "pm_card_insufficient_funds",
    "4000000000000119": "pm_card_soft_decline",
    "4000000000000267": "pm_card_processing_error",
    "4000002500003155": "pm_card_3ds_required",
    "4000000000003220": "pm_card_3ds_fail",
}
# The sandbox's own tokens all start so (a vaulted card's `pm_` id has no second "_").
TOKEN_PREFIXES: tuple[str, ...] = ("pm_card_",)

CARD_NETWORKS: tuple[str, ...] = ("visa", "mastercard", "amex", "rupay")

# What Authorize gives for each behaviour under automatic capture, as GetCapabilities says it.
_ADVERTISED = {
    Behaviour.SUCCEED: processor_pb2.OUTCOME_SUCCEEDED,
    Behaviour.DECLINE: processor_pb2.OUTCOME_DECLINED,
    Behaviour.CHALLENGE: processor_pb2.OUTCOME_REQUIRES_ACTION,
    Behaviour.CHALLENGE_THEN_DECLINE: processor_pb2.OUTCOME_REQUIRES_ACTION,
}
TEST_METHODS: tuple[TestMethod, ...] = tuple(
    TestMethod(card.token, _ADVERTISED[card.behaviour], card.description, card.decline_code)
    for card in TEST_CARDS.values()
)
