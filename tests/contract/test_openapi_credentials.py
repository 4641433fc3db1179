"""What the document says about credentials beyond each operation's own scheme, held to the live
mesh: a publishable key is refused (403) by every operation but tokenization, those that take no
credential included, and each lists that 403; CreateUser with a `merchant` is the platform
operator making a merchant's first owner with the admin key, and its security says so (a client
generated from the document could not make that call otherwise)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from cli import openapi
from tests import openapi_document
from tests.conftest import Mesh
from tests.e2e.people import PASSWORD, new_email
from tests.e2e.vault_helpers import publishable_key

pytestmark = pytest.mark.e2e

_VARIABLE = re.compile(r"\{([^}]+)\}")


def operations_without_credentials() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for template, item in openapi_document.load()["paths"].items():
        for method, operation in item.items():
            if not operation["security"]:
                yield template, method.upper(), operation


def test_a_publishable_key_is_refused_where_no_credential_is_needed_as_documented(
    mesh: Mesh,
) -> None:
    key = publishable_key(mesh, mesh.new_merchant("publishable")[1])
    checked = []
    with mesh.client(key) as browser:
        for template, method, operation in operations_without_credentials():
            url = _VARIABLE.sub("unknown", template)
            body = b"{}" if "requestBody" in operation else None
            answer = browser.request(method, url, content=body)
            assert answer.status_code == 403, (operation["operationId"], answer.text)
            assert "403" in operation["responses"], operation["operationId"]
            checked.append(operation["operationId"])
    assert {"GetHealth", "GetJwks", "CreateSession", "ReceiveProcessorWebhook"} <= set(checked)


def test_the_admin_key_makes_a_merchants_first_owner_as_the_document_says(mesh: Mesh) -> None:
    operation = openapi_document.load()["paths"]["/v1/users"]["post"]
    assert {"AdminKey": []} in operation["security"]
    assert openapi.METHOD_SECURITY["CreateUser"] == operation["security"]
    merchant_id, _ = mesh.new_merchant("first owner")
    with mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"]) as admin:
        made = admin.post(
            "/v1/users",
            json={
                "merchant": merchant_id,
                "user": {"email": new_email("owner"), "role": "OWNER"},
                "password": PASSWORD,
            },
        )
    assert made.status_code == 200, made.text
    assert made.json()["role"] == "OWNER"
