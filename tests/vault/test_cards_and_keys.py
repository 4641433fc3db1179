"""The vault's card checks and its envelope encryption, as units: brands from the BIN, the
checks' stable reasons, records bound to their id, KEK configuration, fingerprints."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import FieldViolation
from core.secret_shapes import secret_shapes_in
from vault.cards import Card, brand_of, checked
from vault.crypto import (
    CannotDecrypt,
    Envelope,
    KeyConfigError,
    fingerprint,
    new_fingerprint_key,
    new_kek,
    parse_fingerprint_key,
    parse_keks,
)

TODAY = date(2025, 6, 15)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("6521000000000000", "rupay"),
        ("6500000000000002", "discover"),
        ("6000000000000000", "rupay"),
        ("3566002020360505", "jcb"),
        ("36227206271667", "diners"),
        ("6200000000000005", "unionpay"),
        ("9999999999999995", None),
    ],
)
def test_the_brand_comes_from_the_longest_matching_prefix(number: str, brand: str | None) -> None:
    assert brand_of(number) == brand


def reasons(result: Card | list[FieldViolation]) -> list[str]:
    assert isinstance(result, list)
    return [violation.reason for violation in result]


def test_expiry_is_checked_to_the_month() -> None:
    assert isinstance(checked("4242424242424242", 6, 2025, "123", "", TODAY), Card)
    assert reasons(checked("4242424242424242", 5, 2025, "123", "", TODAY)) == ["CARD_EXPIRED"]


def test_violations_never_quote_the_number() -> None:
    for number in ("4242424242424241", "4242 4242 4242 424x", "4" * 40):
        for violation in reasons_of(checked(number, 1, 2030, "123", "", TODAY)):
            assert number not in violation.description and "4242" not in violation.description


def reasons_of(result: Card | list[FieldViolation]) -> list[FieldViolation]:
    assert isinstance(result, list)
    return result


def test_a_card_shows_only_its_last_four_digits() -> None:
    card = checked("4242-4242-4242-4242", 1, 2030, "123", " Ada ", TODAY)
    assert isinstance(card, Card)
    assert (card.number, card.bin, card.last4, card.holder_name) == (
        "4242424242424242",
        "424242",
        "4242",
        "Ada",
    )
    assert "42424242" not in repr(card) and "123" not in repr(card)


def test_a_sealed_card_opens_only_as_its_own_record() -> None:
    envelope = Envelope(parse_keks(new_kek("k1")))
    sealed = envelope.seal("pm_a", "4242424242424242", "Ada", "123")
    assert b"4242424242424242" not in sealed.card + sealed.wrapped_key
    opened = envelope.open("pm_a", sealed.kek_id, sealed.wrapped_key, sealed.card, sealed.cvc)
    assert (opened.number, opened.holder_name, opened.cvc) == ("4242424242424242", "Ada", "123")
    with pytest.raises(CannotDecrypt):
        envelope.open("pm_b", sealed.kek_id, sealed.wrapped_key, sealed.card, sealed.cvc)


def test_rewrapping_moves_a_record_to_the_first_kek_and_old_keks_still_unwrap() -> None:
    old, new = new_kek("old"), new_kek("new")
    sealed = Envelope(parse_keks(old)).seal("pm_a", "4242424242424242", "", "")
    rotated = Envelope(parse_keks(f"{new},{old}"))
    assert rotated.open("pm_a", "old", sealed.wrapped_key, sealed.card, None).number
    rewrapped = rotated.rewrap("pm_a", "old", sealed.wrapped_key)
    only_new = Envelope(parse_keks(new))
    assert only_new.open("pm_a", "new", rewrapped, sealed.card, None).number == "4242424242424242"
    with pytest.raises(CannotDecrypt):
        only_new.open("pm_a", "old", sealed.wrapped_key, sealed.card, None)


@pytest.mark.parametrize(
    "value",
    ["", "k1", "k1:short", "k 1:" + new_kek("x").split(":")[1], new_kek("a") + "," + new_kek("a")],
)
def test_unusable_kek_configuration_is_refused_without_quoting_a_key(value: str) -> None:
    with pytest.raises(KeyConfigError) as refused:
        parse_keks(value)
    for part in value.split(","):
        key = part.partition(":")[2]
        assert not key or key not in str(refused.value)


def test_fingerprints_are_per_merchant() -> None:
    key = parse_fingerprint_key(new_fingerprint_key())
    assert fingerprint(key, "mer_a", "4242424242424242") == fingerprint(
        key, "mer_a", "4242424242424242"
    )
    assert fingerprint(key, "mer_a", "4242424242424242") != fingerprint(
        key, "mer_b", "4242424242424242"
    )


def test_a_whole_publishable_key_counts_as_a_secret_in_logs() -> None:
    assert secret_shapes_in("key pk_live_" + "a" * 32) == ["an API key"]
    assert secret_shapes_in("prefix pk_test_abcd") == []
