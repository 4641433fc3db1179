"""3-D Secure: a challenge is a REQUIRES_ACTION result with a URL PayLoops can send the
customer's browser to, and an abandoned challenge can be released with Void."""

from __future__ import annotations

from urllib.parse import urlsplit

from cli.conformance.checks import Check
from cli.conformance.session import Session
from cli.conformance.verdicts import answered, describe, expect, outcome_name
from payloops.processor.v1 import processor_pb2 as pb


def challenge(session: Session) -> str:
    session.require("three_d_secure")
    token = session.challenge_token()
    key = session.key("att")
    what = f"Authorize {token}"
    payment = session.settled_payment(
        answered(session.client.authorize(session.authorize_request(token, attempt_key=key)), what)
    )
    expect(
        payment.outcome == pb.OUTCOME_REQUIRES_ACTION,
        f"{what}: {describe(payment)}, expected REQUIRES_ACTION",
    )
    url = payment.next_action.redirect_url
    parts = urlsplit(url)
    expect(
        parts.scheme in ("http", "https") and bool(parts.netloc),
        f"{what}: next_action.redirect_url {url!r} is not an absolute http(s) URL",
    )
    looked = answered(session.payment_by_key(key), "GetPayment of the challenged payment")
    expect(
        looked.outcome == pb.OUTCOME_REQUIRES_ACTION,
        f"GetPayment of the challenged payment: {outcome_name(looked.outcome)}, "
        "expected REQUIRES_ACTION while nobody answers the challenge",
    )
    voided = answered(
        session.client.void(session.key("void"), payment.processor_reference),
        "Void of the challenged payment",
    )
    expect(
        voided.outcome == pb.OUTCOME_CANCELED,
        f"Void of the challenged payment: {describe(voided)}, expected CANCELED",
    )
    return f"REQUIRES_ACTION at {parts.scheme}://{parts.netloc}/…, Void -> CANCELED"


CHECKS = (
    Check(
        "three-d-secure.challenge",
        "a REQUIRES_ACTION test token gives REQUIRES_ACTION with an absolute http(s) "
        "redirect_url, and Void releases it (CANCELED)",
        challenge,
    ),
)
