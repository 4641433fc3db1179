"""The real gateway adapters in the mesh, end to end through Envoy: a merchant adds its own
accounts, the default routing sends USD to stripe and INR to razorpay, and a gateway's webhook
completes a 3-D Secure payment. The adapters use the official SDKs against wire-level fakes of
the gateways' HTTP APIs (tests/fakes/)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from temporalio.api.enums.v1 import EventType

from core.contracts.payment import workflow_id
from tests.conftest import PAYLOOPS, REPO, Mesh
from tests.e2e.failover_helpers import wait_for
from tests.e2e.gateway_accounts import add_gateway_accounts
from tests.e2e.mesh_db import sql
from tests.fakes import stripe_api

pytestmark = pytest.mark.e2e


@pytest.fixture
def merchant(mesh: Mesh) -> Iterator[tuple[httpx.Client, dict[str, dict]]]:
    """A merchant with the default routing and its own accounts at both gateways."""
    _, key = mesh.new_merchant("gateways")
    with mesh.client(key) as api:
        accounts = add_gateway_accounts(api)
        yield api, accounts


def pay(api: httpx.Client, currency: str, token: str, **order: object) -> dict:
    created = api.post(
        "/v1/orders",
        json={
            "amount": 4999,
            "currency": currency,
            "return_url": "https://shop.example/back",
            **order,
        },
    ).json()
    paid = api.post(
        f"/v1/orders/{created['id']}:pay", json={"payment_method": {"type": "card", "token": token}}
    )
    assert paid.status_code == 200, paid.text
    answer: dict = paid.json()
    if answer["status"] == "PROCESSING":
        # PayOrder answers PROCESSING when the payment outlasts its wait (a slow, busy
        # machine): the gateway's answer is then read from the order.
        answer = wait_for(api, created["id"], lambda o: o["status"] != "PROCESSING")
    return answer


def test_a_usd_order_routes_to_stripe_by_default_and_succeeds(
    mesh: Mesh, merchant: tuple[httpx.Client, dict]
) -> None:
    api, _ = merchant
    paid = pay(api, "USD", "pm_card_visa")
    assert paid["status"] == "SUCCEEDED", paid
    assert paid["routing"]["rule"] == "usd_eur"
    [attempt] = paid["attempts"]
    assert (attempt["processor"], attempt["outcome"]) == ("stripe", "SUCCEEDED")
    assert attempt["processor_reference"].startswith("pi_")
    assert mesh.stripe is not None
    [intent] = mesh.stripe.intents_with("payloops_attempt_key", attempt["attempt_key"])
    assert (intent.amount, intent.currency, intent.status) == (4999, "usd", "succeeded")


def test_an_inr_order_routes_to_razorpay_by_default_and_succeeds(
    mesh: Mesh, merchant: tuple[httpx.Client, dict]
) -> None:
    api, _ = merchant
    paid = wait_for(
        api,
        pay(api, "INR", "pm_card_rupay")["id"],
        lambda o: o["status"] not in ("PROCESSING", "REQUIRES_PAYMENT_METHOD"),
    )
    assert paid["status"] == "SUCCEEDED", paid
    assert paid["routing"]["rule"] == "inr"
    [attempt] = paid["attempts"]
    assert (attempt["processor"], attempt["outcome"]) == ("razorpay", "SUCCEEDED")
    assert paid["amount_received"] == "4999"
    assert mesh.razorpay is not None
    [order] = mesh.razorpay.orders_with_receipt(razorpay_receipt(attempt["attempt_key"]))
    assert (order["amount"], order["currency"]) == (4999, "INR")


def test_a_stripe_decline_fails_the_order_with_its_code(
    mesh: Mesh, merchant: tuple[httpx.Client, dict]
) -> None:
    api, _ = merchant
    paid = pay(api, "EUR", "pm_card_visa_chargeDeclinedInsufficientFunds")
    assert paid["status"] == "FAILED"
    assert paid["failure_code"] == "insufficient_funds"
    assert [a["processor"] for a in paid["attempts"]] == ["stripe"]  # a hard decline stops


def test_a_stripe_webhook_completes_a_3d_secure_payment(
    mesh: Mesh, merchant: tuple[httpx.Client, dict]
) -> None:
    api, accounts = merchant
    assert mesh.stripe is not None
    mesh.stripe.webhook_url = f"{mesh.api_url}{accounts['stripe']['webhook_path']}"
    try:
        paid = pay(api, "USD", "pm_card_threeDSecure2Required")
        assert paid["status"] == "REQUIRES_ACTION", paid
        redirect = paid["next_action"]["redirect_url"]
        assert redirect.startswith(mesh.stripe.base_url)
        # The customer completes the challenge on Stripe's page; Stripe tells PayLoops.
        httpx.post(redirect, data={"outcome": "succeed"})
        order = wait_for(api, paid["id"], lambda o: o["status"] != "REQUIRES_ACTION")
    finally:
        mesh.stripe.webhook_url = None
    assert order["status"] == "SUCCEEDED", order
    assert asyncio.run(signals(mesh, paid["id"])) >= 1
    delivered = [
        e
        for e in mesh.stripe.events
        if e.type == "payment_intent.succeeded"
        and paid["attempts"][0]["processor_reference"] in e.body.decode()
    ]
    assert delivered and delivered[0].delivered == [200]


async def signals(mesh: Mesh, order_id: str) -> int:
    client = await mesh.temporal()
    history = await client.get_workflow_handle(workflow_id(order_id)).fetch_history()
    return sum(
        1
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    )


def razorpay_receipt(attempt_key: str) -> str:
    from processors.razorpay.keys import order_receipt

    return order_receipt(attempt_key)


@pytest.fixture
def platform_stripe_account(mesh: Mesh) -> Iterator[str]:
    """The platform's own Stripe test account, set with the CLI; removed afterwards, or every
    other test's merchant would start routing USD to stripe."""
    result = subprocess.run(
        [
            *PAYLOOPS,
            "processors",
            "account",
            "stripe",
            "--state-dir",
            str(mesh.state_dir),
            f"--credential=secret_key={stripe_api.SECRET_KEY}",
            f"--credential=webhook_secret={stripe_api.WEBHOOK_SECRET}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert stripe_api.SECRET_KEY not in result.stdout  # field names only, never the values
    account_id = result.stdout.split()[0]
    try:
        yield account_id
    finally:
        sql(mesh, "delete from processor_accounts where id = :id", id=account_id)


def test_the_platform_account_serves_merchants_without_one_and_the_bare_webhook_path(
    mesh: Mesh, platform_stripe_account: str
) -> None:
    assert mesh.stripe is not None
    _, key = mesh.new_merchant("no account of its own")
    with mesh.client(key) as api:
        assert api.get("/v1/processor_accounts").json()["processor_accounts"] == []
        mesh.stripe.webhook_url = f"{mesh.api_url}/v1/processor_webhooks/stripe"
        try:
            paid = pay(api, "USD", "pm_card_threeDSecure2Required")
            assert [a["processor"] for a in paid["attempts"]] == ["stripe"]
            httpx.post(paid["next_action"]["redirect_url"], data={"outcome": "succeed"})
            order = wait_for(api, paid["id"], lambda o: o["status"] != "REQUIRES_ACTION")
        finally:
            mesh.stripe.webhook_url = None
    assert order["status"] == "SUCCEEDED"
    assert asyncio.run(signals(mesh, paid["id"])) >= 1
    # A webhook signed with anything else is refused on the bare path too.
    forged = httpx.post(
        f"{mesh.api_url}/v1/processor_webhooks/stripe",
        content=b"{}",
        headers={"Stripe-Signature": "t=1,v1=00"},
    )
    assert forged.status_code == 400
