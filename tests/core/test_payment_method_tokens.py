"""The payment-method token rule and which gateways can use a token."""

from __future__ import annotations

import pytest

from core.payment_method_tokens import PaymentMethodForms, follows_token_rule, forms_of
from core.vaulted_cards import is_vaulted

VAULTED = "pm_vault_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
SANDBOX = PaymentMethodForms(accepts_raw_cards=True, token_prefixes=("pm_card_",))
STRIPE = PaymentMethodForms(accepts_raw_cards=True, token_prefixes=("pm_",))
TOK_ONLY = PaymentMethodForms(token_prefixes=("tok_",))
UNDECLARED = PaymentMethodForms()
RAW_ONLY = PaymentMethodForms(accepts_raw_cards=True)


@pytest.mark.parametrize(
    "token",
    ["pm_card_visa", "tok_visa", "token_4Ab9", VAULTED, "src_a-b_c", "acme123_x", "A_1"],
)
def test_gateway_tokens_of_reasonable_shape_follow_the_rule(token: str) -> None:
    assert follows_token_rule(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "4242424242424242",
        "pm_",
        "_pm_x",
        "1tok_x",
        "tok visa",
        "tok_visa\n",
        "verylongprefix1234_x",
        "tok_" + "x" * 201,
        "tok_vïsa",
        "tok.visa",
    ],
)
def test_free_text_card_numbers_and_odd_shapes_do_not(token: str) -> None:
    assert not follows_token_rule(token)


@pytest.mark.parametrize(
    ("forms", "token", "usable"),
    [
        # A vaulted card goes to gateways that take card data, whatever their prefixes.
        (SANDBOX, VAULTED, True),
        (STRIPE, VAULTED, True),
        (RAW_ONLY, VAULTED, True),
        (TOK_ONLY, VAULTED, False),
        (UNDECLARED, VAULTED, False),
        # A gateway token goes to the gateways that issue it.
        (SANDBOX, "pm_card_visa", True),
        (STRIPE, "pm_card_visa", True),
        (TOK_ONLY, "pm_card_visa", False),
        (SANDBOX, "tok_visa", False),
        (STRIPE, "tok_visa", False),
        (TOK_ONLY, "tok_visa", True),
        (RAW_ONLY, "tok_visa", False),
        # A gateway that declares nothing (older than the forms) keeps taking any token.
        (UNDECLARED, "tok_visa", True),
        (UNDECLARED, "pm_card_visa", True),
    ],
)
def test_who_can_use_a_token(forms: PaymentMethodForms, token: str, usable: bool) -> None:
    assert forms.can_use(token) is usable


def test_forms_from_stored_capabilities() -> None:
    assert forms_of({}) == UNDECLARED
    assert forms_of({"test_only": True, "currencies": []}) == UNDECLARED
    stored = {"accepts_raw_cards": True, "token_prefixes": ["pm_card_"]}
    assert forms_of(stored) == SANDBOX
    assert forms_of({"token_prefixes": "tok_"}) == UNDECLARED  # not a list: ignored


@pytest.mark.parametrize(
    "token",
    ["pm_1MqLiJLkdIwHu7ixUEgbFdYF", "pm_card_visa", "pm_vault_short", "xpm_vault_" + "a" * 24],
)
def test_a_gateways_own_token_is_never_taken_for_a_vaulted_card(token: str) -> None:
    # Stripe's PaymentMethod ids are `pm_` and 24 base62 characters: routed as Stripe's, not
    # sent to every card-taking gateway as a vaulted card.
    assert not is_vaulted(token)
