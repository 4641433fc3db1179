"""Helpers for the dashboard-user tests: users made through the admin API, sign-in through
Envoy's REST listener (from a loopback address of the test's choosing, so one test's failed
sign-ins never throttle another's), and tokens signed with the mesh's own key."""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from core.signing_keys import SigningKey
from tests.conftest import Mesh

# Accepted by every user creation: long enough and in no list of common passwords.
PASSWORD = "correct horse battery staple 7"


def reason(response: httpx.Response) -> str:
    infos = [d for d in response.json()["details"] if d["@type"].endswith("ErrorInfo")]
    return str(infos[0]["reason"])


def field_reasons(response: httpx.Response) -> list[str]:
    requests = [d for d in response.json()["details"] if d["@type"].endswith("BadRequest")]
    return [v["reason"] for r in requests for v in r["field_violations"]]


def loopback_address() -> str:
    """An address of 127.0.0.0/8 (all of it is this machine's) no other test uses: Envoy sees
    it as the client's, as it would a real client's."""
    return f"127.{random.randrange(16, 250)}.{random.randrange(1, 250)}.{random.randrange(1, 250)}"


def new_email(label: str = "user") -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.com"


def create_user(
    mesh: Mesh, merchant_id: str, role: str, email: str | None = None, password: str = PASSWORD
) -> str:
    """A user made with the admin key (as `payloops users create` makes one); its e-mail."""
    email = email or new_email(role)
    with mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"]) as admin:
        made = admin.post(
            "/v1/users",
            json={
                "merchant": merchant_id,
                "user": {"email": email, "role": role.upper()},
                "password": password,
            },
        )
    assert made.status_code == 200, made.text
    return email


def sign_in(
    mesh: Mesh, email: str, password: str = PASSWORD, address: str | None = None
) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=address or loopback_address())
    with httpx.Client(base_url=mesh.api_url, timeout=30, transport=transport) as api:
        return api.post("/v1/sessions", json={"email": email, "password": password})


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    refresh_token: str
    user: dict[str, Any]


def signed_in(mesh: Mesh, email: str, password: str = PASSWORD) -> SignedIn:
    answer = sign_in(mesh, email, password)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return SignedIn(body["access_token"], body["refresh_token"], body["user"])


def user_client(mesh: Mesh, access_token: str, **headers: str) -> httpx.Client:
    return mesh.client(access_token, **headers)


def session_call(mesh: Mesh, verb: str, refresh_token: str) -> httpx.Response:
    with httpx.Client(base_url=mesh.api_url, timeout=30) as api:
        return api.post(f"/v1/sessions:{verb}", json={"refresh_token": refresh_token})


def mesh_signing_key(mesh: Mesh) -> SigningKey:
    return SigningKey.parse((mesh.state_dir / "jwt_signing_keys").read_text().strip())


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def forged(key: SigningKey, claims: dict[str, Any], **changes: Any) -> str:
    """A token signed with `key` (the mesh's own, or another with its kid) and `changes` to
    the claims (None removes one)."""
    now = datetime.now(UTC)
    payload = {**claims, "iat": now, "exp": now + timedelta(minutes=5), **changes}
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token put together by hand: what PyJWT itself would refuse to make."""
    parts = [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode())]
    return ".".join([*parts, _b64(signature)])


def signing_input(token: str) -> bytes:
    return token.rpartition(".")[0].encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
