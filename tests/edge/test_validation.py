from __future__ import annotations

import random
import uuid

import pytest

from edge import validation
from payloops.v1 import orders_pb2


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
    ],
)
def test_card_numbers_are_found_wherever_they_hide(text: str) -> None:
    assert validation.looks_like_card_number(text)


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
    assert not validation.looks_like_card_number(text)


def test_every_violation_is_reported_at_once() -> None:
    order = orders_pb2.Order(
        amount=-1,
        currency="usdd",
        description="x" * 1001,
        metadata={"": "v", "pan": "4242424242424242"},
    )
    found = {(v.field, v.reason) for v in validation.order_violations(order)}
    assert found == {
        ("amount", "AMOUNT_NOT_POSITIVE"),
        ("currency", "CURRENCY_UNKNOWN"),
        ("description", "DESCRIPTION_TOO_LONG"),
        ("metadata.", "METADATA_KEY_INVALID"),
        ("metadata.pan", "CARD_NUMBER_NOT_ALLOWED"),
    }


def test_a_valid_order_has_no_violations() -> None:
    order = orders_pb2.Order(
        amount=99_999_999_999,
        currency="usd",
        metadata={"k": "v"},
        return_url="https://shop.example/done",
    )
    assert validation.order_violations(order) == []


@pytest.mark.parametrize(
    "return_url",
    [
        "https://shop.example/done\r\nSet-Cookie: a=b",
        "https://shop.example/done\n",
        "https://shop.example/\x00",
        "https://shop.example/a b",
        "https://shop.example/a\tb",
        "https://shop.example/\x7f",
        "https://shop.example/\u2028",
    ],
)
def test_a_return_url_with_spaces_or_control_characters_is_refused(return_url: str) -> None:
    # urlparse drops CR, LF and tab without a word: the URL would pass as a valid one.
    order = orders_pb2.Order(amount=100, currency="usd", return_url=return_url)
    assert [(v.field, v.reason) for v in validation.order_violations(order)] == [
        ("return_url", "URL_CONTROL_CHARACTER")
    ]


def test_currency_limits_follow_minor_units() -> None:
    jpy = orders_pb2.Order(amount=999_999_999, currency="JPY")
    too_much_jpy = orders_pb2.Order(amount=1_000_000_000, currency="JPY")
    assert validation.order_violations(jpy) == []
    assert [v.reason for v in validation.order_violations(too_much_jpy)] == ["AMOUNT_TOO_LARGE"]


def card_method(bin_: str) -> orders_pb2.PaymentMethod:
    return orders_pb2.PaymentMethod(
        type="card", token="pm_card_visa", card=orders_pb2.CardHints(bin=bin_)
    )


@pytest.mark.parametrize("bin_", ["", "424242", "5555555", "45717360"])
def test_a_bin_of_6_to_8_digits_is_accepted(bin_: str) -> None:
    # Too short for the card-number scan, whatever its digits: a BIN is not a card number.
    assert validation.payment_method_violations(card_method(bin_)) == []


@pytest.mark.parametrize(
    "bin_", ["42424", "424242424", "4242a2", " 424242", "4242-42", "٤٢٤٢٤٢"]
)  # Arabic-Indic digits are digits, not ASCII ones
def test_a_bin_that_is_not_6_to_8_digits_is_card_bin_invalid(bin_: str) -> None:
    found = [(v.field, v.reason) for v in validation.payment_method_violations(card_method(bin_))]
    assert found == [("payment_method.card.bin", "CARD_BIN_INVALID")]


def test_a_card_number_sent_as_bin_is_rejected_as_one_and_never_echoed() -> None:
    found = validation.payment_method_violations(card_method("4242424242424242"))
    assert {(v.field, v.reason) for v in found} == {
        ("payment_method.card.bin", "CARD_BIN_INVALID"),
        ("payment_method.card.bin", "CARD_NUMBER_NOT_ALLOWED"),
    }
    assert not any("4242" in v.description for v in found)


def test_uuid_idempotency_keys_are_never_card_numbers() -> None:
    """SDKs send UUID4 Idempotency-Keys; rejecting one would fail a merchant's request at
    random. 50 000 of them, seeded so a failure reproduces."""
    rng = random.Random(4242)
    keys = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(50_000)]
    assert [key for key in keys if validation.looks_like_card_number(key)] == []
