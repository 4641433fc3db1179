"""Customers and their saved payment methods, through Envoy's REST listener and native gRPC:
CRUD scoped to the merchant and mode, vaulted cards attached by token (the edge asks the vault
for what a receipt shows, with its own credential), duplicates refused by fingerprint, and a
saved method paying only its own customer's orders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cli.state import StatePaths
from core.ids import hash_api_key
from payloops.v1 import customers_pb2, customers_pb2_grpc
from payloops.vault.v1 import vault_pb2, vault_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.failover_helpers import SANDBOXES, wait_for
from tests.e2e.gateway_accounts import add_gateway_accounts
from tests.e2e.mesh_db import sql
from tests.e2e.sandbox_control import charges_by_order
from tests.e2e.vault_helpers import card, fresh_pan, publishable_key, token

pytestmark = pytest.mark.e2e


def reason(response: httpx.Response) -> tuple[int, str, dict[str, str]]:
    info = next(d for d in response.json()["details"] if d["@type"].endswith("ErrorInfo"))
    return response.status_code, str(info["reason"]), dict(info.get("metadata", {}))


@pytest.fixture(scope="module")
def shop(mesh: Mesh) -> Iterator[tuple[httpx.Client, str, str]]:
    """A merchant's secret-key client, its publishable key and its secret key."""
    _, secret = mesh.new_merchant("customers")
    with mesh.client(secret) as api:
        yield api, publishable_key(mesh, secret), secret


def new_customer(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    made = api.post("/v1/customers", json={"email": "ada@example.com", "name": "Ada", **fields})
    assert made.status_code == 200, made.text
    customer: dict[str, Any] = made.json()
    return customer


def attach(api: httpx.Client, customer: str, payment_method: str) -> httpx.Response:
    return api.post(
        f"/v1/customers/{customer}/payment_methods", json={"payment_method": payment_method}
    )


def test_customers_are_created_read_listed_updated_and_deleted(
    shop: tuple[httpx.Client, str, str],
) -> None:
    api, _, _ = shop
    key = {"Idempotency-Key": "customers-create-1"}
    made = api.post(
        "/v1/customers", json={"email": "a@example.com", "metadata": {"k": "v"}}, headers=key
    )
    again = api.post(
        "/v1/customers", json={"email": "a@example.com", "metadata": {"k": "v"}}, headers=key
    )
    assert made.status_code == again.status_code == 200, made.text
    customer = made.json()
    assert customer["id"].startswith("cus_") and customer["livemode"] is False
    assert again.json()["id"] == customer["id"]
    assert api.get(f"/v1/customers/{customer['id']}").json() == customer
    assert customer["id"] in {c["id"] for c in api.get("/v1/customers").json()["customers"]}
    changed = api.patch(f"/v1/customers/{customer['id']}", json={"name": "Ada Lovelace"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["email"]) == ("Ada Lovelace", "a@example.com")
    bad = api.post("/v1/customers", json={"email": "not an address"})
    assert reason(bad)[:2] == (400, "INVALID_REQUEST")
    assert api.delete(f"/v1/customers/{customer['id']}").status_code == 200
    gone = api.get(f"/v1/customers/{customer['id']}")
    assert reason(gone)[:2] == (404, "CUSTOMER_NOT_FOUND")
    assert customer["id"] not in {c["id"] for c in api.get("/v1/customers").json()["customers"]}


def test_a_vaulted_card_is_attached_listed_refused_twice_and_detached(
    mesh: Mesh, shop: tuple[httpx.Client, str, str]
) -> None:
    api, publishable, _ = shop
    number = fresh_pan()
    first = token(mesh, publishable, card(number))
    customer = new_customer(api)["id"]
    attached = attach(api, customer, first["id"])
    assert attached.status_code == 200, attached.text
    saved = attached.json()
    assert saved["id"] == first["id"] and saved["customer"] == customer
    assert (saved["brand"], saved["last4"], saved["fingerprint"]) == (
        first["card"]["brand"],
        number[-4:],
        first["card"]["fingerprint"],
    )
    listed = api.get(f"/v1/customers/{customer}/payment_methods").json()["payment_methods"]
    assert [m["id"] for m in listed] == [first["id"]]
    # The same card tokenized again is another token with the same fingerprint: a duplicate.
    second = token(mesh, publishable, card(number))
    assert second["id"] != first["id"]
    duplicate = attach(api, customer, second["id"])
    assert reason(duplicate) == (
        409,
        "PAYMENT_METHOD_DUPLICATE",
        {"customer": customer, "payment_method": first["id"]},
    )
    # A method saved for one customer is not saved for another.
    other = new_customer(api)["id"]
    assert reason(attach(api, other, first["id"]))[:2] == (400, "PAYMENT_METHOD_ATTACHED_ELSEWHERE")
    # Nothing of the card but its facts reaches the platform's database.
    assert number not in str(sql(mesh, "select * from customer_payment_methods"))
    detached = api.post(f"/v1/customers/{customer}/payment_methods/{first['id']}:detach", json={})
    assert detached.status_code == 200, detached.text
    assert (
        api.get(f"/v1/customers/{customer}/payment_methods").json().get("payment_methods", []) == []
    )
    again = api.post(f"/v1/customers/{customer}/payment_methods/{first['id']}:detach", json={})
    assert reason(again)[:2] == (404, "CUSTOMER_PAYMENT_METHOD_NOT_FOUND")


def test_another_merchants_token_or_a_gateway_token_cannot_be_attached(
    mesh: Mesh, shop: tuple[httpx.Client, str, str]
) -> None:
    api, _, _ = shop
    _, stranger_secret = mesh.new_merchant("customers stranger")
    theirs = token(mesh, publishable_key(mesh, stranger_secret), card())
    customer = new_customer(api)["id"]
    assert reason(attach(api, customer, theirs["id"]))[:2] == (404, "PAYMENT_METHOD_NOT_FOUND")
    assert reason(attach(api, customer, "pm_vault_" + "0" * 24))[:2] == (
        404,
        "PAYMENT_METHOD_NOT_FOUND",
    )
    assert reason(attach(api, customer, "pm_card_visa"))[:2] == (400, "INVALID_REQUEST")
    # And a stranger does not see the customer at all.
    with mesh.client(stranger_secret) as stranger:
        assert reason(stranger.get(f"/v1/customers/{customer}"))[:2] == (404, "CUSTOMER_NOT_FOUND")


def test_a_saved_method_pays_only_its_own_customers_orders(
    mesh: Mesh, shop: tuple[httpx.Client, str, str]
) -> None:
    api, publishable, _ = shop
    saved = token(mesh, publishable, card("4242424242424242"))["id"]
    owner, other = new_customer(api)["id"], new_customer(api)["id"]
    assert attach(api, owner, saved).status_code == 200
    method = {"payment_method": {"type": "card", "token": saved}}
    for customer in (other, None):
        order = api.post(
            "/v1/orders",
            json={
                "amount": 1000,
                "currency": "USD",
                **({"customer": customer} if customer else {}),
            },
        ).json()
        refused = api.post(f"/v1/orders/{order['id']}:pay", json=method)
        assert reason(refused)[:2] == (400, "PAYMENT_METHOD_CUSTOMER_MISMATCH"), customer
    order = api.post("/v1/orders", json={"amount": 1000, "currency": "USD", "customer": owner})
    assert order.json()["customer"] == owner
    paid = api.post(f"/v1/orders/{order.json()['id']}:pay", json=method)
    assert paid.status_code == 200, paid.text
    settled = wait_for(api, order.json()["id"], lambda o: o["status"] != "PROCESSING")
    assert settled["status"] == "SUCCEEDED", settled
    unknown = api.post("/v1/orders", json={"amount": 1000, "currency": "USD", "customer": "cus_x"})
    assert reason(unknown)[:2] == (404, "CUSTOMER_NOT_FOUND")


def test_customers_over_native_grpc(mesh: Mesh, shop: tuple[httpx.Client, str, str]) -> None:
    _, publishable, secret = shop
    metadata = (("authorization", f"Bearer {secret}"),)
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        stub = customers_pb2_grpc.CustomerServiceStub(channel)
        made = stub.CreateCustomer(
            customers_pb2.CreateCustomerRequest(customer=customers_pb2.Customer(name="Grace")),
            metadata=metadata,
            timeout=30,
        )
        vaulted = token(mesh, publishable, card())["id"]
        saved = stub.AttachPaymentMethod(
            customers_pb2.AttachPaymentMethodRequest(customer=made.id, payment_method=vaulted),
            metadata=metadata,
            timeout=30,
        )
        assert saved.id == vaulted and saved.fingerprint
        with pytest.raises(grpc.RpcError) as refused:
            stub.AttachPaymentMethod(
                customers_pb2.AttachPaymentMethodRequest(customer=made.id, payment_method=vaulted),
                metadata=metadata,
                timeout=30,
            )
    error: Any = refused.value
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(d.Unpack(info) for d in status.details)
    assert info.reason == "PAYMENT_METHOD_DUPLICATE"


def test_a_merchant_initiated_payment_carries_the_first_payments_network_transaction_id(
    mesh: Mesh, shop: tuple[httpx.Client, str, str]
) -> None:
    api, publishable, _ = shop
    saved = token(mesh, publishable, card("4242424242424242"))["id"]
    customer = new_customer(api)["id"]
    assert attach(api, customer, saved).status_code == 200

    def pay(off_session: bool, payment_method: str = saved) -> httpx.Response:
        order = api.post(
            "/v1/orders", json={"amount": 1500, "currency": "USD", "customer": customer}
        ).json()
        return api.post(
            f"/v1/orders/{order['id']}:pay",
            json={
                "payment_method": {"type": "card", "token": payment_method},
                "off_session": off_session,
            },
        )

    def charge_of(paid: httpx.Response) -> Any:
        assert paid.status_code == 200, paid.text
        settled = wait_for(api, paid.json()["id"], lambda o: o["status"] != "PROCESSING")
        assert settled["status"] == "SUCCEEDED", settled
        [made] = charges_by_order(mesh, SANDBOXES)[settled["id"]]
        return made

    unsaved = token(mesh, publishable, card("4242424242424242"))["id"]
    assert reason(pay(True, unsaved))[:2] == (400, "PAYMENT_METHOD_NOT_SAVED")
    present = charge_of(pay(False))
    assert present.initiator == "customer" and present.network_transaction_id
    kept = sql(
        mesh,
        "select network_transaction_id from customer_payment_methods where payment_method = :p",
        p=saved,
    )
    assert kept == [(present.network_transaction_id,)]
    for _ in range(2):
        later = charge_of(pay(True))
        assert later.initiator == "merchant"
        assert later.previous_network_transaction_id == present.network_transaction_id


def test_a_saved_card_paid_at_stripe_then_off_session_with_stripes_network_id(
    mesh: Mesh,
) -> None:
    assert mesh.stripe is not None
    stripe = mesh.stripe
    _, secret = mesh.new_merchant("customers-stripe")
    with mesh.client(secret) as api:
        add_gateway_accounts(api)
        rules = [{"name": "cards", "failover": {"processors": ["stripe"]}}]
        assert api.put("/v1/routing", json={"rules": rules}).status_code == 200
        saved = token(mesh, publishable_key(mesh, secret), card("4242424242424242"))["id"]
        customer = new_customer(api)["id"]
        assert attach(api, customer, saved).status_code == 200

        def intent_of(off_session: bool) -> Any:
            order = api.post(
                "/v1/orders", json={"amount": 1500, "currency": "USD", "customer": customer}
            ).json()
            paid = api.post(
                f"/v1/orders/{order['id']}:pay",
                json={
                    "payment_method": {"type": "card", "token": saved},
                    "off_session": off_session,
                },
            )
            assert paid.status_code == 200, paid.text
            settled = wait_for(api, order["id"], lambda o: o["status"] != "PROCESSING")
            assert settled["status"] == "SUCCEEDED", settled
            [intent] = stripe.intents_with("payloops_order_id", order["id"])
            return intent

        present = intent_of(False)
        assert not present.off_session
        [charge] = [c for c in stripe.charges() if c.intent_id == present.id]
        assert charge.network_transaction_id
        kept = sql(
            mesh,
            "select network_transaction_id from customer_payment_methods where payment_method = :p",
            p=saved,
        )
        assert kept == [(charge.network_transaction_id,)]
        later = intent_of(True)
        assert later.off_session
        assert later.mit_network_transaction_id == charge.network_transaction_id


def test_the_vault_tells_the_edges_credential_a_cards_facts_and_nothing_else(
    mesh: Mesh, shop: tuple[httpx.Client, str, str]
) -> None:
    _, publishable, _ = shop
    number = fresh_pan()
    made = token(mesh, publishable, card(number))
    [(merchant_id,)] = sql(
        mesh, "select merchant_id from api_keys where key_hash = :h", h=hash_api_key(publishable)
    )
    edge_token = StatePaths.at(mesh.state_dir).vault_edge_service_token.read_text().strip()
    request = vault_pb2.GetPaymentMethodRequest(
        payment_method=made["id"], merchant=merchant_id, livemode=False
    )
    with grpc.insecure_channel(mesh.env["PAYLOOPS_VAULT_TARGET"]) as channel:
        stub = vault_pb2_grpc.VaultServiceStub(channel)
        facts = stub.GetPaymentMethod(
            request, metadata=(("authorization", f"Bearer {edge_token}"),), timeout=10
        )
        with pytest.raises(grpc.RpcError) as anonymous:
            stub.GetPaymentMethod(request, timeout=10)
        with pytest.raises(grpc.RpcError) as no_card:
            stub.Detokenize(
                vault_pb2.DetokenizeRequest(
                    payment_method=made["id"],
                    merchant=merchant_id,
                    processor="sandbox",
                    attempt_key="att-edge",
                ),
                metadata=(("authorization", f"Bearer {edge_token}"),),
                timeout=10,
            )
        with pytest.raises(grpc.RpcError) as other_mode:
            stub.GetPaymentMethod(
                vault_pb2.GetPaymentMethodRequest(
                    payment_method=made["id"], merchant=merchant_id, livemode=True
                ),
                metadata=(("authorization", f"Bearer {edge_token}"),),
                timeout=10,
            )
    assert (facts.last4, facts.fingerprint) == (number[-4:], made["card"]["fingerprint"])
    assert number not in str(facts)
    refused: list[Any] = [anonymous.value, no_card.value, other_mode.value]
    assert [error.code() for error in refused] == [
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
    ]
