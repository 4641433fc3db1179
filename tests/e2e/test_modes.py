"""Test and live are walls. One merchant with both keys (`payloops merchants create --live`):
every operation of the API, taken from the protos' descriptors so that a new one cannot be
forgotten, is tried with one mode's key on the other mode's objects, and must answer exactly as
it does for another merchant (404) and change nothing: not a row of that mode, not a charge at
any gateway. Idempotency keys and page tokens do not cross modes either, each mode routes by its
own configuration, and a live payment never reaches a test-only gateway (the sandbox)."""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import MethodDescriptor

import payloops.v1
from tests.conftest import Mesh
from tests.e2e.failover_helpers import SANDBOXES, clean_processors, wait_for
from tests.e2e.mesh_db import sql
from tests.e2e.sandbox_control import charges_by_order
from tests.fakes import razorpay_api, stripe_api

pytestmark = pytest.mark.e2e
__all__ = ["clean_processors"]

# A live secret key the mesh's Stripe fake accepts: the live mode's real gateway.
LIVE_STRIPE_KEY = "sk_live_fake_payloops_modes_00000000"
# Sent where a webhook endpoint must be valid in both modes; it takes only an event type that
# these tests never cause, so nothing is ever delivered there.
ENDPOINT = {"url": "https://93.184.215.14/hooks", "enabled_events": ["webhook_endpoint.disabled"]}
CARD = {"payment_method": {"type": "card", "token": "pm_card_visa"}}


@dataclass
class Merchant:
    id: str
    test: httpx.Client
    live: httpx.Client

    def api(self, livemode: bool) -> httpx.Client:
        return self.live if livemode else self.test


@pytest.fixture
def live_stripe(mesh: Mesh) -> Iterator[None]:
    assert mesh.stripe is not None
    mesh.stripe.accounts[LIVE_STRIPE_KEY] = "acct_fake_live"
    yield
    del mesh.stripe.accounts[LIVE_STRIPE_KEY]


@pytest.fixture
def merchant(mesh: Mesh, live_stripe: None, clean_processors: None) -> Iterator[Merchant]:
    """Test mode routes to the sandbox, live mode names the sandbox first and Stripe second (so
    every live payment shows the sandbox skipped), with a Stripe account of each mode."""
    merchant_id, test_key, live_key = mesh.new_live_merchant("modes")
    with mesh.client(test_key) as test, mesh.client(live_key) as live:
        for api, processors, secret_key in (
            (test, ["sandbox"], stripe_api.SECRET_KEY),
            (live, ["sandbox", "stripe"], LIVE_STRIPE_KEY),
        ):
            routed = api.put(
                "/v1/routing",
                json={"rules": [{"name": "all", "failover": {"processors": processors}}]},
            )
            assert routed.status_code == 200, routed.text
            added = api.post(
                "/v1/processor_accounts",
                json={
                    "processor": "stripe",
                    "credentials": {
                        "secret_key": secret_key,
                        "webhook_secret": stripe_api.WEBHOOK_SECRET,
                    },
                },
            )
            assert added.status_code == 200, added.text
        yield Merchant(merchant_id, test, live)


def reason(response: httpx.Response) -> str:
    details = response.json()["details"]
    return str(next(d for d in details if d["@type"].endswith("ErrorInfo"))["reason"])


def new_order(api: httpx.Client, **fields: object) -> dict[str, Any]:
    created = api.post("/v1/orders", json={"amount": 4999, "currency": "USD", **fields})
    assert created.status_code == 200, created.text
    order: dict[str, Any] = created.json()
    return order


def paid_order(api: httpx.Client, expected: str = "SUCCEEDED", **fields: object) -> str:
    order_id = str(new_order(api, **fields)["id"])
    paid = api.post(f"/v1/orders/{order_id}:pay", json=CARD)
    assert paid.status_code == 200, paid.text
    settled = wait_for(api, order_id, lambda o: o["status"] not in ("PROCESSING",))
    assert settled["status"] == expected, settled
    return order_id


# -- the operations --------------------------------------------------------------------------


@dataclass(frozen=True)
class OnObject:
    """An operation on one object the path names: which object of the other mode it is given,
    the body and query it sends, and the NOT_FOUND reason it must answer with."""

    target: str
    reason: str
    body: dict[str, Any] | None = None
    query: str = ""


# Every operation that names one of a merchant's objects.
ON_OBJECT = {
    # First, while the manual-capture order is fresh: capturing or voiding it would move money.
    "OrderService.CaptureOrder": OnObject("authorized", "ORDER_NOT_FOUND", {}),
    "OrderService.CancelOrder": OnObject("authorized", "ORDER_NOT_FOUND", {}),
    "OrderService.GetOrder": OnObject("unpaid", "ORDER_NOT_FOUND"),
    "OrderService.PayOrder": OnObject("unpaid", "ORDER_NOT_FOUND", CARD),
    "RefundService.CreateRefund": OnObject("paid", "ORDER_NOT_FOUND", {"amount": 0}),
    "RefundService.ListRefunds": OnObject("paid", "ORDER_NOT_FOUND"),
    "RefundService.GetRefund": OnObject("refund", "REFUND_NOT_FOUND"),
    "WebhookEndpointService.UpdateWebhookEndpoint": OnObject(
        "webhook_endpoint", "WEBHOOK_ENDPOINT_NOT_FOUND", {"status": "DISABLED"}, "status"
    ),
    "WebhookEndpointService.RotateWebhookEndpointSecret": OnObject(
        "webhook_endpoint", "WEBHOOK_ENDPOINT_NOT_FOUND", {}
    ),
    "WebhookEndpointService.DeleteWebhookEndpoint": OnObject(
        "webhook_endpoint", "WEBHOOK_ENDPOINT_NOT_FOUND"
    ),
    "EventService.GetEvent": OnObject("event", "EVENT_NOT_FOUND"),
    "CustomerService.GetCustomer": OnObject("customer", "CUSTOMER_NOT_FOUND"),
    "CustomerService.UpdateCustomer": OnObject(
        "customer", "CUSTOMER_NOT_FOUND", {"name": "intruder"}, "name"
    ),
    "CustomerService.AttachPaymentMethod": OnObject(
        "customer", "CUSTOMER_NOT_FOUND", {"payment_method": "pm_vault_" + "0" * 24}
    ),
    "CustomerService.ListCustomerPaymentMethods": OnObject("customer", "CUSTOMER_NOT_FOUND"),
    "CustomerService.DetachPaymentMethod": OnObject("customer", "CUSTOMER_NOT_FOUND", {}),
    "CustomerService.DeleteCustomer": OnObject("customer", "CUSTOMER_NOT_FOUND"),
    "ApiKeyService.RollApiKey": OnObject("api_key", "API_KEY_NOT_FOUND", {}),
    "ApiKeyService.RevokeApiKey": OnObject("api_key", "API_KEY_NOT_FOUND", {}),
    "EventService.ListEventDeliveries": OnObject("event", "EVENT_NOT_FOUND"),
    "EventService.RedeliverEvent": OnObject("event", "EVENT_NOT_FOUND", {}),
    "ProcessorAccountService.RotateProcessorAccountCredentials": OnObject(
        "processor_account",
        "PROCESSOR_ACCOUNT_NOT_FOUND",
        {"credentials": {"secret_key": "sk_test_rotated", "webhook_secret": "whsec_rotated"}},
    ),
    "ProcessorAccountService.DisableProcessorAccount": OnObject(
        "processor_account", "PROCESSOR_ACCOUNT_NOT_FOUND", {}
    ),
}
# Lists: the other mode's objects are simply absent (the field of the response that lists).
LISTS = {
    "OrderService.ListOrders": "orders",
    "WebhookEndpointService.ListWebhookEndpoints": "webhook_endpoints",
    "EventService.ListEvents": "events",
    "CustomerService.ListCustomers": "customers",
    "ProcessorAccountService.ListProcessorAccounts": "processor_accounts",
    "ApiKeyService.ListApiKeys": "api_keys",
    # Entries about the other mode's objects would name them as their target.
    "AuditLogService.ListAuditEntries": "audit_entries",
}
# Operations on the caller's own mode as a whole: what they make or change is the caller's
# mode's, and the other mode sees nothing of it (the body each sends).
OWN_MODE: dict[str, dict[str, Any] | None] = {
    "OrderService.CreateOrder": {"amount": 1200, "currency": "EUR"},
    "CustomerService.CreateCustomer": {"name": "intruder"},
    "WebhookEndpointService.CreateWebhookEndpoint": ENDPOINT,
    "ProcessorAccountService.CreateProcessorAccount": {
        "processor": "razorpay",
        "credentials": {
            "key_id": razorpay_api.DEFAULT_KEY_ID,
            "key_secret": razorpay_api.DEFAULT_KEY_SECRET,
            "webhook_secret": razorpay_api.DEFAULT_WEBHOOK_SECRET,
        },
    },
    # The mode is named in the body and must be the caller's own (set in the walk).
    "ApiKeyService.CreateApiKey": {"name": "intruder"},
    "RoutingService.GetRoutingConfig": None,
    # Versions are numbered per mode: the number is the caller's own version (set in the walk).
    "RoutingService.GetRoutingConfigVersion": None,
    "RoutingService.ListRoutingConfigVersions": None,
    "RoutingService.SimulateRouting": {"payment": {"amount": "1000", "currency": "USD"}},
    # The caller's mode has no paid order: nothing of the other mode's history is replayed.
    "RoutingService.WhatIfRouting": {
        "routing_config": {"rules": [{"name": "all", "failover": {"processors": ["sandbox"]}}]}
    },
    "RoutingService.UpdateRoutingConfig": {
        "rules": [{"name": "intruder", "failover": {"processors": ["sandbox-c"]}}]
    },
    "RoutingService.RollbackRoutingConfig": {},
}
# Aggregates over the caller's own mode: that the other mode's payments never count in them is
# shown where the figures are checked (tests/e2e/test_analytics.py).
AGGREGATES = {"AnalyticsService.GetPaymentAnalytics": "the caller's mode's payments only"}
# Not a merchant's API keys' to call at all, so no mode to cross.
NOT_A_MERCHANTS = {
    "HealthService.GetHealth": "no key, no merchant data",
    "ProcessorService.CreateProcessor": "the platform operator's admin key",
    "ProcessorService.ListProcessors": "the platform operator's admin key",
    "MerchantService.CreateMerchant": "the platform operator's admin key",
    "ProcessorWebhookService.ReceiveProcessorWebhook": "a gateway's signature, per account",
    # Users and their sessions belong to the merchant in both modes (a user picks the mode per
    # request with PayLoops-Mode), and API keys may not manage users: tests/e2e/test_people.py.
    "UserService.CreateUser": "a signed-in owner, or the admin key",
    "UserService.ListUsers": "a signed-in user",
    "UserService.SetUserRole": "a signed-in owner",
    "UserService.RemoveUser": "a signed-in owner",
    "SessionService.CreateSession": "an e-mail and a password",
    "SessionService.RefreshSession": "a refresh token",
    "SessionService.LogoutSession": "a refresh token",
    "SessionService.GetJwks": "public keys, no key",
    # The vault's: a publishable key makes tokens of its own mode only (tests/e2e/test_vault.py).
    "TokenService.CreateToken": "a publishable key",
}


def api_methods() -> dict[str, MethodDescriptor]:
    """Every RPC of the public API (every payloops.v1 module's services), by Service.Method."""
    found = {}
    for module in pkgutil.iter_modules(payloops.v1.__path__):
        if module.name.endswith("_pb2"):
            descriptor = importlib.import_module(f"payloops.v1.{module.name}").DESCRIPTOR
            for service in descriptor.services_by_name.values():
                for method in service.methods:
                    found[f"{service.name}.{method.name}"] = method
    return found


def http_rule(method: MethodDescriptor) -> tuple[str, str]:
    """The REST verb and path template Envoy transcodes the RPC from."""
    rule = json_format.MessageToDict(method.GetOptions())["[google.api.http]"]
    [verb] = [verb for verb in ("get", "post", "put", "patch", "delete") if verb in rule]
    return verb.upper(), str(rule[verb])


def call(
    api: httpx.Client,
    method: MethodDescriptor,
    path_value: str = "",
    body: dict[str, Any] | None = None,
    query: str = "",
) -> httpx.Response:
    verb, template = http_rule(method)
    path = template
    # The first path variable names the object; any further one (a customer's saved payment
    # method) names nothing of the victim's.
    value = path_value
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + value + path[end + 1 :]
        value = "pm_vault_" + "0" * 24
    if query:
        path += f"?update_mask={query}"
    return api.request(verb, path, json=body if verb != "GET" else None)


def test_every_api_operation_is_accounted_for() -> None:
    """A new RPC must be placed in one of the tables the walk below uses."""
    listed = [*ON_OBJECT, *LISTS, *OWN_MODE, *AGGREGATES, *NOT_A_MERCHANTS]
    assert len(listed) == len(set(listed))
    assert set(api_methods()) == set(listed)


# -- what must not change ----------------------------------------------------------------------

# Every table holding a merchant's objects, as rows of one (merchant, mode).
_ROWS_OF_MODE = {
    "orders": "select * from orders where merchant_id = :m and livemode = :l order by id",
    "attempts": "select a.* from attempts a join orders o on o.id = a.order_id "
    "where o.merchant_id = :m and o.livemode = :l order by a.id",
    "refunds": "select * from refunds where merchant_id = :m and livemode = :l order by id",
    "idempotency_keys": "select * from idempotency_keys where merchant_id = :m and livemode = :l "
    "order by key",
    "routing_configs": "select * from routing_configs where merchant_id = :m and livemode = :l "
    "order by version",
    "webhook_endpoints": "select * from webhook_endpoints where merchant_id = :m "
    "and livemode = :l order by id",
    "events": "select * from events where merchant_id = :m and livemode = :l order by id",
    "event_deliveries": "select d.* from event_deliveries d join events e on e.id = d.event_id "
    "where e.merchant_id = :m and e.livemode = :l order by d.id",
    "processor_accounts": "select * from processor_accounts where merchant_id = :m "
    "and livemode = :l order by id",
    # Not last_used_at: the victim's own requests move it.
    "api_keys": "select id, key_hash, name, read_only, expires_at, revoked_at from api_keys "
    "where merchant_id = :m and livemode = :l order by id",
    "customers": "select * from customers where merchant_id = :m and livemode = :l order by id",
    "customer_payment_methods": "select * from customer_payment_methods where merchant_id = :m "
    "and livemode = :l order by payment_method",
    "audit_log": "select * from audit_log where merchant_id = :m and livemode = :l order by id",
}


def state_of_mode(mesh: Mesh, merchant_id: str, livemode: bool) -> dict[str, object]:
    """Every row of the merchant's mode, and every gateway's record of its orders' money."""
    rows = {
        table: sql(mesh, statement, m=merchant_id, l=livemode)
        for table, statement in _ROWS_OF_MODE.items()
    }
    orders = {str(row[0]) for row in rows["orders"]}
    sandboxes = charges_by_order(mesh, SANDBOXES)
    assert mesh.stripe is not None
    intents = [i for i in mesh.stripe.intents() if i.metadata.get("payloops_order_id") in orders]
    return {
        **rows,
        "sandbox charges": sorted(
            (c.order_id, c.attempt_key, c.state, c.amount_captured, c.amount_refunded)
            for order_id, charges in sandboxes.items()
            if order_id in orders
            for c in charges
        ),
        "stripe intents": sorted(
            (i.id, i.status, i.amount_capturable, i.amount_received) for i in intents
        ),
        "stripe refunds": sorted(
            (r.id, r.status, r.amount)
            for r in mesh.stripe.refunds()
            if r.intent_id in {i.id for i in intents}
        ),
    }


# -- the walk ------------------------------------------------------------------------------------


@dataclass
class Objects:
    """One of every kind of object of one mode, by the name ON_OBJECT's targets use."""

    by_target: dict[str, str]
    routing_version: int


def objects_of(api: httpx.Client) -> Objects:
    paid = paid_order(api)
    refund = api.post(f"/v1/orders/{paid}/refunds", json={"amount": 100})
    assert refund.status_code == 200, refund.text
    endpoint = api.post("/v1/webhook_endpoints", json=ENDPOINT)
    assert endpoint.status_code == 200, endpoint.text
    [account] = api.get("/v1/processor_accounts").json()["processor_accounts"]
    customer = api.post("/v1/customers", json={"name": "victim"})
    assert customer.status_code == 200, customer.text
    return Objects(
        by_target={
            "unpaid": str(new_order(api)["id"]),
            "paid": paid,
            "refund": str(refund.json()["id"]),
            "webhook_endpoint": str(endpoint.json()["id"]),
            "event": str(api.get("/v1/events").json()["events"][0]["id"]),
            "processor_account": str(account["id"]),
            "customer": str(customer.json()["id"]),
            "api_key": str(api.get("/v1/api_keys").json()["api_keys"][0]["id"]),
        },
        routing_version=int(api.get("/v1/routing").json()["version"]),
    )


@pytest.mark.parametrize("victim_live", [True, False], ids=["test key on live", "live key on test"])
def test_every_operation_with_the_other_modes_key_is_not_found_and_changes_nothing(
    mesh: Mesh, merchant: Merchant, victim_live: bool
) -> None:
    victim, intruder = merchant.api(victim_live), merchant.api(not victim_live)
    methods = api_methods()
    objects = objects_of(victim)
    _, stranger_key = mesh.new_merchant("stranger")
    # Made last: an authorization is voided by itself after a few seconds in the tests' mesh.
    objects.by_target["authorized"] = paid_order(
        victim, "REQUIRES_CAPTURE", capture_method="MANUAL"
    )
    intruder_routing = intruder.get("/v1/routing").json()
    before = state_of_mode(mesh, merchant.id, victim_live)

    with mesh.client(stranger_key) as stranger:
        for name, operation in ON_OBJECT.items():
            target = objects.by_target[operation.target]
            answer = call(intruder, methods[name], target, operation.body, operation.query)
            assert (answer.status_code, reason(answer)) == (404, operation.reason), (name, answer)
            # Word for word what another merchant is told: the object does not exist.
            elsewhere = call(stranger, methods[name], target, operation.body, operation.query)
            assert answer.json() == elsewhere.json(), name
    for name, field in LISTS.items():
        listed = call(intruder, methods[name])
        assert listed.status_code == 200, (name, listed.text)
        seen = {str(item["id"]) for item in listed.json()[field]}
        seen |= {str(item["target"]["id"]) for item in listed.json()[field] if "target" in item}
        assert not seen & set(objects.by_target.values()), name
    for name, body in OWN_MODE.items():
        if name == "ApiKeyService.CreateApiKey":
            body = {**(body or {}), "livemode": not victim_live}
        answer = call(intruder, methods[name], intruder_routing["version"], body=body)
        assert answer.status_code == 200, (name, answer.text)
        made = answer.json()
        if name in ("RoutingService.GetRoutingConfig", "RoutingService.GetRoutingConfigVersion"):
            assert made == intruder_routing, name
        elif name == "RoutingService.ListRoutingConfigVersions":
            assert made["routing_configs"][0] == intruder_routing
        elif name == "RoutingService.SimulateRouting":
            assert made["config_version"] == intruder_routing["version"]
        elif name == "RoutingService.WhatIfRouting":
            assert (made["payments"], made["splits"]) == ("0", [])
        elif name == "RoutingService.UpdateRoutingConfig":
            assert int(made["version"]) == int(intruder_routing["version"]) + 1
        elif name == "RoutingService.RollbackRoutingConfig":
            assert int(made["version"]) == int(intruder_routing["version"]) + 2
            assert made["rules"] == intruder_routing["rules"]
        else:
            assert made["livemode"] is not victim_live, name

    assert state_of_mode(mesh, merchant.id, victim_live) == before
    # And the owner still has every one of them as it was.
    captured = victim.post(f"/v1/orders/{objects.by_target['authorized']}:capture", json={})
    assert captured.json()["status"] == "SUCCEEDED", captured.text
    own_routing = victim.get("/v1/routing").json()
    assert int(own_routing["version"]) == objects.routing_version
    assert "intruder" not in {rule["name"] for rule in own_routing["rules"]}


def test_the_admin_api_takes_neither_mode_of_a_merchants_keys(
    mesh: Mesh, merchant: Merchant
) -> None:
    methods = api_methods()
    for api in (merchant.test, merchant.live):
        for name in ("ProcessorService.ListProcessors", "ProcessorService.CreateProcessor"):
            refused = call(api, methods[name], body={"name": "x", "target": "127.0.0.1:1"})
            assert (refused.status_code, reason(refused)) == (401, "ADMIN_KEY_INVALID"), name
        merchant_made = call(
            api, methods["MerchantService.CreateMerchant"], body={"merchant": {"name": "x"}}
        )
        assert (merchant_made.status_code, reason(merchant_made)) == (401, "ADMIN_KEY_INVALID")


# -- idempotency keys and page tokens ------------------------------------------------------------


def with_one_key_in_each_mode(
    merchant: Merchant, path: Callable[[httpx.Client], str], body: dict[str, Any]
) -> tuple[httpx.Response, httpx.Response]:
    """The same request with the same Idempotency-Key, first with the test key, then live."""
    key = {"Idempotency-Key": f"modes-{uuid.uuid4()}"}
    in_test = merchant.test.post(path(merchant.test), json=body, headers=key)
    in_live = merchant.live.post(path(merchant.live), json=body, headers=key)
    assert (in_test.status_code, in_live.status_code) == (200, 200), (in_test.text, in_live.text)
    assert "idempotent-replayed" not in in_live.headers
    assert (in_test.json()["livemode"], in_live.json()["livemode"]) == (False, True)
    assert in_test.json()["id"] != in_live.json()["id"]
    # Each mode still replays its own.
    again = merchant.live.post(path(merchant.live), json=body, headers=key)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == in_live.json()["id"]
    return in_test, in_live


def test_an_idempotency_key_used_in_test_makes_new_objects_in_live(merchant: Merchant) -> None:
    with_one_key_in_each_mode(merchant, lambda _: "/v1/orders", {"amount": 4999, "currency": "USD"})
    with_one_key_in_each_mode(merchant, lambda _: "/v1/webhook_endpoints", ENDPOINT)
    # A refund's id follows from its key: the same key in the other mode is another refund.
    paid = {False: paid_order(merchant.test), True: paid_order(merchant.live)}
    with_one_key_in_each_mode(
        merchant,
        lambda api: f"/v1/orders/{paid[api is merchant.live]}/refunds",
        {"amount": 100},
    )


def test_a_page_token_from_one_mode_is_refused_in_the_other(merchant: Merchant) -> None:
    for _ in range(2):
        new_order(merchant.test)
    orders = merchant.test.get("/v1/orders?page_size=1").json()
    token = orders["next_page_token"]
    assert token
    refused = merchant.live.get(f"/v1/orders?page_size=1&page_token={token}")
    assert (refused.status_code, reason(refused)) == (400, "PAGE_TOKEN_INVALID")
    assert merchant.test.get(f"/v1/orders?page_size=1&page_token={token}").status_code == 200


# -- routing -------------------------------------------------------------------------------------


def test_each_mode_has_its_own_routing_configuration(merchant: Merchant) -> None:
    live_before = merchant.live.get("/v1/routing").json()
    changed = merchant.test.put(
        "/v1/routing",
        json={"rules": [{"name": "test_only_rule", "failover": {"processors": ["sandbox-b"]}}]},
    )
    assert changed.status_code == 200, changed.text
    assert merchant.live.get("/v1/routing").json() == live_before
    assert merchant.test.get("/v1/routing").json()["rules"][0]["name"] == "test_only_rule"
    # Versions count per mode.
    live_after = merchant.live.put("/v1/routing", json={"rules": live_before["rules"]}).json()
    assert int(live_after["version"]) == int(live_before["version"]) + 1
    assert changed.json()["version"] == "2"  # the fixture's, then this one


def candidates(order: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["processor"], c["decision"], c["reason"]) for c in order["routing"]["candidates"]]


def test_a_live_payment_skips_the_sandbox_and_is_paid_at_a_live_gateway(
    mesh: Mesh, merchant: Merchant
) -> None:
    order_id = paid_order(merchant.live)
    order = merchant.live.get(f"/v1/orders/{order_id}").json()
    assert candidates(order) == [
        ("stripe", "candidate", "rule_order"),
        ("sandbox", "skipped", "test_only"),
    ]
    assert [a["processor"] for a in order["attempts"]] == ["stripe"]
    assert mesh.stripe is not None
    [intent] = mesh.stripe.intents_with("payloops_order_id", order_id)
    assert intent.status == "succeeded"
    assert charges_by_order(mesh, SANDBOXES).get(order_id) is None


def test_a_live_payment_with_only_test_only_gateways_fails_with_a_stable_code(
    mesh: Mesh, merchant: Merchant
) -> None:
    routed = merchant.live.put(
        "/v1/routing",
        json={"rules": [{"name": "sandboxes", "failover": {"processors": list(SANDBOXES)}}]},
    )
    assert routed.status_code == 200, routed.text
    order_id = paid_order(merchant.live, "FAILED")
    order = merchant.live.get(f"/v1/orders/{order_id}").json()
    assert order["failure_code"] == "no_live_processor"
    assert order["attempts"] == []
    skipped = {processor: why for processor, _, why in candidates(order)}
    assert {skipped[name] for name in SANDBOXES} == {"test_only"}
    assert charges_by_order(mesh, SANDBOXES).get(order_id) is None
    # The fixture's test routing names only the sandbox, which takes test payments.
    test_order = paid_order(merchant.test)
    assert charges_by_order(mesh, SANDBOXES).get(test_order)


def test_the_sandbox_says_it_is_test_only_and_stripe_does_not(mesh: Mesh) -> None:
    with mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"]) as admin:
        listed = admin.get("/v1/processors").json()["processors"]
    test_only = {p["name"]: p["capabilities"]["test_only"] for p in listed}
    assert {test_only[name] for name in SANDBOXES} == {True}
    assert test_only["stripe"] is False


def test_a_gateway_event_verified_with_a_live_account_never_reaches_a_test_payment(
    mesh: Mesh, merchant: Merchant
) -> None:
    routed = merchant.test.put(
        "/v1/routing", json={"rules": [{"name": "all", "failover": {"processors": ["stripe"]}}]}
    )
    assert routed.status_code == 200, routed.text
    order_id = paid_order(merchant.test)
    assert mesh.stripe is not None
    [intent] = mesh.stripe.intents_with("payloops_order_id", order_id)
    [event] = [
        e
        for e in mesh.stripe.events_of("payment_intent.succeeded")
        if e.envelope["data"]["object"]["id"] == intent.id
    ]
    [live_account] = merchant.live.get("/v1/processor_accounts").json()["processor_accounts"]
    # Both accounts share the fake's webhook secret: the signature verifies with the live one.
    posted = httpx.post(
        f"{mesh.api_url}{live_account['webhook_path']}",
        content=event.body,
        headers={"Stripe-Signature": mesh.stripe.sign(event.body)},
    )
    assert posted.status_code == 200, posted.text
    assert sql(
        mesh,
        "select order_id, outcome from processor_events where processor = 'stripe' "
        "and event_id = :id",
        id=event.id,
    ) == [("", "unmatched")]
