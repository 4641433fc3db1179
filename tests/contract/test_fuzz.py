"""The live REST surface fuzzed from the published document (gen/openapi.json): schemathesis
drives every operation through Envoy, with the document's examples, its coverage cases (each
boundary and each way to break a field, a parameter or a header) and generated data, valid and
invalid, on a mesh of its own as a merchant made for the run. Required of every answer: no 5xx
(not_a_server_error), a status the operation lists (status_code_conformance), a body its
schema describes (response_schema_conformance). The run prints its counts, for CI's log."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from tests import openapi_document
from tests.conftest import Mesh, mesh_with_gateway_fakes
from tests.e2e.people import create_user, signed_in
from tests.e2e.vault_helpers import publishable_key

pytestmark = pytest.mark.e2e

CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance")
# Generated cases per operation in the fuzzing phase (the coverage phase adds its own,
# deterministic set): the whole run stays within a few minutes on two cores.
FUZZED_EXAMPLES = 20
# Operations that can take the fuzzing merchant's own credentials away (revoke or roll its
# key, demote or remove its user) once schemathesis has learnt their ids from a listing: they
# get generated ids only, so every other operation is fuzzed as a merchant that still exists.
DISARMING = ("RevokeApiKey", "RollApiKey", "SetUserRole", "RemoveUser")
SEED = 13


@dataclass(frozen=True)
class Credentials:
    secret_key: str
    session_token: str
    admin_key: str
    publishable_key: str


@dataclass(frozen=True)
class Finding:
    operation: str
    check: str
    title: str
    message: str
    reproduce: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.check}: {self.title}\n{self.message}\n{self.reproduce}"


@dataclass
class FuzzReport:
    operations: set[str] = field(default_factory=set)
    cases_by_phase: collections.Counter[str] = field(default_factory=collections.Counter)
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    failing_cases: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return sum(self.cases_by_phase.values())

    def summary(self) -> str:
        phases = ", ".join(f"{name} {count}" for name, count in sorted(self.cases_by_phase.items()))
        return (
            f"schemathesis: {len(self.operations)} operations, {self.cases} test cases "
            f"({phases}), {self.failing_cases} failing cases, {len(self.findings)} distinct "
            f"failures, {len(self.errors)} errors"
        )

    def record(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.operations.add(recorder.label)
        self.cases_by_phase[str(event.phase.value)] += len(recorder.cases)
        for case_id, checks in recorder.checks.items():
            failed = [check for check in checks if check.status == Status.FAILURE]
            self.failing_cases += bool(failed)
            for check in failed:
                self._add(recorder.label, case_id, check)

    def _add(self, operation: str, case_id: str, check: Any) -> None:
        info = check.failure_info
        key = (operation, check.name, info.failure.title)
        if key not in self.findings:
            self.findings[key] = Finding(
                operation, check.name, info.failure.title, info.failure.message, info.code_sample
            )


def credentials(mesh: Mesh) -> Credentials:
    """A merchant for the fuzzer, its owner signed in, and its publishable key."""
    merchant_id, secret_key = mesh.new_merchant("fuzzed")
    owner = signed_in(mesh, create_user(mesh, merchant_id, "owner"))
    return Credentials(
        secret_key=secret_key,
        session_token=owner.access_token,
        admin_key=mesh.env["PAYLOOPS_ADMIN_API_KEY"],
        publishable_key=publishable_key(mesh, secret_key),
    )


def fuzz_config(base_url: str, given: Credentials) -> schemathesis.Config:
    no_learnt_ids = {"extra-data-sources": {"responses": False}}
    return schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            "seed": SEED,
            # Each run from the document alone: no state kept between runs (nor in the tree).
            "cache": {"enabled": False},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # Positive and negative data in every phase.
            "generation": {
                "mode": "all",
                "max-examples": FUZZED_EXAMPLES,
                "database": "none",
            },
            # The document has no links between operations: nothing for the stateful phase.
            "phases": {"stateful": {"enabled": False}},
            "request-timeout": 35,  # PayOrder may wait up to 30 s for a processor
            "auth": {
                "openapi": {
                    "ApiKey": {"bearer": given.secret_key},
                    "DashboardSession": {"bearer": given.session_token},
                    "AdminKey": {"bearer": given.admin_key},
                    "PublishableKey": {"bearer": given.publishable_key},
                }
            },
            "operations": [
                {
                    "include-operation-id": list(DISARMING),
                    "phases": {
                        "examples": no_learnt_ids,
                        "coverage": no_learnt_ids,
                        "fuzzing": no_learnt_ids,
                    },
                }
            ],
        }
    )


def fuzz(base_url: str, given: Credentials) -> FuzzReport:
    config = fuzz_config(base_url, given)
    # Dotted path parameters renamed: schemathesis fills templates with str.format.
    document = openapi_document.with_plain_path_parameters(openapi_document.load())
    schema = schemathesis.openapi.from_dict(document, config=config)
    report = FuzzReport()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            report.record(event)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
    return report


def documented_operations() -> Iterator[str]:
    """As schemathesis names them (dotted path parameters renamed)."""
    document = openapi_document.with_plain_path_parameters(openapi_document.load())
    for template, item in document["paths"].items():
        for method in item:
            yield f"{method.upper()} {template}"


@pytest.fixture(scope="module")
def fuzzed_mesh() -> Iterator[Mesh]:
    """A mesh of the fuzzer's own: with the admin key it registers and changes processors,
    which every merchant of a mesh shares, so the session's mesh would not be the same after."""
    with mesh_with_gateway_fakes() as started:
        yield started


def test_every_operation_answers_as_the_document_says(
    fuzzed_mesh: Mesh, capsys: pytest.CaptureFixture[str]
) -> None:
    mesh = fuzzed_mesh
    given = credentials(mesh)
    report = fuzz(mesh.api_url, given)
    with capsys.disabled():
        print("\n" + report.summary())
        for finding in report.findings.values():
            print(f"\n{finding}")
    assert not report.errors, "\n".join(report.errors)
    assert report.operations == set(documented_operations())
    assert not report.findings, f"{len(report.findings)} distinct failures, printed above"
    # The run was a merchant's to the end (DISARMING): not hundreds of cases refused a key.
    with mesh.client(given.secret_key) as api:
        assert api.get("/v1/orders").status_code == 200
