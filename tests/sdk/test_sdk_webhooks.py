"""The SDK's webhook verification against signatures made the way the platform makes them
(core/webhooks/signing.py): valid ones pass, and everything a forger or a replayer could try
fails with SignatureVerificationError."""

from __future__ import annotations

import json

import pytest

from core.webhooks.signing import new_secret, signature, signature_header
from payloops.sdk import PayLoopsError, SignatureVerificationError, webhooks

NOW = 1_800_000_000
SECRET = new_secret()
EVENT = {
    "id": "evt_1",
    "type": "order.succeeded",
    "livemode": False,
    "create_time": "2027-01-15T08:00:00Z",
    "object": {"id": "ord_1", "amount": "4999"},
}
BODY = json.dumps(EVENT, separators=(",", ":")).encode()


def test_a_valid_signature_returns_the_event() -> None:
    header = signature_header([SECRET], NOW, BODY)
    assert webhooks.verify(BODY, header, SECRET, now=NOW) == EVENT
    assert webhooks.verify(BODY.decode(), header, SECRET, now=NOW + 299) == EVENT


def test_during_a_rotation_either_secret_verifies() -> None:
    new = new_secret()
    header = signature_header([new, SECRET], NOW, BODY)
    assert header.count("v1=") == 2
    assert webhooks.verify(BODY, header, SECRET, now=NOW) == EVENT
    assert webhooks.verify(BODY, header, new, now=NOW) == EVENT
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY, header, new_secret(), now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=1800000000",
        "v1=abc",
        "t=abc,v1=" + "0" * 64,
        "garbage",
        f"t={NOW},v1=" + "0" * 64,
        f"t={NOW},v0={signature(SECRET, NOW, BODY)}",
        f"t={NOW + 1},v1={signature(SECRET, NOW, BODY)}",
        f"t={NOW},v1=é",
    ],
)
def test_missing_malformed_or_wrong_signatures_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY, header, SECRET, now=NOW)


def test_a_changed_body_or_another_secret_is_refused() -> None:
    header = signature_header([SECRET], NOW, BODY)
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY.replace(b"4999", b"1"), header, SECRET, now=NOW)
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY, header, new_secret(), now=NOW)
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY, header, "", now=NOW)


def test_a_timestamp_outside_the_tolerance_is_a_replay() -> None:
    header = signature_header([SECRET], NOW, BODY)
    for now in (NOW + 301, NOW - 301):
        with pytest.raises(SignatureVerificationError, match="tolerance"):
            webhooks.verify(BODY, header, SECRET, now=now)
    assert webhooks.verify(BODY, header, SECRET, tolerance=600, now=NOW + 500) == EVENT


def test_a_signed_payload_that_is_not_a_json_object_is_refused() -> None:
    for body in (b"not json", b"[1, 2]"):
        with pytest.raises(SignatureVerificationError):
            webhooks.verify(body, signature_header([SECRET], NOW, body), SECRET, now=NOW)


def test_the_error_is_part_of_the_sdk_hierarchy() -> None:
    assert issubclass(SignatureVerificationError, PayLoopsError)
