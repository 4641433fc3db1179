"""The document's security requirements are the mesh's: every operation that names a credential
refuses a request without one (401), a merchant's secret key opens exactly the operations that
list ApiKey, and those that list none (health, signing in, a gateway's notification) never ask
for one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import openapi_document
from tests.conftest import Mesh

pytestmark = pytest.mark.e2e

_VARIABLE = re.compile(r"\{([^}]+)\}")


def documented_operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    document = openapi_document.load()
    for path, methods in document["paths"].items():
        for verb, found in methods.items():
            yield path, verb, found


OPERATIONS = sorted(documented_operations(), key=lambda each: each[2]["operationId"])


def send(client: httpx.Client, path: str, verb: str, found: dict[str, Any]) -> httpx.Response:
    # Ids that look right and name nothing: the credential is checked before anything is found.
    # A number (a routing configuration's version) must be one, or the transcoder refuses it;
    # one no merchant has, so a rollback changes nothing.
    numeric = {
        parameter["name"]
        for parameter in found.get("parameters", [])
        if parameter.get("in") == "path" and parameter["schema"].get("format") == "int64"
    }
    url = _VARIABLE.sub(
        lambda match: (
            "0" if match.group(1) in numeric else f"{match.group(1).split('.')[0][:3]}_unknown"
        ),
        path,
    )
    body = b"{}" if "requestBody" in found else None
    return client.request(verb.upper(), url, content=body)


def reason(response: httpx.Response) -> str:
    details = response.json().get("details", [])
    return next((d["reason"] for d in details if "reason" in d), "")


@pytest.mark.parametrize(
    ("path", "verb", "found"), OPERATIONS, ids=[each[2]["operationId"] for each in OPERATIONS]
)
def test_each_operation_asks_for_the_credentials_its_document_names(
    mesh: Mesh, path: str, verb: str, found: dict[str, Any]
) -> None:
    with httpx.Client(base_url=mesh.api_url, timeout=30) as anonymous:
        without = send(anonymous, path, verb, found)
    with mesh.client() as merchant:
        with_key = send(merchant, path, verb, found)
    schemes = {name for requirement in found["security"] for name in requirement}
    if schemes:
        assert without.status_code == 401, (without.status_code, without.text)
    else:
        assert reason(without) not in {"API_KEY_MISSING", "CREDENTIALS_MISSING"}, without.text
    if "ApiKey" in schemes:
        assert with_key.status_code not in (401, 403), (with_key.status_code, with_key.text)
    elif schemes:
        # A merchant's secret key is not the credential these take (a user's session, the
        # publishable key, the admin key).
        assert with_key.status_code in (401, 403), (with_key.status_code, with_key.text)
