"""GetPayment: how PayLoops resolves an unknown outcome. Found by either key, and NOT_FOUND only
for a payment the gateway never saw: PayLoops charges elsewhere on NOT_FOUND, so a NOT_FOUND
that hides a charge charges the customer twice, and an UNAVAILABLE for a payment that does not
exist keeps an order waiting."""

from __future__ import annotations

import grpc

from cli.conformance.checks import Check
from cli.conformance.session import Session
from cli.conformance.verdicts import answered, expect, outcome_name, refused


def found(session: Session) -> str:
    key = session.key("att")
    payment = session.succeeded_payment(attempt_key=key)
    for how, reply in (
        ("attempt_key", session.payment_by_key(key)),
        ("processor_reference", session.payment_by_reference(payment.processor_reference)),
    ):
        what = f"GetPayment by {how}"
        looked = answered(reply, what)
        expect(
            looked.processor_reference == payment.processor_reference,
            f"{what}: found {looked.processor_reference}, "
            f"Authorize gave {payment.processor_reference}",
        )
        expect(
            (looked.outcome, looked.amount, looked.currency)
            == (payment.outcome, payment.amount, payment.currency),
            f"{what}: {outcome_name(looked.outcome)} {looked.amount} {looked.currency}, "
            f"Authorize gave {outcome_name(payment.outcome)} {payment.amount} "
            f"{payment.currency}",
        )
    return f"{payment.processor_reference} by attempt_key and by processor_reference"


def not_found(session: Session) -> str:
    key = session.key("att")
    failure = refused(
        session.payment_by_key(key),
        "GetPayment of an unknown attempt_key",
        [grpc.StatusCode.NOT_FOUND],
    )
    return f"NOT_FOUND {failure.reason}"


CHECKS = (
    Check(
        "get-payment.found",
        "GetPayment finds a payment by attempt_key and by processor_reference, as Authorize "
        "left it",
        found,
    ),
    Check(
        "get-payment.not-found",
        "GetPayment of an attempt_key the gateway never saw is NOT_FOUND (with ErrorInfo)",
        not_found,
    ),
)
