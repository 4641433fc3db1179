"""What a routing rule can look at: the order and its payment method, with card facts taken
from the merchant's hints (network, funding, country, or a network derived from the BIN) or,
for the sandbox's test tokens, from the token itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.contracts.payment import CardHints, PaymentInput, PaymentMethod

# Every test token of the sandbox (processors/sandbox/payment_methods.py) and the card it
# stands for. Kept here because the orchestrator does not import processors;
# tests/routing/test_facts.py checks the two tables agree. Other tokens carry no card facts:
# a rule on network, funding or country does not match them unless the merchant sends hints.
SANDBOX_CARDS: dict[str, CardHints] = {
    "pm_card_visa": CardHints(network="visa", funding="credit", country="US"),
    "pm_card_mastercard": CardHints(network="mastercard", funding="credit", country="US"),
    "pm_card_amex": CardHints(network="amex", funding="credit", country="US"),
    "pm_card_rupay": CardHints(network="rupay", funding="debit", country="IN"),
    "pm_card_declined": CardHints(network="visa", funding="credit", country="US"),
    "pm_card_insufficient_funds": CardHints(network="visa", funding="credit", country="US"),
    "pm_card_soft_decline": CardHints(network="visa", funding="credit", country="US"),
    "pm_card_processing_error": CardHints(network="visa", funding="credit", country="US"),
    "pm_card_3ds_required": CardHints(network="visa", funding="credit", country="US"),
    "pm_card_3ds_fail": CardHints(network="visa", funding="credit", country="US"),
}

# Public IIN ranges: (lowest prefix, highest prefix, network), prefixes of equal length. The
# longest matching prefix wins, so Discover's 6011 beats RuPay's 60. 65 is both RuPay's and
# Discover's (RuPay cards ride Discover's network abroad): see `network_for_bin`.
_IIN_RANGES: tuple[tuple[str, str, str], ...] = (
    ("4", "4", "visa"),
    ("51", "55", "mastercard"),
    ("2221", "2720", "mastercard"),
    ("34", "34", "amex"),
    ("37", "37", "amex"),
    ("60", "60", "rupay"),
    ("81", "82", "rupay"),
    ("508", "508", "rupay"),
    ("6011", "6011", "discover"),
    ("644", "649", "discover"),
    ("65", "65", "discover"),
    ("3528", "3589", "jcb"),
    ("36", "36", "diners"),
    ("300", "305", "diners"),
    ("62", "62", "unionpay"),
)


def network_for_bin(bin_: str, country: str = "") -> str:
    """The card network a BIN belongs to, "" when no range holds it.

    A 65 BIN is RuPay when the card is known to be Indian (`country` "IN") and Discover
    otherwise: both issue 65 cards, RuPay only in India, so the issuing country is the one fact
    that tells them apart, and without it Discover, the range's original owner, is the guess.
    """
    best, best_length = "", 0
    for low, high, network in _IIN_RANGES:
        head = bin_[: len(low)]
        if len(low) <= best_length or len(head) < len(low):
            continue
        # Equal-length digit strings compare like the numbers they spell.
        if low <= head <= high:
            best, best_length = network, len(low)
    if best == "discover" and bin_.startswith("65") and country.upper() == "IN":
        return "rupay"
    return best


@dataclass(frozen=True)
class PaymentFacts:
    """Codes are normalised: currency and country upper case, the others lower case; "" is
    unknown."""

    amount: int
    currency: str
    payment_method_type: str = ""
    card_network: str = ""
    card_funding: str = ""
    card_country: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def facts_for(payment: PaymentInput, payment_method: PaymentMethod) -> PaymentFacts:
    method_type = payment_method.type.lower()
    network = funding = country = ""
    if method_type == "card":
        hints = payment_method.card
        token = SANDBOX_CARDS.get(payment_method.token, CardHints())
        funding = hints.funding or token.funding
        country = hints.country or token.country
        # The merchant's word (a network, else its BIN) before the sandbox's: hints describe
        # the card being paid with, the token table only stands in when there are none.
        network = hints.network or network_for_bin(hints.bin, country) or token.network
    return PaymentFacts(
        amount=payment.amount,
        currency=payment.currency.upper(),
        payment_method_type=method_type,
        card_network=network.lower(),
        card_funding=funding.lower(),
        card_country=country.upper(),
        metadata=dict(payment.metadata),
    )
