"""What a routing rule can look at: the order and its payment method, with card facts taken
from the merchant's hints or, for the sandbox's test tokens, from the token itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.payment_contract import CardHints, PaymentInput, PaymentMethod

# The sandbox's successful test cards. Other tokens carry no card facts: a rule on network,
# funding or country does not match them unless the merchant sends hints.
SANDBOX_CARDS: dict[str, CardHints] = {
    "pm_card_visa": CardHints(network="visa", funding="credit", country="US"),
    "pm_card_mastercard": CardHints(network="mastercard", funding="credit", country="US"),
    "pm_card_amex": CardHints(network="amex", funding="credit", country="US"),
    "pm_card_rupay": CardHints(network="rupay", funding="debit", country="IN"),
}


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
    card = CardHints()
    if method_type == "card":
        hints = payment_method.card
        token = SANDBOX_CARDS.get(payment_method.token, CardHints())
        card = CardHints(
            network=hints.network or token.network,
            funding=hints.funding or token.funding,
            country=hints.country or token.country,
        )
    return PaymentFacts(
        amount=payment.amount,
        currency=payment.currency.upper(),
        payment_method_type=method_type,
        card_network=card.network.lower(),
        card_funding=card.funding.lower(),
        card_country=card.country.upper(),
        metadata=dict(payment.metadata),
    )
