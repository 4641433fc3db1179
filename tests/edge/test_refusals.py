"""A workflow's refusal reaches the merchant as the catalogue's error of the same reason: every
refusal a workflow can give has its answer, and a capture of more than the order authorized is
answered as the edge's own check answers it (a field violation of `amount`)."""

from __future__ import annotations

import pytest
from google.rpc import error_details_pb2

from core import errors
from core.contracts.vocabulary import Refusal
from edge.lifecycle import refusal_error


def _reasons(error: errors.PayLoopsError) -> tuple[str, list[str], dict[str, str]]:
    status = error.to_status()
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    violations = []
    for detail in status.details[1:]:
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request)
        violations += [v.reason for v in bad_request.field_violations]
    return info.reason, violations, dict(info.metadata)


@pytest.mark.parametrize("refusal", [r for r in Refusal if r is not Refusal.CAPTURE_AMOUNT_INVALID])
def test_a_refusal_is_the_catalogues_error_of_its_name(refusal: Refusal) -> None:
    error = refusal_error(refusal, "refused", status="requires_capture")
    assert _reasons(error) == (refusal, [], {"status": "REQUIRES_CAPTURE"})
    assert error.kind.code == getattr(errors, refusal.name).code


def test_a_capture_above_the_authorization_is_a_field_violation_as_at_the_edge() -> None:
    from_workflow = refusal_error(
        Refusal.CAPTURE_AMOUNT_INVALID,
        "capture 1 to 4999",
        status="requires_capture",
        authorized=4999,
    )
    assert _reasons(from_workflow) == ("INVALID_REQUEST", ["CAPTURE_AMOUNT_INVALID"], {})
    assert from_workflow.to_status() == errors.capture_amount_invalid(4999).to_status()


def test_a_refusal_of_no_known_reason_is_an_invalid_request() -> None:
    assert _reasons(refusal_error("SOMETHING_ELSE", "no", status="")) == ("INVALID_REQUEST", [], {})
