"""Stripe declines as PayLoops Decline results: which code, and whether it is soft.

Soft means another processor may succeed with the same card now: the problem is at the issuer's
or the network's end, or temporary. Hard means the answer is about the card or
the customer, and every processor would hear it again: sending the card elsewhere only adds
declines to the customer's statement and the merchant's decline ratio, and for several codes
the networks fine merchants who retry (Visa's "never reattempt" category, Mastercard's
"do not try again" merchant advice).

Choices worth a word:
* insufficient_funds is hard: the funds are the same whichever processor asks. PayLoops does
  not retry later on its own; the customer may pay again.
* do_not_try_again is the issuer saying exactly that: hard.
* card_velocity_exceeded is the card's own spending limit: hard.
* processing_error, issuer_not_available, try_again_later, reenter_transaction: the charge did
  not get a real answer from the issuer; another route may get one: soft.
* approve_with_id: the issuer could not authorize this one attempt and asks for a retry: soft.
* authentication_required: the customer must authenticate; another processor would ask too.
* An unknown code is hard: a card that is silently sent to several processors is worse for the
  customer than a payment the merchant can retry.

Stripe's `advice_code` (when the issuer gives one) overrides the table: `do_not_try_again`
and `confirm_card_data` make a decline hard, `try_again_later` makes it soft.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from payloops.processor.v1 import processor_pb2 as pb
from processors.kit.declines import DeclineRule

THREE_D_SECURE_FAILED = "three_d_secure_failed"
GENERIC_DECLINE = "generic_decline"
_DEFAULT_MESSAGE = "The card was declined."


# Stripe decline_code (or error code when there is none) -> PayLoops code and softness.
_SOFT = (
    "issuer_not_available",
    "try_again_later",
    "processing_error",
    "reenter_transaction",
    "approve_with_id",
)
_HARD = (
    "generic_decline",
    "insufficient_funds",
    "lost_card",
    "stolen_card",
    "expired_card",
    "incorrect_cvc",
    "incorrect_number",
    "incorrect_zip",
    "invalid_cvc",
    "invalid_expiry_month",
    "invalid_expiry_year",
    "invalid_number",
    "card_velocity_exceeded",
    "do_not_honor",
    "do_not_try_again",
    "fraudulent",
    "merchant_blacklist",
    "pickup_card",
    "restricted_card",
    "security_violation",
    "call_issuer",
    "card_not_supported",
    "currency_not_supported",
    "duplicate_transaction",
    "invalid_account",
    "invalid_amount",
    "invalid_pin",
    "new_account_information_available",
    "no_action_taken",
    "not_permitted",
    "offline_pin_required",
    "online_or_offline_pin_required",
    "pin_try_exceeded",
    "revocation_of_all_authorizations",
    "revocation_of_authorization",
    "service_not_allowed",
    "stop_payment_order",
    "testmode_decline",
    "transaction_not_allowed",
    "withdrawal_count_limit_exceeded",
    "authentication_required",
)
RULES: dict[str, DeclineRule] = {
    **{code: DeclineRule(code, soft=True) for code in _SOFT},
    **{code: DeclineRule(code, soft=False) for code in _HARD},
    # Stripe's names for things PayLoops names processor-independently.
    "card_declined": DeclineRule(GENERIC_DECLINE, soft=False),
    "payment_intent_authentication_failure": DeclineRule(THREE_D_SECURE_FAILED, soft=False),
    "payment_intent_payment_attempt_failed": DeclineRule(GENERIC_DECLINE, soft=False),
}
ADVICE_SOFTNESS: dict[str, bool] = {
    "do_not_try_again": False,
    "confirm_card_data": False,
    "try_again_later": True,
}


def decline_from_error(error: Mapping[str, Any] | None) -> pb.Decline:
    """A decline from a Stripe error body (`last_payment_error`, or a 402's `error`)."""
    error = error or {}
    # decline_code is the issuer's reason; code is Stripe's (card_declined, expired_card, ...).
    gateway_code = str(error.get("decline_code") or error.get("code") or GENERIC_DECLINE)
    # An issuer code the table does not know stays visible, and is judged hard.
    rule = RULES.get(gateway_code) or DeclineRule(gateway_code, soft=False)
    advice = ADVICE_SOFTNESS.get(str(error.get("advice_code") or ""))
    if advice is not None:
        rule = dataclasses.replace(rule, soft=advice)
    return rule.decline(gateway_code, str(error.get("message") or _DEFAULT_MESSAGE))
