"""Vaulted cards paying through real gateways' adapters: a card tokenized with a publishable
key is read from the vault inside the Authorize activity, sent to Stripe's fake as raw card
data, and, with Stripe down, failed over to Razorpay's fake: one charge in all. After every
path (success, refund, decline, 3-D Secure, failover) the card numbers are in no Temporal
history (decrypted), no log and no table of the main database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from core.contracts.payment import refund_workflow_id, workflow_id
from core.payload_codec import data_converter
from processors.razorpay.keys import order_receipt
from tests.conftest import Mesh
from tests.e2e.failover_helpers import wait_for
from tests.e2e.gateway_accounts import add_gateway_accounts, route_stripe_then_razorpay
from tests.e2e.mesh_db import sql
from tests.e2e.vault_helpers import card, publishable_key, token
from tests.log_secrets import Secrets, log_files, scan, wait_for_access_log
from tests.temporal_payloads import decode_in_place, history_payloads

pytestmark = pytest.mark.e2e

# Test cards each fake knows as a success (each gateway has its own test-card table).
STRIPE_VISA = "4242424242424242"
STRIPE_DECLINED = "4000000000000002"
STRIPE_3DS = "4000000000003220"
RAZORPAY_VISA = "4111111111111111"


@pytest.fixture(scope="module")
def shop(mesh: Mesh) -> Iterator[tuple[httpx.Client, str]]:
    """A merchant with accounts at both gateways, routing Stripe first and Razorpay on
    failover, and its publishable key."""
    _, secret = mesh.new_merchant("vaulted payments")
    with mesh.client(secret) as api:
        add_gateway_accounts(api)
        route_stripe_then_razorpay(api)
        yield api, publishable_key(mesh, secret)


def pay(api: httpx.Client, payment_method: str) -> dict:
    order = api.post(
        "/v1/orders",
        json={"amount": 2500, "currency": "USD", "return_url": "https://shop.example/back"},
    ).json()
    paid = api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": payment_method}},
    )
    assert paid.status_code == 200, paid.text
    return wait_for(api, order["id"], lambda o: o["status"] != "PROCESSING")


def attempts(order: dict) -> list[tuple[str, str]]:
    return [(a["processor"], a["outcome"]) for a in order["attempts"]]


def test_a_vaulted_card_pays_through_stripe_as_raw_card_data(
    mesh: Mesh, shop: tuple[httpx.Client, str]
) -> None:
    api, publishable = shop
    vaulted = token(mesh, publishable, card(STRIPE_VISA))
    order = pay(api, vaulted["id"])
    assert order["status"] == "SUCCEEDED", order
    assert attempts(order) == [("stripe", "SUCCEEDED")]
    assert mesh.stripe is not None
    [intent] = mesh.stripe.intents_with("payloops_order_id", order["id"])
    assert (intent.amount, intent.status) == (2500, "succeeded")


def test_with_stripe_down_a_vaulted_card_fails_over_to_razorpay_with_one_charge(
    mesh: Mesh, shop: tuple[httpx.Client, str]
) -> None:
    api, publishable = shop
    vaulted = token(mesh, publishable, card(RAZORPAY_VISA))
    assert mesh.stripe is not None and mesh.razorpay is not None
    with mesh.stripe.refusing():
        order = pay(api, vaulted["id"])
    assert order["status"] == "SUCCEEDED", order
    [(first, first_outcome), (second, second_outcome)] = attempts(order)
    assert (first, first_outcome, second, second_outcome) == (
        "stripe",
        "FAILED",
        "razorpay",
        "SUCCEEDED",
    ), order["attempts"]
    assert order["attempts"][0]["failover_reason"] == "not_sent"
    # One charge in all: nothing reached Stripe, one captured payment at Razorpay.
    assert mesh.stripe.intents_with("payloops_order_id", order["id"]) == []
    [razorpay_order] = mesh.razorpay.orders_with_receipt(
        order_receipt(order["attempts"][1]["attempt_key"])
    )
    captured = [
        p
        for p in mesh.razorpay.payments_for_order(razorpay_order["id"])
        if p["status"] == "captured"
    ]
    assert len(captured) == 1 and captured[0]["amount"] == 2500


def test_the_card_numbers_are_in_no_history_log_or_table_after_every_path(
    mesh: Mesh, shop: tuple[httpx.Client, str]
) -> None:
    """Success and refund, a decline, 3-D Secure (Stripe's fake), failover (Razorpay's)."""
    api, publishable = shop
    paid = pay(api, token(mesh, publishable, card(STRIPE_VISA))["id"])
    assert paid["status"] == "SUCCEEDED", paid
    refunded = api.post(f"/v1/orders/{paid['id']}/refunds", json={"amount": 500})
    assert refunded.status_code == 200, refunded.text
    declined = pay(api, token(mesh, publishable, card(STRIPE_DECLINED))["id"])
    assert declined["status"] == "FAILED", declined
    challenged = pay(api, token(mesh, publishable, card(STRIPE_3DS))["id"])
    assert challenged["status"] == "REQUIRES_ACTION", challenged
    assert mesh.stripe is not None
    with mesh.stripe.refusing():
        failed_over = pay(api, token(mesh, publishable, card(RAZORPAY_VISA))["id"])
    assert failed_over["status"] == "SUCCEEDED", failed_over
    orders = [paid, declined, challenged, failed_over]
    workflows = [workflow_id(o["id"]) for o in orders] + [refund_workflow_id(refunded.json()["id"])]

    async def histories_text() -> str:
        client = await mesh.temporal()
        codec = data_converter(mesh.settings().temporal_codec_keys).payload_codec
        assert codec is not None
        texts = []
        for workflow in workflows:
            history = await client.get_workflow_handle(workflow).fetch_history()
            await decode_in_place(history, codec)
            texts += [p.data.decode(errors="replace") for p in history_payloads(history)]
        return "\n".join(texts)

    decrypted = asyncio.run(histories_text())
    # Decrypted, the histories are readable (the orders are there): the scan means something.
    assert all(o["id"] in decrypted for o in orders)
    numbers = (STRIPE_VISA, STRIPE_DECLINED, STRIPE_3DS, RAZORPAY_VISA)
    assert not [number for number in numbers if number in decrypted]
    wait_for_access_log(mesh.api_url, mesh.state_dir)
    assert not scan(log_files(mesh.state_dir), Secrets(card_numbers=numbers))
    tables = [
        name for (name,) in sql(mesh, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    for table in tables:
        for number in numbers:
            [(holding,)] = sql(
                mesh,
                f'SELECT count(*) FROM public."{table}" AS t WHERE t::text LIKE :pan',
                pan=f"%{number}%",
            )
            assert holding == 0, table
