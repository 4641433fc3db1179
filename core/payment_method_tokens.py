"""The payment-method token rule, and which gateways can use a given token.

A token is either a card vaulted with PayLoops (core/vaulted_cards.py), which any gateway that
takes raw card data can be paid with, or a gateway's own token, which only the gateways that
issue it (the ones declaring its prefix) understand. Both the API and the conformance kit apply
the same rule, so a gateway cannot be certified with tokens merchants could never send."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from core.vaulted_cards import is_vaulted

# What the API accepts as a payment-method token: a short alphabetic-led prefix, "_", then an
# opaque id. It holds Stripe's "pm_…"/"tok_…", Razorpay's "token_…", the vault's "pm_…" and
# third parties' shapes, and keeps out free text, spaces and anything a log or URL could choke
# on. A bare card number cannot pass (no letter, no "_"), and the request checks refuse any
# field that looks like one anyway.
TOKEN_RULE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,15}_[A-Za-z0-9_\-]{1,200}")
TOKEN_RULE_TEXT = (
    'a letter, up to 15 more letters or digits, "_", then 1 to 200 letters, digits, "_" or "-"'
)


def follows_token_rule(token: str) -> bool:
    return TOKEN_RULE.fullmatch(token) is not None


@dataclass(frozen=True)
class PaymentMethodForms:
    """The payment-method forms a gateway declared in GetCapabilities."""

    accepts_raw_cards: bool = False
    token_prefixes: tuple[str, ...] = ()

    @property
    def declared(self) -> bool:
        """False for a gateway that declares no form (written before forms existed): it is
        taken to accept its own tokens, whatever their prefix."""
        return self.accepts_raw_cards or bool(self.token_prefixes)

    def can_use(self, token: str) -> bool:
        """Whether a payment with `token` can be sent to this gateway."""
        if is_vaulted(token):
            return self.accepts_raw_cards
        if not self.declared:
            return True
        return self.issued(token)

    def issued(self, token: str) -> bool:
        """Whether `token` starts with one of the declared prefixes."""
        return any(token.startswith(prefix) for prefix in self.token_prefixes if prefix)


def forms_of(capabilities: dict[str, object]) -> PaymentMethodForms:
    """The forms in a processor's stored capabilities (the API's ProcessorCapabilities as JSON);
    a registration stored before the forms existed declares none."""
    prefixes = capabilities.get("token_prefixes", [])
    return PaymentMethodForms(
        accepts_raw_cards=bool(capabilities.get("accepts_raw_cards", False)),
        token_prefixes=tuple(map(str, prefixes))
        if isinstance(prefixes, Collection) and not isinstance(prefixes, str)
        else (),
    )
