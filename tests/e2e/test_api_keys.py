"""API keys a merchant manages itself, through Envoy's REST listener and over native gRPC:
create (the secret once), list (never a secret), roll with an overlap, revoke (refused from the
next request on, on every edge process), read-only keys, and the walls between merchants and
modes."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from payloops.v1 import (
    api_keys_pb2,
    api_keys_pb2_grpc,
    merchants_pb2,
    merchants_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
)
from tests.conftest import PAYLOOPS, REPO, Mesh
from tests.e2e.api_surface import operations
from tests.e2e.mesh_db import sql
from tests.e2e.second_edge import SecondEdge, start_second_edge

pytestmark = pytest.mark.e2e


def reason(response: httpx.Response) -> str:
    infos = [d for d in response.json()["details"] if d["@type"].endswith("ErrorInfo")]
    return str(infos[0]["reason"])


def grpc_reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return info.reason


@pytest.fixture
def second_edge(mesh: Mesh) -> Iterator[SecondEdge]:
    with start_second_edge(mesh) as edge:
        yield edge


@pytest.fixture
def merchant_key(mesh: Mesh) -> str:
    return mesh.new_merchant("keys")[1]


def create(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    made = api.post("/v1/api_keys", json=fields)
    assert made.status_code == 200, made.text
    body: dict[str, Any] = made.json()
    return body


def listed(api: httpx.Client) -> dict[str, dict[str, Any]]:
    answer = api.get("/v1/api_keys")
    assert answer.status_code == 200, answer.text
    return {key["id"]: key for key in answer.json()["api_keys"]}


def test_a_created_key_shows_its_secret_once_and_works(mesh: Mesh, merchant_key: str) -> None:
    with mesh.client(merchant_key) as api:
        made = create(api, name="ci deploys")
        assert made["secret"].startswith("sk_test_")
        assert made["prefix"] == made["secret"][:12]
        assert (made["name"], made["kind"], made.get("livemode", False)) == (
            "ci deploys",
            "SECRET",
            False,
        )
        keys = listed(api)
        assert made["id"] in keys
        assert not any(key.get("secret") for key in keys.values())
        # Existing keys (made before this feature) are listed too.
        assert len(keys) == 2
    with mesh.client(made["secret"]) as new:
        assert new.get("/v1/orders").status_code == 200


def test_an_idempotent_create_replays_without_the_secret(mesh: Mesh, merchant_key: str) -> None:
    with mesh.client(merchant_key, **{"Idempotency-Key": "key-create-1"}) as api:
        first = create(api, name="once")
        again = create(api, name="once")
    assert again["id"] == first["id"]
    assert first["secret"] and not again.get("secret")
    rows = sql(mesh, "select response from idempotency_keys where key = 'key-create-1'")
    assert first["secret"].encode() not in bytes(rows[0][0])


def test_a_rolled_key_works_for_its_overlap_then_stops(mesh: Mesh, merchant_key: str) -> None:
    with mesh.client(merchant_key) as api:
        old = create(api, name="rolling")
        rolled = api.post(f"/v1/api_keys/{old['id']}:roll", json={"overlap": "3s"})
        assert rolled.status_code == 200, rolled.text
        new = rolled.json()
        assert new["id"] != old["id"] and new["name"] == "rolling"
        assert new["secret"] != old["secret"]
        assert listed(api)[old["id"]]["expire_time"]
    with mesh.client(old["secret"]) as old_api, mesh.client(new["secret"]) as new_api:
        assert old_api.get("/v1/orders").status_code == 200
        assert new_api.get("/v1/orders").status_code == 200
        time.sleep(3.5)
        expired = old_api.get("/v1/orders")
        assert (expired.status_code, reason(expired)) == (401, "API_KEY_EXPIRED")
        assert new_api.get("/v1/orders").status_code == 200


def test_a_roll_with_no_overlap_stops_the_old_key_at_once(mesh: Mesh, merchant_key: str) -> None:
    with mesh.client(merchant_key) as api:
        old = create(api)
        assert api.post(f"/v1/api_keys/{old['id']}:roll", json={}).status_code == 200
        too_long = api.post(f"/v1/api_keys/{old['id']}:roll", json={"overlap": "604801s"})
        assert too_long.status_code == 400
    with mesh.client(old["secret"]) as old_api:
        answer = old_api.get("/v1/orders")
        assert (answer.status_code, reason(answer)) == (401, "API_KEY_EXPIRED")


def test_a_revoked_key_is_refused_on_the_next_request_on_every_edge(
    mesh: Mesh, merchant_key: str, second_edge: SecondEdge
) -> None:
    with mesh.client(merchant_key) as api:
        victim = create(api, name="leaked")
    metadata = (("authorization", f"Bearer {victim['secret']}"),)
    orders = [
        orders_pb2_grpc.OrderServiceStub(grpc.insecure_channel(target))
        for target in (mesh.env["PAYLOOPS_EDGE_TARGET"], second_edge.target)
    ]
    for stub in orders:
        stub.ListOrders(orders_pb2.ListOrdersRequest(), metadata=metadata, timeout=10)
    with mesh.client(merchant_key) as api:
        revoked = api.post(f"/v1/api_keys/{victim['id']}:revoke", json={})
        assert revoked.status_code == 200 and revoked.json()["revoke_time"]
    for stub in orders:
        with pytest.raises(grpc.RpcError) as refused:
            stub.ListOrders(orders_pb2.ListOrdersRequest(), metadata=metadata, timeout=10)
        assert grpc_reason(refused.value) == "API_KEY_REVOKED"


def test_the_same_api_over_native_grpc(mesh: Mesh, merchant_key: str) -> None:
    stub = api_keys_pb2_grpc.ApiKeyServiceStub(grpc.insecure_channel(mesh.grpc_target))
    auth = (("authorization", f"Bearer {merchant_key}"),)
    made = stub.CreateApiKey(
        api_keys_pb2.CreateApiKeyRequest(api_key=api_keys_pb2.ApiKey(name="grpc")),
        metadata=auth,
        timeout=10,
    )
    assert made.secret.startswith("sk_test_")
    keys = stub.ListApiKeys(api_keys_pb2.ListApiKeysRequest(), metadata=auth, timeout=10)
    assert made.id in {key.id for key in keys.api_keys}
    assert not any(key.secret for key in keys.api_keys)
    rolled = stub.RollApiKey(
        api_keys_pb2.RollApiKeyRequest(api_key=made.id), metadata=auth, timeout=10
    )
    assert rolled.secret and rolled.id != made.id
    revoked = stub.RevokeApiKey(
        api_keys_pb2.RevokeApiKeyRequest(api_key=rolled.id), metadata=auth, timeout=10
    )
    assert revoked.HasField("revoke_time")


def test_last_used_moves_without_a_write_per_request(mesh: Mesh, merchant_key: str) -> None:
    with mesh.client(merchant_key) as api:
        made = create(api)
        assert "last_used_time" not in listed(api)[made["id"]]
        with mesh.client(made["secret"]) as used:
            assert used.get("/v1/orders").status_code == 200
        # Written by the edge's next flush, a few seconds later.
        deadline = time.monotonic() + 30
        while "last_used_time" not in listed(api)[made["id"]]:
            assert time.monotonic() < deadline, "last used was never recorded"
            time.sleep(0.5)


def test_another_merchants_or_modes_keys_are_not_found(mesh: Mesh, merchant_key: str) -> None:
    _, test_key, live_key = mesh.new_live_merchant("keys stranger")
    with mesh.client(merchant_key) as api:
        mine = create(api)
    for other in (test_key, live_key):
        with mesh.client(other) as stranger:
            assert mine["id"] not in listed(stranger)
            for action in ("roll", "revoke"):
                answer = stranger.post(f"/v1/api_keys/{mine['id']}:{action}", json={})
                assert (answer.status_code, reason(answer)) == (404, "API_KEY_NOT_FOUND")
    with mesh.client(live_key) as live:
        made = create(live, livemode=True)
        assert made["secret"].startswith("sk_live_")
        other_mode = live.post("/v1/api_keys", json={"livemode": False})
        assert (other_mode.status_code, reason(other_mode)) == (403, "API_KEY_OTHER_MODE")
    with mesh.client(test_key) as test:
        assert made["id"] not in listed(test)
        other_mode = test.post("/v1/api_keys", json={"livemode": True})
        assert (other_mode.status_code, reason(other_mode)) == (403, "API_KEY_OTHER_MODE")


def test_a_read_only_key_reads_and_is_refused_every_change(mesh: Mesh, merchant_key: str) -> None:
    with mesh.client(merchant_key) as api:
        reader = create(api, read_only=True)
        assert reader["read_only"] is True
    metadata = (("authorization", f"Bearer {reader['secret']}"),)
    channel = grpc.insecure_channel(mesh.env["PAYLOOPS_EDGE_TARGET"])
    answers = {}
    for operation in operations():
        if not operation.bindings or operation.method.containing_service.name in (
            "HealthService",
            "MerchantService",
            "ProcessorService",
            "ProcessorWebhookService",
            # Sign-in takes no key; users are the dashboard's (no API key manages them).
            "SessionService",
            "UserService",
            # The vault's, with a publishable key only (tests/e2e/test_vault.py).
            "TokenService",
        ):
            continue  # not a merchant key's to call at all
        call: grpc.UnaryUnaryMultiCallable[Message, bytes] = channel.unary_unary(
            operation.grpc_path,
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=lambda raw: raw,
        )
        try:
            call(operation.new_request(), metadata=metadata, timeout=10)
            answers[str(operation)] = "OK"
        except grpc.RpcError as error:
            answers[str(operation)] = grpc_reason(error)
    refused = {name for name, answer in answers.items() if answer == "API_KEY_READ_ONLY"}
    changes = {str(operation) for operation in operations() if not operation.reads_only} & set(
        answers
    )
    assert refused == changes, answers
    assert len(answers) > 10 and len(changes) > 5
    assert "payloops.v1.RoutingService.WhatIfRouting" not in refused
    with mesh.client(reader["secret"]) as read_only:
        answer = read_only.post("/v1/orders", json={"amount": 100, "currency": "EUR"})
        assert (answer.status_code, reason(answer)) == (403, "API_KEY_READ_ONLY")
        assert read_only.get("/v1/orders").status_code == 200


# -- the platform operator's merchants -------------------------------------------------------


def test_merchants_are_created_with_the_admin_key_only(mesh: Mesh, merchant_key: str) -> None:
    body = {"merchant": {"name": "made over the API"}, "live": True}
    with mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"]) as admin:
        made = admin.post("/v1/merchants", json=body)
        assert made.status_code == 200, made.text
        nameless = admin.post("/v1/merchants", json={"merchant": {"name": " "}})
        assert nameless.status_code == 400
    merchant = made.json()
    secrets = {bool(key.get("livemode")): key["secret"] for key in merchant["api_keys"]}
    assert secrets[False].startswith("sk_test_") and secrets[True].startswith("sk_live_")
    for secret in secrets.values():
        with mesh.client(secret) as api:
            assert api.get("/v1/orders").status_code == 200
    with mesh.client(merchant_key) as api:
        refused = api.post("/v1/merchants", json=body)
        assert (refused.status_code, reason(refused)) == (401, "ADMIN_KEY_INVALID")


def test_two_admin_keys_are_accepted_while_rotating(mesh: Mesh) -> None:
    old = mesh.env["PAYLOOPS_ADMIN_API_KEY"]
    new = "adm_rotated_" + "x" * 24
    with start_second_edge(mesh, PAYLOOPS_ADMIN_API_KEYS=f"{new},{old}") as edge:
        stub = merchants_pb2_grpc.MerchantServiceStub(grpc.insecure_channel(edge.target))
        request = merchants_pb2.CreateMerchantRequest(
            merchant=merchants_pb2.Merchant(name="rotating")
        )
        for key in (old, new):
            made = stub.CreateMerchant(
                request, metadata=(("authorization", f"Bearer {key}"),), timeout=10
            )
            assert [k.secret[:8] for k in made.api_keys] == ["sk_test_"]
        with pytest.raises(grpc.RpcError) as refused:
            stub.CreateMerchant(
                request, metadata=(("authorization", "Bearer adm_unknown"),), timeout=10
            )
        assert grpc_reason(refused.value) == "ADMIN_KEY_INVALID"


def test_the_cli_creates_merchants_through_the_api(mesh: Mesh) -> None:
    merchant_id, test_key, live_key = mesh.new_live_merchant("cli merchant")
    assert merchant_id.startswith("mer_")
    with mesh.client(live_key) as live:
        assert [k["prefix"] for k in listed(live).values()] == [live_key[:12]]
    # With an admin key the API refuses, the CLI fails: it goes through the API.
    refused = subprocess.run(
        [*PAYLOOPS, "merchants", "create", "x", "--state-dir", str(mesh.state_dir)],
        cwd=REPO,
        env={**os.environ, "PAYLOOPS_ADMIN_API_KEY": "adm_wrong"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "ADMIN_KEY_INVALID" in refused.stderr
    assert test_key not in refused.stderr
