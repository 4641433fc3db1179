"""What a client sends and is never shown again (a processor account's credentials, the CA
certificates a processor registration trusts) is not a field of any answer, not even an empty
one: Envoy prints every field of an answer, set or not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest

from payloops.v1 import processors_pb2, processors_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.scripted_gateway import ScriptedGateway, forget, serving

pytestmark = pytest.mark.e2e

SECRET = "sk_input_only_" + "z" * 24
INPUT_ONLY = {"credentials", "tls_ca_pem"}


@dataclass(frozen=True)
class Served:
    """A gateway that needs credentials, serving but not registered yet."""

    name: str
    target: str


@pytest.fixture
def gateway(mesh: Mesh) -> Iterator[Served]:
    scripted = ScriptedGateway(credential_fields=("api_key",))
    with serving(scripted) as target:
        try:
            yield Served(scripted.name, target)
        finally:
            forget(mesh, scripted.name)


def processor_answers(mesh: Mesh, gateway: Served) -> list[httpx.Response]:
    with mesh.client(mesh.env["PAYLOOPS_ADMIN_API_KEY"]) as admin:
        registered = admin.post(
            "/v1/processors", json={"name": gateway.name, "target": gateway.target}
        )
        return [registered, admin.get("/v1/processors")]


def account_answers(mesh: Mesh, gateway: Served) -> list[httpx.Response]:
    _, key = mesh.new_merchant("input-only fields")
    with mesh.client(key) as api:
        created = api.post(
            "/v1/processor_accounts",
            json={"processor": gateway.name, "credentials": {"api_key": SECRET}},
        )
        account = created.json().get("id", "")
        return [
            created,
            api.post(
                f"/v1/processor_accounts/{account}:rotate",
                json={"credentials": {"api_key": SECRET + "2"}},
            ),
            api.get("/v1/processor_accounts"),
            api.post(f"/v1/processor_accounts/{account}:disable", json={}),
        ]


def shown(answer: httpx.Response) -> list[dict[str, Any]]:
    """The resources in an answer: itself, or the items of a list."""
    body: dict[str, Any] = answer.json()
    for listed in ("processors", "processor_accounts"):
        if listed in body:
            items: list[dict[str, Any]] = body[listed]
            return items
    return [body]


def test_no_rest_answer_carries_an_input_only_field(mesh: Mesh, gateway: Served) -> None:
    answers = processor_answers(mesh, gateway) + account_answers(mesh, gateway)
    assert [answer.status_code for answer in answers] == [200] * len(answers), answers[-1].text
    resources = [resource for answer in answers for resource in shown(answer)]
    assert [sorted(INPUT_ONLY & set(resource)) for resource in resources] == [[]] * len(resources)
    assert all(SECRET not in answer.text for answer in answers)
    assert answers[2].json()["credential_fields"] == ["api_key"]


def test_over_grpc_the_create_takes_its_own_input_message(mesh: Mesh, gateway: Served) -> None:
    assert processor_answers(mesh, gateway)[0].status_code == 200
    _, key = mesh.new_merchant("input-only fields over gRPC")
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        reply = processors_pb2_grpc.ProcessorAccountServiceStub(channel).CreateProcessorAccount(
            processors_pb2.CreateProcessorAccountRequest(
                processor_account=processors_pb2.NewProcessorAccount(
                    processor=gateway.name, credentials={"api_key": SECRET}
                )
            ),
            metadata=(("authorization", f"Bearer {key}"),),
            timeout=30,
        )
    assert list(reply.credential_fields) == ["api_key"]
    for answered in (processors_pb2.ProcessorAccount, processors_pb2.Processor):
        assert not INPUT_ONLY & set(answered.DESCRIPTOR.fields_by_name)
