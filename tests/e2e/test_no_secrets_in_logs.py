"""No secret in any log line: everything that handles one (keys created, rolled, revoked and then
used; webhook signing secrets; processor credentials, accepted and refused; wrong admin keys;
hostile Authorization headers, through Envoy's REST listener and over native gRPC) is done to the
mesh, then every log it wrote is scanned, Envoy's access log included (tests/log_secrets.py).
Every mesh's teardown runs the same scan over the whole run (tests/conftest.py retire_mesh)."""

from __future__ import annotations

import base64
import secrets
import string
from typing import Any

import grpc
import httpx
import pytest

from payloops.v1 import (
    api_keys_pb2,
    api_keys_pb2_grpc,
    merchants_pb2,
    merchants_pb2_grpc,
)
from tests.conftest import Mesh, fake_gateway_credentials
from tests.log_secrets import (
    Secrets,
    installation_secrets,
    log_files,
    report,
    scan,
    wait_for_access_log,
)

pytestmark = pytest.mark.e2e

ENDPOINT_URL = "https://93.184.215.14/hooks/secrets"
# A JWT of the right shape, signed by nobody.
FORGED_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJ1c3JfZm9yZ2VkIiwiYXVkIjoicGF5bG9vcHMifQ."
    "c2lnbmVkLWJ5LW5vYm9keS1hdC1hbGwtcmVhbGx5"
)


def random_text(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


class Sent:
    """Every secret the test hands the mesh, to look for afterwards."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def __call__(self, *values: str) -> None:
        self.values += values


def test_no_secret_the_mesh_handles_reaches_any_of_its_logs(mesh: Mesh) -> None:
    sent = Sent()
    keys = keys_made_rolled_revoked_and_used(mesh, sent)
    with mesh.client(keys[0]) as api:
        webhook_secrets_made_and_rotated(api, sent)
        processor_credentials_stored_rotated_and_refused(api, sent)
    wrong_admin_keys(mesh, sent)
    hostile_authorization_headers(mesh, sent)

    wait_for_access_log(mesh.api_url, mesh.state_dir)
    assert mesh.stripe is not None and mesh.razorpay is not None
    known = Secrets(installation_secrets(mesh.state_dir)).plus(
        [*sent.values, *fake_gateway_credentials(mesh.stripe, mesh.razorpay)]
    )
    logs = log_files(mesh.state_dir)
    assert mesh.state_dir / "logs" / "envoy-access.log" in logs
    found = scan(logs, known)
    assert not found, report(found)


def keys_made_rolled_revoked_and_used(mesh: Mesh, sent: Sent) -> list[str]:
    with mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"]) as operator:
        made = ok(
            operator.post("/v1/merchants", json={"merchant": {"name": "log secrets"}, "live": True})
        )
    keys = [key["secret"] for key in made["api_keys"]]
    sent(*keys)
    with mesh.client(keys[0]) as api:
        created = ok(api.post("/v1/api_keys", json={"name": "logged?"}))
        rolled = ok(api.post(f"/v1/api_keys/{created['id']}:roll", json={"overlap": "0s"}))
        ok(api.post(f"/v1/api_keys/{rolled['id']}:revoke", json={}))
        sent(created["secret"], rolled["secret"])
    # An expired key and a revoked one, used: refused, and not written down anywhere.
    for gone in (created["secret"], rolled["secret"]):
        with mesh.client(gone) as refused:
            assert refused.get("/v1/orders").status_code == 401
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        answer = api_keys_pb2_grpc.ApiKeyServiceStub(channel).CreateApiKey(
            api_keys_pb2.CreateApiKeyRequest(
                api_key=api_keys_pb2.ApiKey(name="over grpc", livemode=True)
            ),
            metadata=(("authorization", f"Bearer {keys[1]}"),),
            timeout=30,
        )
        sent(answer.secret)
    return keys


def webhook_secrets_made_and_rotated(api: httpx.Client, sent: Sent) -> None:
    token = random_text(32)
    endpoint = ok(
        api.post(
            "/v1/webhook_endpoints",
            json={"url": f"{ENDPOINT_URL}?token={token}", "enabled_events": ["*"]},
        )
    )
    rotated = ok(api.post(f"/v1/webhook_endpoints/{endpoint['id']}:rotate_secret", json={}))
    sent(token, endpoint["secret"], rotated["secret"])


def stripe_credentials(webhook_secret: str = "") -> dict[str, str]:
    return {
        "secret_key": f"sk_test_{random_text(32)}",
        "webhook_secret": webhook_secret or f"whsec_{random_text(32)}",
    }


def processor_credentials_stored_rotated_and_refused(api: httpx.Client, sent: Sent) -> None:
    first, second = stripe_credentials(), stripe_credentials()
    account = ok(
        api.post("/v1/processor_accounts", json={"processor": "stripe", "credentials": first})
    )
    rotate = f"/v1/processor_accounts/{account['id']}:rotate"
    ok(api.post(rotate, json={"credentials": second}))
    refused = stripe_credentials(webhook_secret="w" * 5000)
    too_long = api.post(rotate, json={"credentials": refused})
    assert too_long.status_code == 400, too_long.text
    sent(*first.values(), *second.values(), refused["secret_key"])


def wrong_admin_keys(mesh: Mesh, sent: Sent) -> None:
    wrong = [f"adm_{random_text(20)}", mesh.env["PAYLOOPS_ADMIN_API_KEY"][:-1] + "0"]
    sent(*wrong)
    for key in wrong:
        with mesh.client(key) as operator:
            for answer in (
                operator.post("/v1/merchants", json={"merchant": {"name": "nope"}}),
                operator.get("/v1/processors"),
            ):
                assert answer.status_code == 401, answer.text
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        for key in wrong:
            with pytest.raises(grpc.RpcError):
                merchants_pb2_grpc.MerchantServiceStub(channel).CreateMerchant(
                    merchants_pb2.CreateMerchantRequest(merchant=merchants_pb2.Merchant(name="n")),
                    metadata=(("authorization", f"Bearer {key}"),),
                    timeout=30,
                )


def hostile_authorization_headers(mesh: Mesh, sent: Sent) -> None:
    unknown_key = f"sk_test_{random_text(32)}"
    password = random_text(24)
    refresh_token = f"rt_{random_text(43)}"
    sent(unknown_key, password, refresh_token, FORGED_JWT)
    basic = base64.b64encode(f"merchant@example.com:{password}".encode()).decode()
    values = [
        f"Bearer {unknown_key}",
        f"Bearer sk_live_{random_text(32)}",
        f"Basic {basic}",
        f"Bearer {FORGED_JWT}",
        f"Bearer {refresh_token}",
        unknown_key,
        f"Bearer {unknown_key} {password}",
        f"bearer   {unknown_key}",
        f"Bearer {unknown_key}\u00e9",
    ]
    with httpx.Client(base_url=mesh.api_url, timeout=30) as api:
        # A key as the correlation id, which every log line of the call carries: replaced.
        traced = api.get(
            "/v1/orders",
            headers={"Authorization": f"Bearer {mesh.api_key}", "X-Correlation-ID": unknown_key},
        )
        assert traced.status_code == 200, traced.text
        assert traced.headers["x-correlation-id"] != unknown_key
        for value in values:
            answer = api.get("/v1/orders", headers=[(b"authorization", value.encode())])
            assert 400 <= answer.status_code < 500, (value[:12], answer.text)
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        stub = api_keys_pb2_grpc.ApiKeyServiceStub(channel)
        for value in values[:-1]:
            with pytest.raises(grpc.RpcError):
                stub.ListApiKeys(
                    api_keys_pb2.ListApiKeysRequest(),
                    metadata=(("authorization", value),),
                    timeout=30,
                )
