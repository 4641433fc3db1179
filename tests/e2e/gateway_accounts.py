"""A merchant's own accounts at Stripe's and Razorpay's wire-level fakes, as a merchant adds
them over the API."""

from __future__ import annotations

import httpx

from tests.fakes import razorpay_api, stripe_api

CREDENTIALS: dict[str, dict[str, str]] = {
    "stripe": {
        "secret_key": stripe_api.SECRET_KEY,
        "webhook_secret": stripe_api.WEBHOOK_SECRET,
    },
    "razorpay": {
        "key_id": razorpay_api.DEFAULT_KEY_ID,
        "key_secret": razorpay_api.DEFAULT_KEY_SECRET,
        "webhook_secret": razorpay_api.DEFAULT_WEBHOOK_SECRET,
    },
}


def add_gateway_accounts(api: httpx.Client) -> dict[str, dict]:
    """Adds the merchant's account at each gateway fake; answers each as the API shows it."""
    accounts = {}
    for processor, credentials in CREDENTIALS.items():
        added = api.post(
            "/v1/processor_accounts", json={"processor": processor, "credentials": credentials}
        )
        assert added.status_code == 200, added.text
        accounts[processor] = added.json()
    return accounts


def route_stripe_then_razorpay(api: httpx.Client) -> None:
    rules = [{"name": "cards", "failover": {"processors": ["stripe", "razorpay"]}}]
    routed = api.put("/v1/routing", json={"rules": rules})
    assert routed.status_code == 200, routed.text
