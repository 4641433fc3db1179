"""Void: releasing an authorization, idempotently, and never a captured payment (that takes a
refund)."""

from __future__ import annotations

import grpc

from cli.conformance.checks import Check
from cli.conformance.session import Session
from cli.conformance.verdicts import answered, describe, expect, outcome_name, refused
from payloops.processor.v1 import processor_pb2 as pb


def authorized(session: Session) -> str:
    payment = session.authorized_payment()
    voided = answered(
        session.client.void(session.key("void"), payment.processor_reference),
        "Void of an AUTHORIZED payment",
    )
    expect(
        (voided.processor_reference, voided.outcome)
        == (payment.processor_reference, pb.OUTCOME_CANCELED),
        f"Void of an AUTHORIZED payment: {describe(voided)}, expected "
        f"{payment.processor_reference} CANCELED",
    )
    expect(
        voided.amount_captured == 0,
        f"Void of an AUTHORIZED payment: amount_captured {voided.amount_captured}",
    )
    looked = answered(
        session.payment_by_reference(payment.processor_reference), "GetPayment after Void"
    )
    expect(
        looked.outcome == pb.OUTCOME_CANCELED,
        f"GetPayment after Void: {outcome_name(looked.outcome)}, expected CANCELED",
    )
    return f"AUTHORIZED -> CANCELED {payment.processor_reference}"


def idempotent(session: Session) -> str:
    payment = session.authorized_payment()
    key = session.key("void")
    first = answered(session.client.void(key, payment.processor_reference), "Void")
    again = answered(
        session.client.void(key, payment.processor_reference), "Void again with the same void_key"
    )
    expect(
        (again.processor_reference, again.outcome) == (first.processor_reference, first.outcome),
        f"Void again with the same void_key: {describe(again)}, the first gave {describe(first)}",
    )
    # The contract: voiding a CANCELED payment is a no-op that returns it, whatever the key.
    other = answered(
        session.client.void(session.key("void"), payment.processor_reference),
        "Void of a CANCELED payment with a new void_key",
    )
    expect(
        other.outcome == pb.OUTCOME_CANCELED,
        f"Void of a CANCELED payment with a new void_key: {describe(other)}, "
        "expected CANCELED (a no-op)",
    )
    return "same void_key: same CANCELED payment; a new key on CANCELED: a no-op"


def captured(session: Session) -> str:
    payment = session.succeeded_payment()
    failure = refused(
        session.client.void(session.key("void"), payment.processor_reference),
        "Void of a SUCCEEDED (captured) payment",
        [grpc.StatusCode.FAILED_PRECONDITION],
    )
    looked = answered(
        session.payment_by_reference(payment.processor_reference),
        "GetPayment after the refused Void",
    )
    expect(
        looked.outcome == pb.OUTCOME_SUCCEEDED,
        f"GetPayment after the refused Void: {outcome_name(looked.outcome)}, "
        "expected SUCCEEDED (nothing changed)",
    )
    return f"FAILED_PRECONDITION {failure.reason}"


CHECKS = (
    Check("void.authorized", "Void of an AUTHORIZED payment makes it CANCELED", authorized),
    Check(
        "void.idempotent",
        "Void again with the same void_key answers the same; Void of a CANCELED payment is a no-op",
        idempotent,
    ),
    Check(
        "void.captured",
        "Void of a SUCCEEDED (captured) payment is FAILED_PRECONDITION and changes nothing",
        captured,
    ),
)
