"""What the rest of the platform knows of the card vault: which payment-method tokens are the
vault's, and the one way card data leaves it — handed to the processor call that needs it,
inside the activity that makes the call (never into a workflow payload, a log or the main
database).

The vault (vault/) implements CardSource; the orchestrator's processor calls use it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

# A vaulted card's token: `pm_vault_` and 24 base62 characters. Gateways' own tokens may start
# with `pm_` too (Stripe's ids are `pm_` and 24 base62 characters, the sandbox's test tokens
# `pm_card_…`); none has `vault_` after the `pm_`.
VAULTED_PAYMENT_METHOD = re.compile(r"^pm_vault_[A-Za-z0-9]{24}$")


def is_vaulted(token: str) -> bool:
    return VAULTED_PAYMENT_METHOD.fullmatch(token) is not None


@dataclass(frozen=True, repr=False)
class CardData:
    """A card as a processor call needs it. Never logged, never serialized into Temporal: its
    repr shows the last four digits only."""

    number: str
    exp_month: int
    exp_year: int
    # Empty once the first authorization has used it (the vault keeps it only that long).
    cvc: str
    holder_name: str

    def __repr__(self) -> str:
        return f"CardData(…{self.number[-4:]}, {self.exp_month:02d}/{self.exp_year})"


class CardSource(Protocol):
    async def card_for(
        self,
        *,
        payment_method: str,
        merchant_id: str,
        livemode: bool,
        processor: str,
        attempt_key: str,
        first_authorization: bool,
    ) -> CardData:
        """The card behind `payment_method`, for one processor call (audited by the vault:
        which service, token, processor and attempt, when). `first_authorization`: the call
        may use the CVC, which the vault then wipes. Raises LookupError when the token is not
        this merchant's in this mode."""
        ...
