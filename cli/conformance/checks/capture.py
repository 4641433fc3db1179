"""Capture of manual-capture authorizations: full, partial, refused in the wrong state, and
idempotent on capture_key."""

from __future__ import annotations

import grpc

from cli.conformance.checks import Check
from cli.conformance.session import Session
from cli.conformance.verdicts import answered, describe, expect, outcome_name, refused
from payloops.processor.v1 import processor_pb2 as pb


def _captured(session: Session, payment: pb.Payment, amount: int, what: str) -> pb.Payment:
    """Captures `amount` (0 = all) under a fresh key and checks the answer and GetPayment."""
    expected = amount or payment.amount
    captured = session.settled_payment(
        answered(
            session.client.capture(session.key("cap"), payment.processor_reference, amount), what
        )
    )
    expect(
        captured.processor_reference == payment.processor_reference,
        f"{what}: answered {captured.processor_reference}, captured {payment.processor_reference}",
    )
    expect(
        captured.outcome == pb.OUTCOME_SUCCEEDED,
        f"{what}: {describe(captured)}, expected SUCCEEDED",
    )
    expect(
        captured.amount_captured == expected,
        f"{what}: amount_captured {captured.amount_captured}, expected {expected}",
    )
    looked = answered(
        session.payment_by_reference(payment.processor_reference), f"GetPayment after {what}"
    )
    expect(
        (looked.outcome, looked.amount_captured) == (pb.OUTCOME_SUCCEEDED, expected),
        f"GetPayment after {what}: {outcome_name(looked.outcome)} amount_captured "
        f"{looked.amount_captured}, expected SUCCEEDED {expected}",
    )
    return captured


def full(session: Session) -> str:
    payment = session.authorized_payment()
    expect(
        payment.amount_captured == 0,
        f"Authorize (manual capture): AUTHORIZED with amount_captured "
        f"{payment.amount_captured}, expected 0",
    )
    captured = _captured(session, payment, 0, "Capture of the whole authorization")
    return f"AUTHORIZED -> SUCCEEDED, {captured.amount_captured} captured"


def partial(session: Session) -> str:
    session.require("manual_capture")
    session.require("partial_capture")
    payment = session.authorized_payment()
    part = payment.amount * 3 // 5
    captured = _captured(
        session, payment, part, f"Capture of {part} of {payment.amount} authorized"
    )
    return f"{captured.amount_captured} of {payment.amount} captured"


def wrong_state(session: Session) -> str:
    session.require("manual_capture")
    refusals: list[str] = []
    declining = session.methods(pb.OUTCOME_DECLINED)
    if declining:
        token = declining[0].token
        declined = session.settled_payment(
            answered(
                session.client.authorize(session.authorize_request(token, manual=True)),
                f"setup: Authorize {token} (manual capture)",
            )
        )
        expect(
            declined.outcome == pb.OUTCOME_DECLINED,
            f"setup: Authorize {token} (manual capture): {describe(declined)}, expected DECLINED",
        )
        # A gateway may give a declined attempt no reference: then there is nothing to capture.
        if declined.processor_reference:
            failure = refused(
                session.client.capture(session.key("cap"), declined.processor_reference),
                "Capture of a DECLINED payment",
                [grpc.StatusCode.FAILED_PRECONDITION],
            )
            refusals.append(f"DECLINED ({failure.reason})")
    authorized = session.authorized_payment()
    canceled = answered(
        session.client.void(session.key("void"), authorized.processor_reference), "setup: Void"
    )
    expect(
        canceled.outcome == pb.OUTCOME_CANCELED,
        f"setup: Void: {describe(canceled)}, expected CANCELED",
    )
    failure = refused(
        session.client.capture(session.key("cap"), authorized.processor_reference),
        "Capture of a CANCELED payment",
        [grpc.StatusCode.FAILED_PRECONDITION],
    )
    refusals.append(f"CANCELED ({failure.reason})")
    return "FAILED_PRECONDITION for " + ", ".join(refusals)


def idempotent(session: Session) -> str:
    payment = session.authorized_payment()
    key = session.key("cap")
    amount = payment.amount // 2 if session.capabilities.partial_capture else 0
    first = answered(session.client.capture(key, payment.processor_reference, amount), "Capture")
    again = answered(
        session.client.capture(key, payment.processor_reference, amount),
        "Capture again with the same capture_key",
    )
    expect(
        (again.processor_reference, again.outcome, again.amount_captured)
        == (first.processor_reference, first.outcome, first.amount_captured),
        f"Capture again with the same capture_key: {describe(again)} amount_captured "
        f"{again.amount_captured}, the first gave {describe(first)} amount_captured "
        f"{first.amount_captured}",
    )
    looked = answered(
        session.payment_by_reference(payment.processor_reference),
        "GetPayment after two captures with one key",
    )
    expect(
        looked.amount_captured == first.amount_captured,
        f"GetPayment after two captures with one key: amount_captured "
        f"{looked.amount_captured}, expected {first.amount_captured}",
    )
    return f"same capture_key, one capture of {first.amount_captured}"


CHECKS = (
    Check(
        "capture.full",
        "a manual-capture authorization is AUTHORIZED, and Capture with amount 0 makes it "
        "SUCCEEDED with everything captured",
        full,
    ),
    Check(
        "capture.partial", "Capture of part of an authorization captures exactly that part", partial
    ),
    Check(
        "capture.wrong-state",
        "Capture of a DECLINED or CANCELED payment is FAILED_PRECONDITION",
        wrong_state,
    ),
    Check(
        "capture.idempotent",
        "Capture twice with one capture_key captures once and answers the same",
        idempotent,
    ),
)
