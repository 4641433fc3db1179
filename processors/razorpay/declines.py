"""Razorpay's payment failure reasons as PayLoops declines: code and hard/soft, as data.

A failed payment carries `error_code` (BAD_REQUEST_ERROR / GATEWAY_ERROR / SERVER_ERROR),
`error_source`, `error_step` and `error_reason`; the reason is the decline code. Source:
razorpay.com/docs/errors/payments (list and cards, 2026).

Soft means another processor may succeed (processor.proto, Decline.soft):
  * gateway_technical_error: Razorpay's partner (acquiring) bank is down. That is specific to
    Razorpay's route to the networks; another processor uses other acquirers. Soft.
  * bank_technical_error: the customer's bank is down right now. Temporary by nature, like the
    "issuer unavailable" the contract names as soft. Soft.
  * Anything Razorpay reports with error_code GATEWAY_ERROR or SERVER_ERROR and a reason this
    table does not know is a processing failure on the gateway's side: soft.
Everything about the customer's card or answer (declined by the issuer, funds, expiry, CVV,
risk, limits, failed or abandoned authentication) is hard: no other processor should retry it,
and for authentication the orchestrator stops on codes starting with "three_d_secure".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from payloops.processor.v1 import processor_pb2
from processors.kit.declines import DeclineRule

_HARD = False
_SOFT = True

DECLINES: MappingProxyType[str, DeclineRule] = MappingProxyType(
    {
        "card_declined": DeclineRule("generic_decline", _HARD, "The card was declined."),
        "payment_failed": DeclineRule("generic_decline", _HARD, "The bank declined the payment."),
        "insufficient_funds": DeclineRule(
            "insufficient_funds", _HARD, "The card has insufficient funds."
        ),
        "card_expired": DeclineRule("expired_card", _HARD, "The card has expired."),
        "incorrect_cvv": DeclineRule("incorrect_cvc", _HARD, "The CVV was incorrect."),
        "card_not_enrolled": DeclineRule(
            "card_not_supported", _HARD, "The card is not enrolled for online payments."
        ),
        "card_disabled_for_online_payments": DeclineRule(
            "card_not_supported", _HARD, "The card is not enabled for online payments."
        ),
        "debit_instrument_inactive": DeclineRule(
            "card_not_supported", _HARD, "The card is not enabled for online payments."
        ),
        "debit_instrument_blocked": DeclineRule("card_blocked", _HARD, "The card is blocked."),
        "payment_risk_check_failed": DeclineRule(
            "fraudulent", _HARD, "The bank declined the payment as risky."
        ),
        "transaction_limit_exceeded": DeclineRule(
            "card_velocity_exceeded", _HARD, "The card's transaction limit was reached."
        ),
        "authentication_failed": DeclineRule(
            "three_d_secure_failed", _HARD, "3-D Secure authentication failed."
        ),
        "invalid_otp": DeclineRule(
            "three_d_secure_failed", _HARD, "3-D Secure authentication failed (wrong OTP)."
        ),
        "payment_timed_out": DeclineRule(
            "three_d_secure_timeout", _HARD, "The customer did not complete the payment in time."
        ),
        "payment_cancelled": DeclineRule(
            "three_d_secure_canceled", _HARD, "The customer cancelled the payment."
        ),
        "gateway_technical_error": DeclineRule(
            "try_again_later", _SOFT, "Razorpay's partner bank is unavailable."
        ),
        "bank_technical_error": DeclineRule(
            "issuer_unavailable", _SOFT, "The customer's bank is unavailable."
        ),
    }
)

# When the reason is missing or unknown, the error class decides.
BY_ERROR_CODE: MappingProxyType[str, DeclineRule] = MappingProxyType(
    {
        "GATEWAY_ERROR": DeclineRule(
            "processing_error", _SOFT, "The gateway failed to process it."
        ),
        "SERVER_ERROR": DeclineRule("processing_error", _SOFT, "The gateway failed to process it."),
    }
)
DEFAULT = DeclineRule("generic_decline", _HARD, "The payment was declined.")


def decline_for(payment: Mapping[str, Any]) -> processor_pb2.Decline:
    """The Decline of a failed Razorpay payment entity."""
    reason = str(payment.get("error_reason") or "")
    error_code = str(payment.get("error_code") or "")
    rule = DECLINES.get(reason) or BY_ERROR_CODE.get(error_code) or DEFAULT
    return rule.decline(reason or error_code, str(payment.get("error_description") or ""))
