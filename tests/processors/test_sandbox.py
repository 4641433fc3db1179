"""The sandbox gateway, end to end: a real server on port 0, a real grpc.aio channel, httpx for
the 3-D Secure page."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from processors.sandbox.config import SandboxConfig
from processors.sandbox.payment_methods import TEST_CARD_NUMBERS
from processors.sandbox.server import serve
from processors.sandbox.webhooks import sign_webhook

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Sandbox:
    grpc_port: int
    http_port: int
    channel: grpc.aio.Channel
    processor: processor_pb2_grpc.ProcessorAsyncStub
    control: control_pb2_grpc.SandboxControlServiceAsyncStub

    async def charges(self) -> list[control_pb2.Charge]:
        return list((await self.control.ListCharges(control_pb2.ListChargesRequest())).charges)

    async def charges_for(self, attempt_key: str) -> list[control_pb2.Charge]:
        return [c for c in await self.charges() if c.attempt_key == attempt_key]

    async def set_fault(
        self, mode: control_pb2.FaultMode.ValueType, count: int = 0, latency_ms: int = 0
    ) -> None:
        await self.control.SetFault(
            control_pb2.SetFaultRequest(mode=mode, count=count, latency_ms=latency_ms)
        )

    async def authorize(
        self,
        token: str,
        amount: int = 1000,
        *,
        key: str | None = None,
        currency: str = "USD",
        manual: bool = False,
        return_url: str = "",
        deadline_s: float = 5,
    ) -> pb.Payment:
        response = await self.processor.Authorize(
            authorize_request(
                token, amount, key=key, currency=currency, manual=manual, return_url=return_url
            ),
            timeout=deadline_s,
        )
        return response.payment


def authorize_request(
    token: str,
    amount: int = 1000,
    *,
    key: str | None = None,
    currency: str = "USD",
    manual: bool = False,
    return_url: str = "",
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
    )


def new_key() -> str:
    return f"att_{uuid.uuid4().hex}"


def reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None, "error carries no google.rpc.Status"
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            assert info.domain == "sandbox.payloops.dev"
            return info.reason
    raise AssertionError("no ErrorInfo")


@contextlib.asynccontextmanager
async def running_sandbox(
    name: str = "sandbox-test", ledger_path: str | None = None
) -> AsyncIterator[Sandbox]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[tuple[int, int]] = loop.create_future()
    task: asyncio.Task[None] = asyncio.create_task(
        serve(
            SandboxConfig(name=name, ledger=ledger_path),
            on_ready=lambda g, h: ready.set_result((g, h)),
        )
    )
    either: set[asyncio.Future[Any]] = {ready, task}
    await asyncio.wait(either, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises the startup error
    grpc_port, http_port = ready.result()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            yield Sandbox(
                grpc_port,
                http_port,
                channel,
                processor_pb2_grpc.ProcessorStub(channel),
                control_pb2_grpc.SandboxControlServiceStub(channel),
            )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[Sandbox]:
    async with running_sandbox() as sb:
        yield sb


@pytest.fixture(autouse=True)
async def _no_fault_leaks(sandbox: Sandbox) -> AsyncIterator[None]:
    yield
    await sandbox.set_fault(control_pb2.FAULT_MODE_CLEAR)


@pytest.fixture
async def page() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, timeout=5) as client:
        yield client


# -- capabilities and health ------------------------------------------------------------------


async def test_capabilities(sandbox: Sandbox) -> None:
    caps = await sandbox.processor.GetCapabilities(pb.GetCapabilitiesRequest())
    assert caps.name == "sandbox-test"
    assert list(caps.currencies) == []
    assert set(caps.card_networks) == {"visa", "mastercard", "amex", "rupay"}
    assert caps.manual_capture and caps.partial_capture and caps.partial_refund
    assert caps.three_d_secure
    methods = {m.token: m for m in caps.test_payment_methods}
    assert len(methods) == 10
    assert methods["pm_card_processing_error"].decline_code == "processing_error"
    # Both payment-method forms: its own test tokens, and raw cards from the PayLoops vault.
    assert caps.accepts_raw_cards
    assert list(caps.token_prefixes) == ["pm_card_"]
    assert all(token.startswith("pm_card_") for token in methods)
    assert methods["pm_card_insufficient_funds"].outcome == pb.OUTCOME_DECLINED
    assert methods["pm_card_insufficient_funds"].decline_code == "insufficient_funds"
    assert methods["pm_card_3ds_fail"].outcome == pb.OUTCOME_REQUIRES_ACTION


async def test_health_serving(sandbox: Sandbox) -> None:
    health = health_pb2_grpc.HealthStub(sandbox.channel)
    for service in ("", "payloops.processor.v1.Processor"):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_services(sandbox: Sandbox) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(sandbox.channel)
    call = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    response = await call.read()
    call.cancel()
    names = {s.name for s in response.list_services_response.service}
    assert {
        "payloops.processor.v1.Processor",
        "payloops.sandbox.v1.SandboxControlService",
        "grpc.health.v1.Health",
    } <= names


# -- test payment methods --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "network", "funding", "country"),
    [
        ("pm_card_visa", "visa", "credit", "US"),
        ("pm_card_mastercard", "mastercard", "credit", "US"),
        ("pm_card_amex", "amex", "credit", "US"),
        ("pm_card_rupay", "rupay", "debit", "IN"),
    ],
)
async def test_success_tokens(
    sandbox: Sandbox, token: str, network: str, funding: str, country: str
) -> None:
    key = new_key()
    payment = await sandbox.authorize(token, 1234, key=key)
    assert payment.outcome == pb.OUTCOME_SUCCEEDED
    assert payment.attempt_key == key
    assert payment.processor_reference.startswith("ch_")
    assert (payment.amount, payment.currency, payment.amount_captured) == (1234, "USD", 1234)
    assert (payment.card.network, payment.card.funding, payment.card.country) == (
        network,
        funding,
        country,
    )
    [charge] = await sandbox.charges_for(key)
    assert (charge.state, charge.amount_captured, charge.order_id) == ("captured", 1234, "ord_test")


@pytest.mark.parametrize(
    ("token", "code", "soft"),
    [
        ("pm_card_declined", "generic_decline", False),
        ("pm_card_insufficient_funds", "insufficient_funds", False),
        ("pm_card_soft_decline", "try_again_later", True),
    ],
)
async def test_decline_tokens(sandbox: Sandbox, token: str, code: str, soft: bool) -> None:
    key = new_key()
    payment = await sandbox.authorize(token, key=key)
    assert payment.outcome == pb.OUTCOME_DECLINED
    assert (payment.decline.code, payment.decline.soft) == (code, soft)
    assert payment.amount_captured == 0
    [charge] = await sandbox.charges_for(key)
    assert charge.state == "declined"


@pytest.mark.parametrize("token", ["pm_card_3ds_required", "pm_card_3ds_fail"])
async def test_3ds_tokens_require_action(sandbox: Sandbox, token: str) -> None:
    key = new_key()
    payment = await sandbox.authorize(token, key=key)
    assert payment.outcome == pb.OUTCOME_REQUIRES_ACTION
    assert payment.next_action.redirect_url == (
        f"http://127.0.0.1:{sandbox.http_port}/3ds/{payment.processor_reference}"
    )
    [charge] = await sandbox.charges_for(key)
    assert charge.state == "requires_action"


def raw_card_request(
    number: str, *, key: str, exp: tuple[int, int] = (12, 2099), cvc: str = "123"
) -> pb.AuthorizeRequest:
    request = authorize_request("", 1000, key=key)
    request.payment_method.CopyFrom(
        pb.PaymentMethod(
            type="card",
            raw_card=pb.RawCard(
                number=number,
                exp_month=exp[0],
                exp_year=exp[1],
                cvc=cvc,
                holder_name="Ada Lovelace",
            ),
        )
    )
    return request


# The documented test-card table (docs/processors.md), row by row: what Authorize answers, the
# card it reports, and what the 3-D Secure page's "succeed" leads to for a challenge.
RAW_TEST_CARDS = [
    ("4242424242424242", pb.OUTCOME_SUCCEEDED, "", False, "visa", "4242"),
    ("5555555555554444", pb.OUTCOME_SUCCEEDED, "", False, "mastercard", "4444"),
    ("371449635398431", pb.OUTCOME_SUCCEEDED, "", False, "amex", "8431"),
    ("6521000000020005", pb.OUTCOME_SUCCEEDED, "", False, "rupay", "0005"),
    ("4000000000000002", pb.OUTCOME_DECLINED, "generic_decline", False, "visa", "0002"),
    ("4000000000009995", pb.OUTCOME_DECLINED, "insufficient_funds", False, "visa", "9995"),
    ("4000000000000119", pb.OUTCOME_DECLINED, "try_again_later", True, "visa", "0119"),
    ("4000000000000267", pb.OUTCOME_DECLINED, "processing_error", True, "visa", "0267"),
    ("4000002500003155", pb.OUTCOME_REQUIRES_ACTION, "", False, "visa", "3155"),
    (
        "4000000000003220",
        pb.OUTCOME_REQUIRES_ACTION,
        "three_d_secure_failed",
        False,
        "visa",
        "3220",
    ),
]


@pytest.mark.parametrize(("number", "outcome", "code", "soft", "network", "last4"), RAW_TEST_CARDS)
async def test_raw_test_cards(
    sandbox: Sandbox,
    page: httpx.AsyncClient,
    number: str,
    outcome: pb.Outcome.ValueType,
    code: str,
    soft: bool,
    network: str,
    last4: str,
) -> None:
    key = new_key()
    payment = (await sandbox.processor.Authorize(raw_card_request(number, key=key))).payment
    assert payment.outcome == outcome
    assert (payment.card.network, payment.card.last4) == (network, last4)
    if outcome == pb.OUTCOME_REQUIRES_ACTION:
        await page.post(payment.next_action.redirect_url, data={"outcome": "succeed"})
        payment = await get_payment(sandbox, payment.processor_reference)
        assert payment.outcome == (pb.OUTCOME_DECLINED if code else pb.OUTCOME_SUCCEEDED)
    assert (payment.decline.code, payment.decline.soft) == (code, soft)
    [charge] = await sandbox.charges_for(key)
    assert charge.amount_captured == (1000 if payment.outcome == pb.OUTCOME_SUCCEEDED else 0)
    # Re-sent under its key without the CVC (the vault keeps it for the first send only): the
    # same payment, not a second charge.
    again = await sandbox.processor.Authorize(raw_card_request(number, key=key, cvc=""))
    assert again.payment.processor_reference == payment.processor_reference
    assert len(await sandbox.charges_for(key)) == 1


@pytest.mark.parametrize(
    ("number", "exp", "cvc", "why"),
    [
        ("4242424242424241", (12, 2099), "123", "UNKNOWN_TEST_CARD"),
        ("4242424242424242", (13, 2099), "123", "CARD_EXPIRY_INVALID"),
        ("4242424242424242", (1, 2020), "123", "CARD_EXPIRED"),
        ("4242424242424242", (12, 2099), "12a", "CARD_CVC_INVALID"),
    ],
)
async def test_raw_cards_the_sandbox_refuses_charge_nothing_and_are_not_quoted(
    sandbox: Sandbox, number: str, exp: tuple[int, int], cvc: str, why: str
) -> None:
    key = new_key()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Authorize(raw_card_request(number, key=key, exp=exp, cvc=cvc))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == why
    assert number not in str(caught.value.details()) and number[-8:] not in str(caught.value)
    assert await sandbox.charges_for(key) == []


async def test_a_token_and_a_raw_card_together_are_refused(sandbox: Sandbox) -> None:
    request = raw_card_request("4242424242424242", key=new_key())
    request.payment_method.token = "pm_card_visa"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Authorize(request)
    assert reason(caught.value) == "PAYMENT_METHOD_AMBIGUOUS"


async def test_manual_capture_authorizes(sandbox: Sandbox) -> None:
    payment = await sandbox.authorize("pm_card_visa", manual=True)
    assert payment.outcome == pb.OUTCOME_AUTHORIZED
    assert payment.amount_captured == 0


async def test_unknown_token_is_invalid_and_charges_nothing(sandbox: Sandbox) -> None:
    key = new_key()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.authorize("pm_card_nope", key=key)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == "UNKNOWN_PAYMENT_METHOD"
    assert await sandbox.charges_for(key) == []


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (authorize_request("pm_card_visa", amount=0), "AMOUNT_NOT_POSITIVE"),
        (authorize_request("pm_card_visa", amount=-5), "AMOUNT_NOT_POSITIVE"),
        (authorize_request("pm_card_visa", currency=""), "CURRENCY_INVALID"),
    ],
    ids=["zero-amount", "negative-amount", "no-currency"],
)
async def test_malformed_authorize(
    sandbox: Sandbox, request_: pb.AuthorizeRequest, why: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Authorize(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == why
    assert await sandbox.charges_for(request_.attempt_key) == []


async def test_missing_attempt_key(sandbox: Sandbox) -> None:
    request = authorize_request("pm_card_visa")
    request.attempt_key = ""
    before = len(await sandbox.charges())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Authorize(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == "ATTEMPT_KEY_REQUIRED"
    assert len(await sandbox.charges()) == before


# -- idempotency --------------------------------------------------------------------------------


async def test_authorize_is_idempotent(sandbox: Sandbox) -> None:
    key = new_key()
    first = await sandbox.authorize("pm_card_visa", 500, key=key)
    again = await sandbox.authorize("pm_card_visa", 500, key=key)
    assert again == first
    assert len(await sandbox.charges_for(key)) == 1


async def test_attempt_key_reuse_with_other_amount(sandbox: Sandbox) -> None:
    key = new_key()
    await sandbox.authorize("pm_card_visa", 500, key=key)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.authorize("pm_card_visa", 501, key=key)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == "IDEMPOTENCY_KEY_REUSED"
    [charge] = await sandbox.charges_for(key)
    assert charge.amount == 500


async def test_idempotent_decline_replays(sandbox: Sandbox) -> None:
    key = new_key()
    first = await sandbox.authorize("pm_card_declined", key=key)
    assert await sandbox.authorize("pm_card_declined", key=key) == first
    assert len(await sandbox.charges_for(key)) == 1


# -- 3-D Secure page ----------------------------------------------------------------------------


async def get_payment(sandbox: Sandbox, reference: str) -> pb.Payment:
    response = await sandbox.processor.GetPayment(
        pb.GetPaymentRequest(processor_reference=reference)
    )
    return response.payment


async def test_3ds_page_renders(sandbox: Sandbox, page: httpx.AsyncClient) -> None:
    payment = await sandbox.authorize("pm_card_3ds_required", 4200, currency="EUR")
    response = await page.get(payment.next_action.redirect_url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    assert "4200" in body and "EUR" in body
    assert "Complete" in body and "Fail" in body
    assert "method='post'" in body
    assert "value='succeed'" in body and "value='fail'" in body


async def test_3ds_succeed_redirects_to_return_url(
    sandbox: Sandbox, page: httpx.AsyncClient
) -> None:
    payment = await sandbox.authorize(
        "pm_card_3ds_required", return_url="https://shop.example/return?o=1"
    )
    url = payment.next_action.redirect_url
    response = await page.post(url, data={"outcome": "succeed"})
    assert response.status_code == 303
    assert response.headers["location"] == "https://shop.example/return?o=1"
    after = await get_payment(sandbox, payment.processor_reference)
    assert after.outcome == pb.OUTCOME_SUCCEEDED
    assert after.amount_captured == after.amount
    assert not after.HasField("next_action")
    # Completed: a second answer conflicts, and the page shows the result.
    assert (await page.post(url, data={"outcome": "fail"})).status_code == 409
    shown = await page.get(url)
    assert shown.status_code == 200 and "succeeded" in shown.text


async def test_3ds_fail_declines(sandbox: Sandbox, page: httpx.AsyncClient) -> None:
    payment = await sandbox.authorize("pm_card_3ds_required")
    response = await page.post(payment.next_action.redirect_url, data={"outcome": "fail"})
    assert response.status_code == 200  # no return_url: a result page
    assert "declined" in response.text
    after = await get_payment(sandbox, payment.processor_reference)
    assert after.outcome == pb.OUTCOME_DECLINED
    assert (after.decline.code, after.decline.soft) == ("three_d_secure_failed", False)


async def test_3ds_fail_token_declines_even_on_succeed(
    sandbox: Sandbox, page: httpx.AsyncClient
) -> None:
    key = new_key()
    payment = await sandbox.authorize("pm_card_3ds_fail", key=key)
    response = await page.post(payment.next_action.redirect_url, data={"outcome": "succeed"})
    assert response.status_code == 200
    after = await get_payment(sandbox, payment.processor_reference)
    assert after.outcome == pb.OUTCOME_DECLINED
    assert after.decline.code == "three_d_secure_failed"
    [charge] = await sandbox.charges_for(key)
    assert charge.state == "declined"


async def test_3ds_manual_capture_authorizes(sandbox: Sandbox, page: httpx.AsyncClient) -> None:
    payment = await sandbox.authorize("pm_card_3ds_required", manual=True)
    await page.post(payment.next_action.redirect_url, data={"outcome": "succeed"})
    after = await get_payment(sandbox, payment.processor_reference)
    assert after.outcome == pb.OUTCOME_AUTHORIZED


async def test_3ds_post_after_void_conflicts(sandbox: Sandbox, page: httpx.AsyncClient) -> None:
    payment = await sandbox.authorize("pm_card_3ds_required")
    voided = await sandbox.processor.Void(
        pb.VoidRequest(void_key=new_key(), processor_reference=payment.processor_reference)
    )
    assert voided.payment.outcome == pb.OUTCOME_CANCELED
    response = await page.post(payment.next_action.redirect_url, data={"outcome": "succeed"})
    assert response.status_code == 409
    assert (await get_payment(sandbox, payment.processor_reference)).outcome == (
        pb.OUTCOME_CANCELED
    )


async def test_3ds_page_errors(sandbox: Sandbox, page: httpx.AsyncClient) -> None:
    base = f"http://127.0.0.1:{sandbox.http_port}"
    assert (await page.get(f"{base}/3ds/ch_unknown")).status_code == 404
    assert (
        await page.post(f"{base}/3ds/ch_unknown", data={"outcome": "succeed"})
    ).status_code == 404
    assert (await page.get(f"{base}/elsewhere")).status_code == 404
    payment = await sandbox.authorize("pm_card_3ds_required")
    url = payment.next_action.redirect_url
    assert (await page.post(url, data={"outcome": "maybe"})).status_code == 400
    assert (await page.post(url, data={})).status_code == 400
    # Still pending after the bad requests.
    assert (await get_payment(sandbox, payment.processor_reference)).outcome == (
        pb.OUTCOME_REQUIRES_ACTION
    )


# -- capture, void, refund ----------------------------------------------------------------------


async def test_partial_capture(sandbox: Sandbox) -> None:
    key = new_key()
    payment = await sandbox.authorize("pm_card_visa", 1000, key=key, manual=True)
    ref = payment.processor_reference
    capture = pb.CaptureRequest(capture_key=new_key(), processor_reference=ref, amount=600)
    captured = (await sandbox.processor.Capture(capture)).payment
    assert captured.outcome == pb.OUTCOME_SUCCEEDED
    assert (captured.amount, captured.amount_captured) == (1000, 600)
    # Same key again: the same result, nothing moves.
    assert (await sandbox.processor.Capture(capture)).payment == captured
    [charge] = await sandbox.charges_for(key)
    assert (charge.state, charge.amount_captured) == ("captured", 600)
    # A second capture under a new key does not fit the state.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Capture(
            pb.CaptureRequest(capture_key=new_key(), processor_reference=ref)
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "PAYMENT_STATE_CONFLICT"


async def test_full_capture_and_over_capture(sandbox: Sandbox) -> None:
    payment = await sandbox.authorize("pm_card_amex", 700, manual=True)
    ref = payment.processor_reference
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Capture(
            pb.CaptureRequest(capture_key=new_key(), processor_reference=ref, amount=701)
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    captured = (
        await sandbox.processor.Capture(
            pb.CaptureRequest(capture_key=new_key(), processor_reference=ref)
        )
    ).payment
    assert captured.amount_captured == 700


async def test_capture_of_declined_conflicts(sandbox: Sandbox) -> None:
    payment = await sandbox.authorize("pm_card_declined", manual=True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Capture(
            pb.CaptureRequest(
                capture_key=new_key(), processor_reference=payment.processor_reference
            )
        )
    assert reason(caught.value) == "PAYMENT_STATE_CONFLICT"


async def test_void(sandbox: Sandbox) -> None:
    key = new_key()
    payment = await sandbox.authorize("pm_card_mastercard", key=key, manual=True)
    ref = payment.processor_reference
    void = pb.VoidRequest(void_key=new_key(), processor_reference=ref)
    voided = (await sandbox.processor.Void(void)).payment
    assert voided.outcome == pb.OUTCOME_CANCELED
    assert (await sandbox.processor.Void(void)).payment == voided  # same key
    again = await sandbox.processor.Void(
        pb.VoidRequest(void_key=new_key(), processor_reference=ref)
    )
    assert again.payment.outcome == pb.OUTCOME_CANCELED  # voiding a voided payment: no-op
    [charge] = await sandbox.charges_for(key)
    assert charge.state == "voided"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Capture(
            pb.CaptureRequest(capture_key=new_key(), processor_reference=ref)
        )
    assert reason(caught.value) == "PAYMENT_STATE_CONFLICT"


async def test_void_of_captured_conflicts(sandbox: Sandbox) -> None:
    payment = await sandbox.authorize("pm_card_visa")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Void(
            pb.VoidRequest(void_key=new_key(), processor_reference=payment.processor_reference)
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "PAYMENT_STATE_CONFLICT"


async def test_refunds(sandbox: Sandbox) -> None:
    key = new_key()
    payment = await sandbox.authorize("pm_card_rupay", 1000, key=key, currency="INR")
    ref = payment.processor_reference
    first = pb.RefundRequest(refund_key=new_key(), processor_reference=ref, amount=300)
    refund = (await sandbox.processor.Refund(first)).refund
    assert refund.status == pb.Refund.STATUS_SUCCEEDED
    assert (refund.amount, refund.currency, refund.payment_reference) == (300, "INR", ref)
    assert refund.processor_reference.startswith("re_")
    assert (await sandbox.processor.Refund(first)).refund == refund  # same key
    [charge] = await sandbox.charges_for(key)
    assert (charge.state, charge.amount_refunded) == ("captured", 300)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Refund(
            pb.RefundRequest(refund_key=new_key(), processor_reference=ref, amount=701)
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "REFUND_EXCEEDS_CAPTURED"

    rest = (
        await sandbox.processor.Refund(
            pb.RefundRequest(refund_key=new_key(), processor_reference=ref)
        )
    ).refund
    assert rest.amount == 700  # 0 = what remains
    [charge] = await sandbox.charges_for(key)
    assert (charge.state, charge.amount_refunded) == ("refunded", 1000)
    after = await get_payment(sandbox, ref)
    assert (after.amount_captured, after.amount_refunded) == (1000, 1000)

    by_key = await sandbox.processor.GetRefund(pb.GetRefundRequest(refund_key=first.refund_key))
    by_ref = await sandbox.processor.GetRefund(
        pb.GetRefundRequest(processor_reference=refund.processor_reference)
    )
    assert by_key.refund == by_ref.refund == refund

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Refund(
            pb.RefundRequest(refund_key=new_key(), processor_reference=ref)
        )
    assert reason(caught.value) == "REFUND_EXCEEDS_CAPTURED"


async def test_refund_of_partial_capture_is_bounded_by_captured(sandbox: Sandbox) -> None:
    payment = await sandbox.authorize("pm_card_visa", 1000, manual=True)
    ref = payment.processor_reference
    await sandbox.processor.Capture(
        pb.CaptureRequest(capture_key=new_key(), processor_reference=ref, amount=400)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Refund(
            pb.RefundRequest(refund_key=new_key(), processor_reference=ref, amount=401)
        )
    assert reason(caught.value) == "REFUND_EXCEEDS_CAPTURED"
    refund = (
        await sandbox.processor.Refund(
            pb.RefundRequest(refund_key=new_key(), processor_reference=ref)
        )
    ).refund
    assert refund.amount == 400


async def test_refund_key_reuse_and_wrong_state(sandbox: Sandbox) -> None:
    payment = await sandbox.authorize("pm_card_visa", 1000)
    request = pb.RefundRequest(
        refund_key=new_key(), processor_reference=payment.processor_reference, amount=100
    )
    await sandbox.processor.Refund(request)
    request.amount = 200
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Refund(request)
    assert reason(caught.value) == "IDEMPOTENCY_KEY_REUSED"

    authorized = await sandbox.authorize("pm_card_visa", manual=True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Refund(
            pb.RefundRequest(
                refund_key=new_key(), processor_reference=authorized.processor_reference
            )
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "PAYMENT_STATE_CONFLICT"


async def test_lookups_not_found(sandbox: Sandbox) -> None:
    for request in (
        pb.GetPaymentRequest(attempt_key=new_key()),
        pb.GetPaymentRequest(processor_reference="ch_missing"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await sandbox.processor.GetPayment(request)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert reason(caught.value) == "PAYMENT_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.GetRefund(pb.GetRefundRequest(refund_key=new_key()))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason(caught.value) == "REFUND_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Capture(
            pb.CaptureRequest(capture_key=new_key(), processor_reference="ch_missing")
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_get_payment_by_attempt_key(sandbox: Sandbox) -> None:
    key = new_key()
    payment = await sandbox.authorize("pm_card_visa", key=key)
    found = await sandbox.processor.GetPayment(pb.GetPaymentRequest(attempt_key=key))
    assert found.payment == payment


# -- webhooks ----------------------------------------------------------------------------------


async def test_parse_webhook(sandbox: Sandbox) -> None:
    payment = await sandbox.authorize("pm_card_visa")
    body = (
        b'{"id": "evt_1", "type": "payment.succeeded", "processor_reference": "'
        + payment.processor_reference.encode()
        + b'"}'
    )
    credentials = pb.Credentials(values={"webhook_secret": "whsec_test"})
    good = await sandbox.processor.ParseWebhook(
        pb.ParseWebhookRequest(
            headers={"x-sandbox-signature": sign_webhook("whsec_test", body)},
            body=body,
            credentials=credentials,
        )
    )
    assert (good.event_id, good.kind) == ("evt_1", pb.ParseWebhookResponse.KIND_PAYMENT)
    assert good.payment == payment
    for headers in ({}, {"x-sandbox-signature": sign_webhook("other", body)}):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await sandbox.processor.ParseWebhook(
                pb.ParseWebhookRequest(headers=headers, body=body, credentials=credentials)
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason(caught.value) == "SIGNATURE_INVALID"


# -- faults ------------------------------------------------------------------------------------


async def test_fault_hang_hits_deadline_without_leaking(sandbox: Sandbox) -> None:
    baseline = len(asyncio.all_tasks())
    await sandbox.set_fault(control_pb2.FAULT_MODE_HANG)
    call = asyncio.create_task(sandbox.authorize("pm_card_visa", deadline_s=0.5))
    await asyncio.sleep(0.2)
    # Our call task plus the server's handler task for it.
    assert len(asyncio.all_tasks()) >= baseline + 2
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # Reads hang too; the control service and capabilities do not.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.GetPayment(pb.GetPaymentRequest(attempt_key="x"), timeout=0.3)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await sandbox.processor.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=2)
    await sandbox.set_fault(control_pb2.FAULT_MODE_CLEAR)
    # The hung handlers were cancelled with their calls: no task outlives them.
    for _ in range(60):
        if len(asyncio.all_tasks()) <= baseline:
            break
        await asyncio.sleep(0.05)
    assert len(asyncio.all_tasks()) <= baseline


async def test_fault_unavailable_does_nothing(sandbox: Sandbox) -> None:
    key = new_key()
    await sandbox.set_fault(control_pb2.FAULT_MODE_UNAVAILABLE)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.authorize("pm_card_visa", key=key)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(caught.value) == "NOT_SENT"
    assert await sandbox.charges_for(key) == []


async def test_fault_error_after_charge(sandbox: Sandbox) -> None:
    key = new_key()
    await sandbox.set_fault(control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE)  # until cleared
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.authorize("pm_card_visa", 900, key=key)
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert reason(caught.value) == "GATEWAY_ERROR"
    [charge] = await sandbox.charges_for(key)
    assert (charge.state, charge.amount) == ("captured", 900)
    # Read calls pass through: the unknown outcome can be resolved.
    found = (await sandbox.processor.GetPayment(pb.GetPaymentRequest(attempt_key=key))).payment
    assert found.outcome == pb.OUTCOME_SUCCEEDED
    assert found.processor_reference == charge.processor_reference
    # A retry with the same key still fails, but never charges twice.
    with pytest.raises(grpc.aio.AioRpcError):
        await sandbox.authorize("pm_card_visa", 900, key=key)
    assert len(await sandbox.charges_for(key)) == 1


async def test_fault_error_after_charge_on_refund(sandbox: Sandbox) -> None:
    key = new_key()
    payment = await sandbox.authorize("pm_card_visa", 900, key=key)
    await sandbox.set_fault(control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE, count=1)
    refund = pb.RefundRequest(
        refund_key=new_key(), processor_reference=payment.processor_reference, amount=100
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.processor.Refund(refund)
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    [charge] = await sandbox.charges_for(key)
    assert charge.amount_refunded == 100
    retried = (await sandbox.processor.Refund(refund)).refund  # count used up
    assert retried.amount == 100
    assert (await sandbox.charges_for(key))[0].amount_refunded == 100


async def test_fault_latency(sandbox: Sandbox) -> None:
    await sandbox.set_fault(control_pb2.FAULT_MODE_LATENCY, latency_ms=300)
    started = time.monotonic()
    payment = await sandbox.authorize("pm_card_visa")
    assert time.monotonic() - started >= 0.3
    assert payment.outcome == pb.OUTCOME_SUCCEEDED


async def test_fault_count_applies_once(sandbox: Sandbox) -> None:
    await sandbox.set_fault(control_pb2.FAULT_MODE_UNAVAILABLE, count=1)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.authorize("pm_card_visa")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert (await sandbox.authorize("pm_card_visa")).outcome == pb.OUTCOME_SUCCEEDED


async def test_error_after_charge_count_not_used_by_reads(sandbox: Sandbox) -> None:
    await sandbox.set_fault(control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE, count=1)
    with pytest.raises(grpc.aio.AioRpcError):
        await sandbox.processor.GetPayment(pb.GetPaymentRequest(attempt_key=new_key()))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.authorize("pm_card_visa")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert (await sandbox.authorize("pm_card_visa")).outcome == pb.OUTCOME_SUCCEEDED


async def test_set_fault_rejects_bad_requests(sandbox: Sandbox) -> None:
    for request in (
        control_pb2.SetFaultRequest(),
        control_pb2.SetFaultRequest(mode=control_pb2.FAULT_MODE_HANG, count=-1),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await sandbox.control.SetFault(request)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- persistence and process -----------------------------------------------------------------


async def test_ledger_survives_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.sqlite3")
    key, manual_key = new_key(), new_key()
    async with running_sandbox("persisted", path) as sb:
        payment = await sb.authorize("pm_card_visa", 1000, key=key)
        refund = (
            await sb.processor.Refund(
                pb.RefundRequest(
                    refund_key="rf_1", processor_reference=payment.processor_reference, amount=250
                )
            )
        ).refund
        held = await sb.authorize("pm_card_visa", 500, key=manual_key, manual=True)
        capture = pb.CaptureRequest(
            capture_key="cap_1", processor_reference=held.processor_reference, amount=200
        )
        await sb.processor.Capture(capture)
        pending = await sb.authorize("pm_card_3ds_required")
        before = await sb.charges()

    async with running_sandbox("persisted", path) as sb:
        assert await sb.charges() == before
        assert (await sb.authorize("pm_card_visa", 1000, key=key)).processor_reference == (
            payment.processor_reference
        )
        again = await sb.processor.Refund(
            pb.RefundRequest(
                refund_key="rf_1", processor_reference=payment.processor_reference, amount=250
            )
        )
        assert again.refund == refund
        assert (await sb.processor.Capture(capture)).payment.amount_captured == 200
        # The challenge link follows the new page port.
        restored = await get_payment(sb, pending.processor_reference)
        assert restored.next_action.redirect_url.startswith(f"http://127.0.0.1:{sb.http_port}/")
        async with httpx.AsyncClient() as client:
            response = await client.post(
                restored.next_action.redirect_url, data={"outcome": "succeed"}
            )
        assert response.status_code == 200
        assert len(await sb.charges()) == len(before)


def test_main_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "processors.sandbox",
            "--name",
            "sig",
            "--port",
            "0",
            "--http-port",
            "0",
            "--ledger",
            str(tmp_path / "l.sqlite3"),
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
        assert "listening" in line, line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_the_documented_test_card_table_is_the_sandboxs() -> None:
    """docs/processors.md lists exactly the raw test cards the sandbox takes, each with the
    token it behaves as, and every row of the table above is tested."""
    page = (REPO / "docs" / "processors.md").read_text()
    rows = dict(re.findall(r"^\| `([0-9]{13,19})` \| `(pm_card_\w+)` \|", page, re.MULTILINE))
    assert rows == TEST_CARD_NUMBERS
    assert {number for number, *_ in RAW_TEST_CARDS} == set(TEST_CARD_NUMBERS)
