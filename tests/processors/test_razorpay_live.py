"""The Razorpay adapter against REAL Razorpay test mode (the hyperswitch pattern): it keeps the
fake honest about what the adapter relies on.

Runs only when RAZORPAY_TEST_KEY_ID and RAZORPAY_TEST_KEY_SECRET hold test-mode keys
(`rzp_test_…`); otherwise every test here is skipped with that reason (the fake suite,
test_razorpay.py, never skips). Live keys are refused. Optional:
  RAZORPAY_API_BASE           another API host (default https://api.razorpay.com)
  RAZORPAY_TEST_TOKEN         a saved-card token (`token_…`) of RAZORPAY_TEST_CUSTOMER_ID, on an
  RAZORPAY_TEST_CUSTOMER_ID   account with S2S card payments enabled: runs the card payment test
It creates test-mode orders (harmless; they expire unpaid) and no charge.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
import razorpay
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from processors.razorpay.config import RazorpayConfig
from processors.razorpay.keys import order_receipt
from processors.razorpay.server import serve
from processors.razorpay.transport import CallBudget, RazorpaySession, call_budget

KEY_ID = os.environ.get("RAZORPAY_TEST_KEY_ID", "")
KEY_SECRET = os.environ.get("RAZORPAY_TEST_KEY_SECRET", "")
API_BASE = os.environ.get("RAZORPAY_API_BASE", "https://api.razorpay.com")
TOKEN = os.environ.get("RAZORPAY_TEST_TOKEN", "")
CUSTOMER_ID = os.environ.get("RAZORPAY_TEST_CUSTOMER_ID", "")
DEADLINE_S = 30.0

pytestmark = pytest.mark.skipif(
    not (KEY_ID and KEY_SECRET),
    reason="real Razorpay test-mode suite NOT RUN: set RAZORPAY_TEST_KEY_ID and "
    "RAZORPAY_TEST_KEY_SECRET (rzp_test_ keys) to run it",
)


@dataclass
class Live:
    stub: processor_pb2_grpc.ProcessorAsyncStub
    credentials: pb.Credentials


def reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    raise AssertionError("no ErrorInfo")


@pytest.fixture(scope="module")
def checked_keys() -> None:
    if not KEY_ID.startswith("rzp_test_"):
        pytest.fail("RAZORPAY_TEST_KEY_ID must be a test-mode key (rzp_test_…); refusing to run")


@pytest.fixture(scope="module")
async def live(checked_keys: None) -> AsyncIterator[Live]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[int] = loop.create_future()
    task = asyncio.create_task(
        serve(
            RazorpayConfig(name="razorpay-live", api_base=API_BASE, timeout_ms=20_000),
            on_ready=ready.set_result,
        )
    )
    starting: set[asyncio.Future[Any]] = {ready, task}
    await asyncio.wait(starting, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{ready.result()}") as channel:
            yield Live(
                processor_pb2_grpc.ProcessorStub(channel),
                pb.Credentials(
                    values={"key_id": KEY_ID, "key_secret": KEY_SECRET, "webhook_secret": "unused"}
                ),
            )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def sdk(checked_keys: None) -> Iterator[razorpay.Client]:
    client = razorpay.Client(
        session=RazorpaySession(20.0), auth=(KEY_ID, KEY_SECRET), base_url=API_BASE
    )
    yield client
    client.session.close()


def new_key() -> str:
    return f"live_{uuid.uuid4().hex}:authorize:razorpay:1"


async def test_live_wrong_secret_is_unauthenticated(live: Live) -> None:
    credentials = pb.Credentials(values={"key_id": KEY_ID, "key_secret": "wrong-secret"})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await live.stub.GetPayment(
            pb.GetPaymentRequest(attempt_key=new_key(), credentials=credentials), timeout=DEADLINE_S
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason(caught.value) == "CREDENTIALS_REJECTED"


@pytest.mark.parametrize("lookup", ["attempt_key", "processor_reference"])
async def test_live_unknown_payment_is_not_found(live: Live, lookup: str) -> None:
    request = (
        pb.GetPaymentRequest(attempt_key=new_key(), credentials=live.credentials)
        if lookup == "attempt_key"
        else pb.GetPaymentRequest(
            processor_reference="pay_PLNoSuchPaymnt", credentials=live.credentials
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await live.stub.GetPayment(request, timeout=DEADLINE_S)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND, caught.value.details()


async def test_live_unknown_refund_is_not_found(live: Live) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await live.stub.GetRefund(
            pb.GetRefundRequest(
                processor_reference="rfnd_PLNoSuchRefnd", credentials=live.credentials
            ),
            timeout=DEADLINE_S,
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND, caught.value.details()


def test_live_error_shape_is_what_the_fake_sends(sdk: razorpay.Client) -> None:
    """The structured error the session recovers, for the case the fake copies."""
    with call_budget(CallBudget(None)) as budget:
        with pytest.raises(razorpay.errors.BadRequestError):
            sdk.order.create({"amount": 99, "currency": "INR", "receipt": "payloops-live-min"})
        assert budget.last_error is not None
        assert (budget.last_error.http_status, budget.last_error.code) == (400, "BAD_REQUEST_ERROR")
        assert budget.last_error.field == "amount"
        assert budget.last_error.reason in (
            "amount_less_than_minimum_amount",
            "input_validation_failed",
        ), budget.last_error
        with pytest.raises(razorpay.errors.BadRequestError):
            sdk.payment.fetch("pay_PLNoSuchPaymnt", {})
        assert budget.last_error is not None
        assert "does not exist" in budget.last_error.description.lower(), budget.last_error


def test_live_receipt_lookup_finds_the_order(sdk: razorpay.Client) -> None:
    """What Authorize relies on: GET /v1/orders?receipt= finds every order with the receipt
    (real Razorpay may or may not refuse a repeated receipt; the adapter never relies on it)."""
    receipt = f"plk1_live_{uuid.uuid4().hex[:24]}"
    first = sdk.order.create(
        {
            "amount": 100,
            "currency": "INR",
            "receipt": receipt,
            "payment_capture": 0,
            "notes": {"payloops_test": "live"},
        }
    )
    try:
        second_id = sdk.order.create({"amount": 100, "currency": "INR", "receipt": receipt})["id"]
    except razorpay.errors.BadRequestError:
        second_id = None
    found = {o["id"] for o in sdk.order.all({"receipt": receipt, "count": 100})["items"]}
    assert first["id"] in found
    assert found <= {first["id"], second_id}


async def test_live_authorize_retry_finds_its_order(live: Live, sdk: razorpay.Client) -> None:
    """A token Razorpay refuses: the order is created once, and the retry reuses it."""
    key = new_key()
    request = pb.AuthorizeRequest(
        attempt_key=key,
        order_id="ord_live",
        merchant_id="mer_live",
        amount=100,
        currency="INR",
        capture_method=pb.CAPTURE_METHOD_MANUAL,
        payment_method=pb.PaymentMethod(type="card", token="token_PLNoSuchToken"),
        metadata={"email": "payloops-live@example.com", "contact": "9000090000"},
        credentials=live.credentials,
    )
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append((await live.stub.Authorize(request, timeout=DEADLINE_S)).payment)
        except grpc.aio.AioRpcError as error:
            assert error.code() in (
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.FAILED_PRECONDITION,
            ), error.details()
    orders = sdk.order.all({"receipt": order_receipt(key), "count": 100})["items"]
    assert len(orders) == 1
    assert orders[0]["notes"]["payloops_attempt_key"] == key
    assert all(p.outcome == pb.OUTCOME_DECLINED for p in outcomes)


async def test_live_card_payment(live: Live) -> None:
    if not (TOKEN and CUSTOMER_ID):
        pytest.skip(
            "live card payment NOT RUN: set RAZORPAY_TEST_TOKEN and "
            "RAZORPAY_TEST_CUSTOMER_ID (S2S card payments enabled on the account)"
        )
    key = new_key()
    request = pb.AuthorizeRequest(
        attempt_key=key,
        order_id="ord_live",
        merchant_id="mer_live",
        amount=100,
        currency="INR",
        capture_method=pb.CAPTURE_METHOD_MANUAL,
        payment_method=pb.PaymentMethod(type="card", token=TOKEN),
        return_url="https://example.com/payloops/return",
        metadata={
            "email": "payloops-live@example.com",
            "contact": "9000090000",
            "razorpay_customer_id": CUSTOMER_ID,
        },
        credentials=live.credentials,
    )
    payment = (await live.stub.Authorize(request, timeout=DEADLINE_S)).payment
    assert payment.processor_reference.startswith("pay_")
    assert payment.outcome in (
        pb.OUTCOME_REQUIRES_ACTION,
        pb.OUTCOME_AUTHORIZED,
        pb.OUTCOME_DECLINED,
    )
    if payment.outcome == pb.OUTCOME_REQUIRES_ACTION:
        assert payment.next_action.redirect_url.startswith(("https://", "http://"))
    again = (await live.stub.Authorize(request, timeout=DEADLINE_S)).payment
    assert again.processor_reference == payment.processor_reference
    if payment.outcome in (pb.OUTCOME_REQUIRES_ACTION, pb.OUTCOME_AUTHORIZED):
        voided = (
            await live.stub.Void(
                pb.VoidRequest(
                    void_key=f"{key}:void",
                    processor_reference=payment.processor_reference,
                    credentials=live.credentials,
                ),
                timeout=DEADLINE_S,
            )
        ).payment
        assert voided.outcome == pb.OUTCOME_CANCELED
