"""Refund and GetRefund: full and partial refunds of a SUCCEEDED payment, never more than was
captured, idempotent on refund_key, and found again by key or reference (PayLoops asks GetRefund
first, and refunds only on NOT_FOUND, when it undoes a duplicate charge)."""

from __future__ import annotations

import grpc

from cli.conformance.checks import Check
from cli.conformance.session import Session
from cli.conformance.verdicts import (
    answered,
    describe,
    expect,
    refund_status_name,
    refused,
)
from payloops.processor.v1 import processor_pb2 as pb


def _refunded(session: Session, payment: pb.Payment, amount: int, what: str) -> pb.Refund:
    """Refunds `amount` (0 = what remains) under a fresh key; the refund once SUCCEEDED."""
    key = session.key("ref")
    refund = answered(session.client.refund(key, payment.processor_reference, amount), what)
    expect(
        refund.status in (pb.Refund.STATUS_SUCCEEDED, pb.Refund.STATUS_PENDING),
        f"{what}: {describe(refund)}, expected SUCCEEDED or PENDING",
    )
    refund = session.settled_refund(refund, key)
    expect(
        refund.status == pb.Refund.STATUS_SUCCEEDED,
        f"{what}: became {refund_status_name(refund.status)} "
        f"(failure_code {refund.failure_code!r}), expected SUCCEEDED",
    )
    expect(bool(refund.processor_reference), f"{what}: no processor_reference")
    expect(
        refund.payment_reference == payment.processor_reference,
        f"{what}: payment_reference {refund.payment_reference!r}, "
        f"refunded {payment.processor_reference}",
    )
    expect(
        refund.currency == payment.currency,
        f"{what}: currency {refund.currency!r}, the payment's is {payment.currency}",
    )
    if amount:
        expect(refund.amount == amount, f"{what}: refund amount {refund.amount}, asked {amount}")
    return refund


def _refunded_so_far(session: Session, payment: pb.Payment, expected: int, after: str) -> None:
    looked = answered(
        session.payment_by_reference(payment.processor_reference),
        f"GetPayment after {after}",
    )
    expect(
        looked.amount_refunded == expected,
        f"GetPayment after {after}: amount_refunded {looked.amount_refunded}, expected {expected}",
    )


def full(session: Session) -> str:
    payment = session.succeeded_payment()
    refund = _refunded(session, payment, 0, "Refund of the whole payment (amount 0)")
    expect(
        refund.amount == payment.amount_captured,
        f"Refund of the whole payment: refund amount {refund.amount}, "
        f"captured {payment.amount_captured}",
    )
    _refunded_so_far(session, payment, refund.amount, "a full refund")
    return f"SUCCEEDED {refund.processor_reference}, {refund.amount} {refund.currency}"


def partial(session: Session) -> str:
    session.require("partial_refund")
    payment = session.succeeded_payment()
    part = payment.amount // 4
    first = _refunded(session, payment, part, f"Refund of {part} of {payment.amount}")
    second = _refunded(session, payment, part, f"a second Refund of {part}")
    expect(
        second.processor_reference != first.processor_reference,
        f"two refunds with different keys share the reference {first.processor_reference}",
    )
    _refunded_so_far(session, payment, 2 * part, "two partial refunds")
    return f"{part} + {part} of {payment.amount} refunded"


def over_refund(session: Session) -> str:
    payment = session.succeeded_payment()
    over = payment.amount_captured + 1
    refused(
        session.client.refund(session.key("ref"), payment.processor_reference, over),
        f"Refund of {over} of {payment.amount_captured} captured",
        [grpc.StatusCode.FAILED_PRECONDITION],
    )
    if session.capabilities.partial_refund:
        half = payment.amount_captured // 2
        _refunded(session, payment, half, f"Refund of {half}")
        rest = payment.amount_captured - half + 1
        refused(
            session.client.refund(session.key("ref"), payment.processor_reference, rest),
            f"Refund of {rest} when {rest - 1} remains",
            [grpc.StatusCode.FAILED_PRECONDITION],
        )
        _refunded_so_far(session, payment, half, "the refused refund")
        return (
            f"FAILED_PRECONDITION for {over} of {payment.amount_captured} and for {rest} "
            f"when {rest - 1} remained"
        )
    _refunded(session, payment, 0, "Refund of the whole payment")
    refused(
        session.client.refund(session.key("ref"), payment.processor_reference, 0),
        "Refund of a fully refunded payment",
        [grpc.StatusCode.FAILED_PRECONDITION],
    )
    _refunded_so_far(session, payment, payment.amount_captured, "the refused refund")
    return f"FAILED_PRECONDITION for {over} of {payment.amount_captured} and once fully refunded"


def idempotent(session: Session) -> str:
    payment = session.succeeded_payment()
    key = session.key("ref")
    amount = payment.amount // 2 if session.capabilities.partial_refund else 0
    first = answered(session.client.refund(key, payment.processor_reference, amount), "Refund")
    again = answered(
        session.client.refund(key, payment.processor_reference, amount),
        "Refund again with the same refund_key",
    )
    expect(
        (again.processor_reference, again.amount) == (first.processor_reference, first.amount),
        f"Refund again with the same refund_key: {describe(again)} of {again.amount}, "
        f"the first gave {describe(first)} of {first.amount}",
    )
    session.settled_refund(first, key)
    _refunded_so_far(session, payment, first.amount, "two refunds with one key")
    return f"same refund_key, one refund of {first.amount}"


def lookup(session: Session) -> str:
    payment = session.succeeded_payment()
    key = session.key("ref")
    refund = session.settled_refund(
        answered(session.client.refund(key, payment.processor_reference), "Refund"), key
    )
    for how, reply in (
        ("refund_key", session.refund_by_key(key)),
        ("processor_reference", session.refund_by_reference(refund.processor_reference)),
    ):
        what = f"GetRefund by {how}"
        found = answered(reply, what)
        expect(
            (found.processor_reference, found.payment_reference, found.amount)
            == (refund.processor_reference, payment.processor_reference, refund.amount),
            f"{what}: {describe(found)} of {found.payment_reference} amount {found.amount}, "
            f"expected {refund.processor_reference} of {payment.processor_reference} "
            f"amount {refund.amount}",
        )
    failure = refused(
        session.refund_by_key(session.key("ref")),
        "GetRefund of an unknown refund_key",
        [grpc.StatusCode.NOT_FOUND],
    )
    return f"found by refund_key and processor_reference; unknown key NOT_FOUND {failure.reason}"


CHECKS = (
    Check(
        "refund.full",
        "Refund with amount 0 of a SUCCEEDED payment refunds all of it (SUCCEEDED, or "
        "PENDING then SUCCEEDED), and GetPayment shows it refunded",
        full,
    ),
    Check(
        "refund.partial", "two partial refunds under two keys are two refunds, adding up", partial
    ),
    Check(
        "refund.over-refund",
        "a refund over what remains refundable is FAILED_PRECONDITION and refunds nothing",
        over_refund,
    ),
    Check(
        "refund.idempotent",
        "Refund twice with one refund_key refunds once and answers the same",
        idempotent,
    ),
    Check(
        "refund.get-refund",
        "GetRefund finds a refund by refund_key and by processor_reference; an unknown "
        "refund_key is NOT_FOUND",
        lookup,
    ),
)
