"""Checking a card as the customer typed it: number (Luhn, length, brand from the BIN), expiry,
CVC, holder name. Violations name the field and a stable reason, never the value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.card_numbers import looks_like_card_number, luhn_valid
from core.errors import FieldViolation

# The prefixes each brand's numbers start with, as (first, last, digits); the longest matching
# prefix decides (6011 is discover, 60 rupay; 6521 rupay, 65 discover).
_BIN_RANGES: tuple[tuple[str, int, int, int], ...] = (
    ("visa", 4, 4, 1),
    ("mastercard", 51, 55, 2),
    ("mastercard", 2221, 2720, 4),
    ("amex", 34, 34, 2),
    ("amex", 37, 37, 2),
    ("discover", 6011, 6011, 4),
    ("discover", 644, 649, 3),
    ("discover", 65, 65, 2),
    ("jcb", 3528, 3589, 4),
    ("diners", 300, 305, 3),
    ("diners", 3095, 3095, 4),
    ("diners", 36, 36, 2),
    ("diners", 38, 39, 2),
    ("unionpay", 62, 62, 2),
    ("rupay", 508, 508, 3),
    ("rupay", 60, 60, 2),
    ("rupay", 6521, 6522, 4),
    ("rupay", 81, 82, 2),
)
_LENGTHS = {
    "visa": (13, 16, 19),
    "mastercard": (16,),
    "amex": (15,),
    "discover": tuple(range(16, 20)),
    "jcb": tuple(range(16, 20)),
    "diners": tuple(range(14, 20)),
    "unionpay": tuple(range(16, 20)),
    "rupay": (16,),
}
_CVC_LENGTH = {"amex": 4}
DEFAULT_CVC_LENGTH = 3
# Far above any real value: longer input is refused before any other work.
MAX_NUMBER_INPUT = 32
MAX_HOLDER_NAME = 100
MAX_YEARS_AHEAD = 50
_SEPARATORS = re.compile(r"[ -]")


@dataclass(frozen=True, repr=False)
class Card:
    """A card that passed every check. Its repr never shows the number or the CVC."""

    number: str  # digits only
    exp_month: int
    exp_year: int
    cvc: str
    holder_name: str
    brand: str

    @property
    def bin(self) -> str:
        return self.number[:6]

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def __repr__(self) -> str:
        return f"Card({self.brand} …{self.last4}, {self.exp_month:02d}/{self.exp_year})"


def brand_of(digits: str) -> str | None:
    matching = [
        (length, brand)
        for brand, first, last, length in _BIN_RANGES
        if len(digits) >= length and first <= int(digits[:length]) <= last
    ]
    return max(matching)[1] if matching else None


def checked(
    number: str, exp_month: int, exp_year: int, cvc: str, holder_name: str, today: date
) -> Card | list[FieldViolation]:
    """The card, or every reason it is refused (field paths as in CreateTokenRequest)."""
    found: list[FieldViolation] = []
    digits, brand = _number(number, found)
    _expiry(exp_month, exp_year, today, found)
    _cvc(cvc, brand, found)
    _holder_name(holder_name, found)
    if found or brand is None:
        return found
    return Card(digits, exp_month, exp_year, cvc, holder_name.strip(), brand)


def _number(number: str, found: list[FieldViolation]) -> tuple[str, str | None]:
    field = "card.number"
    if len(number) > MAX_NUMBER_INPUT:
        found.append(FieldViolation(field, "CARD_NUMBER_INVALID", "is far too long"))
        return "", None
    digits = _SEPARATORS.sub("", number)
    if not digits.isascii() or not digits.isdigit():
        found.append(
            FieldViolation(
                field, "CARD_NUMBER_INVALID", "must be digits (spaces and dashes allowed)"
            )
        )
        return "", None
    brand = brand_of(digits)
    if brand is None:
        found.append(
            FieldViolation(
                field,
                "CARD_BRAND_UNSUPPORTED",
                "is not of a supported brand: " + ", ".join(_LENGTHS),
            )
        )
    elif len(digits) not in _LENGTHS[brand] or not luhn_valid(digits):
        found.append(
            FieldViolation(
                field, "CARD_NUMBER_INVALID", "is not a valid card number (length or check digit)"
            )
        )
        return digits, None
    return digits, brand


def _expiry(month: int, year: int, today: date, found: list[FieldViolation]) -> None:
    if not 1 <= month <= 12:
        found.append(FieldViolation("card.exp_month", "EXP_MONTH_INVALID", "must be 1 to 12"))
    if not today.year - 100 < year <= today.year + MAX_YEARS_AHEAD:
        found.append(
            FieldViolation(
                "card.exp_year",
                "EXP_YEAR_INVALID",
                f"must be a four-digit year at most {MAX_YEARS_AHEAD} years ahead",
            )
        )
    elif 1 <= month <= 12 and (year, month) < (today.year, today.month):
        found.append(FieldViolation("card.exp_year", "CARD_EXPIRED", "the card has expired"))


def _cvc(cvc: str, brand: str | None, found: list[FieldViolation]) -> None:
    wanted = _CVC_LENGTH.get(brand or "", DEFAULT_CVC_LENGTH)
    if (
        not (cvc.isascii() and cvc.isdigit())
        or (brand is not None and len(cvc) != wanted)
        or len(cvc) not in (3, 4)
    ):
        found.append(
            FieldViolation(
                "card.cvc", "CVC_INVALID", "must be 4 digits for amex, 3 for the other brands"
            )
        )


def _holder_name(name: str, found: list[FieldViolation]) -> None:
    field = "card.holder_name"
    if len(name) > MAX_HOLDER_NAME:
        found.append(
            FieldViolation(
                field, "HOLDER_NAME_TOO_LONG", f"must be at most {MAX_HOLDER_NAME} characters"
            )
        )
    elif not name.isprintable() or looks_like_card_number(name):
        found.append(
            FieldViolation(
                field,
                "HOLDER_NAME_INVALID",
                "must be printable text (no control characters, no card number)",
            )
        )
