"""Currencies and their minor units, from the ISO 4217 table of the `iso4217` package."""

from __future__ import annotations

from functools import cache

import iso4217

INT64_MAX = 2**63 - 1
# The largest amount PayLoops accepts: 999 999 999 units of the major currency.
MAX_MAJOR_UNITS = 999_999_999


@cache
def minor_unit_exponent(code: str) -> int | None:
    """Digits after the decimal point (2 for USD, 0 for JPY, 3 for KWD); None if not a currency
    (unknown codes and ISO entries without minor units, such as gold XAU)."""
    try:
        currency = iso4217.Currency(code)
    except ValueError:
        return None
    exponent = currency.exponent
    return exponent if isinstance(exponent, int) else None


def is_currency(code: str) -> bool:
    return code.isalpha() and code.isupper() and minor_unit_exponent(code) is not None


def max_amount(code: str) -> int:
    exponent = minor_unit_exponent(code)
    if exponent is None:
        raise ValueError(f"not a currency: {code}")
    return max_amount_for(exponent)


@cache
def largest_amount() -> int:
    """The largest amount any order can have, whatever its currency: the bound of settings
    that compare with amounts (routing's amount ranges)."""
    exponents = (minor_unit_exponent(currency.code) for currency in iso4217.Currency)
    return max(max_amount_for(exponent) for exponent in exponents if exponent is not None)


def max_amount_for(exponent: int) -> int:
    scale: int = 10**exponent
    return min(INT64_MAX, (MAX_MAJOR_UNITS + 1) * scale - 1)
