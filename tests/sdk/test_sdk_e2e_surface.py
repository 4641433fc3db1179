"""The SDK's whole surface against the real mesh, over REST and over native gRPC
(`transport="grpc"`): each test runs once per transport and expects the same models and errors."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest

from payloops.sdk import (
    AuthenticationError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    Order,
    PayLoops,
    PermissionDeniedError,
    models,
)
from tests.conftest import Mesh, receiver_port
from tests.e2e.gateway_accounts import CREDENTIALS
from tests.e2e.people import PASSWORD, new_email
from tests.e2e.vault_helpers import card

pytestmark = pytest.mark.e2e

T = TypeVar("T")
_IN_FLIGHT = ("processing", "requires_payment_method")


@pytest.fixture(params=["http", "grpc"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def client_for(mesh: Mesh, api_key: str, transport: str, **options: object) -> PayLoops:
    return PayLoops(
        api_key,
        base_url=mesh.api_url,
        grpc_target=mesh.grpc_target,
        transport="grpc" if transport == "grpc" else "http",
        mode=str(options["mode"]) if "mode" in options else None,
    )


@pytest.fixture
def merchant(mesh: Mesh, transport: str) -> PayLoops:
    """A client of a merchant of its own (lists see only this test's objects)."""
    _, api_key = mesh.new_merchant(f"sdk surface {transport}")
    return client_for(mesh, api_key, transport)


def settled(client: PayLoops, order: Order, timeout_s: float = 30.0) -> Order:
    deadline = time.monotonic() + timeout_s
    while order.status in _IN_FLIGHT and time.monotonic() < deadline:
        time.sleep(0.2)
        order = client.orders.retrieve(order.id)
    return order


def eventually(read: Callable[[], T | None], timeout_s: float = 30.0) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = read()
        if found is not None:
            return found
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.2)


def attempt_reference(order: Order) -> str:
    (attempt,) = order.attempts
    return attempt.processor_reference


def test_orders_capture_cancel_and_refunds(merchant: PayLoops) -> None:
    order = merchant.orders.create(
        amount=2000, currency="USD", capture_method="manual", metadata={"ref": "cap-1"}
    )
    held = settled(merchant, merchant.orders.pay(order.id, payment_method="pm_card_visa"))
    assert (held.status, held.amount_capturable) == ("requires_capture", 2000)

    captured = merchant.orders.capture(order.id, amount=1500)
    assert (captured.status, captured.amount_received) == ("succeeded", 1500)
    refund = merchant.refunds.create(order.id, amount=500, reason="requested_by_customer")
    assert isinstance(refund, models.Refund) and refund.amount == 500
    assert refund.status in ("pending", "succeeded")
    assert merchant.refunds.retrieve(refund.id).order == order.id
    assert [r.id for r in merchant.refunds.list(order.id)] == [refund.id]

    other = merchant.orders.create(amount=900, currency="USD", capture_method="MANUAL")
    settled(merchant, merchant.orders.pay(other.id, payment_method="pm_card_visa"))
    canceled = merchant.orders.cancel(other.id)
    assert canceled.status == "canceled"

    assert [o.id for o in merchant.orders.list(status="canceled")] == [other.id]
    assert [o.id for o in merchant.orders.list(currency="USD", amount_min=1000)] == [order.id]
    assert [o.id for o in merchant.orders.list(query=attempt_reference(held))] == [order.id]
    assert [o.id for o in merchant.orders.list_all(page_size=1)] == [other.id, order.id]
    assert isinstance(order.create_time, datetime) and order.create_time.tzinfo is not None
    (attempt,) = held.attempts
    assert attempt.latency is not None and attempt.latency >= timedelta(0)


def test_webhook_endpoints_events_and_deliveries(merchant: PayLoops) -> None:
    endpoint = merchant.webhook_endpoints.create(
        url=f"http://127.0.0.1:{receiver_port()}/hooks", enabled_events=["order.succeeded"]
    )
    assert endpoint.secret.startswith("whsec_") and endpoint.status == "enabled"
    order = merchant.orders.create(amount=1100, currency="USD")
    settled(merchant, merchant.orders.pay(order.id, payment_method="pm_card_visa"))

    event = eventually(lambda: next(iter(merchant.events.list(type="order.succeeded").data), None))
    assert event.object["id"] == order.id
    assert merchant.events.retrieve(event.id) == event
    assert [e.id for e in merchant.events.list_all(page_size=1, type="order.succeeded")] == [
        event.id
    ]
    delivery = eventually(lambda: next(iter(merchant.events.deliveries.list(event.id)), None))
    assert (delivery.event, delivery.webhook_endpoint) == (event.id, endpoint.id)
    again = merchant.events.redeliver(event.id, webhook_endpoint=endpoint.id)
    assert all(isinstance(d, models.EventDelivery) for d in again)
    test = merchant.webhook_endpoints.send_test_event(endpoint.id)
    assert (test.event_type, test.webhook_endpoint) == ("webhook_endpoint.test", endpoint.id)
    to_endpoint = list(merchant.webhook_endpoints.deliveries.list_all(endpoint.id, page_size=1))
    assert [d.id for d in to_endpoint] == [test.id, delivery.id]
    assert to_endpoint[1].event_type == "order.succeeded"

    disabled = merchant.webhook_endpoints.update(endpoint.id, status="disabled")
    assert disabled.status == "disabled" and disabled.enabled_events == ["order.succeeded"]
    rotated = merchant.webhook_endpoints.rotate_secret(
        endpoint.id, grace_period=timedelta(minutes=5)
    )
    assert rotated.secret.startswith("whsec_") and rotated.secret != endpoint.secret
    assert [e.id for e in merchant.webhook_endpoints.list()] == [endpoint.id]
    merchant.webhook_endpoints.delete(endpoint.id)
    assert list(merchant.webhook_endpoints.list()) == []

    # One order's events only, however many others came after them.
    other = merchant.orders.create(amount=1200, currency="USD")
    settled(merchant, merchant.orders.pay(other.id, payment_method="pm_card_visa"))
    eventually(lambda: next(iter(merchant.events.list(order=other.id).data), None))
    assert [e.id for e in merchant.events.list_all(page_size=1, order=order.id)] == [event.id]


def test_routing_round_trips_a_model(merchant: PayLoops) -> None:
    config = merchant.routing.retrieve()
    changed = dataclasses.replace(
        config,
        rules=[
            models.RoutingRule(
                name="usd",
                conditions=models.RoutingConditions(currencies=["USD"]),
                failover=models.FailoverTarget(processors=["sandbox"]),
            )
        ],
        max_attempts=2,
        payment_budget=timedelta(seconds=20),
    )

    updated = merchant.routing.update(changed)

    assert updated.version == config.version + 1
    assert [(r.name, r.failover) for r in updated.rules] == [
        ("usd", models.FailoverTarget(processors=["sandbox"]))
    ]
    assert (updated.max_attempts, updated.payment_budget) == (2, timedelta(seconds=20))
    assert merchant.routing.retrieve() == updated


def test_routing_versions_rollback_simulate_and_what_if(merchant: PayLoops) -> None:
    first = merchant.routing.update(
        {"rules": [{"name": "b", "failover": {"processors": ["sandbox-b"]}}]}
    )
    merchant.routing.update({"rules": [{"name": "c", "failover": {"processors": ["sandbox-c"]}}]})

    listed = merchant.routing.versions.list(page_size=1)
    assert [v.version for v in listed] == [first.version + 1]
    assert [v.version for v in merchant.routing.versions.list_all()][:2] == [
        first.version + 1,
        first.version,
    ]
    assert merchant.routing.versions.retrieve(first.version) == first
    with pytest.raises(NotFoundError) as missing:
        merchant.routing.versions.retrieve(first.version + 5)
    assert missing.value.reason == "ROUTING_CONFIG_VERSION_NOT_FOUND"

    rolled = merchant.routing.rollback(first.version, idempotency_key=f"rb-{uuid.uuid4()}")
    assert (rolled.version, rolled.rules) == (first.version + 2, first.rules)

    simulated = merchant.routing.simulate(
        payment={"amount": 2500, "currency": "EUR", "card_network": "visa"}
    )
    assert (simulated.config_version, simulated.rule) == (rolled.version, "b")
    assert [(c.processor, c.decision) for c in simulated.candidates] == [("sandbox-b", "candidate")]
    draft = merchant.routing.simulate(
        payment={"amount": 2500, "currency": "EUR"},
        routing_config={"rules": [{"name": "d", "failover": {"processors": ["sandbox"]}}]},
    )
    assert (draft.draft, draft.rule) == (True, "d")
    with pytest.raises(InvalidRequestError) as invalid:
        merchant.routing.simulate(payment={"amount": 1, "currency": "EUR"}, routing_config={})
    assert {v.field for v in invalid.value.field_violations} == {"rules"}

    what_if = merchant.routing.what_if(routing_config=first, days=2)
    assert what_if.payments >= 0 and not what_if.truncated


def test_keys_merchants_users_sessions_and_the_audit_log(mesh: Mesh, transport: str) -> None:
    admin = client_for(mesh, mesh.env["PAYLOOPS_ADMIN_API_KEY"], transport)
    made = admin.merchants.create(name=f"sdk merchant {transport}")
    (secret_key,) = [k for k in made.api_keys if k.kind == "secret" and not k.livemode]
    merchant = client_for(mesh, secret_key.secret, transport)

    key = merchant.api_keys.create(name="ci")
    assert key.secret.startswith("sk_test_") and key.kind == "secret"
    rolled = merchant.api_keys.roll(key.id, overlap=timedelta(minutes=1))
    assert rolled.secret != key.secret
    revoked = merchant.api_keys.revoke(rolled.id)
    assert revoked.revoke_time is not None
    assert {k.id for k in merchant.api_keys.list_all(page_size=1)} >= {key.id, rolled.id}

    email, owner_email = new_email("sdk"), new_email("owner")
    user = admin.users.create(email=email, role="developer", password=PASSWORD, merchant=made.id)
    assert (user.email, user.role) == (email, "developer")
    admin.users.create(email=owner_email, role="owner", password=PASSWORD, merchant=made.id)
    session = merchant.sessions.create(email=owner_email, password=PASSWORD)
    assert session.user is not None and session.user.role == "owner"
    owner = client_for(mesh, session.access_token, transport, mode="test")
    assert {u.email for u in owner.users.list_all(page_size=1)} == {email, owner_email}
    assert owner.users.set_role(user.id, role="viewer").role == "viewer"
    assert owner.users.remove(user.id).remove_time is not None
    refreshed = merchant.sessions.refresh(refresh_token=session.refresh_token)
    merchant.sessions.logout(refresh_token=refreshed.refresh_token)
    assert [k.kty for k in merchant.sessions.jwks().keys]

    actions = [entry.action for entry in merchant.audit_log.list_all(page_size=2)]
    assert "api_key.created" in actions and "merchant.created" in actions


def test_customers_tokens_and_saved_payment_methods(
    mesh: Mesh, merchant: PayLoops, transport: str
) -> None:
    customer = merchant.customers.create(
        email="ada@example.com", name="Ada", description="first", metadata={"crm": "7"}
    )
    updated = merchant.customers.update(customer.id, description="", metadata={})
    assert (updated.description, updated.metadata, updated.name) == ("", {}, "Ada")
    assert merchant.customers.retrieve(customer.id) == updated
    assert [c.id for c in merchant.customers.list_all(page_size=1)] == [customer.id]

    publishable = merchant.api_keys.create(name="browser", kind="publishable").secret
    vaulted = client_for(mesh, publishable, transport).tokens.create(card=card())
    assert vaulted.id.startswith("pm_vault_") and vaulted.card is not None
    saved = merchant.customers.payment_methods.attach(customer.id, payment_method=vaulted.id)
    assert (saved.customer, saved.last4) == (customer.id, vaulted.card.last4)
    assert [m.id for m in merchant.customers.payment_methods.list(customer.id)] == [saved.id]
    merchant.customers.payment_methods.detach(customer.id, saved.id)
    assert list(merchant.customers.payment_methods.list(customer.id)) == []

    merchant.customers.delete(customer.id)
    with pytest.raises(NotFoundError):
        merchant.customers.retrieve(customer.id)


def test_processors_processor_accounts_and_health(
    mesh: Mesh, merchant: PayLoops, transport: str
) -> None:
    admin = client_for(mesh, mesh.env["PAYLOOPS_ADMIN_API_KEY"], transport)
    assert "sandbox" in {p.name for p in admin.processors.list()}
    account = merchant.processor_accounts.create(
        processor="stripe", credentials=CREDENTIALS["stripe"]
    )
    assert account.enabled and "secret_key" in account.credential_fields
    rotated = merchant.processor_accounts.rotate_credentials(
        account.id, credentials=CREDENTIALS["stripe"]
    )
    assert rotated.rotate_time is not None
    assert [a.id for a in merchant.processor_accounts.list()] == [account.id]
    assert merchant.processor_accounts.disable(account.id).enabled is False
    assert merchant.health.retrieve().status


def test_errors_are_the_same_classes(mesh: Mesh, merchant: PayLoops, transport: str) -> None:
    with pytest.raises(NotFoundError) as missing:
        merchant.orders.retrieve("ord_doesnotexist")
    assert (missing.value.http_status, missing.value.reason) == (404, "ORDER_NOT_FOUND")
    assert missing.value.correlation_id

    with pytest.raises(InvalidRequestError) as invalid:
        merchant.orders.create(amount=-1, currency="USD")
    assert (invalid.value.http_status, invalid.value.code) == (400, 3)
    assert [(v.field, v.reason) for v in invalid.value.field_violations] == [
        ("amount", "AMOUNT_NOT_POSITIVE")
    ]

    with pytest.raises(AuthenticationError) as unknown:
        client_for(mesh, "sk_test_not_a_real_key", transport).orders.list()
    assert unknown.value.http_status == 401

    read_only = merchant.api_keys.create(name="reader", read_only=True).secret
    with pytest.raises(PermissionDeniedError) as refused:
        client_for(mesh, read_only, transport).orders.create(amount=1, currency="USD")
    assert (refused.value.http_status, refused.value.reason) == (403, "API_KEY_READ_ONLY")

    key = f"sdk-{transport}-{uuid.uuid4()}"
    first = merchant.orders.create(amount=700, currency="USD", idempotency_key=key)
    assert merchant.orders.create(amount=700, currency="USD", idempotency_key=key) == first
    with pytest.raises(IdempotencyError):
        merchant.orders.create(amount=701, currency="USD", idempotency_key=key)
