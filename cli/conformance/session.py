"""What every check needs: the client, the server's capabilities, the test tokens chosen from
them by declared outcome, fresh keys, the set-up steps several checks share (a succeeded
payment, an authorized one, waiting out PENDING), and lookups asked again while the server is
unsure, as PayLoops asks them."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc

from cli.conformance.client import ProcessorClient, RpcFailure
from cli.conformance.verdicts import (
    CheckFailed,
    CheckSkipped,
    answered,
    describe,
    outcome_name,
)
from payloops.processor.v1 import processor_pb2 as pb

# Large enough for every gateway's minimum charge (Stripe's is 50 US cents, Razorpay's one
# rupee) in any currency, and divisible for the partial captures and refunds.
AMOUNT = 2000
# When GetCapabilities lists no currency (meaning every one).
DEFAULT_CURRENCY = "USD"
RETURN_URL = "https://example.com/payloops/processor-check/return"
# A lookup answered with these is asked again, as PayLoops does: the server is not sure yet
# (processor.proto: "when unsure, return UNAVAILABLE").
_UNSURE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

_T = TypeVar("_T")


@dataclass(frozen=True)
class Settings:
    """How the kit calls the server: per-call deadline, and how long it waits, polling, for
    an asynchronous result (a PENDING payment or refund) or an unsure lookup to settle."""

    deadline_s: float
    settle_timeout_s: float = 30.0
    poll_interval_s: float = 0.5


class Session:
    def __init__(
        self,
        client: ProcessorClient,
        capabilities: pb.GetCapabilitiesResponse,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.capabilities = capabilities
        self.settings = settings
        self.currency = (
            capabilities.currencies[0].upper() if capabilities.currencies else DEFAULT_CURRENCY
        )
        self.amount = AMOUNT
        self._sleep = sleep

    # -- test payment methods --------------------------------------------------------------

    def methods(self, outcome: pb.Outcome.ValueType) -> list[pb.TestPaymentMethod]:
        return [
            m for m in self.capabilities.test_payment_methods if m.outcome == outcome and m.token
        ]

    def succeeding_token(self) -> str:
        methods = self.methods(pb.OUTCOME_SUCCEEDED)
        if not methods:
            raise CheckSkipped(
                "no test payment method with outcome SUCCEEDED (see capabilities.well-formed)"
            )
        return methods[0].token

    def challenge_token(self) -> str:
        """A REQUIRES_ACTION token, preferring one the customer can complete (no decline
        code)."""
        methods = sorted(self.methods(pb.OUTCOME_REQUIRES_ACTION), key=lambda m: m.decline_code)
        if not methods:
            raise CheckSkipped("no test payment method with outcome REQUIRES_ACTION")
        return methods[0].token

    def require(self, capability: str) -> None:
        if not getattr(self.capabilities, capability):
            raise CheckSkipped(f"{capability} is false")

    # -- keys and requests -----------------------------------------------------------------

    @staticmethod
    def key(kind: str) -> str:
        """A key no earlier run used: the contract's idempotency is per key, forever."""
        return f"pcheck_{kind}_{secrets.token_hex(8)}"

    def authorize_request(
        self,
        token: str,
        *,
        amount: int | None = None,
        manual: bool = False,
        attempt_key: str | None = None,
    ) -> pb.AuthorizeRequest:
        return pb.AuthorizeRequest(
            attempt_key=attempt_key or self.key("att"),
            order_id=self.key("ord"),
            merchant_id="pcheck_merchant",
            amount=self.amount if amount is None else amount,
            currency=self.currency,
            capture_method=pb.CAPTURE_METHOD_MANUAL if manual else pb.CAPTURE_METHOD_AUTOMATIC,
            payment_method=pb.PaymentMethod(type="card", token=token),
            return_url=RETURN_URL,
            description="payloops processor-check",
            metadata={"source": "processor-check"},
        )

    # -- shared set-up ---------------------------------------------------------------------

    def succeeded_payment(
        self, amount: int | None = None, attempt_key: str | None = None
    ) -> pb.Payment:
        """A fresh payment charged with automatic capture (PENDING waited out)."""
        token = self.succeeding_token()
        what = f"setup: Authorize {token}"
        request = self.authorize_request(token, amount=amount, attempt_key=attempt_key)
        payment = self.settled_payment(answered(self.client.authorize(request), what))
        if payment.outcome != pb.OUTCOME_SUCCEEDED:
            raise CheckFailed(f"{what}: {describe(payment)}, expected SUCCEEDED")
        return payment

    def authorized_payment(self, amount: int | None = None) -> pb.Payment:
        """A fresh payment authorized for manual capture (PENDING waited out)."""
        self.require("manual_capture")
        token = self.succeeding_token()
        what = f"setup: Authorize {token} (manual capture)"
        payment = self.settled_payment(
            answered(
                self.client.authorize(self.authorize_request(token, amount=amount, manual=True)),
                what,
            )
        )
        if payment.outcome != pb.OUTCOME_AUTHORIZED:
            raise CheckFailed(f"{what}: {describe(payment)}, expected AUTHORIZED")
        return payment

    def settled_payment(self, payment: pb.Payment) -> pb.Payment:
        """The payment once it is no longer PENDING, followed with GetPayment by reference."""
        deadline = time.monotonic() + self.settings.settle_timeout_s
        while payment.outcome == pb.OUTCOME_PENDING:
            if time.monotonic() >= deadline:
                raise CheckFailed(
                    f"payment {payment.processor_reference} still PENDING after "
                    f"{self.settings.settle_timeout_s:g} s"
                )
            self._sleep(self.settings.poll_interval_s)
            payment = answered(
                self.payment_by_reference(payment.processor_reference),
                f"GetPayment {payment.processor_reference}",
            )
        return payment

    def settled_refund(self, refund: pb.Refund, refund_key: str) -> pb.Refund:
        """The refund once it is no longer PENDING, followed with GetRefund by refund key."""
        deadline = time.monotonic() + self.settings.settle_timeout_s
        while refund.status == pb.Refund.STATUS_PENDING:
            if time.monotonic() >= deadline:
                raise CheckFailed(
                    f"refund {refund.processor_reference} still PENDING after "
                    f"{self.settings.settle_timeout_s:g} s"
                )
            self._sleep(self.settings.poll_interval_s)
            refund = answered(self.refund_by_key(refund_key), f"GetRefund {refund_key}")
        return refund

    # -- lookups ---------------------------------------------------------------------------

    def payment_by_key(self, attempt_key: str) -> pb.Payment | RpcFailure:
        return self._asked_until_sure(lambda: self.client.payment_by_key(attempt_key))

    def payment_by_reference(self, reference: str) -> pb.Payment | RpcFailure:
        return self._asked_until_sure(lambda: self.client.payment_by_reference(reference))

    def refund_by_key(self, refund_key: str) -> pb.Refund | RpcFailure:
        return self._asked_until_sure(lambda: self.client.refund_by_key(refund_key))

    def refund_by_reference(self, reference: str) -> pb.Refund | RpcFailure:
        return self._asked_until_sure(lambda: self.client.refund_by_reference(reference))

    def _asked_until_sure(self, ask: Callable[[], _T | RpcFailure]) -> _T | RpcFailure:
        """A lookup's answer, asked again while the server is unsure (UNAVAILABLE,
        DEADLINE_EXCEEDED) for up to the settle timeout, as PayLoops keeps asking."""
        deadline = time.monotonic() + self.settings.settle_timeout_s
        asked = 1
        reply = ask()
        while isinstance(reply, RpcFailure) and reply.code in _UNSURE:
            if time.monotonic() >= deadline:
                if asked > 1:
                    reply = dataclasses.replace(
                        reply,
                        message=f"{reply.message} (asked {asked} times in "
                        f"{self.settings.settle_timeout_s:g} s)",
                    )
                break
            self._sleep(self.settings.poll_interval_s)
            asked += 1
            reply = ask()
        return reply


def payment_summary(payment: pb.Payment) -> str:
    return f"{outcome_name(payment.outcome)} {payment.processor_reference}"
