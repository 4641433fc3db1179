"""Adding a gateway is configuration: the operator registers an adapter through the API (its
capabilities are read at once), merchants bring their own credentials (encrypted at rest,
never shown again, sent only on the calls that need them, test and live kept apart), and the
gateway's webhooks are verified by the adapter and wake the payment they are about."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from temporalio.api.enums.v1 import EventType

from core.contracts.payment import workflow_id
from payloops.processor.v1 import processor_pb2 as pb
from tests.conftest import Mesh, free_port
from tests.e2e.failover_helpers import clean_processors, wait_for
from tests.e2e.mesh_db import sql
from tests.e2e.scripted_gateway import (
    SIGNATURE_HEADER,
    ScriptedGateway,
    forget,
    serving,
    sign,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]

SECRET_KEY = "sk_scripted_" + "x" * 24


@pytest.fixture
def gateway(mesh: Mesh) -> Iterator[ScriptedGateway]:
    """A gateway that needs credentials, registered through the operator's API."""
    scripted = ScriptedGateway(credential_fields=("api_key", "webhook_secret"))
    with serving(scripted) as target:
        try:
            registered = admin(mesh).post(
                "/v1/processors", json={"name": scripted.name, "target": target, "deadline": "3s"}
            )
            assert registered.status_code == 200, registered.text
            yield scripted
        finally:
            forget(mesh, scripted.name)


def admin(mesh: Mesh) -> httpx.Client:
    return mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"])


def merchant(mesh: Mesh, gateway: ScriptedGateway, key: str | None = None) -> httpx.Client:
    """A merchant (the one whose test key is `key`, or a new one) routing to the gateway."""
    if key is None:
        _, key = mesh.new_merchant("own credentials")
    api = mesh.client(key)
    assert (
        api.put(
            "/v1/routing",
            json={
                "rules": [{"name": "all", "failover": {"processors": [gateway.name, "sandbox-b"]}}]
            },
        ).status_code
        == 200
    )
    return api


def add_account(api: httpx.Client, gateway: ScriptedGateway, api_key: str) -> dict:
    response = api.post(
        "/v1/processor_accounts",
        json={
            "processor": gateway.name,
            "credentials": {"api_key": api_key, "webhook_secret": f"whsec-{api_key}"},
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def pay(api: httpx.Client) -> dict:
    order = api.post("/v1/orders", json={"amount": 2100, "currency": "USD"}).json()
    response = api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_registration_reads_capabilities_and_needs_the_admin_key(
    mesh: Mesh, gateway: ScriptedGateway
) -> None:
    listed = {p["name"]: p for p in admin(mesh).get("/v1/processors").json()["processors"]}
    assert listed[gateway.name]["capabilities"]["credential_fields"] == [
        "api_key",
        "webhook_secret",
    ]
    assert listed[gateway.name]["deadline"] == "3s"
    as_merchant = mesh.client().get("/v1/processors")
    nobody = httpx.get(f"{mesh.api_url}/v1/processors")
    nowhere = admin(mesh).post(
        "/v1/processors", json={"name": "nowhere", "target": f"127.0.0.1:{free_port()}"}
    )
    bad = admin(mesh).post("/v1/processors", json={"name": "Bad Name", "target": "x"})
    assert (as_merchant.status_code, nobody.status_code) == (401, 401)
    assert nowhere.status_code == 400
    assert nowhere.json()["details"][0]["reason"] == "PROCESSOR_UNREACHABLE"
    assert bad.status_code == 400
    assert "nowhere" not in {
        p["name"] for p in admin(mesh).get("/v1/processors").json()["processors"]
    }


def test_credentials_reach_only_their_merchants_calls_and_are_never_shown(
    mesh: Mesh, gateway: ScriptedGateway
) -> None:
    owner, other = merchant(mesh, gateway), merchant(mesh, gateway)
    account = add_account(owner, gateway, SECRET_KEY)
    assert account["credential_fields"] == ["api_key", "webhook_secret"]
    assert SECRET_KEY not in json.dumps(account)
    assert SECRET_KEY not in owner.get("/v1/processor_accounts").text
    assert other.get("/v1/processor_accounts").json()["processor_accounts"] == []

    paid = pay(owner)
    assert [a["processor"] for a in paid["attempts"]] == [gateway.name]
    assert {
        (method, values["api_key"], live) for method, values, live in gateway.credentials_seen
    } == {("Authorize", SECRET_KEY, False)}

    # The merchant without an account never reaches the gateway: skipped, with the reason.
    elsewhere = pay(other)
    assert [a["processor"] for a in elsewhere["attempts"]] == ["sandbox-b"]
    assert {"processor": gateway.name, "decision": "skipped", "reason": "no_account"} in elsewhere[
        "routing"
    ]["candidates"]
    assert len(gateway.credentials_seen) == 1
    assert SECRET_KEY.encode() not in stored_credentials(mesh, account["id"])


def test_rotation_applies_to_the_next_payment_and_disabling_stops_routing(
    mesh: Mesh, gateway: ScriptedGateway
) -> None:
    api = merchant(mesh, gateway)
    account = add_account(api, gateway, "first-key")
    again = api.post(
        "/v1/processor_accounts",
        json={"processor": gateway.name, "credentials": {"api_key": "a", "webhook_secret": "b"}},
    )
    assert again.status_code == 400
    assert again.json()["details"][0]["reason"] == "PROCESSOR_ACCOUNT_EXISTS"
    missing = api.post(
        f"/v1/processor_accounts/{account['id']}:rotate",
        json={"credentials": {"api_key": "second-key"}},
    )
    assert missing.status_code == 400  # webhook_secret is required too
    rotated = api.post(
        f"/v1/processor_accounts/{account['id']}:rotate",
        json={"credentials": {"api_key": "second-key", "webhook_secret": "whsec-2"}},
    )
    assert rotated.status_code == 200, rotated.text
    pay(api)
    assert gateway.credentials_seen[-1][1]["api_key"] == "second-key"

    disabled = api.post(f"/v1/processor_accounts/{account['id']}:disable", json={})
    assert disabled.json()["enabled"] is False
    after = pay(api)
    assert [a["processor"] for a in after["attempts"]] == ["sandbox-b"]
    # Another merchant cannot touch the account: it does not exist for them.
    _, stranger_key = mesh.new_merchant("stranger")
    with mesh.client(stranger_key) as stranger:
        refused = stranger.post(f"/v1/processor_accounts/{account['id']}:disable", json={})
    assert refused.status_code == 404


def test_a_test_key_never_uses_live_credentials(mesh: Mesh, gateway: ScriptedGateway) -> None:
    _, test_key, live_key = mesh.new_live_merchant("own credentials")
    api = merchant(mesh, gateway, test_key)
    account = add_account(api, gateway, "test-only")
    with mesh.client(live_key) as live:
        assert live.get("/v1/processor_accounts").json()["processor_accounts"] == []
        rotate = live.post(
            f"/v1/processor_accounts/{account['id']}:rotate",
            json={"credentials": {"api_key": "live", "webhook_secret": "live"}},
        )
    assert rotate.status_code == 404


def test_a_merchant_sees_the_processors_it_can_use_and_whose_account_each_would_use(
    mesh: Mesh, gateway: ScriptedGateway
) -> None:
    _, test_key, live_key = mesh.new_live_merchant("available processors")
    api = mesh.client(test_key)

    def available(client: httpx.Client) -> dict[str, dict[str, Any]]:
        answer = client.get("/v1/available_processors")
        assert answer.status_code == 200, answer.text
        return {p["name"]: p for p in answer.json()["processors"]}

    before = available(api)
    assert before[gateway.name]["account_source"] == "NONE"
    assert before[gateway.name]["capabilities"]["credential_fields"] == [
        "api_key",
        "webhook_secret",
    ]
    assert before["sandbox"]["account_source"] == "NOT_NEEDED"
    # Where a processor runs is the operator's: the merchant's list does not say.
    assert "target" not in json.dumps(before)

    account = add_account(api, gateway, SECRET_KEY)
    after = available(api)[gateway.name]
    assert (after["account_source"], after["processor_account"]) == ("OWN", account["id"])
    assert SECRET_KEY not in api.get("/v1/available_processors").text

    # Live: the test account is not live's, and test-only processors are not offered.
    with mesh.client(live_key) as live:
        in_live = available(live)
    assert in_live[gateway.name]["account_source"] == "NONE"
    assert not [p for p in in_live.values() if p["capabilities"]["test_only"]]
    assert "sandbox" not in in_live


def test_a_verified_webhook_wakes_the_payment_once_and_a_forged_one_changes_nothing(
    mesh: Mesh, gateway: ScriptedGateway
) -> None:
    api = merchant(mesh, gateway)
    account = add_account(api, gateway, "webhooks")

    def challenge(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> Any:
        payment = gateway.charge(
            request.attempt_key, outcome=pb.OUTCOME_REQUIRES_ACTION, amount=request.amount
        )
        payment.next_action.redirect_url = "https://gateway.example/3ds"
        return pb.AuthorizeResponse(payment=payment)

    gateway.scripts["Authorize"] = challenge
    paid = pay(api)
    assert paid["status"] == "REQUIRES_ACTION"
    attempt_key = paid["attempts"][0]["attempt_key"]
    url = f"{mesh.api_url}{account['webhook_path']}"
    body = json.dumps(
        {"id": f"evt_{uuid.uuid4().hex}", "type": "payment.succeeded", "attempt_key": attempt_key}
    ).encode()

    forged = httpx.post(url, content=body, headers={SIGNATURE_HEADER: "0" * 64})
    assert forged.status_code == 400
    assert forged.json()["details"][0]["reason"] == "WEBHOOK_SIGNATURE_INVALID"
    assert events(mesh, attempt_key) == []

    assert gateway.payment is not None
    gateway.payment.outcome = pb.OUTCOME_SUCCEEDED  # the customer finished the challenge
    gateway.payment.amount_captured = gateway.payment.amount
    signed = {SIGNATURE_HEADER: sign("whsec-webhooks", body), "content-type": "application/json"}
    first = httpx.post(url, content=body, headers=signed)
    retried = httpx.post(url, content=body, headers=signed)  # the gateway's own retry
    assert (first.status_code, retried.status_code) == (200, 200)
    assert events(mesh, attempt_key) == ["delivered"]
    order = wait_for(api, paid["id"], lambda o: o["status"] == "SUCCEEDED")
    assert order["status"] == "SUCCEEDED"
    assert asyncio.run(signals(mesh, paid["id"])) == 1


def test_an_event_about_an_unknown_payment_is_acknowledged_and_recorded(
    mesh: Mesh, gateway: ScriptedGateway
) -> None:
    api = merchant(mesh, gateway)
    account = add_account(api, gateway, "unknown")
    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "payment.succeeded",
            "attempt_key": "ord_elsewhere:authorize:x:1",
        }
    ).encode()
    response = httpx.post(
        f"{mesh.api_url}{account['webhook_path']}",
        content=body,
        headers={SIGNATURE_HEADER: sign("whsec-unknown", body)},
    )
    assert response.status_code == 200
    assert events(mesh, "ord_elsewhere:authorize:x:1") == ["unmatched"]


def stored_credentials(mesh: Mesh, account_id: str) -> bytes:
    return bytes(
        sql(mesh, "select credentials from processor_accounts where id = :id", id=account_id)[0][0]
    )


def events(mesh: Mesh, attempt_key: str) -> list[str]:
    return [
        row[0]
        for row in sql(
            mesh, "select outcome from processor_events where attempt_key = :k", k=attempt_key
        )
    ]


async def signals(mesh: Mesh, order_id: str) -> int:
    client = await mesh.temporal()
    history = await client.get_workflow_handle(workflow_id(order_id)).fetch_history()
    return sum(
        1
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    )
