"""The Stripe adapter, end to end: its gRPC server in process on port 0, the real `stripe` SDK
inside it, and a wire-level fake of Stripe's HTTP API (tests/fakes/stripe_api.py) underneath.

`StripeContract` holds the scenarios that must hold against any Stripe: this fake, and real
Stripe test mode (test_stripe_live.py runs them there when STRIPE_TEST_SECRET_KEY is set).
`TestStripeAdapterAgainstFake` adds what only a fake can do: finish 3-D Secure challenges,
inject faults, lag the search index, count what was charged, deliver webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from processors.stripe.config import StripeConfig
from processors.stripe.server import serve
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, FaultKind, sign

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "stripe.payloops.dev"
RETURN_URL = "https://shop.example.test/return?order=o1"
DEADLINE_S = 15.0
# The adapter under test: short HTTP timeouts so timeout faults are quick, one SDK retry (the
# default) so every fault test also proves retries never turn one attempt into two charges.
TIMEOUT_MS = 1000
SLOW_S = 1.6
OTHER_KEY = "sk_test_fake_payloops_other_account"

# -- harness ---------------------------------------------------------------------------------------


@dataclass
class Gateway:
    """What a scenario needs: the adapter's stub and the merchant's Stripe credentials."""

    stub: processor_pb2_grpc.ProcessorAsyncStub
    credentials: pb.Credentials
    channel: grpc.aio.Channel

    def creds(self, **values: str) -> pb.Credentials:
        merged = {**self.credentials.values, **values}
        return pb.Credentials(
            values={k: v for k, v in merged.items() if v}, livemode=self.credentials.livemode
        )

    async def authorize(
        self,
        token: str,
        amount: int = 1099,
        *,
        key: str | None = None,
        currency: str = "USD",
        manual: bool = False,
        return_url: str = "",
        metadata: dict[str, str] | None = None,
    ) -> pb.Payment:
        response = await self.stub.Authorize(
            authorize_request(
                token,
                amount,
                key=key,
                currency=currency,
                manual=manual,
                return_url=return_url,
                metadata=metadata,
                credentials=self.credentials,
            ),
            timeout=DEADLINE_S,
        )
        return response.payment

    async def get_payment(self, *, key: str = "", reference: str = "") -> pb.Payment:
        request = (
            pb.GetPaymentRequest(attempt_key=key, credentials=self.credentials)
            if key
            else pb.GetPaymentRequest(processor_reference=reference, credentials=self.credentials)
        )
        return (await self.stub.GetPayment(request, timeout=DEADLINE_S)).payment

    async def capture(self, reference: str, amount: int = 0, key: str = "") -> pb.Payment:
        return (
            await self.stub.Capture(
                pb.CaptureRequest(
                    capture_key=key or new_key("cap"),
                    processor_reference=reference,
                    amount=amount,
                    credentials=self.credentials,
                ),
                timeout=DEADLINE_S,
            )
        ).payment

    async def void(self, reference: str, key: str = "") -> pb.Payment:
        return (
            await self.stub.Void(
                pb.VoidRequest(
                    void_key=key or new_key("void"),
                    processor_reference=reference,
                    credentials=self.credentials,
                ),
                timeout=DEADLINE_S,
            )
        ).payment

    async def refund(
        self, reference: str, amount: int = 0, key: str = "", reason: str = ""
    ) -> pb.Refund:
        return (
            await self.stub.Refund(
                pb.RefundRequest(
                    refund_key=key or new_key("ref"),
                    processor_reference=reference,
                    amount=amount,
                    reason=reason,
                    credentials=self.credentials,
                ),
                timeout=DEADLINE_S,
            )
        ).refund

    async def get_refund(self, *, key: str = "", reference: str = "") -> pb.Refund:
        request = (
            pb.GetRefundRequest(refund_key=key, credentials=self.credentials)
            if key
            else pb.GetRefundRequest(processor_reference=reference, credentials=self.credentials)
        )
        return (await self.stub.GetRefund(request, timeout=DEADLINE_S)).refund


def new_key(kind: str = "att") -> str:
    return f"ord_{uuid.uuid4().hex[:12]}:{kind}:stripe:1"


def authorize_request(
    token: str,
    amount: int = 1099,
    *,
    key: str | None = None,
    currency: str = "USD",
    manual: bool = False,
    return_url: str = "",
    metadata: dict[str, str] | None = None,
    credentials: pb.Credentials | None = None,
) -> pb.AuthorizeRequest:
    return pb.AuthorizeRequest(
        attempt_key=key or new_key(),
        order_id="ord_test",
        merchant_id="mer_test",
        amount=amount,
        currency=currency,
        capture_method=pb.CAPTURE_METHOD_MANUAL if manual else pb.CAPTURE_METHOD_AUTOMATIC,
        payment_method=pb.PaymentMethod(type="card", token=token),
        return_url=return_url,
        metadata=metadata or {"cart": "c-1"},
        credentials=credentials,
    )


@dataclass(frozen=True)
class Failure:
    code: grpc.StatusCode
    reason: str
    message: str
    metadata: dict[str, str] = field(default_factory=dict)


async def failure(call: Awaitable[Any]) -> Failure:
    """The error a call ends with: its code and the ErrorInfo the contract requires."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = caught.value
    status = rpc_status.from_call(error)
    assert status is not None, "error carries no google.rpc.Status"
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            assert info.domain == DOMAIN
            return Failure(error.code(), info.reason, error.details() or "", dict(info.metadata))
    raise AssertionError(f"no ErrorInfo in {error.code()}: {error.details()}")


UNKNOWN_OUTCOME = {
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.UNAVAILABLE,
}


def is_unknown(found: Failure) -> bool:
    """The contract's "outcome unknown": not provably not sent."""
    return found.code in UNKNOWN_OUTCOME and found.reason != "NOT_SENT"


@contextlib.asynccontextmanager
async def running_adapter(config: StripeConfig) -> AsyncIterator[grpc.aio.Channel]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[int] = loop.create_future()
    task = asyncio.create_task(serve(config, on_ready=ready.set_result))
    started: set[asyncio.Future[Any]] = {ready, task}
    await asyncio.wait(started, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises the start-up error
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{ready.result()}") as channel:
            yield channel
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- scenarios that hold against any Stripe ------------------------------------------------------


class StripeContract:
    """Runs against the fake here and against Stripe test mode in test_stripe_live.py. Each
    test needs a `gw` fixture."""

    async def test_capabilities(self, gw: Gateway) -> None:
        caps = await gw.stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=DEADLINE_S)
        assert caps.name == "stripe"
        assert list(caps.credential_fields) == ["secret_key", "webhook_secret"]
        assert caps.manual_capture and caps.partial_capture and caps.partial_refund
        assert caps.three_d_secure
        assert list(caps.currencies) == []  # every currency Stripe takes
        assert {"visa", "mastercard", "amex"} <= set(caps.card_networks)
        methods = {m.token: m for m in caps.test_payment_methods}
        assert methods["pm_card_visa"].outcome == pb.OUTCOME_SUCCEEDED
        declined = methods["pm_card_visa_chargeDeclinedInsufficientFunds"]
        assert (declined.outcome, declined.decline_code) == (
            pb.OUTCOME_DECLINED,
            "insufficient_funds",
        )
        assert methods["pm_card_threeDSecure2Required"].outcome == pb.OUTCOME_REQUIRES_ACTION

    @pytest.mark.parametrize(
        ("token", "network"),
        [
            ("pm_card_visa", "visa"),
            ("pm_card_mastercard", "mastercard"),
            ("pm_card_amex", "amex"),
        ],
    )
    async def test_charge_succeeds(self, gw: Gateway, token: str, network: str) -> None:
        key = new_key()
        payment = await gw.authorize(token, 1099, key=key)
        assert payment.outcome == pb.OUTCOME_SUCCEEDED
        assert payment.processor_reference.startswith("pi_")
        assert (payment.attempt_key, payment.amount, payment.currency) == (key, 1099, "USD")
        assert (payment.amount_captured, payment.amount_refunded) == (1099, 0)
        assert payment.card.network == network and len(payment.card.last4) == 4
        by_reference = await gw.get_payment(reference=payment.processor_reference)
        assert by_reference == payment
        by_key = await gw.get_payment(key=key)
        assert by_key.processor_reference == payment.processor_reference
        assert by_key.outcome == pb.OUTCOME_SUCCEEDED

    @pytest.mark.parametrize(
        ("token", "code", "soft"),
        [
            ("pm_card_visa_chargeDeclined", "generic_decline", False),
            ("pm_card_visa_chargeDeclinedInsufficientFunds", "insufficient_funds", False),
            ("pm_card_visa_chargeDeclinedLostCard", "lost_card", False),
            ("pm_card_chargeDeclinedExpiredCard", "expired_card", False),
            ("pm_card_chargeDeclinedProcessingError", "processing_error", True),
            ("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "card_velocity_exceeded", False),
        ],
    )
    async def test_declines_are_results_with_hard_or_soft(
        self, gw: Gateway, token: str, code: str, soft: bool
    ) -> None:
        key = new_key()
        payment = await gw.authorize(token, key=key)
        assert payment.outcome == pb.OUTCOME_DECLINED
        assert (payment.decline.code, payment.decline.soft) == (code, soft)
        assert payment.decline.gateway_code == code and payment.decline.message
        assert payment.attempt_key == key and payment.processor_reference.startswith("pi_")
        looked_up = await gw.get_payment(key=key)
        assert looked_up.outcome == pb.OUTCOME_DECLINED
        assert (looked_up.decline.code, looked_up.decline.soft) == (code, soft)
        # A re-send gets the first answer (Stripe replays the stored 402), not a new charge.
        again = await gw.authorize(token, key=key)
        assert again.processor_reference == payment.processor_reference
        assert again.decline.code == code

    async def test_three_d_secure_asks_for_a_redirect(self, gw: Gateway) -> None:
        payment = await gw.authorize("pm_card_threeDSecure2Required", return_url=RETURN_URL)
        assert payment.outcome == pb.OUTCOME_REQUIRES_ACTION
        assert payment.next_action.redirect_url.startswith("http")
        assert payment.amount_captured == 0

    async def test_manual_capture_in_full(self, gw: Gateway) -> None:
        authorized = await gw.authorize("pm_card_visa", 2000, manual=True)
        assert authorized.outcome == pb.OUTCOME_AUTHORIZED
        assert authorized.amount_captured == 0
        captured = await gw.capture(authorized.processor_reference)
        assert captured.outcome == pb.OUTCOME_SUCCEEDED
        assert (captured.amount, captured.amount_captured, captured.amount_refunded) == (
            2000,
            2000,
            0,
        )

    async def test_manual_capture_in_part_then_refund(self, gw: Gateway) -> None:
        authorized = await gw.authorize("pm_card_visa", 2000, manual=True)
        captured = await gw.capture(authorized.processor_reference, 600)
        assert captured.outcome == pb.OUTCOME_SUCCEEDED
        # Stripe counts the released 1400 as "refunded" on the charge: it is not a refund.
        assert (captured.amount_captured, captured.amount_refunded) == (600, 0)
        await gw.refund(captured.processor_reference, 100)
        after = await gw.get_payment(reference=captured.processor_reference)
        assert (after.amount_captured, after.amount_refunded) == (600, 100)
        over = await failure(gw.refund(captured.processor_reference, 501))
        assert (over.code, over.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "REFUND_EXCEEDS_CAPTURED",
        )

    async def test_capture_is_idempotent_and_only_once(self, gw: Gateway) -> None:
        authorized = await gw.authorize("pm_card_visa", 1500, manual=True)
        key = new_key("cap")
        first = await gw.capture(authorized.processor_reference, 1000, key=key)
        again = await gw.capture(authorized.processor_reference, 1000, key=key)
        assert again == first
        second = await failure(gw.capture(authorized.processor_reference, 500))
        assert (second.code, second.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "PAYMENT_STATE_CONFLICT",
        )

    async def test_capture_more_than_authorized_is_refused(self, gw: Gateway) -> None:
        authorized = await gw.authorize("pm_card_visa", 1500, manual=True)
        found = await failure(gw.capture(authorized.processor_reference, 1501))
        assert (found.code, found.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "CAPTURE_EXCEEDS_AUTHORIZED",
        )
        still = await gw.get_payment(reference=authorized.processor_reference)
        assert still.outcome == pb.OUTCOME_AUTHORIZED

    async def test_capture_of_a_declined_payment_is_refused(self, gw: Gateway) -> None:
        declined = await gw.authorize("pm_card_visa_chargeDeclined", manual=True)
        found = await failure(gw.capture(declined.processor_reference))
        assert found.code == grpc.StatusCode.FAILED_PRECONDITION

    async def test_void_releases_and_is_a_no_op_when_repeated(self, gw: Gateway) -> None:
        authorized = await gw.authorize("pm_card_visa", 1200, manual=True)
        voided = await gw.void(authorized.processor_reference)
        assert voided.outcome == pb.OUTCOME_CANCELED
        assert (voided.amount_captured, voided.amount_refunded) == (0, 0)
        again = await gw.void(authorized.processor_reference)  # another key: still a no-op
        assert again.outcome == pb.OUTCOME_CANCELED
        assert again.processor_reference == voided.processor_reference
        refused = await failure(gw.capture(authorized.processor_reference))
        assert refused.code == grpc.StatusCode.FAILED_PRECONDITION

    async def test_void_of_a_challenge_cancels_it(self, gw: Gateway) -> None:
        waiting = await gw.authorize("pm_card_threeDSecure2Required", return_url=RETURN_URL)
        voided = await gw.void(waiting.processor_reference)
        assert voided.outcome == pb.OUTCOME_CANCELED

    async def test_void_of_a_captured_payment_is_refused(self, gw: Gateway) -> None:
        charged = await gw.authorize("pm_card_visa")
        found = await failure(gw.void(charged.processor_reference))
        assert (found.code, found.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "PAYMENT_STATE_CONFLICT",
        )

    async def test_partial_then_full_refunds(self, gw: Gateway) -> None:
        charged = await gw.authorize("pm_card_visa", 1000)
        reference = charged.processor_reference
        first = await gw.refund(reference, 300, reason="requested_by_customer")
        assert first.status == pb.Refund.STATUS_SUCCEEDED
        assert (first.amount, first.currency, first.payment_reference) == (300, "USD", reference)
        assert first.processor_reference.startswith("re_")
        rest = await gw.refund(reference, 0, reason="duplicate charge undone by PayLoops")
        assert rest.amount == 700
        after = await gw.get_payment(reference=reference)
        assert (after.outcome, after.amount_captured, after.amount_refunded) == (
            pb.OUTCOME_SUCCEEDED,
            1000,
            1000,
        )
        more = await failure(gw.refund(reference, 0))
        assert (more.code, more.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_REFUNDED")

    async def test_over_refund_is_refused_and_changes_nothing(self, gw: Gateway) -> None:
        charged = await gw.authorize("pm_card_visa", 1000)
        reference = charged.processor_reference
        over = await failure(gw.refund(reference, 1001))
        assert (over.code, over.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "REFUND_EXCEEDS_CAPTURED",
        )
        await gw.refund(reference, 400)
        over = await failure(gw.refund(reference, 601))
        assert over.code == grpc.StatusCode.FAILED_PRECONDITION
        assert (await gw.get_payment(reference=reference)).amount_refunded == 400

    async def test_refund_is_idempotent_and_found_by_key(self, gw: Gateway) -> None:
        charged = await gw.authorize("pm_card_visa", 1000)
        key = new_key("refund")
        first = await gw.refund(charged.processor_reference, 250, key=key)
        again = await gw.refund(charged.processor_reference, 250, key=key)
        assert again == first
        assert first.refund_key == key
        assert await gw.get_refund(key=key) == first
        assert await gw.get_refund(reference=first.processor_reference) == first
        payment = await gw.get_payment(reference=charged.processor_reference)
        assert payment.amount_refunded == 250  # refunded once

    async def test_refund_of_an_uncaptured_payment_is_refused(self, gw: Gateway) -> None:
        authorized = await gw.authorize("pm_card_visa", 1000, manual=True)
        found = await failure(gw.refund(authorized.processor_reference, 100))
        assert found.code == grpc.StatusCode.FAILED_PRECONDITION

    async def test_unknown_keys_and_references_are_not_found(self, gw: Gateway) -> None:
        by_key = await failure(gw.get_payment(key=new_key()))
        assert (by_key.code, by_key.reason) == (grpc.StatusCode.NOT_FOUND, "PAYMENT_NOT_FOUND")
        by_reference = await failure(gw.get_payment(reference="pi_000000000000000000000000"))
        assert by_reference.code == grpc.StatusCode.NOT_FOUND
        refund = await failure(gw.get_refund(key=new_key("refund")))
        assert (refund.code, refund.reason) == (grpc.StatusCode.NOT_FOUND, "REFUND_NOT_FOUND")
        refund = await failure(gw.get_refund(reference="re_000000000000000000000000"))
        assert refund.code == grpc.StatusCode.NOT_FOUND
        capture = await failure(gw.capture("pi_000000000000000000000000"))
        assert capture.code == grpc.StatusCode.NOT_FOUND

    async def test_same_attempt_key_is_the_same_payment(self, gw: Gateway) -> None:
        key = new_key()
        first = await gw.authorize("pm_card_visa", 1099, key=key)
        again = await gw.authorize("pm_card_visa", 1099, key=key)
        assert again.processor_reference == first.processor_reference
        assert again.outcome == first.outcome == pb.OUTCOME_SUCCEEDED

    async def test_same_attempt_key_other_amount_is_a_conflict(self, gw: Gateway) -> None:
        key = new_key()
        await gw.authorize("pm_card_visa", 1099, key=key)
        found = await failure(gw.authorize("pm_card_visa", 2000, key=key))
        assert (found.code, found.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "IDEMPOTENCY_CONFLICT",
        )

    async def test_zero_decimal_currency_is_sent_as_is(self, gw: Gateway) -> None:
        payment = await gw.authorize("pm_card_visa", 500, currency="JPY")
        assert (payment.outcome, payment.amount, payment.currency) == (
            pb.OUTCOME_SUCCEEDED,
            500,
            "JPY",
        )
        assert payment.amount_captured == 500

    async def test_three_decimal_amounts_must_end_in_zero(self, gw: Gateway) -> None:
        found = await failure(gw.authorize("pm_card_visa", 1005, currency="KWD"))
        assert (found.code, found.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "AMOUNT_NOT_REPRESENTABLE",
        )

    async def test_amount_below_stripes_minimum_is_invalid(self, gw: Gateway) -> None:
        found = await failure(gw.authorize("pm_card_visa", 10))
        assert (found.code, found.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "AMOUNT_TOO_SMALL")
        assert found.metadata["stripe_code"] == "amount_too_small"

    async def test_unknown_payment_method_is_invalid(self, gw: Gateway) -> None:
        found = await failure(gw.authorize("pm_card_doesNotExist"))
        assert (found.code, found.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "PAYMENT_METHOD_INVALID",
        )

    async def test_requests_stripe_would_refuse_are_refused_before_sending(
        self, gw: Gateway
    ) -> None:
        cases: list[tuple[pb.AuthorizeRequest, str]] = [
            (
                authorize_request("4242424242424242", credentials=gw.credentials),
                "PAYMENT_METHOD_INVALID",
            ),
            (
                authorize_request("pm_card_visa", 0, credentials=gw.credentials),
                "AMOUNT_NOT_POSITIVE",
            ),
            (
                authorize_request("pm_card_visa", currency="XXY", credentials=gw.credentials),
                "CURRENCY_UNSUPPORTED",
            ),
            (
                authorize_request(
                    "pm_card_visa",
                    metadata={"payloops_attempt_key": "spoof"},
                    credentials=gw.credentials,
                ),
                "METADATA_KEY_RESERVED",
            ),
            (
                authorize_request(
                    "pm_card_visa", return_url="/relative", credentials=gw.credentials
                ),
                "RETURN_URL_INVALID",
            ),
            (
                authorize_request("pm_card_visa", key="has space", credentials=gw.credentials),
                "ATTEMPT_KEY_INVALID",
            ),
        ]
        for request, reason in cases:
            found = await failure(gw.stub.Authorize(request, timeout=DEADLINE_S))
            assert (found.code, found.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)

    async def test_credentials(self, gw: Gateway) -> None:
        missing = await failure(
            gw.stub.Authorize(
                authorize_request("pm_card_visa", credentials=pb.Credentials()), timeout=DEADLINE_S
            )
        )
        assert (missing.code, missing.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "CREDENTIALS_MISSING",
        )
        rejected = await failure(
            gw.stub.Authorize(
                authorize_request(
                    "pm_card_visa",
                    credentials=gw.creds(secret_key="sk_test_not_a_key_stripe_knows"),
                ),
                timeout=DEADLINE_S,
            )
        )
        assert (rejected.code, rejected.reason) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "CREDENTIALS_REJECTED",
        )
        assert "sk_test_not" not in rejected.message
        live = await failure(
            gw.stub.Authorize(
                authorize_request(
                    "pm_card_visa",
                    credentials=gw.creds(secret_key="sk_live_would_charge_real_money"),
                ),
                timeout=DEADLINE_S,
            )
        )
        assert (live.code, live.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "CREDENTIALS_MODE_MISMATCH",
        )

    async def test_health_and_reflection(self, gw: Gateway) -> None:
        health = health_pb2_grpc.HealthStub(gw.channel)
        for service in ("", "payloops.processor.v1.Processor"):
            answer = await health.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE_S
            )
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(gw.channel)
        responses = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        async for response in responses:
            names = {s.name for s in response.list_services_response.service}
            assert "payloops.processor.v1.Processor" in names
            break


# -- against the fake ---------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """The webhook endpoint the fake delivers to (the edge's role in production)."""

    received: queue.Queue[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Webhooks:
    url: str
    received: queue.Queue[tuple[dict[str, str], bytes]]

    async def next_of(
        self,
        event_type: str,
        about: str,
        timeout_s: float = 5.0,
    ) -> tuple[dict[str, str], bytes]:
        """The next delivered event of a type whose object is (or belongs to) `about`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                headers, body = self.received.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.02)
                continue
            event = json.loads(body)
            obj = event["data"]["object"]
            if event["type"] == event_type and about in (obj.get("id"), obj.get("payment_intent")):
                return headers, body
        raise AssertionError(f"no {event_type} about {about} delivered")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(accounts={SECRET_KEY: "acct_fake_one", OTHER_KEY: "acct_fake_two"}) as f:
        yield f


@pytest.fixture(scope="module")
async def adapter_channel(fake: FakeStripe) -> AsyncIterator[grpc.aio.Channel]:
    config = StripeConfig(api_base=fake.base_url, timeout_ms=TIMEOUT_MS, max_network_retries=1)
    async with running_adapter(config) as channel:
        yield channel


@pytest.fixture
def gw(adapter_channel: grpc.aio.Channel, fake: FakeStripe) -> Iterator[Gateway]:
    yield Gateway(
        processor_pb2_grpc.ProcessorStub(adapter_channel),
        pb.Credentials(values={"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}),
        adapter_channel,
    )
    fake.clear_faults()
    fake.accept_connections()
    fake.search_lag_s = 0.0
    fake.webhook_url = None


@pytest.fixture
def webhooks(fake: FakeStripe) -> Iterator[Webhooks]:
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    fake.webhook_url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    try:
        yield Webhooks(fake.webhook_url, received)
    finally:
        fake.webhook_url = None
        server.shutdown()
        server.server_close()


async def complete_challenge(redirect_url: str, outcome: str) -> dict[str, list[str]]:
    """The customer on the fake's 3-D Secure page: the page, then their answer, then the
    redirect back to the merchant. Returns the return URL's query."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=DEADLINE_S) as browser:
        page = await browser.get(redirect_url)
        assert page.status_code == 200 and "outcome=succeed" in page.text
        answer = await browser.post(redirect_url, params={"outcome": outcome})
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(RETURN_URL + "&")
    return parse_qs(urlsplit(location).query)


def raw_card_request(
    number: str, *, key: str, cvc: str = "314", return_url: str = ""
) -> pb.AuthorizeRequest:
    request = authorize_request("", key=key, return_url=return_url)
    request.payment_method.CopyFrom(
        pb.PaymentMethod(
            type="card",
            raw_card=pb.RawCard(
                number=number, exp_month=12, exp_year=2034, cvc=cvc, holder_name="Ada Lovelace"
            ),
        )
    )
    return request


class TestStripeAdapterAgainstFake(StripeContract):
    # -- raw card data from the PayLoops vault ------------------------------------------

    async def test_capabilities_declare_raw_cards_and_stripe_tokens(self, gw: Gateway) -> None:
        caps = await gw.stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=DEADLINE_S)
        assert caps.accepts_raw_cards
        assert list(caps.token_prefixes) == ["pm_"]
        assert all(m.token.startswith("pm_") for m in caps.test_payment_methods)

    @pytest.mark.parametrize(
        ("number", "outcome", "code", "soft"),
        [
            ("4242424242424242", pb.OUTCOME_SUCCEEDED, "", False),
            ("5555555555554444", pb.OUTCOME_SUCCEEDED, "", False),
            ("371449635398431", pb.OUTCOME_SUCCEEDED, "", False),
            ("4000000000000002", pb.OUTCOME_DECLINED, "generic_decline", False),
            ("4000000000009995", pb.OUTCOME_DECLINED, "insufficient_funds", False),
            ("4000000000000119", pb.OUTCOME_DECLINED, "processing_error", True),
            ("4000000000003220", pb.OUTCOME_REQUIRES_ACTION, "", False),
        ],
    )
    async def test_raw_card_goes_to_stripe_as_payment_method_data(
        self,
        gw: Gateway,
        fake: FakeStripe,
        number: str,
        outcome: pb.Outcome.ValueType,
        code: str,
        soft: bool,
    ) -> None:
        key = new_key()
        request = raw_card_request(number, key=key, return_url=RETURN_URL)
        request.credentials.CopyFrom(gw.credentials)
        payment = (await gw.stub.Authorize(request, timeout=DEADLINE_S)).payment
        assert payment.outcome == outcome
        assert (payment.decline.code, payment.decline.soft) == (code, soft)
        assert payment.card.last4 == number[-4:] or outcome != pb.OUTCOME_SUCCEEDED
        [sent] = [
            r for r in fake.requests_to("POST", "/v1/payment_intents") if r.idempotency_key == key
        ]
        assert "payment_method" not in sent.form
        assert sent.form["payment_method_data"] == {
            "type": "card",
            "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "314"},
            "billing_details": {"name": "Ada Lovelace"},
        }

    async def test_a_raw_card_resent_without_its_cvc_is_the_same_payment(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        # PayLoops keeps the CVC for the first authorization only: a re-send of the same key
        # (the first answer lost) comes without it, and Stripe calls that other parameters.
        key = new_key()
        first = raw_card_request("4242424242424242", key=key)
        first.credentials.CopyFrom(gw.credentials)
        charged = (await gw.stub.Authorize(first, timeout=DEADLINE_S)).payment
        again = raw_card_request("4242424242424242", key=key, cvc="")
        again.credentials.CopyFrom(gw.credentials)
        answer = (await gw.stub.Authorize(again, timeout=DEADLINE_S)).payment
        assert answer.processor_reference == charged.processor_reference
        assert answer.outcome == pb.OUTCOME_SUCCEEDED
        assert len(fake.intents_with("payloops_attempt_key", key)) == 1
        # Another amount under the key stays a conflict, CVC or not.
        other = raw_card_request("4242424242424242", key=key, cvc="")
        other.amount = 2000
        other.credentials.CopyFrom(gw.credentials)
        found = await failure(gw.stub.Authorize(other, timeout=DEADLINE_S))
        assert (found.code, found.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "IDEMPOTENCY_CONFLICT",
        )

    @pytest.mark.parametrize(
        ("raw", "why"),
        [
            (pb.RawCard(number="4242 4242", exp_month=12, exp_year=2034), "CARD_NUMBER_INVALID"),
            (
                pb.RawCard(number="4242424242424242", exp_month=0, exp_year=2034),
                "CARD_EXPIRY_INVALID",
            ),
            (
                pb.RawCard(number="4242424242424242", exp_month=1, exp_year=2034, cvc="1"),
                "CARD_CVC_INVALID",
            ),
        ],
    )
    async def test_malformed_raw_cards_are_refused_before_stripe_without_quoting_them(
        self, gw: Gateway, fake: FakeStripe, raw: pb.RawCard, why: str
    ) -> None:
        before = len(fake.requests)
        request = authorize_request("", credentials=gw.credentials)
        request.payment_method.CopyFrom(pb.PaymentMethod(type="card", raw_card=raw))
        found = await failure(gw.stub.Authorize(request, timeout=DEADLINE_S))
        assert (found.code, found.reason) == (grpc.StatusCode.INVALID_ARGUMENT, why)
        assert "4242" not in found.message
        assert len(fake.requests) == before

    # -- who starts the payment: customer-present, or merchant-initiated (off-session) -----

    async def test_a_customer_present_payment_returns_the_network_transaction_id(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        key = new_key()
        request = raw_card_request("4242424242424242", key=key)
        request.credentials.CopyFrom(gw.credentials)
        request.initiator = pb.INITIATOR_CUSTOMER
        # An id sent along with a customer-present payment is not the MIT exemption's.
        request.network_transaction_id = "000000000000001"
        payment = (await gw.stub.Authorize(request, timeout=DEADLINE_S)).payment
        [intent] = fake.intents_with("payloops_attempt_key", key)
        charge = next(c for c in fake.charges() if c.intent_id == intent.id)
        assert charge.network_transaction_id
        assert payment.network_transaction_id == charge.network_transaction_id
        looked_up = await gw.get_payment(reference=payment.processor_reference)
        assert looked_up.network_transaction_id == charge.network_transaction_id
        [sent] = [
            r for r in fake.requests_to("POST", "/v1/payment_intents") if r.idempotency_key == key
        ]
        assert "off_session" not in sent.form and "payment_method_options" not in sent.form
        declined = await gw.authorize("pm_card_visa_chargeDeclined")
        assert declined.network_transaction_id == ""

    @pytest.mark.parametrize("network_id", ["483297487231504", ""])
    async def test_a_merchant_initiated_payment_is_off_session_with_the_network_id(
        self, gw: Gateway, fake: FakeStripe, network_id: str
    ) -> None:
        key = new_key()
        request = raw_card_request("4242424242424242", key=key, cvc="")
        request.credentials.CopyFrom(gw.credentials)
        request.initiator = pb.INITIATOR_MERCHANT
        request.network_transaction_id = network_id
        payment = (await gw.stub.Authorize(request, timeout=DEADLINE_S)).payment
        assert payment.outcome == pb.OUTCOME_SUCCEEDED
        [sent] = [
            r for r in fake.requests_to("POST", "/v1/payment_intents") if r.idempotency_key == key
        ]
        assert sent.form["off_session"] == "true" and sent.form["confirm"] == "true"
        [intent] = fake.intents_with("payloops_attempt_key", key)
        assert intent.off_session
        if network_id:
            assert sent.form["payment_method_options"] == {
                "card": {"mit_exemption": {"network_transaction_id": network_id}}
            }
            assert intent.mit_network_transaction_id == network_id
        else:
            assert "payment_method_options" not in sent.form
            assert intent.mit_network_transaction_id is None
        # The network gives this payment an id of its own; the first one stays the reference.
        assert payment.network_transaction_id not in ("", network_id)

    async def test_a_merchant_initiated_payment_needing_3ds_declines_instead_of_asking(
        self, gw: Gateway
    ) -> None:
        request = raw_card_request("4000000000003220", key=new_key(), cvc="")
        request.credentials.CopyFrom(gw.credentials)
        request.return_url = RETURN_URL
        request.initiator = pb.INITIATOR_MERCHANT
        payment = (await gw.stub.Authorize(request, timeout=DEADLINE_S)).payment
        assert payment.outcome == pb.OUTCOME_DECLINED
        assert payment.decline.gateway_code == "authentication_required"
        assert not payment.next_action.redirect_url

    @pytest.mark.parametrize("network_id", ["4832 9748", "9" * 101])
    async def test_a_malformed_network_transaction_id_is_refused_before_stripe(
        self, gw: Gateway, fake: FakeStripe, network_id: str
    ) -> None:
        before = len(fake.requests)
        request = authorize_request("pm_card_visa", credentials=gw.credentials)
        request.initiator = pb.INITIATOR_MERCHANT
        request.network_transaction_id = network_id
        found = await failure(gw.stub.Authorize(request, timeout=DEADLINE_S))
        assert (found.code, found.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "NETWORK_TRANSACTION_ID_INVALID",
        )
        assert len(fake.requests) == before

    @pytest.mark.parametrize(
        ("extra", "param"),
        [
            ({"off_session": "true", "confirm": "false"}, "off_session"),
            ({"off_session": "sometimes"}, "off_session"),
            (
                {"payment_method_options[card][mit_exemption][network_transaction_id]": "4832"},
                "payment_method_options[card][mit_exemption][network_transaction_id]",
            ),
            (
                {
                    "off_session": "true",
                    "payment_method_options[card][mit_exemption][network_transaction_id]": "",
                },
                "payment_method_options[card][mit_exemption][network_transaction_id]",
            ),
            (
                {"off_session": "true", "payment_method_options[card][mit_exemption][id]": "1"},
                "id",
            ),
        ],
    )
    async def test_the_fake_refuses_off_session_params_as_stripe_does(
        self, fake: FakeStripe, extra: dict[str, str], param: str
    ) -> None:
        form = {
            "amount": "1099",
            "currency": "usd",
            "confirm": "true",
            "payment_method": "pm_card_visa",
            "payment_method_types[0]": "card",
            **extra,
        }
        async with httpx.AsyncClient(timeout=DEADLINE_S) as client:
            answer = await client.post(
                f"{fake.base_url}/v1/payment_intents",
                data=form,
                headers={"Authorization": f"Bearer {SECRET_KEY}"},
            )
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert (error["type"], error["param"]) == ("invalid_request_error", param)

    # -- what went over the wire --------------------------------------------------------

    async def test_authorize_request_on_the_wire(self, gw: Gateway, fake: FakeStripe) -> None:
        key = new_key()
        await gw.authorize(
            "pm_card_visa", 1099, key=key, manual=True, metadata={"b": "2", "a": "1"}
        )
        [sent] = fake.requests_to("POST", "/v1/payment_intents")[-1:]
        assert sent.idempotency_key == key
        assert sent.headers["authorization"] == f"Bearer {SECRET_KEY}"
        assert "stripe-version" in sent.headers
        assert "x-stripe-client-telemetry" not in sent.headers
        assert sent.form["confirm"] == "true" and sent.form["capture_method"] == "manual"
        assert sent.form["payment_method"] == "pm_card_visa"
        assert sent.form["payment_method_types"] == ["card"]  # no return_url given
        assert "return_url" not in sent.form
        assert sent.form["metadata"] == {
            "a": "1",
            "b": "2",
            "payloops_attempt_key": key,
            "payloops_order_id": "ord_test",
            "payloops_merchant_id": "mer_test",
        }
        assert sent.form["expand"] == ["latest_charge"]
        await gw.authorize("pm_card_visa", key=new_key(), return_url=RETURN_URL)
        with_return = fake.requests_to("POST", "/v1/payment_intents")[-1]
        assert with_return.form["return_url"] == RETURN_URL
        assert "payment_method_types" not in with_return.form

    async def test_replayed_authorize_makes_one_payment_intent(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        key = new_key()
        first = await gw.authorize("pm_card_visa", key=key)
        again = await gw.authorize("pm_card_visa", key=key)
        assert again.processor_reference == first.processor_reference
        assert len(fake.intents_with("payloops_attempt_key", key)) == 1
        sends = [
            r for r in fake.requests_to("POST", "/v1/payment_intents") if r.idempotency_key == key
        ]
        assert [r.replayed for r in sends] == [False, True]

    async def test_other_account_sees_nothing(self, gw: Gateway, fake: FakeStripe) -> None:
        mine = await gw.authorize("pm_card_visa")
        theirs = Gateway(gw.stub, gw.creds(secret_key=OTHER_KEY), gw.channel)
        found = await failure(theirs.get_payment(reference=mine.processor_reference))
        assert found.code == grpc.StatusCode.NOT_FOUND
        assert fake.requests[-1].headers["authorization"] == f"Bearer {OTHER_KEY}"
        other = await theirs.authorize("pm_card_visa")
        assert other.outcome == pb.OUTCOME_SUCCEEDED

    async def test_currency_conversions_reach_stripe_in_its_units(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        # ISO minor units in, Stripe units out, and back (docs.stripe.com/currencies).
        cases = [
            ("JPY", 500, 500),
            ("KWD", 1250, 1250),
            ("USD", 1099, 1099),
            ("ISK", 500, 50_000),  # ISO 0 decimals, Stripe 2
            ("MGA", 10_000, 100),
        ]  # ISO 2 decimals, Stripe 0
        for currency, amount, stripe_amount in cases:
            payment = await gw.authorize("pm_card_visa", amount, currency=currency)
            assert (payment.outcome, payment.amount, payment.currency) == (
                pb.OUTCOME_SUCCEEDED,
                amount,
                currency,
            )
            assert payment.amount_captured == amount
            intent = fake.world.intents[payment.processor_reference]
            assert (intent.amount, intent.currency) == (stripe_amount, currency.lower())
        requests_before = len(fake.requests)
        for currency, amount in (("KWD", 1001), ("MGA", 150)):
            found = await failure(gw.authorize("pm_card_visa", amount, currency=currency))
            assert found.reason == "AMOUNT_NOT_REPRESENTABLE"
        assert len(fake.requests) == requests_before  # refused before anything was sent

    async def test_partial_capture_and_refund_convert_units(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        authorized = await gw.authorize("pm_card_visa", 900, currency="ISK", manual=True)
        captured = await gw.capture(authorized.processor_reference, 600)
        assert (captured.amount_captured, captured.currency) == (600, "ISK")
        assert fake.world.intents[captured.processor_reference].amount_received == 60_000
        refund = await gw.refund(captured.processor_reference, 200)
        assert (refund.amount, refund.currency) == (200, "ISK")
        assert fake.world.refunds[refund.processor_reference].amount == 20_000

    # -- 3-D Secure ---------------------------------------------------------------------

    async def test_three_d_secure_completed_then_succeeded(self, gw: Gateway) -> None:
        key = new_key()
        waiting = await gw.authorize(
            "pm_card_threeDSecure2Required", key=key, return_url=RETURN_URL
        )
        assert waiting.outcome == pb.OUTCOME_REQUIRES_ACTION
        back = await complete_challenge(waiting.next_action.redirect_url, "succeed")
        assert back["redirect_status"] == ["succeeded"]
        assert back["payment_intent"] == [waiting.processor_reference]
        done = await gw.get_payment(key=key)
        assert (done.outcome, done.amount_captured) == (pb.OUTCOME_SUCCEEDED, 1099)
        assert done.processor_reference == waiting.processor_reference
        # Re-sending the attempt reports the payment as it is now, not the stored challenge.
        again = await gw.authorize("pm_card_threeDSecure2Required", key=key, return_url=RETURN_URL)
        assert again.outcome == pb.OUTCOME_SUCCEEDED

    async def test_three_d_secure_under_manual_capture_authorizes(self, gw: Gateway) -> None:
        waiting = await gw.authorize(
            "pm_card_authenticationRequired", manual=True, return_url=RETURN_URL
        )
        await complete_challenge(waiting.next_action.redirect_url, "succeed")
        done = await gw.get_payment(reference=waiting.processor_reference)
        assert done.outcome == pb.OUTCOME_AUTHORIZED
        captured = await gw.capture(done.processor_reference)
        assert captured.outcome == pb.OUTCOME_SUCCEEDED

    async def test_three_d_secure_failed_is_a_hard_decline(self, gw: Gateway) -> None:
        waiting = await gw.authorize("pm_card_threeDSecure2Required", return_url=RETURN_URL)
        back = await complete_challenge(waiting.next_action.redirect_url, "fail")
        assert back["redirect_status"] == ["failed"]
        done = await gw.get_payment(reference=waiting.processor_reference)
        assert done.outcome == pb.OUTCOME_DECLINED
        assert (done.decline.code, done.decline.soft) == ("three_d_secure_failed", False)
        assert done.decline.gateway_code == "payment_intent_authentication_failure"

    async def test_three_d_secure_then_declined_by_the_issuer(self, gw: Gateway) -> None:
        waiting = await gw.authorize(
            "pm_card_threeDSecureRequiredChargeDeclined", return_url=RETURN_URL
        )
        assert waiting.outcome == pb.OUTCOME_REQUIRES_ACTION
        await complete_challenge(waiting.next_action.redirect_url, "succeed")
        done = await gw.get_payment(reference=waiting.processor_reference)
        assert done.outcome == pb.OUTCOME_DECLINED
        assert (done.decline.code, done.decline.soft) == ("generic_decline", False)

    async def test_three_d_secure_without_return_url_waits_without_a_link(
        self, gw: Gateway
    ) -> None:
        waiting = await gw.authorize("pm_card_threeDSecure2Required")
        assert waiting.outcome == pb.OUTCOME_REQUIRES_ACTION
        assert waiting.next_action.redirect_url == ""  # Stripe offers use_stripe_sdk only
        assert (await gw.void(waiting.processor_reference)).outcome == pb.OUTCOME_CANCELED

    # -- faults ---------------------------------------------------------------------------

    async def test_timeout_is_unknown_and_resolved_by_key(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        key = new_key()
        # Both the call and the SDK's retry are handled by Stripe and answered too late.
        fake.inject(FaultKind.DELAY, 2, method="POST", path="/v1/payment_intents", delay_s=SLOW_S)
        found = await failure(gw.authorize("pm_card_visa", key=key))
        assert (found.code, found.reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, "GATEWAY_TIMEOUT")
        assert is_unknown(found)
        sends = [
            r for r in fake.requests_to("POST", "/v1/payment_intents") if r.idempotency_key == key
        ]
        assert len(sends) == 2  # the SDK retried, with the same key
        [intent] = fake.intents_with("payloops_attempt_key", key)  # charged once
        resolved = await gw.get_payment(key=key)
        assert (resolved.outcome, resolved.processor_reference) == (pb.OUTCOME_SUCCEEDED, intent.id)
        again = await gw.authorize("pm_card_visa", key=key)
        assert again.processor_reference == intent.id
        assert len(fake.intents_with("payloops_attempt_key", key)) == 1

    async def test_connection_refused_is_not_sent(self, gw: Gateway, fake: FakeStripe) -> None:
        key = new_key()
        with fake.refusing():
            found = await failure(gw.authorize("pm_card_visa", key=key))
        assert (found.code, found.reason) == (grpc.StatusCode.UNAVAILABLE, "NOT_SENT")
        assert not fake.intents_with("payloops_attempt_key", key)
        assert not [r for r in fake.requests if r.idempotency_key == key]
        payment = await gw.authorize("pm_card_visa", key=key)  # safe to send again
        assert payment.outcome == pb.OUTCOME_SUCCEEDED

    async def test_rate_limited_is_not_sent(self, gw: Gateway, fake: FakeStripe) -> None:
        key = new_key()
        fake.inject(FaultKind.RATE_LIMIT, 1, method="POST", path="/v1/payment_intents")
        found = await failure(gw.authorize("pm_card_visa", key=key))
        assert (found.code, found.reason) == (grpc.StatusCode.UNAVAILABLE, "NOT_SENT")
        assert len([r for r in fake.requests if r.idempotency_key == key]) == 1  # no retry
        assert not fake.intents_with("payloops_attempt_key", key)

    async def test_server_errors_are_unknown(self, gw: Gateway, fake: FakeStripe) -> None:
        key = new_key()
        fake.inject(FaultKind.SERVER_ERROR, 2, method="POST", path="/v1/payment_intents")
        found = await failure(gw.authorize("pm_card_visa", key=key))
        assert (found.code, found.reason) == (grpc.StatusCode.INTERNAL, "GATEWAY_ERROR")
        assert found.metadata["http_status"] == "500"
        assert is_unknown(found)
        assert not fake.intents_with("payloops_attempt_key", key)
        # The adapter looked for a charge before answering "unknown".
        assert fake.requests_to("GET", "/v1/payment_intents/search")
        payment = await gw.authorize("pm_card_visa", key=key)
        assert payment.outcome == pb.OUTCOME_SUCCEEDED
        assert len(fake.intents_with("payloops_attempt_key", key)) == 1

    async def test_one_server_error_is_retried_with_the_same_key(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        key = new_key()
        fake.inject(FaultKind.SERVER_ERROR, 1, method="POST", path="/v1/payment_intents")
        payment = await gw.authorize("pm_card_visa", key=key)
        assert payment.outcome == pb.OUTCOME_SUCCEEDED
        sends = [r for r in fake.requests if r.idempotency_key == key]
        assert [r.status for r in sends] == [500, 200]
        assert len(fake.intents_with("payloops_attempt_key", key)) == 1

    async def test_html_bad_gateway_is_unknown(self, gw: Gateway, fake: FakeStripe) -> None:
        key = new_key()
        fake.inject(FaultKind.HTML_502, 2, method="POST", path="/v1/payment_intents")
        found = await failure(gw.authorize("pm_card_visa", key=key))
        assert (found.code, found.reason) == (grpc.StatusCode.INTERNAL, "GATEWAY_ERROR")
        assert found.metadata["http_status"] == "502"
        assert is_unknown(found)

    async def test_charge_then_server_error_finds_the_one_charge(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        key = new_key()
        # Stripe charges, then fails; it keeps that 500 under the key, so the SDK's retry
        # and any re-send only replay it. The adapter finds the charge by its attempt key.
        fake.inject(FaultKind.CHARGE_THEN_500, 1, method="POST", path="/v1/payment_intents")
        payment = await gw.authorize("pm_card_visa", key=key)
        [intent] = fake.intents_with("payloops_attempt_key", key)
        assert (payment.outcome, payment.processor_reference) == (pb.OUTCOME_SUCCEEDED, intent.id)
        again = await gw.authorize("pm_card_visa", key=key)
        assert again.processor_reference == intent.id
        assert len(fake.intents_with("payloops_attempt_key", key)) == 1
        assert len([c for c in fake.charges() if c.intent_id == intent.id]) == 1

    async def test_charge_then_server_error_unresolved_stays_unknown(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        key = new_key()
        fake.inject(FaultKind.CHARGE_THEN_500, 1, method="POST", path="/v1/payment_intents")
        fake.inject(FaultKind.SERVER_ERROR, 2, method="GET", path="/v1/payment_intents/search")
        found = await failure(gw.authorize("pm_card_visa", key=key))
        assert is_unknown(found)  # never "declined", never "not sent": it was charged
        [intent] = fake.intents_with("payloops_attempt_key", key)
        again = await gw.authorize("pm_card_visa", key=key)  # the re-send finds the charge
        assert (again.outcome, again.processor_reference) == (pb.OUTCOME_SUCCEEDED, intent.id)
        assert len(fake.intents_with("payloops_attempt_key", key)) == 1

    async def test_timeout_then_refused_retry_is_still_unknown(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        key = new_key()
        # The first attempt is charged and answered late; the SDK's retry finds the port
        # closed. "Refused" on the last attempt must not hide the first one.
        fake.inject(
            FaultKind.DELAY,
            1,
            method="POST",
            path="/v1/payment_intents",
            delay_s=SLOW_S,
            then=fake.refuse_connections,
        )
        found = await failure(gw.authorize("pm_card_visa", key=key))
        assert is_unknown(found), found
        fake.accept_connections()
        assert len(fake.intents_with("payloops_attempt_key", key)) == 1
        assert (await gw.get_payment(key=key)).outcome == pb.OUTCOME_SUCCEEDED

    async def test_faults_on_capture_refund_and_lookup(self, gw: Gateway, fake: FakeStripe) -> None:
        authorized = await gw.authorize("pm_card_visa", 1000, manual=True)
        reference = authorized.processor_reference
        fake.inject(FaultKind.SERVER_ERROR, 2, method="POST", path=r"/v1/payment_intents/.*")
        found = await failure(gw.capture(reference, key="cap-1"))
        assert is_unknown(found)
        captured = await gw.capture(reference, key="cap-1")
        assert captured.outcome == pb.OUTCOME_SUCCEEDED
        fake.inject(FaultKind.RATE_LIMIT, 1, method="POST", path="/v1/refunds")
        found = await failure(gw.refund(reference, 100, key="ref-1"))
        assert (found.code, found.reason) == (grpc.StatusCode.UNAVAILABLE, "NOT_SENT")
        assert not fake.refunds() or all(r.intent_id != reference for r in fake.refunds())
        with fake.refusing():
            found = await failure(gw.get_payment(reference=reference))
        assert (found.code, found.reason) == (grpc.StatusCode.UNAVAILABLE, "NOT_SENT")

    # -- lookups when search lags --------------------------------------------------------

    async def test_lookups_work_while_search_lags(self, gw: Gateway, fake: FakeStripe) -> None:
        fake.search_lag_s = 3600  # an outage-sized lag: search sees nothing new
        key = new_key()
        payment = await gw.authorize("pm_card_visa", 1000, key=key)
        assert (await gw.get_payment(key=key)).processor_reference == payment.processor_reference
        refund_key = new_key("refund")
        refund = await gw.refund(payment.processor_reference, 300, key=refund_key)
        assert await gw.get_refund(key=refund_key) == refund
        missing = await failure(gw.get_payment(key=new_key()))
        assert missing.code == grpc.StatusCode.NOT_FOUND
        assert fake.requests_to("GET", "/v1/payment_intents")  # the consistent list was read

    async def test_refund_key_found_through_the_tag_after_the_window(
        self, gw: Gateway, fake: FakeStripe, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from datetime import timedelta

        from processors.stripe import lookup

        payment = await gw.authorize("pm_card_visa", 1000)
        refund_key = new_key("refund")
        refund = await gw.refund(payment.processor_reference, 300, key=refund_key)
        tagged = fake.world.intents[payment.processor_reference].metadata
        assert tagged[lookup.refund_tag(refund_key)] == refund_key
        # Older than the recent window: only the tag search can find it.
        monkeypatch.setattr(lookup, "RECENT_WINDOW", timedelta(seconds=-3600))
        assert await gw.get_refund(key=refund_key) == refund

    # -- refunds that settle later --------------------------------------------------------

    async def test_pending_refund_then_succeeded(self, gw: Gateway, fake: FakeStripe) -> None:
        payment = await gw.authorize("pm_card_pendingRefund", 1000)
        key = new_key("refund")
        refund = await gw.refund(payment.processor_reference, 1000, key=key)
        assert refund.status == pb.Refund.STATUS_PENDING
        fake.world.settle_refunds()
        assert (await gw.get_refund(key=key)).status == pb.Refund.STATUS_SUCCEEDED

    async def test_refund_that_fails_later(self, gw: Gateway, fake: FakeStripe) -> None:
        payment = await gw.authorize("pm_card_refundFail", 1000)
        refund = await gw.refund(payment.processor_reference, 400)
        assert refund.status == pb.Refund.STATUS_SUCCEEDED
        fake.world.settle_refunds()
        failed = await gw.get_refund(reference=refund.processor_reference)
        assert (failed.status, failed.failure_code) == (
            pb.Refund.STATUS_FAILED,
            "expired_or_canceled_card",
        )
        assert (await gw.get_payment(reference=payment.processor_reference)).amount_refunded == 0

    # -- webhooks ---------------------------------------------------------------------------

    async def parse(
        self, gw: Gateway, headers: dict[str, str], body: bytes, secret: str = WEBHOOK_SECRET
    ) -> pb.ParseWebhookResponse:
        return await gw.stub.ParseWebhook(
            pb.ParseWebhookRequest(
                headers=headers, body=body, credentials=gw.creds(webhook_secret=secret)
            ),
            timeout=DEADLINE_S,
        )

    async def test_payment_webhook_from_stripe_is_accepted(
        self, gw: Gateway, webhooks: Webhooks
    ) -> None:
        key = new_key()
        payment = await gw.authorize("pm_card_visa", 1099, key=key)
        headers, body = await webhooks.next_of(
            "payment_intent.succeeded", payment.processor_reference
        )
        assert headers["stripe-signature"].startswith("t=")
        event = await self.parse(gw, headers, body)
        assert event.event_id.startswith("evt_")
        assert event.event_type == "payment_intent.succeeded"
        assert event.kind == pb.ParseWebhookResponse.KIND_PAYMENT
        assert (event.payment.attempt_key, event.payment.processor_reference) == (
            key,
            payment.processor_reference,
        )
        assert (event.payment.outcome, event.payment.amount, event.payment.currency) == (
            pb.OUTCOME_SUCCEEDED,
            1099,
            "USD",
        )

    async def test_decline_and_challenge_webhooks(self, gw: Gateway, webhooks: Webhooks) -> None:
        declined = await gw.authorize("pm_card_visa_chargeDeclinedInsufficientFunds")
        event = await self.parse(
            gw,
            *await webhooks.next_of("payment_intent.payment_failed", declined.processor_reference),
        )
        assert event.payment.outcome == pb.OUTCOME_DECLINED
        assert event.payment.decline.code == "insufficient_funds"
        waiting = await gw.authorize("pm_card_threeDSecure2Required", return_url=RETURN_URL)
        event = await self.parse(
            gw,
            *await webhooks.next_of("payment_intent.requires_action", waiting.processor_reference),
        )
        assert event.payment.outcome == pb.OUTCOME_REQUIRES_ACTION
        assert event.payment.next_action.redirect_url == waiting.next_action.redirect_url

    async def test_refund_webhooks_are_refunds(self, gw: Gateway, webhooks: Webhooks) -> None:
        payment = await gw.authorize("pm_card_visa", 1000)
        key = new_key("refund")
        refund = await gw.refund(payment.processor_reference, 300, key=key)
        event = await self.parse(
            gw, *await webhooks.next_of("refund.created", refund.processor_reference)
        )
        assert event.kind == pb.ParseWebhookResponse.KIND_REFUND
        assert event.refund == refund
        # charge.refunded no longer embeds its refunds: it is news about the payment.
        event = await self.parse(
            gw, *await webhooks.next_of("charge.refunded", payment.processor_reference)
        )
        assert event.kind == pb.ParseWebhookResponse.KIND_PAYMENT
        assert (event.payment.processor_reference, event.payment.amount_refunded) == (
            payment.processor_reference,
            300,
        )

    async def test_webhook_with_bad_signature_is_rejected(
        self, gw: Gateway, webhooks: Webhooks
    ) -> None:
        payment = await gw.authorize("pm_card_visa", 1099)
        headers, body = await webhooks.next_of(
            "payment_intent.succeeded", payment.processor_reference
        )
        tampered = body.replace(b'"amount": 1099', b'"amount": 1')
        assert tampered != body
        cases = [
            (headers, tampered, WEBHOOK_SECRET),  # body changed after signing
            (headers, body, "whsec_someone_elses_secret"),  # signed with another secret
            ({}, body, WEBHOOK_SECRET),  # no signature at all
            (headers, body, ""),  # the merchant's account has no webhook secret
            ({"stripe-signature": "t=1,v1=deadbeef"}, body, WEBHOOK_SECRET),
            (headers, b"\xff\xfe", WEBHOOK_SECRET),
        ]
        for case_headers, case_body, secret in cases:
            found = await failure(self.parse(gw, case_headers, case_body, secret))
            assert (found.code, found.reason) == (
                grpc.StatusCode.UNAUTHENTICATED,
                "SIGNATURE_INVALID",
            )

    async def test_webhook_with_stale_timestamp_is_rejected(
        self, gw: Gateway, fake: FakeStripe
    ) -> None:
        await gw.authorize("pm_card_visa")
        body = fake.events_of("payment_intent.succeeded")[-1].body
        fresh = await self.parse(gw, {"Stripe-Signature": sign(body, WEBHOOK_SECRET)}, body)
        assert fresh.kind == pb.ParseWebhookResponse.KIND_PAYMENT
        stale = {"Stripe-Signature": sign(body, WEBHOOK_SECRET, int(time.time()) - 600)}
        found = await failure(self.parse(gw, stale, body))
        assert (found.code, found.reason) == (grpc.StatusCode.UNAUTHENTICATED, "SIGNATURE_INVALID")

    async def test_rotated_secrets_and_other_events(self, gw: Gateway) -> None:
        body = json.dumps(
            {
                "id": "evt_1",
                "object": "event",
                "type": "customer.created",
                "data": {"object": {"id": "cus_1", "object": "customer"}},
            }
        ).encode()
        old, new = sign(body, "whsec_old"), sign(body, WEBHOOK_SECRET)
        both = old + "," + new.split(",", 1)[1]  # t=…,v1=<old>,v1=<new>
        event = await self.parse(gw, {"stripe-signature": both}, body)
        assert (event.event_id, event.kind) == ("evt_1", pb.ParseWebhookResponse.KIND_UNSPECIFIED)
        signed_junk = b"not json"
        found = await failure(
            self.parse(gw, {"stripe-signature": sign(signed_junk, WEBHOOK_SECRET)}, signed_junk)
        )
        assert (found.code, found.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "WEBHOOK_MALFORMED")

    # -- the process ----------------------------------------------------------------------

    async def test_no_secret_reaches_the_logs(
        self, gw: Gateway, fake: FakeStripe, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        payment = await gw.authorize("pm_card_visa")
        await gw.refund(payment.processor_reference, 100)
        await failure(
            gw.stub.Authorize(
                authorize_request(
                    "pm_card_visa", credentials=gw.creds(secret_key="sk_test_rejected_secret_value")
                ),
                timeout=DEADLINE_S,
            )
        )
        assert caplog.records  # the adapter does log
        for secret in (SECRET_KEY, "sk_test_rejected_secret_value", WEBHOOK_SECRET):
            assert secret not in caplog.text


def test_serve_command_runs_and_stops_on_sigterm(fake: FakeStripe) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "serve",
            "processor",
            "stripe",
            "--port",
            "0",
            "--api-base",
            fake.base_url,
            "--timeout-ms",
            "2000",
            "--max-network-retries",
            "0",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "listening" in line and fake.base_url in line, line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()


async def test_one_client_per_secret_key() -> None:
    from processors.stripe.client import StripeClients

    clients = StripeClients("http://127.0.0.1:9/", timeout_s=1.0, max_network_retries=0)
    try:
        first = clients.for_key(SECRET_KEY)
        assert clients.for_key(SECRET_KEY) is first
        assert clients.for_key(OTHER_KEY) is not first
        assert clients.cached == 2
    finally:
        await clients.close()


def test_bad_arguments_are_refused() -> None:
    from processors.stripe.config import parse_args

    assert parse_args([]).api_base == "https://api.stripe.com"
    config = parse_args(["--api-base", "http://127.0.0.1:1/", "--timeout-ms", "250"])
    assert (config.api_base, config.timeout_ms, config.max_network_retries) == (
        "http://127.0.0.1:1/",
        250,
        1,
    )
    for argv in (
        ["--api-base", "ftp://x"],
        ["--timeout-ms", "0"],
        ["--api-base", "http://h/v1"],
        ["--max-network-retries", "-1"],
    ):
        with pytest.raises(SystemExit):
            parse_args(argv)


def test_stripe_log_debug_never_prints_a_request_in_the_adapter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SDK would print every request's parameters, a raw card's number and CVC included.
    import stripe

    from processors.stripe import client

    monkeypatch.setattr(stripe, "log", "debug")
    monkeypatch.setattr(stripe._util, "STRIPE_LOG", "debug")
    client.silence_sdk_console_log()
    assert stripe._util._console_log_level() is None  # type: ignore[no-untyped-call]
