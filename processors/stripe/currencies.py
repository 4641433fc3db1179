"""Amounts between PayLoops (ISO 4217 minor units) and Stripe (Stripe's own minor unit).

PayLoops counts money in ISO minor units (`iso4217` exponents). Stripe counts in its own unit,
which for most currencies is the same, and for a few is not (docs.stripe.com/currencies, read
2026-11):

* zero-decimal in Stripe: amounts are whole units. MGA is here although ISO gives it two
  decimals, so 1 ariary is 100 PayLoops units and 1 Stripe unit;
* three-decimal: Stripe takes three decimals but only charges multiples of 10 (last digit 0).
  PayLoops never rounds money, so any other amount is refused before anything is sent;
* ISK: ISO says zero decimals, Stripe keeps two decimals whose value is always 00.

Every other currency is two-decimal in Stripe. A currency ISO gives no exponent (gold, SDRs) is
refused. Stripe's minimum charge amounts are left to Stripe: its `amount_too_small` comes back
as INVALID_ARGUMENT before anything is charged, and the table moves too often to copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import iso4217

ZERO_DECIMAL: frozenset[str] = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
THREE_DECIMAL: frozenset[str] = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# Stripe's exponent where it is neither 0, 3 nor the default 2's ISO twin.
EXPONENT_OVERRIDES: dict[str, int] = {"ISK": 2}
# Stripe amounts must be a multiple of this (in Stripe units).
STEP: dict[str, int] = {**dict.fromkeys(THREE_DECIMAL, 10), "ISK": 100}
_DEFAULT_EXPONENT = 2


class AmountError(ValueError):
    """The amount cannot be charged in this currency at Stripe; nothing was sent."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class StripeCurrency:
    """How one currency's amounts convert between PayLoops and Stripe."""

    code: str  # ISO 4217, upper case
    iso_exponent: int
    stripe_exponent: int
    step: int  # Stripe amounts must be multiples of this

    @property
    def wire_code(self) -> str:
        """Stripe wants lower case codes in requests."""
        return self.code.lower()

    def to_stripe(self, amount: int) -> int:
        """PayLoops minor units to Stripe units; refuses what Stripe cannot charge exactly."""
        shift = self.stripe_exponent - self.iso_exponent
        factor = _power_of_ten(abs(shift))
        if shift >= 0:
            converted = amount * factor
        else:
            if amount % factor:
                raise AmountError(
                    "AMOUNT_NOT_REPRESENTABLE",
                    f"{self.code} amounts at Stripe are whole multiples of {factor} minor "
                    f"units; {amount} is not",
                )
            converted = amount // factor
        if converted % self.step:
            raise AmountError(
                "AMOUNT_NOT_REPRESENTABLE",
                f"Stripe charges {self.code} only in multiples of {self._step_in_iso()} minor "
                f"units (last digit 0); {amount} would need rounding",
            )
        return converted

    def from_stripe(self, amount: int) -> int:
        """Stripe units back to PayLoops minor units (always exact)."""
        shift = self.stripe_exponent - self.iso_exponent
        factor = _power_of_ten(abs(shift))
        return amount // factor if shift >= 0 else amount * factor

    def _step_in_iso(self) -> int:
        return self.from_stripe(self.step) or 1


def _power_of_ten(exponent: int) -> int:
    return int(10**exponent)


def stripe_currency(code: str) -> StripeCurrency:
    """The conversion for an ISO code (any case). AmountError for codes Stripe cannot take."""
    upper = code.upper()
    try:
        iso_exponent = iso4217.Currency(upper).exponent
    except ValueError:
        raise AmountError("CURRENCY_UNSUPPORTED", f"{code!r} is not an ISO 4217 currency") from None
    if iso_exponent is None:
        raise AmountError("CURRENCY_UNSUPPORTED", f"{upper} has no minor unit to charge in")
    if upper in ZERO_DECIMAL:
        stripe_exponent = 0
    elif upper in THREE_DECIMAL:
        stripe_exponent = 3
    else:
        stripe_exponent = EXPONENT_OVERRIDES.get(upper, _DEFAULT_EXPONENT)
    return StripeCurrency(upper, iso_exponent, stripe_exponent, STEP.get(upper, 1))
