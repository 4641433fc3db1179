"""Every operation of the API is reachable from PayLoops and from AsyncPayLoops, and each resource
method sends what the operation's REST binding says: verb, path, query and body."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payloops.sdk import AsyncPayLoops, PayLoops, _operations, models
from payloops.sdk._operation import Operation
from tests.sdk.fake_api import FakeAPI, Received, Reply

KEY = "sk_test_unit"
# The processors' own calls (their webhooks to PayLoops): no merchant makes them.
NOT_FOR_MERCHANTS = {"ReceiveProcessorWebhook", "ReceiveProcessorWebhookForAccount"}
ROUTING = models.RoutingConfig(
    version=4,
    rules=[
        models.RoutingRule(
            name="eu", failover=models.FailoverTarget(processors=["sandbox", "stripe"])
        )
    ],
    mode="success_rate",
    max_attempts=2,
)

# (call, verb, path, query, body): `call` takes either client.
CALLS: list[tuple[Callable[[Any], Any], str, str, dict[str, str], object]] = [
    (
        lambda c: c.orders.create(amount=4999, currency="USD", capture_method="manual"),
        "POST",
        "/v1/orders",
        {},
        {"amount": 4999, "currency": "USD", "capture_method": "MANUAL"},
    ),
    (lambda c: c.orders.retrieve("ord_1"), "GET", "/v1/orders/ord_1", {}, None),
    (
        lambda c: c.orders.list(page_size=5, status="succeeded", metadata_key="ref"),
        "GET",
        "/v1/orders",
        {"page_size": "5", "status": "SUCCEEDED", "metadata_key": "ref"},
        None,
    ),
    (
        lambda c: c.orders.list(
            currency="EUR", amount_min=100, amount_max=900, failure_code="expired_card", query="q"
        ),
        "GET",
        "/v1/orders",
        {
            "currency": "EUR",
            "amount_min": "100",
            "amount_max": "900",
            "failure_code": "expired_card",
            "query": "q",
        },
        None,
    ),
    (
        lambda c: c.orders.pay("ord_1", payment_method="pm_card_visa", off_session=True),
        "POST",
        "/v1/orders/ord_1:pay",
        {},
        {"payment_method": {"type": "card", "token": "pm_card_visa"}, "off_session": True},
    ),
    (
        lambda c: c.orders.capture("ord_1", amount=10),
        "POST",
        "/v1/orders/ord_1:capture",
        {},
        {"amount": 10},
    ),
    (lambda c: c.orders.cancel("ord_1"), "POST", "/v1/orders/ord_1:cancel", {}, {}),
    (
        lambda c: c.refunds.create("ord_1", amount=5, reason="duplicate"),
        "POST",
        "/v1/orders/ord_1/refunds",
        {},
        {"amount": 5, "reason": "duplicate"},
    ),
    (lambda c: c.refunds.list("ord_1"), "GET", "/v1/orders/ord_1/refunds", {}, None),
    (lambda c: c.refunds.retrieve("re_1"), "GET", "/v1/refunds/re_1", {}, None),
    (
        lambda c: c.webhook_endpoints.create(url="https://x.test/h", enabled_events=["*"]),
        "POST",
        "/v1/webhook_endpoints",
        {},
        {"url": "https://x.test/h", "enabled_events": ["*"]},
    ),
    (lambda c: c.webhook_endpoints.list(), "GET", "/v1/webhook_endpoints", {}, None),
    (
        lambda c: c.webhook_endpoints.update("we_1", enabled_events=["order.failed"], url=""),
        "PATCH",
        "/v1/webhook_endpoints/we_1",
        {"update_mask": "url,enabledEvents"},
        {"url": "", "enabled_events": ["order.failed"]},
    ),
    (
        lambda c: c.webhook_endpoints.delete("we_1"),
        "DELETE",
        "/v1/webhook_endpoints/we_1",
        {},
        None,
    ),
    (
        lambda c: c.webhook_endpoints.rotate_secret("we_1", grace_period=_hours(2)),
        "POST",
        "/v1/webhook_endpoints/we_1:rotate_secret",
        {},
        {"grace_period": "7200s"},
    ),
    (
        lambda c: c.webhook_endpoints.deliveries.list("we_1", page_size=5),
        "GET",
        "/v1/webhook_endpoints/we_1/deliveries",
        {"page_size": "5"},
        None,
    ),
    (
        lambda c: c.webhook_endpoints.send_test_event("we_1"),
        "POST",
        "/v1/webhook_endpoints/we_1:send_test_event",
        {},
        {},
    ),
    (
        lambda c: c.events.list(type="order.succeeded"),
        "GET",
        "/v1/events",
        {"type": "order.succeeded"},
        None,
    ),
    (
        lambda c: c.events.list(order="ord_1", page_size=100),
        "GET",
        "/v1/events",
        {"order": "ord_1", "page_size": "100"},
        None,
    ),
    (lambda c: c.events.retrieve("evt_1"), "GET", "/v1/events/evt_1", {}, None),
    (
        lambda c: c.events.redeliver("evt_1", webhook_endpoint="we_1"),
        "POST",
        "/v1/events/evt_1:redeliver",
        {},
        {"webhook_endpoint": "we_1"},
    ),
    (
        lambda c: c.events.deliveries.list("evt_1"),
        "GET",
        "/v1/events/evt_1/deliveries",
        {},
        None,
    ),
    (lambda c: c.routing.retrieve(), "GET", "/v1/routing", {}, None),
    (
        lambda c: c.routing.update(ROUTING),
        "PUT",
        "/v1/routing",
        {},
        {
            "rules": [
                {
                    "name": "eu",
                    "failover": {"processors": ["sandbox", "stripe"]},
                }
            ],
            "mode": "SUCCESS_RATE",
            "max_attempts": 2,
        },
    ),
    (
        lambda c: c.routing.versions.list(page_size=2),
        "GET",
        "/v1/routing/versions",
        {"page_size": "2"},
        None,
    ),
    (lambda c: c.routing.versions.retrieve(3), "GET", "/v1/routing/versions/3", {}, None),
    (lambda c: c.routing.rollback(3), "POST", "/v1/routing/versions/3:rollback", {}, {}),
    (
        lambda c: c.routing.simulate(
            payment={"amount": 2500, "currency": "EUR", "card_network": "visa"},
            routing_config=ROUTING,
        ),
        "POST",
        "/v1/routing:simulate",
        {},
        {
            "payment": {"amount": 2500, "currency": "EUR", "card_network": "visa"},
            "routing_config": {
                "rules": [{"name": "eu", "failover": {"processors": ["sandbox", "stripe"]}}],
                "mode": "SUCCESS_RATE",
                "max_attempts": 2,
            },
        },
    ),
    (
        lambda c: c.routing.what_if(routing_config={"rules": []}, days=3),
        "POST",
        "/v1/routing:what_if",
        {},
        {"routing_config": {"rules": []}, "days": 3},
    ),
    (
        lambda c: c.processors.create(name="acme", target="127.0.0.1:9", deadline=_hours(0)),
        "POST",
        "/v1/processors",
        {},
        {"name": "acme", "target": "127.0.0.1:9", "deadline": "0s"},
    ),
    (lambda c: c.processors.list(), "GET", "/v1/processors", {}, None),
    (
        lambda c: c.processor_accounts.create(processor="stripe", credentials={"k": "v"}),
        "POST",
        "/v1/processor_accounts",
        {},
        {"processor": "stripe", "credentials": {"k": "v"}},
    ),
    (lambda c: c.processor_accounts.list(), "GET", "/v1/processor_accounts", {}, None),
    (
        lambda c: c.processor_accounts.available_processors(),
        "GET",
        "/v1/available_processors",
        {},
        None,
    ),
    (
        lambda c: c.processor_accounts.rotate_credentials("pa_1", credentials={"k": "w"}),
        "POST",
        "/v1/processor_accounts/pa_1:rotate",
        {},
        {"credentials": {"k": "w"}},
    ),
    (
        lambda c: c.processor_accounts.disable("pa_1"),
        "POST",
        "/v1/processor_accounts/pa_1:disable",
        {},
        {},
    ),
    (
        lambda c: c.api_keys.create(name="ci", kind="publishable"),
        "POST",
        "/v1/api_keys",
        {},
        {"name": "ci", "kind": "PUBLISHABLE"},
    ),
    (lambda c: c.api_keys.list(page_size=3), "GET", "/v1/api_keys", {"page_size": "3"}, None),
    (
        lambda c: c.api_keys.roll("key_1", overlap=_hours(1)),
        "POST",
        "/v1/api_keys/key_1:roll",
        {},
        {"overlap": "3600s"},
    ),
    (lambda c: c.api_keys.revoke("key_1"), "POST", "/v1/api_keys/key_1:revoke", {}, {}),
    (
        lambda c: c.users.create(email="a@x.test", role="viewer", password="pw"),
        "POST",
        "/v1/users",
        {},
        {"user": {"email": "a@x.test", "role": "VIEWER"}, "password": "pw"},
    ),
    (lambda c: c.users.list(), "GET", "/v1/users", {}, None),
    (
        lambda c: c.users.set_role("usr_1", role="owner"),
        "POST",
        "/v1/users/usr_1:set_role",
        {},
        {"role": "OWNER"},
    ),
    (lambda c: c.users.remove("usr_1"), "POST", "/v1/users/usr_1:remove", {}, {}),
    (
        lambda c: c.sessions.create(email="a@x.test", password="pw"),
        "POST",
        "/v1/sessions",
        {},
        {"email": "a@x.test", "password": "pw"},
    ),
    (
        lambda c: c.sessions.refresh(refresh_token="rt"),
        "POST",
        "/v1/sessions:refresh",
        {},
        {"refresh_token": "rt"},
    ),
    (
        lambda c: c.sessions.logout(refresh_token="rt"),
        "POST",
        "/v1/sessions:logout",
        {},
        {"refresh_token": "rt"},
    ),
    (lambda c: c.sessions.jwks(), "GET", "/.well-known/jwks.json", {}, None),
    (
        lambda c: c.audit_log.list(action="api_key.created", target_id="key_1"),
        "GET",
        "/v1/audit_log",
        {"action": "api_key.created", "target_id": "key_1"},
        None,
    ),
    (
        lambda c: c.analytics.payments(
            start_time=datetime(2026, 3, 1, tzinfo=UTC),
            end_time=datetime(2026, 3, 8, tzinfo=UTC),
            interval="day",
            group_by="failure_code",
        ),
        "GET",
        "/v1/analytics/payments",
        {
            "start_time": "2026-03-01T00:00:00Z",
            "end_time": "2026-03-08T00:00:00Z",
            "interval": "DAY",
            "group_by": "FAILURE_CODE",
        },
        None,
    ),
    (
        lambda c: c.customers.create(email="a@x.test", metadata={"crm": "1"}),
        "POST",
        "/v1/customers",
        {},
        {"email": "a@x.test", "metadata": {"crm": "1"}},
    ),
    (lambda c: c.customers.retrieve("cus_1"), "GET", "/v1/customers/cus_1", {}, None),
    (lambda c: c.customers.list(), "GET", "/v1/customers", {}, None),
    (
        lambda c: c.customers.update("cus_1", description="", metadata={}),
        "PATCH",
        "/v1/customers/cus_1",
        {"update_mask": "description,metadata"},
        {"description": "", "metadata": {}},
    ),
    (lambda c: c.customers.delete("cus_1"), "DELETE", "/v1/customers/cus_1", {}, None),
    (
        lambda c: c.customers.payment_methods.attach("cus_1", payment_method="pm_vault_1"),
        "POST",
        "/v1/customers/cus_1/payment_methods",
        {},
        {"payment_method": "pm_vault_1"},
    ),
    (
        lambda c: c.customers.payment_methods.list("cus_1"),
        "GET",
        "/v1/customers/cus_1/payment_methods",
        {},
        None,
    ),
    (
        lambda c: c.customers.payment_methods.detach("cus_1", "pm_vault_1"),
        "POST",
        "/v1/customers/cus_1/payment_methods/pm_vault_1:detach",
        {},
        {},
    ),
    (
        lambda c: c.tokens.create(card={"number": "4242", "exp_month": 1}),
        "POST",
        "/v1/tokens",
        {},
        {"card": {"number": "4242", "exp_month": 1}},
    ),
    (
        lambda c: c.merchants.create(name="Acme", live=True),
        "POST",
        "/v1/merchants",
        {},
        {"merchant": {"name": "Acme"}, "live": True},
    ),
    (lambda c: c.health.retrieve(), "GET", "/health", {}, None),
]


def _hours(hours: int) -> timedelta:
    return timedelta(hours=hours)


def _all_operations() -> list[Operation[Any]]:
    found = [op for op in vars(_operations).values() if isinstance(op, Operation)]
    assert len(found) >= len(CALLS), "the operation table is read"
    return found


def _operations_reached(requests: list[Received]) -> set[str]:
    reached = set()
    for operation in _all_operations():
        parts = re.split(r"\{[^}]+\}", operation.path)
        pattern = re.compile("[^/:]+".join(re.escape(part) for part in parts))
        if any(r.method == operation.method and pattern.fullmatch(r.path) for r in requests):
            reached.add(operation.name)
    return reached


def _every_operation() -> set[str]:
    return {op.name for op in _all_operations()}


def _check(requests: list[Received]) -> None:
    assert len(requests) == len(CALLS)
    for received, (_, verb, path, query, body) in zip(requests, CALLS, strict=True):
        assert (received.method, received.path, received.query) == (verb, path, query)
        assert received.body == body, path
        assert received.headers["authorization"] == f"Bearer {KEY}"
        assert ("idempotency-key" in received.headers) == (verb == "POST"), path
    assert _operations_reached(requests) == _every_operation() - NOT_FOR_MERCHANTS


def test_every_operation_from_the_sync_client(api: FakeAPI) -> None:
    api.reply(*[Reply(200, {})] * len(CALLS))
    client = PayLoops(KEY, base_url=api.url)

    for call, *_ in CALLS:
        call(client)

    _check(api.requests)


async def test_every_operation_from_the_async_client(api: FakeAPI) -> None:
    api.reply(*[Reply(200, {})] * len(CALLS))
    async with AsyncPayLoops(KEY, base_url=api.url) as client:
        for call, *_ in CALLS:
            result = call(client)
            assert inspect.isawaitable(result), "every async method is awaited"
            await result

    _check(api.requests)


@pytest.mark.parametrize("name", sorted(vars(PayLoops(KEY)).keys() - {"_settings", "_transport"}))
def test_both_clients_have_the_same_resources_and_methods(name: str) -> None:
    def surface(resource: object) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for attribute in dir(resource):
            value = getattr(resource, attribute)
            if attribute.startswith("_"):
                continue
            if callable(value):
                found[attribute] = list(inspect.signature(value).parameters)
            else:
                found.update({f"{attribute}.{k}": v for k, v in surface(value).items()})
        return found

    assert surface(getattr(PayLoops(KEY), name)) == surface(getattr(AsyncPayLoops(KEY), name))
