"""Stripe's magic test PaymentMethods (docs.stripe.com/testing), as
GetCapabilities advertises them: what Authorize gives for each in test mode.

The decline codes are PayLoops codes (declines.py), so a test written against the capabilities
holds for every processor.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Expect(StrEnum):
    SUCCEEDED = "succeeded"  # AUTHORIZED under manual capture
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"


@dataclass(frozen=True)
class MagicMethod:
    token: str
    expect: Expect
    description: str
    decline_code: str = ""


MAGIC_METHODS: tuple[MagicMethod, ...] = (
    MagicMethod("pm_card_visa", Expect.SUCCEEDED, "Visa credit, succeeds"),
    MagicMethod("pm_card_visa_debit", Expect.SUCCEEDED, "Visa debit, succeeds"),
    MagicMethod("pm_card_mastercard", Expect.SUCCEEDED, "Mastercard credit, succeeds"),
    MagicMethod("pm_card_amex", Expect.SUCCEEDED, "American Express, succeeds"),
    MagicMethod("pm_card_discover", Expect.SUCCEEDED, "Discover, succeeds"),
    MagicMethod("pm_card_jcb", Expect.SUCCEEDED, "JCB, succeeds"),
    MagicMethod("pm_card_unionpay", Expect.SUCCEEDED, "UnionPay, succeeds"),
    MagicMethod(
        "pm_card_visa_chargeDeclined",
        Expect.DECLINED,
        "Hard decline: generic_decline",
        "generic_decline",
    ),
    MagicMethod(
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        Expect.DECLINED,
        "Hard decline: insufficient_funds",
        "insufficient_funds",
    ),
    MagicMethod(
        "pm_card_visa_chargeDeclinedLostCard",
        Expect.DECLINED,
        "Hard decline: lost_card",
        "lost_card",
    ),
    MagicMethod(
        "pm_card_visa_chargeDeclinedStolenCard",
        Expect.DECLINED,
        "Hard decline: stolen_card",
        "stolen_card",
    ),
    MagicMethod(
        "pm_card_chargeDeclinedExpiredCard",
        Expect.DECLINED,
        "Hard decline: expired_card",
        "expired_card",
    ),
    MagicMethod(
        "pm_card_chargeDeclinedIncorrectCvc",
        Expect.DECLINED,
        "Hard decline: incorrect_cvc",
        "incorrect_cvc",
    ),
    MagicMethod(
        "pm_card_chargeDeclinedProcessingError",
        Expect.DECLINED,
        "Soft decline: processing_error",
        "processing_error",
    ),
    MagicMethod(
        "pm_card_visa_chargeDeclinedVelocityLimitExceeded",
        Expect.DECLINED,
        "Hard decline: card_velocity_exceeded",
        "card_velocity_exceeded",
    ),
    MagicMethod(
        "pm_card_threeDSecure2Required",
        Expect.REQUIRES_ACTION,
        "3-D Secure 2 challenge; succeeds when the customer completes it",
    ),
    MagicMethod(
        "pm_card_authenticationRequired",
        Expect.REQUIRES_ACTION,
        "Always authenticates; succeeds when the customer completes it",
    ),
    MagicMethod(
        "pm_card_threeDSecureRequiredChargeDeclined",
        Expect.REQUIRES_ACTION,
        "3-D Secure challenge, then declined: generic_decline",
        "generic_decline",
    ),
)
