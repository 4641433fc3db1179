"""Authorize: charging, idempotency on attempt_key, and declines as results."""

from __future__ import annotations

import grpc

from cli.conformance.checks import Check
from cli.conformance.client import RpcFailure
from cli.conformance.session import Session, payment_summary
from cli.conformance.verdicts import (
    CheckFailed,
    CheckSkipped,
    answered,
    describe,
    error_shape,
    expect,
)
from payloops.processor.v1 import processor_pb2 as pb


def success(session: Session) -> str:
    session.succeeding_token()  # skips when there is none
    methods = session.methods(pb.OUTCOME_SUCCEEDED)
    first: pb.Payment | None = None
    for method in methods:
        request = session.authorize_request(method.token)
        what = f"Authorize {method.token}"
        payment = session.settled_payment(answered(session.client.authorize(request), what))
        expect(
            payment.outcome == pb.OUTCOME_SUCCEEDED,
            f"{what}: {describe(payment)}, expected SUCCEEDED (automatic capture)",
        )
        expect(bool(payment.processor_reference), f"{what}: no processor_reference")
        expect(
            (payment.amount, payment.currency) == (request.amount, request.currency),
            f"{what}: answered {payment.amount} {payment.currency}, "
            f"sent {request.amount} {request.currency}",
        )
        expect(
            payment.amount_captured == request.amount,
            f"{what}: amount_captured {payment.amount_captured}, expected {request.amount} "
            "(automatic capture takes it all)",
        )
        expect(
            payment.attempt_key in ("", request.attempt_key),
            f"{what}: attempt_key {payment.attempt_key!r}, sent {request.attempt_key!r}",
        )
        first = first or payment
    assert first is not None
    return (
        f"{len(methods)} SUCCEEDED token(s) charged, e.g. {payment_summary(first)} "
        f"{first.amount} {first.currency}"
    )


def _twice(session: Session, token: str) -> tuple[pb.Payment, pb.Payment]:
    request = session.authorize_request(token)
    first = answered(session.client.authorize(request), f"Authorize {token}")
    again = answered(
        session.client.authorize(request), f"Authorize {token} again with the same attempt_key"
    )
    if again.processor_reference != first.processor_reference:
        raise CheckFailed(
            f"Authorize {token} twice with one attempt_key made two payments: "
            f"{first.processor_reference} and {again.processor_reference}"
        )
    if again.outcome != first.outcome and first.outcome != pb.OUTCOME_PENDING:
        raise CheckFailed(
            f"Authorize {token} again with the same attempt_key: "
            f"{describe(again)}, the first call gave {describe(first)}"
        )
    looked = answered(session.payment_by_key(request.attempt_key), "GetPayment by attempt_key")
    expect(
        looked.processor_reference == first.processor_reference,
        f"GetPayment by attempt_key finds {looked.processor_reference}, "
        f"Authorize gave {first.processor_reference}",
    )
    return first, again


def idempotent(session: Session) -> str:
    first, _ = _twice(session, session.succeeding_token())
    declining = session.methods(pb.OUTCOME_DECLINED)
    if declining:
        _twice(session, declining[0].token)
    return f"same attempt_key, same payment: {payment_summary(first)}" + (
        f"; a decline ({declining[0].token}) too" if declining else ""
    )


def key_reuse(session: Session) -> str:
    token = session.succeeding_token()
    request = session.authorize_request(token)
    first = answered(session.client.authorize(request), f"Authorize {token}")
    changed = pb.AuthorizeRequest()
    changed.CopyFrom(request)
    changed.amount = request.amount + 100
    what = f"Authorize with the same attempt_key and amount {changed.amount} (was {request.amount})"
    reply = session.client.authorize(changed)
    if isinstance(reply, RpcFailure):
        if reply.code not in (
            grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.INVALID_ARGUMENT,
        ):
            raise CheckFailed(
                f"{what}: {reply.describe()}, expected the first result or "
                "FAILED_PRECONDITION/INVALID_ARGUMENT"
            )
        error_shape(reply, what)
        answer = f"refused {reply.code.name} {reply.reason}"
    else:
        if reply.processor_reference != first.processor_reference:
            raise CheckFailed(
                f"{what}: a second payment {reply.processor_reference} "
                f"(first {first.processor_reference})"
            )
        expect(
            reply.amount == request.amount,
            f"{what}: answered the first payment with amount {reply.amount}",
        )
        answer = "answered the first payment"
    looked = answered(session.payment_by_key(request.attempt_key), "GetPayment by attempt_key")
    expect(
        (looked.processor_reference, looked.amount) == (first.processor_reference, request.amount),
        f"after {what}: GetPayment by attempt_key shows {looked.processor_reference} "
        f"amount {looked.amount}, expected {first.processor_reference} "
        f"amount {request.amount}",
    )
    return f"{answer}; GetPayment still shows {request.amount}"


def declines(session: Session) -> str:
    methods = session.methods(pb.OUTCOME_DECLINED)
    if not methods:
        raise CheckSkipped("no test payment method with outcome DECLINED")
    for method in methods:
        what = f"Authorize {method.token}"
        reply = session.client.authorize(session.authorize_request(method.token))
        if isinstance(reply, RpcFailure):
            raise CheckFailed(
                f"{what}: gRPC error {reply.describe()}; a decline is a result, outcome DECLINED"
            )
        payment = session.settled_payment(reply)
        expect(
            payment.outcome == pb.OUTCOME_DECLINED,
            f"{what}: {describe(payment)}, expected DECLINED",
        )
        expect(
            payment.decline.code == method.decline_code,
            f"{what}: decline code {payment.decline.code!r}, GetCapabilities declares "
            f"{method.decline_code!r}",
        )
        expect(
            payment.amount_captured == 0,
            f"{what}: declined with amount_captured {payment.amount_captured}",
        )
    codes = ", ".join(sorted({m.decline_code for m in methods}))
    return f"{len(methods)} declining token(s) DECLINED with their codes ({codes})"


CHECKS = (
    Check(
        "authorize.success",
        "every SUCCEEDED test token charges: outcome SUCCEEDED with a processor_reference, "
        "amount and currency echoed, all of it captured",
        success,
    ),
    Check(
        "authorize.idempotent",
        "Authorize twice with one attempt_key gives one payment (same reference and "
        "outcome), for a charge and for a decline",
        idempotent,
    ),
    Check(
        "authorize.key-reuse",
        "the same attempt_key with another amount is answered with the first payment or "
        "refused, never charged again",
        key_reuse,
    ),
    Check(
        "authorize.declines",
        "every DECLINED test token is a DECLINED result with its declared decline code, "
        "not a gRPC error",
        declines,
    ),
)
