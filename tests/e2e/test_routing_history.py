"""Routing versions, rollback, the simulator and what-if through the real mesh, over REST and
native gRPC: history only grows, a rollback routes the next real payment, the simulator answers
what the worker decides, a draft is validated as a save is, and what-if replays this merchant's
own payments of this mode only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from payloops.v1 import routing_pb2, routing_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.failover_helpers import clean_processors, pay, settled, wait_for
from tests.e2e.people import create_user, reason, signed_in

pytestmark = pytest.mark.e2e
__all__ = ["clean_processors"]  # a fixture these tests use


def only(*processors: str, name: str = "all") -> dict[str, Any]:
    return {"rules": [{"name": name, "failover": {"processors": list(processors)}}]}


# Payments with plan=pro from a US card go to sandbox-c then sandbox; the rest to sandbox-b.
BY_PLAN: dict[str, Any] = {
    "rules": [
        {
            "name": "pro_us",
            "conditions": {"card_countries": ["US"], "metadata": {"plan": "pro"}},
            "failover": {"processors": ["sandbox-c", "sandbox"]},
        },
        {"name": "rest", "failover": {"processors": ["sandbox-b", "*"]}},
    ]
}


@pytest.fixture
def api(mesh: Mesh, clean_processors: None) -> Iterator[httpx.Client]:
    _, key = mesh.new_merchant("routing history")
    with mesh.client(key) as client:
        yield client


def put(api: httpx.Client, config: dict[str, Any]) -> dict[str, Any]:
    response = api.put("/v1/routing", json=config)
    assert response.status_code == 200, response.text
    saved: dict[str, Any] = response.json()
    return saved


def reasons(response: httpx.Response) -> tuple[str, dict[str, str]]:
    details = response.json()["details"]
    info = next(d for d in details if d["@type"].endswith("google.rpc.ErrorInfo"))
    bad = next((d for d in details if d["@type"].endswith("google.rpc.BadRequest")), None)
    fields = {v["field"]: v["reason"] for v in bad["field_violations"]} if bad else {}
    return info["reason"], fields


def paid(api: httpx.Client, token: str = "pm_card_visa", **order: Any) -> dict[str, Any]:
    created = api.post("/v1/orders", json={"amount": 1500, "currency": "USD", **order})
    assert created.status_code == 200, created.text
    order_id = created.json()["id"]
    answer = api.post(
        f"/v1/orders/{order_id}:pay", json={"payment_method": {"type": "card", "token": token}}
    )
    assert answer.status_code == 200, answer.text
    done: dict[str, Any] = wait_for(api, order_id, settled)
    return done


def test_versions_are_listed_newest_first_over_pages_and_read_one_by_one(
    api: httpx.Client, mesh: Mesh
) -> None:
    saved = [put(api, only(name)) for name in ("sandbox", "sandbox-b", "sandbox-c")]
    first = api.get("/v1/routing/versions", params={"page_size": 2})
    assert first.status_code == 200, first.text
    assert first.json()["routing_configs"] == [saved[2], saved[1]]
    token = first.json()["next_page_token"]
    second = api.get("/v1/routing/versions", params={"page_size": 2, "page_token": token}).json()
    assert second["routing_configs"] == [saved[0]]
    assert second["next_page_token"] == ""

    assert api.get("/v1/routing/versions/2").json() == saved[1]
    default = api.get("/v1/routing/versions/0").json()
    assert (default["version"], [r["name"] for r in default["rules"]]) == (
        "0",
        ["inr", "usd_eur", "default"],
    )
    missing = api.get("/v1/routing/versions/4")
    assert missing.status_code == 404
    assert reasons(missing) == ("ROUTING_CONFIG_VERSION_NOT_FOUND", {})
    # Another merchant has versions of its own, and none of these.
    _, other_key = mesh.new_merchant("routing history elsewhere")
    with mesh.client(other_key) as other:
        assert other.get("/v1/routing/versions").json()["routing_configs"] == []
        assert other.get("/v1/routing/versions/1").status_code == 404
        refused = other.get("/v1/routing/versions", params={"page_token": token})
        assert reasons(refused)[0] == "PAGE_TOKEN_INVALID"


def test_a_rollback_is_a_new_version_that_routes_the_next_real_payment(
    api: httpx.Client,
) -> None:
    put(api, only("sandbox-b", "sandbox"))
    put(api, only("sandbox-c", "sandbox"))
    assert paid(api)["attempts"][0]["processor"] == "sandbox-c"

    headers = {"Idempotency-Key": "rollback-to-1"}
    rolled = api.post("/v1/routing/versions/1:rollback", json={}, headers=headers)
    assert rolled.status_code == 200, rolled.text
    again = api.post("/v1/routing/versions/1:rollback", json={}, headers=headers)
    assert again.json() == rolled.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert rolled.json()["version"] == "3"
    assert rolled.json()["rules"] == api.get("/v1/routing/versions/1").json()["rules"]
    assert [v["version"] for v in api.get("/v1/routing/versions").json()["routing_configs"]] == [
        "3",
        "2",
        "1",
    ]

    order = paid(api)
    assert order["attempts"][0]["processor"] == "sandbox-b"
    assert order["routing"]["config_version"] == "3"
    audit = api.get("/v1/audit_log", params={"action": "routing.rolled_back"}).json()
    [entry] = audit["audit_entries"]
    assert (entry["target"]["id"], entry["details"]) == (
        "3",
        {"version": 3, "restored_version": 1},
    )
    missing = api.post("/v1/routing/versions/9:rollback", json={})
    assert reasons(missing) == ("ROUTING_CONFIG_VERSION_NOT_FOUND", {})


def simulated(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/routing:simulate", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_the_simulator_answers_what_the_worker_decided_for_the_same_payment(
    api: httpx.Client,
) -> None:
    put(api, BY_PLAN)
    real = paid(api, metadata={"plan": "pro"})
    by_token = simulated(
        api,
        payment={
            "amount": "1500",
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "metadata": {"plan": "pro"},
        },
    )
    routing = real["routing"]
    assert (by_token["config_version"], by_token["rule"], by_token["candidates"]) == (
        routing["config_version"],
        routing["rule"],
        routing["candidates"],
    )
    assert routing["rule"] == "pro_us"
    assert [c["processor"] for c in routing["candidates"]] == ["sandbox-c", "sandbox"]
    assert real["attempts"][0]["processor"] == "sandbox-c"
    # The same card described by its facts instead of a token routes the same way.
    by_facts = simulated(
        api,
        payment={
            "amount": "1500",
            "currency": "USD",
            "card_network": "visa",
            "card_country": "us",
            "metadata": {"plan": "pro"},
        },
    )
    assert by_facts["candidates"] == routing["candidates"]
    assert by_facts["first_choice_shares"] == [
        {"processor": "sandbox-c", "share": 1},
        {"processor": "sandbox", "share": 0},
    ]
    other = paid(api, metadata={"plan": "free"})
    free = simulated(
        api,
        payment={"amount": "1500", "currency": "USD", "payment_method": "pm_card_visa"},
    )
    assert (free["rule"], free["candidates"]) == ("rest", other["routing"]["candidates"])


def test_a_draft_is_simulated_without_being_saved_and_a_split_says_its_odds(
    api: httpx.Client,
) -> None:
    put(api, only("sandbox"))
    draft = {
        "rules": [
            {
                "name": "split",
                "split": {
                    "targets": [
                        {"processor": "sandbox-b", "weight": 30},
                        {"processor": "sandbox-c", "weight": 70},
                    ]
                },
            }
        ]
    }
    answer = simulated(api, payment={"amount": "2500", "currency": "EUR"}, routing_config=draft)
    assert (answer["draft"], answer["config_version"], answer["rule"]) == (True, "0", "split")
    assert [(c["processor"], c["reason"]) for c in answer["candidates"]] == [
        ("sandbox-c", "split_draw"),
        ("sandbox-b", "fallback"),
    ]
    assert answer["first_choice_shares"] == [
        {"processor": "sandbox-c", "share": 0.7},
        {"processor": "sandbox-b", "share": 0.3},
    ]
    assert api.get("/v1/routing").json()["version"] == "1"
    nothing = simulated(
        api,
        payment={"amount": "2500", "currency": "EUR"},
        routing_config={
            "rules": [
                {
                    "name": "inr_only",
                    "conditions": {"currencies": ["INR"]},
                    "failover": {"processors": ["sandbox"]},
                }
            ]
        },
    )
    assert (nothing["rule"], nothing["candidates"], nothing["failure_code"]) == (
        "",
        [],
        "routing_no_match",
    )


BROKEN: dict[str, Any] = {
    "rules": [
        {"name": "r", "split": {"targets": [{"processor": "sandbox", "weight": 90}]}},
        {"name": "r", "failover": {"processors": ["stripe_eu"]}},
    ],
    "max_attempts": 11,
}


def test_a_draft_with_errors_answers_the_violations_a_save_would(api: httpx.Client) -> None:
    saved = api.put("/v1/routing", json=BROKEN)
    expected = reasons(saved)
    assert expected == (
        "INVALID_REQUEST",
        {
            "rules[0].split.targets": "SPLIT_WEIGHTS_NOT_100",
            "rules[1].name": "RULE_NAME_DUPLICATE",
            "rules[1].failover.processors[0]": "PROCESSOR_UNKNOWN",
            "max_attempts": "MAX_ATTEMPTS_OUT_OF_RANGE",
        },
    )
    simulate = api.post(
        "/v1/routing:simulate",
        json={"payment": {"amount": "100", "currency": "USD"}, "routing_config": BROKEN},
    )
    what_if = api.post("/v1/routing:what_if", json={"routing_config": BROKEN})
    assert (simulate.status_code, what_if.status_code) == (400, 400)
    assert reasons(simulate) == reasons(what_if) == expected
    # The payment and the window are checked beside the draft, each under its own field.
    bad_payment = api.post(
        "/v1/routing:simulate",
        json={"payment": {"amount": "0", "currency": "XXY", "card_network": "visaa"}},
    )
    assert reasons(bad_payment) == (
        "INVALID_REQUEST",
        {
            "payment.amount": "AMOUNT_INVALID",
            "payment.currency": "CURRENCY_UNKNOWN",
            "payment.card_network": "CARD_NETWORK_UNKNOWN",
        },
    )
    too_long = api.post("/v1/routing:what_if", json={"routing_config": only("sandbox"), "days": 31})
    assert reasons(too_long) == ("INVALID_REQUEST", {"days": "DAYS_OUT_OF_RANGE"})


def test_what_if_replays_this_merchants_payments_of_this_mode_only(
    mesh: Mesh, clean_processors: None
) -> None:
    _, test_key, live_key = mesh.new_live_merchant("what-if")
    _, stranger_key = mesh.new_merchant("what-if stranger")
    with (
        mesh.client(test_key) as api,
        mesh.client(live_key) as live,
        mesh.client(stranger_key) as stranger,
    ):
        put(api, only("sandbox"))
        for metadata, token in (
            ({"plan": "pro"}, "pm_card_visa"),
            ({"plan": "pro"}, "pm_card_declined"),
            ({"plan": "free"}, "pm_card_visa"),
        ):
            paid(api, token, metadata=metadata)
        api.post("/v1/orders", json={"amount": 999, "currency": "USD"})  # never paid
        # Another merchant's and the other mode's payments, never replayed here.
        put(stranger, only("sandbox"))
        pay(stranger)
        put(live, only("sandbox"))
        assert paid(live)["status"] == "FAILED"  # the sandbox takes no live payment

        draft = {"rules": [BY_PLAN["rules"][0], *only("sandbox")["rules"]]}
        response = api.post("/v1/routing:what_if", json={"routing_config": draft, "days": 1})
        assert response.status_code == 200, response.text
        answer = response.json()
        live_answer = live.post("/v1/routing:what_if", json={"routing_config": only("sandbox")})
        assert live_answer.status_code == 200, live_answer.text

    assert (answer["payments"], answer["truncated"]) == ("3", False)
    assert answer["splits"] == [
        {
            "processor": "sandbox",
            "currency": "USD",
            "actual_payments": "3",
            "actual_amount": "4500",
            "draft_payments": "1",
            "draft_amount": "1500",
        },
        {
            "processor": "sandbox-c",
            "currency": "USD",
            "actual_payments": "0",
            "actual_amount": "0",
            "draft_payments": "2",
            "draft_amount": "3000",
        },
    ]
    assert answer["processor_rates"] == [
        {"processor": "sandbox", "attempts": "3", "successes": "2", "success_rate": 2 / 3}
    ]
    # sandbox-c has no history here: only the payment the draft leaves at sandbox is estimated.
    assert answer["actual_expected_success_rate"] == pytest.approx(2 / 3)
    assert answer["draft_expected_success_rate"] == pytest.approx(2 / 3)
    # The live mode's one payment: routed (nothing took it), and alone in its replay.
    live_body = live_answer.json()
    assert live_body["payments"] == "1"
    assert [(s["processor"], s["actual_payments"]) for s in live_body["splits"]] == [("", "1")]


def test_a_viewer_and_a_read_only_key_simulate_and_replay_but_change_nothing(
    mesh: Mesh, clean_processors: None
) -> None:
    """Simulating and replaying change nothing, so whoever may read the routing may run them;
    saving and rolling back stay refused."""
    merchant_id, key = mesh.new_merchant("routing readers")
    viewer = signed_in(mesh, create_user(mesh, merchant_id, "viewer")).access_token
    with mesh.client(key) as owner_key:
        saved = put(owner_key, only("sandbox"))
        created = owner_key.post("/v1/api_keys", json={"read_only": True})
        assert created.status_code == 200, created.text
        read_only_key = created.json()["secret"]
    for caller, refusal in ((viewer, "ROLE_FORBIDDEN"), (read_only_key, "API_KEY_READ_ONLY")):
        with mesh.client(caller) as api:
            answer = simulated(
                api,
                payment={"amount": "1500", "currency": "USD", "payment_method": "pm_card_visa"},
            )
            assert (answer["config_version"], answer["rule"]) == (saved["version"], "all")
            what_if = api.post(
                "/v1/routing:what_if", json={"routing_config": only("sandbox-b"), "days": 1}
            )
            assert what_if.status_code == 200, what_if.text
            for verb, path, body in (
                ("PUT", "/v1/routing", only("sandbox-b")),
                ("POST", f"/v1/routing/versions/{saved['version']}:rollback", {}),
            ):
                refused = api.request(verb, path, json=body)
                assert (refused.status_code, reason(refused)) == (403, refusal), refused.text
            assert api.get("/v1/routing").json()["version"] == saved["version"]


def grpc_error(error: grpc.RpcError) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    bad = error_details_pb2.BadRequest()
    for detail in status.details:
        if detail.Is(info.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(bad.DESCRIPTOR):
            detail.Unpack(bad)
    fields = {v.field: v.reason for v in bad.field_violations}
    return error.code(), info.reason, fields


def test_the_same_calls_over_native_grpc(mesh: Mesh, api: httpx.Client) -> None:
    key = api.headers["Authorization"].removeprefix("Bearer ")
    stub = routing_pb2_grpc.RoutingServiceStub(grpc.insecure_channel(mesh.grpc_target))
    auth = (("authorization", f"Bearer {key}"),)
    put(api, only("sandbox-b", "sandbox"))
    put(api, BY_PLAN)

    listed = stub.ListRoutingConfigVersions(
        routing_pb2.ListRoutingConfigVersionsRequest(page_size=1), metadata=auth, timeout=30
    )
    assert [c.version for c in listed.routing_configs] == [2]
    assert listed.next_page_token
    one = stub.GetRoutingConfigVersion(
        routing_pb2.GetRoutingConfigVersionRequest(version=1), metadata=auth, timeout=30
    )
    assert list(one.rules[0].failover.processors) == ["sandbox-b", "sandbox"]

    real = paid(api, metadata={"plan": "pro"})
    answer = stub.SimulateRouting(
        routing_pb2.SimulateRoutingRequest(
            payment=routing_pb2.SimulatedPayment(
                amount=1500, currency="USD", payment_method="pm_card_visa", metadata={"plan": "pro"}
            )
        ),
        metadata=auth,
        timeout=30,
    )
    assert answer.rule == real["routing"]["rule"] == "pro_us"
    assert [(c.processor, c.decision, c.reason) for c in answer.candidates] == [
        (c["processor"], c["decision"], c["reason"]) for c in real["routing"]["candidates"]
    ]

    rolled = stub.RollbackRoutingConfig(
        routing_pb2.RollbackRoutingConfigRequest(version=1),
        metadata=(*auth, ("idempotency-key", "grpc-rollback")),
        timeout=30,
    )
    assert rolled.version == 3
    assert paid(api)["attempts"][0]["processor"] == "sandbox-b"

    what_if = stub.WhatIfRouting(
        routing_pb2.WhatIfRoutingRequest(
            routing_config=routing_pb2.RoutingConfig(
                rules=[
                    routing_pb2.RoutingRule(
                        name="all", failover=routing_pb2.FailoverTarget(processors=["sandbox-c"])
                    )
                ]
            )
        ),
        metadata=auth,
        timeout=30,
    )
    assert what_if.payments == 2
    assert {(s.processor, s.actual_payments, s.draft_payments) for s in what_if.splits} == {
        ("sandbox-c", 1, 2),
        ("sandbox-b", 1, 0),
    }

    with pytest.raises(grpc.RpcError) as refused:
        stub.SimulateRouting(
            routing_pb2.SimulateRoutingRequest(
                payment=routing_pb2.SimulatedPayment(amount=100, currency="USD"),
                routing_config=routing_pb2.RoutingConfig(),
            ),
            metadata=auth,
            timeout=30,
        )
    assert grpc_error(refused.value) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_REQUEST",
        {"rules": "RULES_EMPTY"},
    )
    with pytest.raises(grpc.RpcError) as missing:
        stub.GetRoutingConfigVersion(
            routing_pb2.GetRoutingConfigVersionRequest(version=7), metadata=auth, timeout=30
        )
    assert grpc_error(missing.value)[:2] == (
        grpc.StatusCode.NOT_FOUND,
        "ROUTING_CONFIG_VERSION_NOT_FOUND",
    )
