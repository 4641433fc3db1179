"""Card facts for routing: the network derived from a BIN, and the sandbox's test tokens."""

from __future__ import annotations

import pytest

from core.contracts.payment import CardHints, PaymentInput, PaymentMethod
from core.contracts.vocabulary import CaptureMethod
from orchestrator.routing_engine.facts import SANDBOX_CARDS, facts_for, network_for_bin
from processors.sandbox.payment_methods import TEST_CARDS

ORDER = PaymentInput(
    order_id="ord_1",
    merchant_id="mer_1",
    amount=4999,
    currency="usd",
    capture_method=CaptureMethod.AUTOMATIC,
)


@pytest.mark.parametrize(
    ("bin_", "network"),
    [
        ("424242", "visa"),
        ("40000000", "visa"),
        ("510000", "mastercard"),
        ("555555", "mastercard"),
        ("222100", "mastercard"),
        ("272099", "mastercard"),
        ("340000", "amex"),
        ("378282", "amex"),
        ("601100", "discover"),
        ("644000", "discover"),
        ("649999", "discover"),
        ("650000", "discover"),  # 65 without a country: Discover (see network_for_bin)
        ("600000", "rupay"),
        ("601200", "rupay"),
        ("508500", "rupay"),
        ("810000", "rupay"),
        ("820000", "rupay"),
        ("352800", "jcb"),
        ("358999", "jcb"),
        ("360000", "diners"),
        ("300000", "diners"),
        ("305999", "diners"),
        ("620000", "unionpay"),
        ("62212600", "unionpay"),
        # Just outside the ranges.
        ("222099", ""),
        ("272100", ""),
        ("500000", ""),
        ("560000", ""),
        ("352799", ""),
        ("359000", ""),
        ("306000", ""),
        ("643999", ""),
        ("830000", ""),
        ("", ""),
    ],
)
def test_a_bin_names_its_network_by_the_public_iin_ranges(bin_: str, network: str) -> None:
    assert network_for_bin(bin_) == network


def test_a_65_bin_is_rupay_only_for_an_indian_card() -> None:
    assert network_for_bin("652150", country="IN") == "rupay"
    assert network_for_bin("652150", country="in") == "rupay"
    assert network_for_bin("652150", country="US") == "discover"
    # Discover's own 6011 stays Discover wherever the card is from.
    assert network_for_bin("601100", country="IN") == "discover"


def network_of(token: str = "pm_unknown", **card: str) -> str:
    return facts_for(
        ORDER, PaymentMethod(type="card", token=token, card=CardHints(**card))
    ).card_network


def test_without_a_network_hint_the_bin_decides() -> None:
    assert network_of(bin="378282") == "amex"
    # The BIN is the merchant's word about the card: it beats the sandbox token's table.
    assert network_of("pm_card_visa", bin="555555") == "mastercard"
    # The country hint disambiguates 65.
    assert network_of(bin="652150", country="IN") == "rupay"
    assert network_of("pm_card_rupay", bin="652150") == "rupay"  # the token says India


def test_an_explicit_network_hint_wins_over_the_bin() -> None:
    assert network_of(bin="424242", network="Mastercard") == "mastercard"


def test_a_bin_in_no_range_leaves_the_token_or_nothing() -> None:
    assert network_of("pm_card_amex", bin="999999") == "amex"
    assert network_of(bin="999999") == ""


def test_the_sandbox_token_table_matches_the_sandbox() -> None:
    sandbox = {
        token: CardHints(network=card.network, funding=card.funding, country=card.country)
        for token, card in TEST_CARDS.items()
    }
    assert sandbox == SANDBOX_CARDS
