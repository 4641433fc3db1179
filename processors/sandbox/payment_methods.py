"""The sandbox's test payment methods: one token, one deterministic outcome, so a test (and a
merchant trying PayLoops out) chooses what happens by the token it sends.

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
