"""The error shape: a malformed request is INVALID_ARGUMENT with a google.rpc.Status carrying an
UPPER_SNAKE ErrorInfo reason, and charges nothing."""

from __future__ import annotations

import grpc

from cli.conformance.checks import Check
from cli.conformance.client import RpcFailure
from cli.conformance.session import Session
from cli.conformance.verdicts import CheckFailed, describe, refused


def invalid_argument(session: Session) -> str:
    token = session.succeeding_token()
    no_key = session.authorize_request(token)
    no_key.attempt_key = ""
    missing = refused(
        session.client.authorize(no_key),
        "Authorize without attempt_key",
        [grpc.StatusCode.INVALID_ARGUMENT],
    )
    key = session.key("att")
    zero = refused(
        session.client.authorize(session.authorize_request(token, amount=0, attempt_key=key)),
        "Authorize of amount 0",
        [grpc.StatusCode.INVALID_ARGUMENT],
    )
    # Whether NOT_FOUND is right is get-payment.not-found's business; here only "no payment".
    looked = session.payment_by_key(key)
    if not isinstance(looked, RpcFailure):
        raise CheckFailed(
            f"Authorize of amount 0 was refused, yet GetPayment by its "
            f"attempt_key finds {describe(looked)}"
        )
    return f"INVALID_ARGUMENT {missing.reason}, {zero.reason}"


CHECKS = (
    Check(
        "errors.invalid-argument",
        "Authorize without attempt_key or of amount 0 is INVALID_ARGUMENT with an "
        "UPPER_SNAKE ErrorInfo reason, and no payment",
        invalid_argument,
    ),
)
