"""The test payment methods the adapter advertises (GetCapabilities.test_payment_methods).

They use the names of the sandbox's tokens (processors/sandbox/payment_methods.py) and work
against the Razorpay fake the tests run (tests/fakes/razorpay_api.py), which implements exactly
this table, sent as the saved-card `token` of an S2S card payment. Against real Razorpay test
mode the token is a real saved-card token (`token_…`) and the outcome is chosen on Razorpay's
mock bank page.
"""

from __future__ import annotations

from payloops.processor.v1 import processor_pb2
from processors.kit.capabilities import TestMethod

_OK = processor_pb2.OUTCOME_SUCCEEDED
_DECLINED = processor_pb2.OUTCOME_DECLINED
_ACTION = processor_pb2.OUTCOME_REQUIRES_ACTION

TEST_METHODS: tuple[TestMethod, ...] = (
    TestMethod("pm_card_visa", _OK, "Visa, succeeds (authorized with manual capture)"),
    TestMethod("pm_card_mastercard", _OK, "Mastercard, succeeds"),
    TestMethod("pm_card_rupay", _OK, "RuPay debit, succeeds"),
    TestMethod(
        "pm_card_declined",
        _DECLINED,
        "Hard decline: Razorpay reason card_declined",
        "generic_decline",
    ),
    TestMethod(
        "pm_card_insufficient_funds",
        _DECLINED,
        "Hard decline: Razorpay reason insufficient_funds",
        "insufficient_funds",
    ),
    TestMethod(
        "pm_card_soft_decline",
        _DECLINED,
        "Soft decline: GATEWAY_ERROR gateway_technical_error (partner bank down)",
        "try_again_later",
    ),
    TestMethod(
        "pm_card_3ds_required",
        _ACTION,
        "Requires 3-D Secure; the fake's page (outcome=succeed|fail) decides",
    ),
    TestMethod(
        "pm_card_3ds_fail",
        _ACTION,
        "Requires 3-D Secure, then declines: authentication_failed",
        "three_d_secure_failed",
    ),
)
