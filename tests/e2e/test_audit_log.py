"""The audit log, through Envoy's REST listener and over native gRPC: every change of a
merchant's keys, routing, processor accounts and webhook endpoints (and its creation by the
operator) is one entry naming who, what, from where and under which correlation id, with no
secret in it; newest first, paginated and filtered; scoped by merchant and mode; refused to
read-only keys; and nothing for a replay or a refused change."""

from __future__ import annotations

import json
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from payloops.v1 import api_keys_pb2, api_keys_pb2_grpc, audit_pb2, audit_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.mesh_db import sql

pytestmark = pytest.mark.e2e

# Never delivered to: it takes only an event type these tests never cause.
ENDPOINT_URL = "https://93.184.215.14/hooks/audit"
ENDPOINT_EVENTS = ["webhook_endpoint.disabled"]
PREFIX_LENGTH = 12


def random_text(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def stripe_credentials() -> dict[str, str]:
    """Credentials shaped like Stripe's: only their field names may reach the log."""
    return {
        "secret_key": f"sk_test_{random_text(24)}",
        "webhook_secret": f"whsec_{random_text(32)}",
    }


def reason(response: httpx.Response) -> str:
    details = response.json()["details"]
    return str(next(d for d in details if d["@type"].endswith("ErrorInfo"))["reason"])


def violation_reasons(response: httpx.Response) -> list[str]:
    details = response.json()["details"]
    requests = [d for d in details if d["@type"].endswith("BadRequest")]
    return [v["reason"] for d in requests for v in d["field_violations"]]


def change(
    api: httpx.Client, verb: str, path: str, body: dict[str, Any] | None = None, **headers: str
) -> tuple[dict[str, Any], str]:
    """One change, sent with a correlation id of its own: its answer and that id."""
    correlation_id = f"audit-{uuid.uuid4()}"
    answer = api.request(
        verb, path, json=body, headers={"X-Correlation-ID": correlation_id, **headers}
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found, correlation_id


def entries(api: httpx.Client, query: str = "") -> list[dict[str, Any]]:
    listed = api.get(f"/v1/audit_log?page_size=100{query}")
    assert listed.status_code == 200, listed.text
    assert not listed.json()["next_page_token"]
    found: list[dict[str, Any]] = listed.json()["audit_entries"]
    return found


@dataclass(frozen=True)
class Expected:
    action: str
    target_type: str
    target_id: str
    correlation_id: str
    actor_type: str = "API_KEY"


def shape(entry: dict[str, Any]) -> Expected:
    return Expected(
        entry["action"],
        entry["target"]["type"],
        entry["target"]["id"],
        entry["correlation_id"],
        entry["actor"]["type"],
    )


def test_every_change_is_an_entry_naming_who_what_from_where_without_a_secret(
    mesh: Mesh,
) -> None:
    admin_key = mesh.env["PAYLOOPS_ADMIN_API_KEY"]
    with mesh.client(admin_key) as operator:
        merchant, made_cid = change(
            operator, "POST", "/v1/merchants", {"merchant": {"name": "audited"}}
        )
    key = merchant["api_keys"][0]["secret"]
    expected = [Expected("merchant.created", "merchant", merchant["id"], made_cid, "ADMIN")]
    secrets_sent = [key, admin_key]
    with mesh.client(key) as api:
        created, cid = change(api, "POST", "/v1/api_keys", {"name": "ci", "livemode": False})
        expected.append(Expected("api_key.created", "api_key", created["id"], cid))
        rolled, cid = change(api, "POST", f"/v1/api_keys/{created['id']}:roll", {"overlap": "60s"})
        expected.append(Expected("api_key.rolled", "api_key", created["id"], cid))
        _, cid = change(api, "POST", f"/v1/api_keys/{rolled['id']}:revoke", {})
        expected.append(Expected("api_key.revoked", "api_key", rolled["id"], cid))
        secrets_sent += [created["secret"], rolled["secret"]]

        routing = {"rules": [{"name": "audited", "failover": {"processors": ["sandbox"]}}]}
        routed, cid = change(api, "PUT", "/v1/routing", routing)
        expected.append(Expected("routing.updated", "routing_config", str(routed["version"]), cid))

        credentials, rotated_credentials = stripe_credentials(), stripe_credentials()
        account, cid = change(
            api,
            "POST",
            "/v1/processor_accounts",
            {"processor": "stripe", "credentials": credentials},
        )
        expected.append(
            Expected("processor_account.created", "processor_account", account["id"], cid)
        )
        path = f"/v1/processor_accounts/{account['id']}"
        _, cid = change(api, "POST", f"{path}:rotate", {"credentials": rotated_credentials})
        expected.append(
            Expected(
                "processor_account.credentials_rotated", "processor_account", account["id"], cid
            )
        )
        _, cid = change(api, "POST", f"{path}:disable", {})
        expected.append(
            Expected("processor_account.disabled", "processor_account", account["id"], cid)
        )
        secrets_sent += [*credentials.values(), *rotated_credentials.values()]

        url_token = random_text(32)
        endpoint, cid = change(
            api,
            "POST",
            "/v1/webhook_endpoints",
            {"url": f"{ENDPOINT_URL}?token={url_token}", "enabled_events": ENDPOINT_EVENTS},
        )
        expected.append(
            Expected("webhook_endpoint.created", "webhook_endpoint", endpoint["id"], cid)
        )
        path = f"/v1/webhook_endpoints/{endpoint['id']}"
        _, cid = change(api, "PATCH", path, {"status": "DISABLED"})
        expected.append(
            Expected("webhook_endpoint.updated", "webhook_endpoint", endpoint["id"], cid)
        )
        rotated, cid = change(api, "POST", f"{path}:rotate_secret", {"grace_period": "0s"})
        expected.append(
            Expected("webhook_endpoint.secret_rotated", "webhook_endpoint", endpoint["id"], cid)
        )
        _, cid = change(api, "DELETE", path)
        expected.append(
            Expected("webhook_endpoint.deleted", "webhook_endpoint", endpoint["id"], cid)
        )
        secrets_sent += [endpoint["secret"], rotated["secret"], url_token]

        # Over native gRPC (Envoy's gRPC listener) as well.
        grpc_cid = f"audit-{uuid.uuid4()}"
        metadata = (("authorization", f"Bearer {key}"), ("x-correlation-id", grpc_cid))
        with grpc.insecure_channel(mesh.grpc_target) as channel:
            made = api_keys_pb2_grpc.ApiKeyServiceStub(channel).CreateApiKey(
                api_keys_pb2.CreateApiKeyRequest(api_key=api_keys_pb2.ApiKey(name="grpc")),
                metadata=metadata,
                timeout=30,
            )
            expected.append(Expected("api_key.created", "api_key", made.id, grpc_cid))
            secrets_sent.append(made.secret)
            over_grpc = audit_pb2_grpc.AuditLogServiceStub(channel).ListAuditEntries(
                audit_pb2.ListAuditEntriesRequest(page_size=100), metadata=metadata, timeout=30
            )
        logged = entries(api)

    # The operator's own change is in no merchant's log.
    registered_cid = reregister_sandbox(mesh, admin_key)
    assert sql(
        mesh,
        "select merchant_id, livemode, actor_type, action, target_id from audit_log "
        "where correlation_id = :cid",
        cid=registered_cid,
    ) == [(None, None, "admin", "processor.registered", "sandbox")]

    assert [shape(entry) for entry in logged] == expected[::-1]
    assert [entry.id for entry in over_grpc.audit_entries] == [entry["id"] for entry in logged]
    assert (
        json_format.MessageToDict(
            over_grpc.audit_entries[0],
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        )
        == logged[0]
    )
    for entry in logged:
        assert entry["client_address"] == "127.0.0.1", entry
        if entry["actor"]["type"] == "API_KEY":
            assert entry["actor"]["label"] == key[:PREFIX_LENGTH], entry
            assert entry["actor"]["id"] == merchant["api_keys"][0]["id"], entry
            assert entry["livemode"] is False, entry
        else:
            assert entry["actor"] == {"type": "ADMIN", "id": "", "label": ""}, entry
            assert "livemode" not in entry, entry
        text = json.dumps(entry)
        assert not [s for s in secrets_sent if s in text], entry
        assert "token=" not in text, entry

    details = {entry["action"]: entry["details"] for entry in reversed(logged)}
    assert details["api_key.rolled"]["new_api_key"] == rolled["id"]
    assert details["api_key.rolled"]["overlap_seconds"] == 60
    assert details["routing.updated"] == {"version": int(routed["version"]), "rules": ["audited"]}
    assert details["processor_account.created"] == {
        "processor": "stripe",
        "credential_fields": ["secret_key", "webhook_secret"],
    }
    assert details["webhook_endpoint.created"]["url_origin"] == "https://93.184.215.14"
    assert details["webhook_endpoint.updated"]["status"] == "disabled"


def reregister_sandbox(mesh: Mesh, admin_key: str) -> str:
    """The operator registers the sandbox again where it already is (a change of nothing)."""
    with mesh.client(admin_key) as operator:
        listed = operator.get("/v1/processors").json()["processors"]
        [sandbox] = [p for p in listed if p["name"] == "sandbox"]
        _, cid = change(
            operator, "POST", "/v1/processors", {"name": "sandbox", "target": sandbox["target"]}
        )
    return cid


def test_the_log_pages_newest_first_and_filters_by_action_and_target(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("audit pages")
    with mesh.client(key) as api:
        made = [change(api, "POST", "/v1/api_keys", {"name": f"k{n}"})[0]["id"] for n in range(5)]
        whole = entries(api)
        assert [e["target"]["id"] for e in whole[:5]] == made[::-1]
        assert whole[5]["action"] == "merchant.created"
        times = [e["create_time"] for e in whole]
        assert times == sorted(times, reverse=True)

        paged, token = [], ""
        while True:
            page = api.get(f"/v1/audit_log?page_size=2&page_token={token}").json()
            assert len(page["audit_entries"]) <= 2
            paged += page["audit_entries"]
            token = page["next_page_token"]
            if not token:
                break
        assert paged == whole

        first = api.get("/v1/audit_log?page_size=2&action=api_key.created").json()
        assert [e["target"]["id"] for e in first["audit_entries"]] == made[::-1][:2]
        # A token is bound to the filters it was issued for.
        other = api.get(f"/v1/audit_log?page_size=2&page_token={first['next_page_token']}")
        assert (other.status_code, reason(other)) == (400, "PAGE_TOKEN_INVALID")
        assert [e["target"]["id"] for e in entries(api, f"&target_id={made[0]}")] == [made[0]]
        unknown = api.get("/v1/audit_log?action=api_key.stolen")
        assert (unknown.status_code, violation_reasons(unknown)) == (400, ["ACTION_UNKNOWN"])


def test_each_caller_sees_its_merchant_and_mode_and_the_entries_of_both_modes(
    mesh: Mesh,
) -> None:
    merchant_id, test_key, live_key = mesh.new_live_merchant("audit modes")
    _, stranger_key = mesh.new_merchant("audit stranger")
    with mesh.client(test_key) as test, mesh.client(live_key) as live:
        routing = {"rules": [{"name": "test_only", "failover": {"processors": ["sandbox"]}}]}
        change(test, "PUT", "/v1/routing", routing)
        live_key_made = change(live, "POST", "/v1/api_keys", {"name": "live", "livemode": True})[0]
        in_test, in_live = entries(test), entries(live)
    assert [e["action"] for e in in_test] == ["routing.updated", "merchant.created"]
    assert [e["action"] for e in in_live] == ["api_key.created", "merchant.created"]
    assert in_live[0]["target"]["id"] == live_key_made["id"]
    assert (in_test[0]["livemode"], in_live[0]["livemode"]) == (False, True)
    # The merchant's creation belongs to both modes: the same entry in each, with no mode.
    assert in_test[1] == in_live[1]
    assert in_test[1]["target"]["id"] == merchant_id
    assert "livemode" not in in_test[1]
    with mesh.client(stranger_key) as stranger:
        theirs = entries(stranger)
    assert [e["action"] for e in theirs] == ["merchant.created"]
    assert theirs[0]["target"]["id"] != merchant_id


def test_a_read_only_key_may_not_read_the_log(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("audit read-only")
    with mesh.client(key) as api:
        reader = change(api, "POST", "/v1/api_keys", {"name": "reader", "read_only": True})[0]
    with mesh.client(reader["secret"]) as api:
        refused = api.get("/v1/audit_log")
    assert (refused.status_code, reason(refused)) == (403, "AUDIT_LOG_FORBIDDEN")
    with (
        grpc.insecure_channel(mesh.grpc_target) as channel,
        pytest.raises(grpc.RpcError) as caught,
    ):
        audit_pb2_grpc.AuditLogServiceStub(channel).ListAuditEntries(
            audit_pb2.ListAuditEntriesRequest(),
            metadata=(("authorization", f"Bearer {reader['secret']}"),),
            timeout=30,
        )
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    assert info.reason == "AUDIT_LOG_FORBIDDEN"


def test_a_replay_a_repeat_or_a_refused_change_adds_no_entry(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("audit replays")
    with mesh.client(key) as api:
        once = {"Idempotency-Key": f"audit-{uuid.uuid4()}"}
        made, _ = change(api, "POST", "/v1/api_keys", {"name": "once"}, **once)
        replayed = api.post("/v1/api_keys", json={"name": "once"}, headers=once)
        assert replayed.headers.get("idempotent-replayed") == "true"
        endpoint = {"url": ENDPOINT_URL, "enabled_events": ENDPOINT_EVENTS}
        hook_once = {"Idempotency-Key": f"audit-{uuid.uuid4()}"}
        hook, _ = change(api, "POST", "/v1/webhook_endpoints", endpoint, **hook_once)
        again = api.post("/v1/webhook_endpoints", json=endpoint, headers=hook_once)
        assert again.headers.get("idempotent-replayed") == "true"
        account, _ = change(
            api,
            "POST",
            "/v1/processor_accounts",
            {"processor": "stripe", "credentials": stripe_credentials()},
        )
        for _ in range(2):
            change(api, "POST", f"/v1/api_keys/{made['id']}:revoke", {})
            change(api, "POST", f"/v1/processor_accounts/{account['id']}:disable", {})
        before = entries(api)

        refused = [
            api.post(f"/v1/api_keys/{made['id']}:roll", json={"overlap": "700000s"}),
            api.post("/v1/api_keys", json={"name": "x" * 101}),
            api.post("/v1/api_keys/key_none:revoke", json={}),
            api.put(
                "/v1/routing", json={"rules": [{"name": "r", "failover": {"processors": ["nope"]}}]}
            ),
            api.patch(f"/v1/webhook_endpoints/{hook['id']}", json={"status": "DELETED"}),
            api.post(
                "/v1/processor_accounts",
                json={"processor": "stripe", "credentials": {"secret_key": "sk_test_x"}},
            ),
        ]
        assert [answer.status_code // 100 for answer in refused] == [4] * len(refused)
        after = entries(api)
    assert [e["action"] for e in before] == [
        "processor_account.disabled",
        "api_key.revoked",
        "processor_account.created",
        "webhook_endpoint.created",
        "api_key.created",
        "merchant.created",
    ]
    assert after == before
