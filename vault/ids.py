"""Vaulted payment methods' ids: `pm_vault_` and 24 base62 characters (about 143 random
bits), the shape core.vaulted_cards.VAULTED_PAYMENT_METHOD recognises."""

from __future__ import annotations

import secrets

from core.vaulted_cards import is_vaulted

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def new_payment_method_id() -> str:
    made = "pm_vault_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))
    assert is_vaulted(made)
    return made
