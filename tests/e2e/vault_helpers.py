"""Cards for the vault tests: numbers of each brand that pass the Luhn check (a fresh one per
test, so a scan for it finds only what that test did), publishable keys, tokenization."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import httpx

from core.card_numbers import luhn_valid
from tests.conftest import Mesh

NEXT_YEAR = datetime.now(UTC).year + 1


def fresh_pan(prefix: str = "4", length: int = 16) -> str:
    """A Luhn-valid number no other test uses."""
    body = prefix + "".join(random.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


def card(number: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "number": number or fresh_pan(),
        "exp_month": 12,
        "exp_year": NEXT_YEAR,
        "cvc": "123",
        "holder_name": "Ada Lovelace",
    } | fields


def publishable_key(mesh: Mesh, secret_key: str) -> str:
    with mesh.client(secret_key) as api:
        made = api.post("/v1/api_keys", json={"name": "browser", "kind": "PUBLISHABLE"})
    assert made.status_code == 200, made.text
    key = str(made.json()["secret"])
    assert key.startswith("pk_test_"), key[:8]
    return key


def tokenize(mesh: Mesh, key: str, given: dict[str, Any]) -> httpx.Response:
    """POST /v1/tokens through Envoy; without Authorization when `key` is empty."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=mesh.api_url, timeout=30, trust_env=False) as api:
        return api.post("/v1/tokens", json={"card": given}, headers=headers)


def token(mesh: Mesh, key: str, given: dict[str, Any]) -> dict[str, Any]:
    answer = tokenize(mesh, key, given)
    assert answer.status_code == 200, answer.text
    made: dict[str, Any] = answer.json()
    return made
