from __future__ import annotations

import pytest

from edge import validation
from payloops.v1 import orders_pb2


def test_every_violation_is_reported_at_once() -> None:
    order = orders_pb2.Order(
        amount=-1,
        currency="usdd",
        description="x" * 1001,
        metadata={"": "v"},
    )
    found = {(v.field, v.reason) for v in validation.order_violations(order)}
    assert found == {
        ("amount", "AMOUNT_NOT_POSITIVE"),
        ("currency", "CURRENCY_UNKNOWN"),
        ("description", "DESCRIPTION_TOO_LONG"),
        ("metadata.", "METADATA_KEY_INVALID"),
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


@pytest.mark.parametrize(
    "token",
    [
        "pm_card_visa",
        "tok_visa",
        "token_Jx8uKq2",
        "pm_vault_" + "A1b2C3d4E5f6G7h8I9j0K1l2",
        "src_a-b",
    ],
)
def test_gateway_tokens_of_every_shape_the_token_rule_allows_are_accepted(token: str) -> None:
    # Third-party gateways' tokens (tok_…, Razorpay's token_…) were refused: only pm_ passed.
    method = orders_pb2.PaymentMethod(type="card", token=token)
    assert validation.payment_method_violations(method) == []


@pytest.mark.parametrize(
    "token",
    ["", "visa", "4242424242424242", "tok visa", "_tok_x", "tok_" + "x" * 201, "t\u00f6k_x"],
)
def test_tokens_outside_the_rule_are_refused(token: str) -> None:
    method = orders_pb2.PaymentMethod(type="card", token=token)
    assert [(v.field, v.reason) for v in validation.payment_method_violations(method)] == [
        ("payment_method.token", "PAYMENT_METHOD_TOKEN_INVALID")
    ]
