"""Stripe's magic test PaymentMethods (docs.stripe.com/testing), as GetCapabilities advertises
them: what Authorize gives for each in test mode.

The decline codes are PayLoops codes (declines.py), so a test written against the capabilities
holds for every processor.
"""

from __future__ import annotations

from payloops.processor.v1 import processor_pb2 as pb
from processors.kit.capabilities import TestMethod

_SUCCEEDS = pb.OUTCOME_SUCCEEDED  # AUTHORIZED under manual capture
_DECLINES = pb.OUTCOME_DECLINED
_CHALLENGES = pb.OUTCOME_REQUIRES_ACTION

TEST_METHODS: tuple[TestMethod, ...] = (
    TestMethod("pm_card_visa", _SUCCEEDS, "Visa credit, succeeds"),
    TestMethod("pm_card_visa_debit", _SUCCEEDS, "Visa debit, succeeds"),
    TestMethod("pm_card_mastercard", _SUCCEEDS, "Mastercard credit, succeeds"),
    TestMethod("pm_card_amex", _SUCCEEDS, "American Express, succeeds"),
    TestMethod("pm_card_discover", _SUCCEEDS, "Discover, succeeds"),
    TestMethod("pm_card_jcb", _SUCCEEDS, "JCB, succeeds"),
    TestMethod("pm_card_unionpay", _SUCCEEDS, "UnionPay, succeeds"),
    TestMethod(
        "pm_card_visa_chargeDeclined",
        _DECLINES,
        "Hard decline: generic_decline",
        "generic_decline",
    ),
    TestMethod(
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        _DECLINES,
        "Hard decline: insufficient_funds",
        "insufficient_funds",
    ),
    TestMethod(
        "pm_card_visa_chargeDeclinedLostCard",
        _DECLINES,
        "Hard decline: lost_card",
        "lost_card",
    ),
    TestMethod(
        "pm_card_visa_chargeDeclinedStolenCard",
        _DECLINES,
        "Hard decline: stolen_card",
        "stolen_card",
    ),
    TestMethod(
        "pm_card_chargeDeclinedExpiredCard",
        _DECLINES,
        "Hard decline: expired_card",
        "expired_card",
    ),
    TestMethod(
        "pm_card_chargeDeclinedIncorrectCvc",
        _DECLINES,
        "Hard decline: incorrect_cvc",
        "incorrect_cvc",
    ),
    TestMethod(
        "pm_card_chargeDeclinedProcessingError",
        _DECLINES,
        "Soft decline: processing_error",
        "processing_error",
    ),
    TestMethod(
        "pm_card_visa_chargeDeclinedVelocityLimitExceeded",
        _DECLINES,
        "Hard decline: card_velocity_exceeded",
        "card_velocity_exceeded",
    ),
    TestMethod(
        "pm_card_threeDSecure2Required",
        _CHALLENGES,
        "3-D Secure 2 challenge; succeeds when the customer completes it",
    ),
    TestMethod(
        "pm_card_authenticationRequired",
        _CHALLENGES,
        "Always authenticates; succeeds when the customer completes it",
    ),
    TestMethod(
        "pm_card_threeDSecureRequiredChargeDeclined",
        _CHALLENGES,
        "3-D Secure challenge, then declined: generic_decline",
        "generic_decline",
    ),
)
