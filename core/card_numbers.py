"""Recognising card numbers (PANs) in free text, to refuse them in requests and to mask them in
anything that leaves a process (error answers, log lines). A raw PAN must never be stored,
echoed or logged, wherever it hides."""

from __future__ import annotations

import re

# A card number as people write it: 13 to 19 digits in one run, or in groups of 4 to 6
# separated by single spaces or dashes ("4242 4242 4242 4242", "3782-822463-10005"). It starts
# with a digit cards start with (2-6 for the networks PayLoops routes, 81/82 for RuPay): epoch
# timestamps in ms or ns, which start with 1, would otherwise pass the Luhn check one time in
# ten. A run must not continue a longer digit group on either side. Groups joined by spaces
# may sit anywhere ("k-4000 0566 5566 5556"); groups joined by a dash must not also be glued
# to letters or dash-joined to them, or the digit groups inside UUIDs (the usual idempotency
# keys) would match now and then ("cfac5110-1489-4464-8396-…").
_CARD_START = r"(?:[2-6]\d|8[12])"
_CARD_RUN = re.compile(
    rf"(?<!\d)(?<!\d[ -]){_CARD_START}\d{{11,17}}(?!\d|[ -]\d)"
    rf"|(?<!\d)(?<!\d[ -]){_CARD_START}\d{{2,4}}(?: \d{{4,6}}){{2,4}}(?!\d| \d)"
    rf"|(?<![A-Za-z0-9])(?<![A-Za-z0-9]-)(?<!\d ){_CARD_START}\d{{2,4}}(?:[ -]\d{{4,6}}){{2,4}}"
    r"(?![A-Za-z0-9]|-[A-Za-z0-9]| \d)"
)
MASK = "[card number removed]"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _is_card_number(candidate: str) -> bool:
    digits = re.sub(r"[ -]", "", candidate)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def looks_like_card_number(text: str) -> bool:
    """True if the text holds a Luhn-valid run of 13-19 digits."""
    return any(_is_card_number(match.group()) for match in _CARD_RUN.finditer(text))


def mask_card_numbers(text: str) -> str:
    """The text with every card number in it replaced by MASK; other digits are kept."""
    return _CARD_RUN.sub(
        lambda match: MASK if _is_card_number(match.group()) else match.group(), text
    )
