"""Dashboard users and their sign-in, through Envoy's REST listener and over native gRPC: each
role's allowed and refused calls (every operation of the API, from its descriptors), JWT
tampering, refresh-token rotation and reuse, logout, removed users, login throttling, the
PayLoops-Mode header, the password policy, the CLI and `payloops dev`'s owner, and the audit
entries of all of it."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from google.protobuf.descriptor import FieldDescriptor
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cli import dev_db
from core.signing_keys import SigningKey, new_key
from payloops.v1 import (
    orders_pb2,
    orders_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
)
from tests.conftest import PAYLOOPS, REPO, Mesh
from tests.e2e.api_surface import Operation, Slot, operations, slot_at
from tests.e2e.mesh_db import sql
from tests.e2e.people import (
    PASSWORD,
    claims_of,
    create_user,
    field_reasons,
    forged,
    loopback_address,
    mesh_signing_key,
    new_email,
    reason,
    session_call,
    sign_in,
    signed_in,
    signing_input,
    unsigned,
    user_client,
)
from tests.e2e.second_edge import start_second_edge

pytestmark = pytest.mark.e2e

# Not called with a user's token at all: sign-in itself, health, gateways' webhooks.
# TokenService: a publishable key's, never a user's (tests/e2e/test_vault.py).
NO_CALLER_TOKEN = {"SessionService", "HealthService", "ProcessorWebhookService", "TokenService"}


@dataclass(frozen=True)
class Team:
    merchant_id: str
    api_key: str
    owner: str
    developer: str
    viewer: str


@pytest.fixture
def team(mesh: Mesh) -> Team:
    merchant_id, api_key = mesh.new_merchant("people")
    return Team(
        merchant_id,
        api_key,
        create_user(mesh, merchant_id, "owner"),
        create_user(mesh, merchant_id, "developer"),
        create_user(mesh, merchant_id, "viewer"),
    )


def grpc_error(call: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    status = rpc_status.from_call(call)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return call.code(), info.reason


def audit_actions(mesh: Mesh, merchant_id: str) -> list[tuple[str, str, str, dict[str, str]]]:
    rows = sql(
        mesh,
        "select action, actor_type, target_id, details from audit_log where merchant_id = :m "
        "and livemode is null order by created_at, id",
        m=merchant_id,
    )
    return [(str(a), str(t), str(i), dict(d)) for a, t, i, d in rows]


# -- roles ------------------------------------------------------------------------------------


def answer_to(api: httpx.Client, operation: Operation) -> httpx.Response:
    binding = operation.bindings[0]
    # An id that names nothing, of the path field's type (Envoy refuses a word for a number
    # before any role is checked): a routing version is a number.
    path = binding.path(
        {
            variable: "999999999" if _is_number(slot_at(operation.request, variable)) else "none"
            for variable in binding.variables
        }
    )
    body: dict[str, object] | None = None if binding.verb == "GET" else {}
    return api.request(binding.verb, path, json=body)


def _is_number(slot: Slot) -> bool:
    return slot.field.type not in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)


def test_each_role_may_call_exactly_what_it_is_allowed(mesh: Mesh, team: Team) -> None:
    """Every operation of the API: a viewer is refused every change (and none of the reads,
    the routing simulator's POSTs included), a developer every change of users, an owner
    nothing; no one's token is refused as a token."""
    tokens = {
        role: signed_in(mesh, email).access_token
        for role, email in (("viewer", team.viewer), ("developer", team.developer))
    }
    # The owner last: its changes (a routing config, a key) must not hide another's refusal.
    tokens["owner"] = signed_in(mesh, team.owner).access_token
    checked = 0
    for operation in operations():
        service = operation.method.containing_service.name
        if service in NO_CALLER_TOKEN:
            continue
        changes = not operation.reads_only
        for role, token in tokens.items():
            with user_client(mesh, token) as api:
                answer = answer_to(api, operation)
            where = f"{role} {operation}: {answer.status_code} {answer.text[:200]}"
            if answer.status_code == 401 and reason(answer) == "ADMIN_KEY_INVALID":
                continue  # the platform operator's, for no user of any role
            refused = answer.status_code == 403 and reason(answer) == "ROLE_FORBIDDEN"
            expected = (role == "viewer" and changes) or (
                role == "developer" and changes and service == "UserService"
            )
            assert refused == expected, where
            assert answer.status_code != 401, where
            checked += 1
    assert checked > 60


def test_roles_apply_over_native_grpc(mesh: Mesh, team: Team) -> None:
    viewer = signed_in(mesh, team.viewer).access_token
    developer = signed_in(mesh, team.developer).access_token
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        orders = orders_pb2_grpc.OrderServiceStub(channel)
        users = users_pb2_grpc.UserServiceStub(channel)
        as_viewer = (("authorization", f"Bearer {viewer}"),)
        as_developer = (("authorization", f"Bearer {developer}"),)
        listed = orders.ListOrders(orders_pb2.ListOrdersRequest(), metadata=as_viewer)
        assert list(listed.orders) == []
        with pytest.raises(grpc.RpcError) as refused:
            orders.CreateOrder(
                orders_pb2.CreateOrderRequest(order=orders_pb2.Order(amount=100, currency="USD")),
                metadata=as_viewer,
            )
        assert grpc_error(refused.value) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_FORBIDDEN")
        made = orders.CreateOrder(
            orders_pb2.CreateOrderRequest(order=orders_pb2.Order(amount=100, currency="USD")),
            metadata=as_developer,
        )
        assert made.id.startswith("ord_")
        assert len(users.ListUsers(users_pb2.ListUsersRequest(), metadata=as_viewer).users) == 3
        with pytest.raises(grpc.RpcError) as refused:
            users.RemoveUser(users_pb2.RemoveUserRequest(user="usr_x"), metadata=as_developer)
        assert grpc_error(refused.value) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_FORBIDDEN")


def test_api_keys_may_not_manage_users(mesh: Mesh, team: Team) -> None:
    with mesh.client(team.api_key) as api:
        for verb, path in (("GET", "/v1/users"), ("POST", "/v1/users")):
            answer = api.request(verb, path, json=None if verb == "GET" else {})
            assert answer.status_code == 403, answer.text
            assert reason(answer) == "API_KEY_CANNOT_MANAGE_USERS"


def test_an_owner_manages_users_but_never_leaves_the_merchant_without_one(
    mesh: Mesh, team: Team
) -> None:
    owner = signed_in(mesh, team.owner)
    with user_client(mesh, owner.access_token) as api:
        email = new_email("colleague")
        made = api.post(
            "/v1/users",
            json={"user": {"email": email.upper(), "role": "viewer"}, "password": PASSWORD},
        )
        assert made.status_code == 200, made.text
        colleague = made.json()
        assert (colleague["email"], colleague["role"]) == (email, "VIEWER")
        assert colleague["merchant"] == team.merchant_id
        again = api.post(
            "/v1/users",
            json={"user": {"email": email, "role": "viewer"}, "password": PASSWORD},
        )
        assert (again.status_code, reason(again)) == (409, "USER_EXISTS")
        promoted = api.post(f"/v1/users/{colleague['id']}:set_role", json={"role": "DEVELOPER"})
        assert promoted.json()["role"] == "DEVELOPER", promoted.text
        listed = {u["email"]: u["role"] for u in api.get("/v1/users").json()["users"]}
        assert listed[email] == "DEVELOPER" and len(listed) == 4

        me = owner.user["id"]
        for refused in (
            api.post(f"/v1/users/{me}:set_role", json={"role": "VIEWER"}),
            api.post(f"/v1/users/{me}:remove", json={}),
        ):
            assert (refused.status_code, reason(refused)) == (400, "LAST_OWNER"), refused.text
        removed = api.post(f"/v1/users/{colleague['id']}:remove", json={})
        assert removed.status_code == 200 and removed.json()["remove_time"], removed.text
        assert email not in {u["email"] for u in api.get("/v1/users").json()["users"]}
    actions = [(action, actor) for action, actor, _, _ in audit_actions(mesh, team.merchant_id)]
    assert ("user.created", "user") in actions
    assert ("user.role_changed", "user") in actions
    assert ("user.removed", "user") in actions
    # The merchant and its first users came from the operator's admin key.
    assert actions[:2] == [("merchant.created", "admin"), ("user.created", "admin")]


def test_the_password_policy_and_the_email_are_checked(mesh: Mesh, team: Team) -> None:
    with mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"]) as admin:
        for password, expected in (
            ("short pass", "PASSWORD_TOO_SHORT"),
            ("1QAZ2WSX3EDC", "PASSWORD_TOO_COMMON"),
            ("x" * 257, "PASSWORD_TOO_LONG"),
        ):
            answer = admin.post(
                "/v1/users",
                json={
                    "merchant": team.merchant_id,
                    "user": {"email": new_email(), "role": "VIEWER"},
                    "password": password,
                },
            )
            assert answer.status_code == 400, answer.text
            assert field_reasons(answer) == [expected]
            assert password not in answer.text
        bad_email = admin.post(
            "/v1/users",
            json={
                "merchant": team.merchant_id,
                "user": {"email": "not an e-mail", "role": "VIEWER"},
                "password": PASSWORD,
            },
        )
        assert field_reasons(bad_email) == ["EMAIL_INVALID"], bad_email.text
        elsewhere = admin.post(
            "/v1/users",
            json={
                "merchant": "mer_none",
                "user": {"email": new_email(), "role": "VIEWER"},
                "password": PASSWORD,
            },
        )
        assert (elsewhere.status_code, reason(elsewhere)) == (404, "MERCHANT_NOT_FOUND")
    [[stored]] = sql(mesh, "select password_hash from users where email = :e", e=team.owner)
    assert str(stored).startswith("$argon2id$") and PASSWORD not in str(stored)


# -- sessions -----------------------------------------------------------------------------------


def test_sign_in_answers_a_short_lived_eddsa_token_and_the_jwks_verifies_it(
    mesh: Mesh, team: Team
) -> None:
    answer = sign_in(mesh, team.developer.upper())
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert session["token_type"] == "Bearer"
    assert 0 < session["expires_in"] <= 15 * 60
    assert session["refresh_token"].startswith("rt_")
    assert session["user"]["role"] == "DEVELOPER"
    with httpx.Client(base_url=mesh.api_url) as api:
        jwks = api.get("/.well-known/jwks.json").json()
    [key] = jwks["keys"]
    assert {k: key[k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
    }
    verified = jwt.decode(
        session["access_token"],
        jwt.PyJWK(key).key,
        algorithms=["EdDSA"],
        audience="payloops-api",
    )
    assert verified["sub"] == session["user"]["id"] and verified["exp"] - verified["iat"] <= 900
    assert jwt.get_unverified_header(session["access_token"])["kid"] == key["kid"]
    # Only the refresh token's hash is stored.
    hashed = hashlib.sha256(session["refresh_token"].encode()).hexdigest()
    assert sql(mesh, "select count(*) from refresh_tokens where token_hash = :h", h=hashed) == [
        (1,)
    ]
    stored = sql(mesh, "select token_hash from refresh_tokens where token_hash = :t", t=hashed)
    assert session["refresh_token"] not in json.dumps([str(row) for row in stored])


def test_tampered_tokens_are_refused(mesh: Mesh, team: Team) -> None:
    owner = signed_in(mesh, team.owner)
    claims = claims_of(owner.access_token)
    key = mesh_signing_key(mesh)
    header = {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    start, _, signature = owner.access_token.rpartition(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs256 = {**header, "alg": "HS256"}
    hs256_tokens = [
        unsigned(
            hs256,
            claims,
            hmac.new(secret, signing_input(unsigned(hs256, claims)), "sha256").digest(),
        )
        for secret in (public_pem, key.x.encode())
    ]
    impostor = SigningKey.parse(new_key())
    with_impostor = forged(impostor, claims).split(".")
    with_impostor[0] = unsigned(header, {}).split(".")[0]  # the mesh key's kid
    cases = {
        "bad signature": (f"{start}.{flipped}", "ACCESS_TOKEN_INVALID"),
        "another key, the mesh key's kid": (".".join(with_impostor), "ACCESS_TOKEN_INVALID"),
        "alg none": (unsigned({"alg": "none", "kid": key.kid}, claims), "ACCESS_TOKEN_INVALID"),
        "HS256, public key PEM as secret": (hs256_tokens[0], "ACCESS_TOKEN_INVALID"),
        "HS256, public key as secret": (hs256_tokens[1], "ACCESS_TOKEN_INVALID"),
        "expired": (
            forged(key, claims, exp=datetime.now(UTC) - timedelta(seconds=5)),
            "ACCESS_TOKEN_EXPIRED",
        ),
        "wrong audience": (forged(key, claims, aud="someone-else"), "ACCESS_TOKEN_INVALID"),
        "wrong issuer": (forged(key, claims, iss="https://evil.example"), "ACCESS_TOKEN_INVALID"),
        "no session": (forged(key, claims, sid=None), "ACCESS_TOKEN_INVALID"),
        "no expiry": (forged(key, claims, exp=None), "ACCESS_TOKEN_INVALID"),
        "another merchant": (forged(key, claims, merchant="mer_other"), "ACCESS_TOKEN_INVALID"),
    }
    assert signing_input(cases["bad signature"][0]) == signing_input(owner.access_token)
    for label, (token, expected) in cases.items():
        with user_client(mesh, token) as api:
            answer = api.get("/v1/orders")
        assert (answer.status_code, reason(answer)) == (401, expected), (label, answer.text)
    with user_client(mesh, owner.access_token) as api:
        assert api.get("/v1/orders").status_code == 200


def test_another_merchants_user_cannot_see_this_merchants_order(mesh: Mesh, team: Team) -> None:
    other_merchant, _ = mesh.new_merchant("other people")
    stranger = signed_in(mesh, create_user(mesh, other_merchant, "owner")).access_token
    with mesh.client(team.api_key) as api:
        order = api.post("/v1/orders", json={"amount": 500, "currency": "USD"}).json()["id"]
    with user_client(mesh, signed_in(mesh, team.viewer).access_token) as api:
        assert api.get(f"/v1/orders/{order}").status_code == 200
    with user_client(mesh, stranger) as api:
        answer = api.get(f"/v1/orders/{order}")
        assert (answer.status_code, reason(answer)) == (404, "ORDER_NOT_FOUND")
        assert api.get("/v1/orders").json()["orders"] == []


def test_a_removed_users_valid_token_is_refused_at_once(mesh: Mesh, team: Team) -> None:
    developer = signed_in(mesh, team.developer)
    owner = signed_in(mesh, team.owner)
    with user_client(mesh, developer.access_token) as api:
        assert api.get("/v1/orders").status_code == 200
    with user_client(mesh, owner.access_token) as api:
        removed = api.post(f"/v1/users/{developer.user['id']}:remove", json={})
        assert removed.status_code == 200, removed.text
    with user_client(mesh, developer.access_token) as api:
        answer = api.get("/v1/orders")
    assert (answer.status_code, reason(answer)) == (401, "USER_REMOVED")
    refreshed = session_call(mesh, "refresh", developer.refresh_token)
    assert refreshed.status_code == 401, refreshed.text
    again = sign_in(mesh, team.developer)
    assert (again.status_code, reason(again)) == (401, "SIGN_IN_FAILED")


def test_a_logged_out_sessions_tokens_are_refused_and_logout_is_idempotent(
    mesh: Mesh, team: Team
) -> None:
    session = signed_in(mesh, team.viewer)
    other = signed_in(mesh, team.viewer)
    for _ in range(2):
        out = session_call(mesh, "logout", session.refresh_token)
        assert out.status_code == 200, out.text
    with user_client(mesh, session.access_token) as api:
        answer = api.get("/v1/orders")
    assert (answer.status_code, reason(answer)) == (401, "SESSION_REVOKED")
    # Another sign-in of the same user is another session.
    with user_client(mesh, other.access_token) as api:
        assert api.get("/v1/orders").status_code == 200
    assert session_call(mesh, "logout", "rt_unknown").status_code == 200
    actions = [a for a, *_ in audit_actions(mesh, team.merchant_id)]
    assert actions.count("session.signed_out") == 1


def test_refresh_rotates_and_a_reused_token_revokes_the_whole_session(
    mesh: Mesh, team: Team
) -> None:
    first = signed_in(mesh, team.owner)
    rotated = session_call(mesh, "refresh", first.refresh_token)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first.refresh_token
    assert claims_of(second["access_token"])["sid"] == claims_of(first.access_token)["sid"]
    with user_client(mesh, second["access_token"]) as api:
        assert api.get("/v1/orders").status_code == 200

    reused = session_call(mesh, "refresh", first.refresh_token)
    assert (reused.status_code, reason(reused)) == (401, "REFRESH_TOKEN_REUSED")
    # Everything the session handed out stops working, the newest tokens included.
    with user_client(mesh, second["access_token"]) as api:
        answer = api.get("/v1/orders")
    assert (answer.status_code, reason(answer)) == (401, "SESSION_REVOKED")
    late = session_call(mesh, "refresh", second["refresh_token"])
    assert (late.status_code, reason(late)) == (401, "SESSION_REVOKED")
    sid = claims_of(first.access_token)["sid"]
    assert sql(mesh, "select revoked_reason from user_sessions where id = :s", s=sid) == [
        ("refresh_token_reused",)
    ]
    unknown = session_call(mesh, "refresh", "rt_unknown")
    assert (unknown.status_code, reason(unknown)) == (401, "REFRESH_TOKEN_INVALID")
    actions = [a for a, *_ in audit_actions(mesh, team.merchant_id)]
    assert "session.signed_in" in actions and "session.refresh_token_reused" in actions


def test_sessions_over_native_grpc(mesh: Mesh, team: Team) -> None:
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        sessions = sessions_pb2_grpc.SessionServiceStub(channel)
        session = sessions.CreateSession(
            sessions_pb2.CreateSessionRequest(email=team.viewer, password=PASSWORD)
        )
        refreshed = sessions.RefreshSession(
            sessions_pb2.RefreshSessionRequest(refresh_token=session.refresh_token)
        )
        orders = orders_pb2_grpc.OrderServiceStub(channel)
        bearer = (("authorization", f"Bearer {refreshed.access_token}"),)
        assert list(orders.ListOrders(orders_pb2.ListOrdersRequest(), metadata=bearer).orders) == []
        sessions.LogoutSession(
            sessions_pb2.LogoutSessionRequest(refresh_token=refreshed.refresh_token)
        )
        with pytest.raises(grpc.RpcError) as refused:
            orders.ListOrders(orders_pb2.ListOrdersRequest(), metadata=bearer)
        assert grpc_error(refused.value) == (grpc.StatusCode.UNAUTHENTICATED, "SESSION_REVOKED")
        keys = sessions.GetJwks(sessions_pb2.GetJwksRequest()).keys
        assert [key.kid for key in keys] == [mesh_signing_key(mesh).kid]


# -- throttling -------------------------------------------------------------------------------


def assert_throttled(answer: httpx.Response) -> None:
    assert (answer.status_code, reason(answer)) == (429, "SIGN_IN_THROTTLED"), answer.text
    wait = int(answer.headers["retry-after"])
    assert 0 < wait <= 15 * 60
    [retry] = [d for d in answer.json()["details"] if d["@type"].endswith("RetryInfo")]
    assert retry["retry_delay"] == f"{wait}s"


def test_sign_in_is_throttled_per_email(mesh: Mesh, team: Team) -> None:
    for _ in range(5):
        wrong = sign_in(mesh, team.viewer, "wrong password of course")
        assert (wrong.status_code, reason(wrong)) == (401, "SIGN_IN_FAILED"), wrong.text
    # From any address, and even with the right password: the e-mail is locked for a while.
    assert_throttled(sign_in(mesh, team.viewer))
    with (
        grpc.insecure_channel(mesh.grpc_target) as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        sessions_pb2_grpc.SessionServiceStub(channel).CreateSession(
            sessions_pb2.CreateSessionRequest(email=team.viewer, password=PASSWORD)
        )
    assert grpc_error(refused.value) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "SIGN_IN_THROTTLED")
    # Other people sign in as usual.
    assert sign_in(mesh, team.developer).status_code == 200
    failures = [
        (actor, details)
        for action, actor, _, details in audit_actions(mesh, team.merchant_id)
        if action == "session.sign_in_failed"
    ]
    assert len(failures) == 5
    assert all(
        actor == "anonymous" and details == {"email": team.viewer} for actor, details in failures
    )
    # The e-mail is counted by its hash only.
    assert sql(
        mesh, "select count(*) from sign_in_failures where subject like :e", e=f"%{team.viewer}%"
    ) == [(0,)]


def test_sign_in_is_throttled_per_client_address(mesh: Mesh, team: Team) -> None:
    address = loopback_address()
    for _ in range(20):
        wrong = sign_in(mesh, new_email("guess"), "wrong password of course", address)
        assert (wrong.status_code, reason(wrong)) == (401, "SIGN_IN_FAILED"), wrong.text
    assert_throttled(sign_in(mesh, team.owner, address=address))
    # The same person from elsewhere is not throttled.
    assert sign_in(mesh, team.owner, address=loopback_address()).status_code == 200


# -- modes --------------------------------------------------------------------------------------


def test_a_user_reads_test_data_by_default_and_live_data_when_asked(mesh: Mesh) -> None:
    merchant_id, test_key, live_key = mesh.new_live_merchant("people modes")
    viewer = signed_in(mesh, create_user(mesh, merchant_id, "viewer")).access_token
    orders = {}
    for mode, key in (("test", test_key), ("live", live_key)):
        with mesh.client(key) as api:
            made = api.post("/v1/orders", json={"amount": 700, "currency": "USD"})
            assert made.status_code == 200, made.text
            orders[mode] = made.json()["id"]
    for headers, mode in (
        ({}, "test"),
        ({"PayLoops-Mode": "test"}, "test"),
        ({"PayLoops-Mode": "live"}, "live"),
    ):
        with user_client(mesh, viewer, **headers) as api:
            listed = [o["id"] for o in api.get("/v1/orders").json()["orders"]]
            assert listed == [orders[mode]], (headers, listed)
    with user_client(mesh, viewer, **{"PayLoops-Mode": "production"}) as api:
        answer = api.get("/v1/orders")
        assert (answer.status_code, reason(answer)) == (400, "MODE_INVALID")
    with mesh.client(test_key, **{"PayLoops-Mode": "live"}) as api:
        answer = api.get("/v1/orders")
        assert (answer.status_code, reason(answer)) == (400, "MODE_CONTRADICTS_API_KEY")
    with mesh.client(live_key, **{"PayLoops-Mode": "live"}) as api:
        assert api.get("/v1/orders").status_code == 200


# -- signing keys -------------------------------------------------------------------------------


def test_signing_keys_rotate_without_signing_anyone_out(mesh: Mesh, team: Team) -> None:
    """The new key is added second (every edge verifies it), then moved first (it signs): a
    token the old key signed keeps working meanwhile, and the JWKS lists both."""
    old = (mesh.state_dir / "jwt_signing_keys").read_text().strip()
    new = new_key()
    session = signed_in(mesh, team.viewer)
    bearer = (("authorization", f"Bearer {session.access_token}"),)
    with (
        start_second_edge(mesh, PAYLOOPS_JWT_SIGNING_KEYS=f"{new},{old}") as edge,
        grpc.insecure_channel(edge.target) as channel,
    ):
        orders = orders_pb2_grpc.OrderServiceStub(channel)
        orders.ListOrders(orders_pb2.ListOrdersRequest(), metadata=bearer)
        sessions = sessions_pb2_grpc.SessionServiceStub(channel)
        kids = [key.kid for key in sessions.GetJwks(sessions_pb2.GetJwksRequest()).keys]
        assert kids == [SigningKey.parse(new).kid, SigningKey.parse(old).kid]
        fresh = sessions.CreateSession(
            sessions_pb2.CreateSessionRequest(email=team.viewer, password=PASSWORD)
        ).access_token
    assert jwt.get_unverified_header(fresh)["kid"] == SigningKey.parse(new).kid
    # An edge that does not list the new key yet refuses what it signed: hence "second first".
    with user_client(mesh, fresh) as api:
        answer = api.get("/v1/orders")
    assert (answer.status_code, reason(answer)) == (401, "ACCESS_TOKEN_INVALID")


def test_with_no_signing_key_sign_in_is_closed(mesh: Mesh, team: Team) -> None:
    with (
        start_second_edge(mesh, PAYLOOPS_JWT_SIGNING_KEYS="") as edge,
        grpc.insecure_channel(edge.target) as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        sessions_pb2_grpc.SessionServiceStub(channel).CreateSession(
            sessions_pb2.CreateSessionRequest(email=team.viewer, password=PASSWORD)
        )
    assert grpc_error(refused.value) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "SESSIONS_NOT_CONFIGURED",
    )


# -- the CLI and payloops dev -------------------------------------------------------------------


def test_payloops_dev_makes_an_owner_that_signs_in_with_dev_env(mesh: Mesh) -> None:
    email = mesh.env["PAYLOOPS_DEV_OWNER_EMAIL"]
    session = signed_in(mesh, email, mesh.env["PAYLOOPS_DEV_OWNER_PASSWORD"])
    assert session.user["role"] == "OWNER"
    with user_client(mesh, session.access_token) as api, mesh.client() as demo:
        made = demo.post("/v1/orders", json={"amount": 300, "currency": "USD"}).json()["id"]
        assert api.get(f"/v1/orders/{made}").status_code == 200
    assert mesh.env["PAYLOOPS_DEV_OWNER_PASSWORD"] not in (mesh.state_dir / "dev.out").read_text()


def test_a_second_start_of_payloops_dev_keeps_its_owner(mesh: Mesh) -> None:
    """What `payloops dev` does at each start, again on the same state dir: the owner exists,
    so it is kept, with the password the state dir holds."""
    email, password = mesh.env["PAYLOOPS_DEV_OWNER_EMAIL"], mesh.env["PAYLOOPS_DEV_OWNER_PASSWORD"]
    merchant_id = signed_in(mesh, email, password).user["merchant"]
    with mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"]) as admin:
        again = dev_db.ensure_dev_owner(
            merchant_id, mesh.state_dir / "dev_owner_password", lambda: "never used", admin
        )
    assert again == dev_db.DevOwner(email, password, created=False)
    assert signed_in(mesh, email, password).user["merchant"] == merchant_id


def test_the_cli_creates_a_merchants_first_owner(mesh: Mesh) -> None:
    merchant_id, _ = mesh.new_merchant("cli people")
    email = new_email("first-owner")
    done = subprocess.run(
        [
            *PAYLOOPS,
            "users",
            "create",
            "--merchant",
            merchant_id,
            "--email",
            email,
            "--role",
            "owner",
            "--password-stdin",
            "--json",
            "--state-dir",
            str(mesh.state_dir),
        ],
        input=PASSWORD + "\n",
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert (made["email"], made["role"], made["merchant"]) == (email, "owner", merchant_id)
    assert PASSWORD not in done.stdout + done.stderr
    assert signed_in(mesh, email).user["id"] == made["id"]
