"""Token-aware routing with a third-party gateway whose tokens are its own (`tok_…`): the API
takes them, routing sends them only to that gateway, and when it cannot take the payment (its
breaker open, its soft decline) nothing is sent to the sandbox, which does not know its tokens.
The order's failure code is the meaningful one, and the route plan says why the sandbox was
skipped. `sandbox-b` declares its own tokens (`pm_card_`) and raw cards."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest

from payloops.processor.v1 import processor_pb2 as pb
from tests.conftest import Mesh
from tests.e2e.failover_helpers import clean_processors
from tests.e2e.mesh_db import sql
from tests.e2e.scripted_gateway import ScriptedGateway, scripted_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]

TOKEN = "tok_1NdGx8ThirdParty"


def routed(mesh: Mesh, *processors: str) -> httpx.Client:
    _, key = mesh.new_merchant("gateway tokens")
    api = mesh.client(key)
    response = api.put(
        "/v1/routing",
        json={"rules": [{"name": "all", "failover": {"processors": list(processors)}}]},
    )
    assert response.status_code == 200, response.text
    return api


def pay(api: httpx.Client, token: str = TOKEN) -> dict[str, Any]:
    order = api.post("/v1/orders", json={"amount": 1500, "currency": "USD"}).json()
    response = api.post(
        f"/v1/orders/{order['id']}:pay", json={"payment_method": {"type": "card", "token": token}}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def candidates(order: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["processor"], c["decision"], c["reason"]) for c in order["routing"]["candidates"]]


def attempts(order: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["processor"], a["outcome"]) for a in order.get("attempts", [])]


def soft_decline(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> Any:
    gateway.payment = pb.Payment(
        attempt_key=request.attempt_key,
        processor_reference="sp_declined",
        outcome=pb.OUTCOME_DECLINED,
        decline=pb.Decline(code="try_again_later", soft=True, message="issuer unavailable"),
        amount=request.amount,
        currency=request.currency,
    )
    return pb.AuthorizeResponse(payment=gateway.payment)


def test_a_gateway_token_is_paid_at_its_gateway_and_never_offered_to_the_sandbox(
    mesh: Mesh,
) -> None:
    with scripted_gateway(mesh, token_prefixes=("tok_",)) as gateway:
        api = routed(mesh, "sandbox-b", gateway.name)
        paid = pay(api)
    assert paid["status"] == "SUCCEEDED", paid
    assert attempts(paid) == [(gateway.name, "SUCCEEDED")]
    assert candidates(paid) == [
        (gateway.name, "candidate", "rule_order"),
        ("sandbox-b", "skipped", "payment_method_unsupported"),
    ]
    assert gateway.count("Authorize") == 1


def test_with_its_breaker_open_the_payment_is_not_sent_to_the_sandbox(mesh: Mesh) -> None:
    with scripted_gateway(mesh, token_prefixes=("tok_",)) as gateway:
        sql(
            mesh,
            "insert into processor_health (processor, state, consecutive_failures, "
            "window_started_at, opened_at, updated_at) "
            "values (:name, 'open', 5, now(), now(), now())",
            name=gateway.name,
        )
        api = routed(mesh, gateway.name, "sandbox-b")
        failed = pay(api)
    assert failed["status"] == "FAILED", failed
    # The gateway that could take it is down: that is why it failed, not the sandbox's
    # ignorance of the token (before, the sandbox was called: "unknown_payment_method").
    assert failed["failure_code"] == "no_processor_available"
    assert attempts(failed) == []
    assert candidates(failed) == [
        (gateway.name, "skipped", "circuit_open"),
        ("sandbox-b", "skipped", "payment_method_unsupported"),
    ]
    assert gateway.count("Authorize") == 0


def test_after_its_soft_decline_the_payment_is_not_failed_over_to_the_sandbox(
    mesh: Mesh,
) -> None:
    with scripted_gateway(mesh, token_prefixes=("tok_",)) as gateway:
        gateway.scripts["Authorize"] = soft_decline
        api = routed(mesh, gateway.name, "sandbox-b")
        failed = pay(api)
    assert failed["status"] == "FAILED", failed
    # The last meaningful answer: the gateway's own soft decline.
    assert failed["failure_code"] == "try_again_later"
    assert attempts(failed) == [(gateway.name, "DECLINED")]
    assert ("sandbox-b", "skipped", "payment_method_unsupported") in candidates(failed)


def test_a_token_no_routed_gateway_issued_fails_as_payment_method_unsupported(
    mesh: Mesh,
) -> None:
    api = routed(mesh, "sandbox-b", "sandbox-c")
    failed = pay(api, "tok_issued_elsewhere")
    assert failed["status"] == "FAILED", failed
    assert failed["failure_code"] == "payment_method_unsupported"
    assert attempts(failed) == []
    assert candidates(failed) == [
        ("sandbox-b", "skipped", "payment_method_unsupported"),
        ("sandbox-c", "skipped", "payment_method_unsupported"),
    ]
