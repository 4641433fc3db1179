"""The currencies the adapter sends to Razorpay and their amount rules, as data.

PayLoops amounts are ISO 4217 minor units; Razorpay takes the same unit for every currency
below (paise for INR, yen for JPY, fils for KWD), so no conversion is needed, only the rules
Razorpay adds (Razorpay docs, May 2024):

  * INR: integer paise, at least 100 (₹1.00) per order;
  * three-decimal currencies (KWD, BHD, OMR): the last digit must be 0 (295.991 KWD cannot be
    charged; 295.990 is sent as 295990);
  * zero-decimal JPY is passed as is.

Non-INR currencies are international payments, which Razorpay enables per account. Their
minimum charge is not documented as a table, so the adapter leaves it to Razorpay, whose
`amount_less_than_minimum_amount` answer becomes INVALID_ARGUMENT AMOUNT_TOO_SMALL.
Sources: razorpay.com/docs/payments/international-payments (supported currencies), the
Checkout `amount` parameter notes on three-decimal and zero-decimal currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from processors.kit.errors import invalid


@dataclass(frozen=True)
class CurrencyRule:
    # ISO 4217 exponent, which is also Razorpay's for this currency (checked in the tests).
    exponent: int
    # Smallest amount Razorpay takes, in minor units (1 where it is not documented).
    minimum: int = 1
    # Amounts must be a multiple of this (10 for the three-decimal currencies).
    step: int = 1


# INR first: the currency PayLoops' conformance kit and routing try first.
CURRENCIES: MappingProxyType[str, CurrencyRule] = MappingProxyType(
    {
        "INR": CurrencyRule(2, minimum=100),
        "USD": CurrencyRule(2),
        "EUR": CurrencyRule(2),
        "GBP": CurrencyRule(2),
        "AUD": CurrencyRule(2),
        "CAD": CurrencyRule(2),
        "SGD": CurrencyRule(2),
        "AED": CurrencyRule(2),
        "SAR": CurrencyRule(2),
        "HKD": CurrencyRule(2),
        "CHF": CurrencyRule(2),
        "NZD": CurrencyRule(2),
        "MYR": CurrencyRule(2),
        "JPY": CurrencyRule(0),
        "KWD": CurrencyRule(3, step=10),
        "BHD": CurrencyRule(3, step=10),
        "OMR": CurrencyRule(3, step=10),
    }
)


def razorpay_amount(amount: int, currency: str) -> int:
    """The amount to send to Razorpay for `amount` minor units of `currency`, or
    INVALID_ARGUMENT when Razorpay could not take it. Never rounds: a changed amount would
    charge something the merchant did not ask for."""
    rule = CURRENCIES.get(currency)
    if rule is None:
        raise invalid(
            "CURRENCY_NOT_SUPPORTED", f"Razorpay does not take {currency!r} through this adapter"
        )
    if amount < rule.minimum:
        raise invalid(
            "AMOUNT_TOO_SMALL",
            f"Razorpay's minimum for {currency} is {rule.minimum} minor units, got {amount}",
        )
    if amount % rule.step:
        raise invalid(
            "AMOUNT_NOT_ACCEPTED",
            f"Razorpay takes {currency} amounts in steps of {rule.step} minor units "
            f"(the last digit must be 0), got {amount}",
        )
    return amount
