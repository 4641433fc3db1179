"""Page tokens are signed with this installation's own secret: a token signed with the secret
that used to be the public default is refused by every list, even with a genuine payload."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
import pytest

from tests.conftest import Mesh

pytestmark = pytest.mark.e2e

# What every installation signed with before it had a secret of its own.
FORMER_PUBLIC_DEFAULT = b"payloops-dev-page-token-secret"
SIGNATURE_BYTES = 16


def resigned(token: str, key: bytes) -> str:
    """The same payload (cursor and filters) with a signature made with `key`."""
    payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))[SIGNATURE_BYTES:]
    signature = hmac.new(key, payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")


def second_page(api: httpx.Client, path: str, token: str) -> httpx.Response:
    return api.get(path, params={"page_size": 1, "page_token": token})


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/events"])
def test_a_token_signed_with_the_former_public_default_is_refused(mesh: Mesh, path: str) -> None:
    _, key = mesh.new_merchant("page token secret")
    with mesh.client(key) as api:
        for _ in range(2):
            order = api.post("/v1/orders", json={"amount": 700, "currency": "USD"}).json()
            paid = api.post(
                f"/v1/orders/{order['id']}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            )
            assert paid.json()["status"] == "SUCCEEDED", paid.text
        first = api.get(path, params={"page_size": 1})
        assert first.status_code == 200, first.text
        token = first.json()["next_page_token"]
        genuine = second_page(api, path, token)
        forged = second_page(api, path, resigned(token, FORMER_PUBLIC_DEFAULT))
    assert genuine.status_code == 200, genuine.text
    assert forged.status_code == 400, forged.text
    assert forged.json()["details"][0]["reason"] == "PAGE_TOKEN_INVALID"
