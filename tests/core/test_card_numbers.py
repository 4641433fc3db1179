"""Card numbers are found wherever they hide in text, other numbers are left alone, and
masking removes exactly the card numbers."""

from __future__ import annotations

import random
import uuid

import pytest

from core.card_numbers import MASK, looks_like_card_number, mask_card_numbers


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424242",
        "card 4242 4242 4242 4242 thanks",
        "4000-0566-5566-5556",
        "amex 378282246310005",
        "x:6011111111111117;",
        "order-4242424242424242",
        "ref_4242424242424242",
        "4242424242424242-retry",
        "rupay 8171999927660000",
        # Space-joined groups glued to a prefix, as in an Idempotency-Key "k-<number>":
        "k-4000 0566 5566 5556",
        "abc4000 0566 5566 5556x",
        "4000 0566 5566 5556-1",
    ],
)
def test_card_numbers_are_found_wherever_they_hide(text: str) -> None:
    assert looks_like_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "order 12345",
        "4242424242424241",  # fails the Luhn check
        "ts 20261126032800123456789",  # too long to be a card number
        "00000000000000",
        "phone +1 415 555 0100",
        "",
        "1234-4242424242424242",  # the tail of a 20-digit group, not a card number
        "order-1764475367124",
        "k1764475367123456781",  # Luhn-valid timestamps (ms, ns)
        # UUIDs whose digit groups once looked like grouped card numbers:
        "10e24160-1335-4978-b912-d069f2de587f",
        "cfac5110-1489-4464-8396-df145e612fc5",
        "4c588740-8366-4804-b584-5cfd85ab1c1e",
        "50f36145-627d-4842-9191-151419d10351",
    ],
)
def test_other_numbers_are_not_card_numbers(text: str) -> None:
    assert not looks_like_card_number(text)


def test_uuid_idempotency_keys_are_never_card_numbers() -> None:
    """SDKs send UUID4 Idempotency-Keys; rejecting one would fail a merchant's request at
    random. 50 000 of them, seeded so a failure reproduces."""
    rng = random.Random(4242)
    keys = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(50_000)]
    assert [key for key in keys if looks_like_card_number(key)] == []


def test_masking_replaces_each_card_number_and_keeps_the_rest() -> None:
    text = "no order 'ord_4242424242424242', card 4000-0566-5566-5556; order 12345"
    assert mask_card_numbers(text) == f"no order 'ord_{MASK}', card {MASK}; order 12345"


def test_masking_leaves_numbers_that_are_not_card_numbers() -> None:
    for text in (
        "4242424242424241",
        "10e24160-1335-4978-b912-d069f2de587f",
        "k1764475367123456781",
    ):
        assert mask_card_numbers(text) == text
