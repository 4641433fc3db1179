"""The test payment methods the adapter advertises (GetCapabilities.test_payment_methods).

They use the names of PayLoops' sandbox (docs/payments.md) and work against the Razorpay fake the
tests run (tests/fakes/razorpay_api.py), which implements exactly this table, sent as the
saved-card `token` of an S2S card payment. Against real Razorpay test mode the token is a real
saved-card token (`token_…`) and the outcome is chosen on Razorpay's mock bank page.
"""

from __future__ import annotations

from dataclasses import dataclass

from payloops.processor.v1 import processor_pb2


@dataclass(frozen=True)
class AdvertisedToken:
    token: str
    outcome: processor_pb2.Outcome.ValueType
    decline_code: str
    description: str


_OK = processor_pb2.OUTCOME_SUCCEEDED
_DECLINED = processor_pb2.OUTCOME_DECLINED
_ACTION = processor_pb2.OUTCOME_REQUIRES_ACTION

TEST_METHODS: tuple[AdvertisedToken, ...] = (
    AdvertisedToken("pm_card_visa", _OK, "", "Visa, succeeds (authorized with manual capture)"),
    AdvertisedToken("pm_card_mastercard", _OK, "", "Mastercard, succeeds"),
    AdvertisedToken("pm_card_rupay", _OK, "", "RuPay debit, succeeds"),
    AdvertisedToken(
        "pm_card_declined",
        _DECLINED,
        "generic_decline",
        "Hard decline: Razorpay reason card_declined",
    ),
    AdvertisedToken(
        "pm_card_insufficient_funds",
        _DECLINED,
        "insufficient_funds",
        "Hard decline: Razorpay reason insufficient_funds",
    ),
    AdvertisedToken(
        "pm_card_soft_decline",
        _DECLINED,
        "try_again_later",
        "Soft decline: GATEWAY_ERROR gateway_technical_error (partner bank down)",
    ),
    AdvertisedToken(
        "pm_card_3ds_required",
        _ACTION,
        "",
        "Requires 3-D Secure; the fake's page (outcome=succeed|fail) decides",
    ),
    AdvertisedToken(
        "pm_card_3ds_fail",
        _ACTION,
        "three_d_secure_failed",
        "Requires 3-D Secure, then declines: authentication_failed",
    ),
)
