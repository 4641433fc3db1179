"""The Razorpay adapter, end to end: its gRPC server on port 0, the real `razorpay` SDK inside
it, and the wire-level Razorpay fake (tests/fakes/razorpay_api.py) answering over HTTP.

Nothing here is mocked: what the adapter sends is what the fake records, and every fault is
a real HTTP answer (or a closed port). The suite against real Razorpay test mode is
test_razorpay_live.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import httpx
import iso4217
import pytest
import razorpay
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from processors.razorpay.config import RazorpayConfig
from processors.razorpay.currencies import CURRENCIES
from processors.razorpay.declines import BY_ERROR_CODE, DECLINES
from processors.razorpay.server import serve
from processors.razorpay.transport import CallBudget, RazorpaySession, call_budget
from tests.fakes.razorpay_api import TEST_TOKENS, Behaviour, FaultKind, RazorpayFake

DEADLINE_S = 10.0
RETURN_URL = "https://merchant.example/payloops/return"
CREATE_PAYMENT = r"/v1/payments/create/json"


# -- harness ------------------------------------------------------------------------------------


@dataclass
class Adapter:
    port: int
    channel: grpc.aio.Channel
    stub: processor_pb2_grpc.ProcessorAsyncStub
    credentials: pb.Credentials

    async def authorize(
        self,
        token: str = "pm_card_visa",
        amount: int = 50_000,
        *,
        key: str | None = None,
        currency: str = "INR",
        manual: bool = False,
        return_url: str = "",
        metadata: dict[str, str] | None = None,
        credentials: pb.Credentials | None = None,
        raw_card: pb.RawCard | None = None,
        initiator: pb.Initiator.ValueType = pb.INITIATOR_UNSPECIFIED,
        network_transaction_id: str = "",
    ) -> pb.Payment:
        method = (
            pb.PaymentMethod(type="card", raw_card=raw_card)
            if raw_card is not None
            else pb.PaymentMethod(type="card", token=token)
        )
        response = await self.stub.Authorize(
            pb.AuthorizeRequest(
                attempt_key=key or new_key(),
                order_id="ord_test",
                merchant_id="mer_test",
                amount=amount,
                currency=currency,
                capture_method=pb.CAPTURE_METHOD_MANUAL if manual else pb.CAPTURE_METHOD_AUTOMATIC,
                payment_method=method,
                return_url=return_url,
                description="PayLoops test order",
                metadata=metadata or {},
                credentials=credentials or self.credentials,
                initiator=initiator,
                network_transaction_id=network_transaction_id,
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
                    capture_key=key or f"cap_{uuid.uuid4().hex}",
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
                    void_key=key or f"void_{uuid.uuid4().hex}",
                    processor_reference=reference,
                    credentials=self.credentials,
                ),
                timeout=DEADLINE_S,
            )
        ).payment

    async def refund(self, reference: str, amount: int = 0, key: str = "") -> pb.Refund:
        return (
            await self.stub.Refund(
                pb.RefundRequest(
                    refund_key=key or f"ref_{uuid.uuid4().hex}",
                    processor_reference=reference,
                    amount=amount,
                    reason="customer asked",
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

    async def parse_webhook(
        self, headers: dict[str, str], body: bytes, secret: str | None = None
    ) -> pb.ParseWebhookResponse:
        credentials = pb.Credentials()
        credentials.CopyFrom(self.credentials)
        if secret is not None:
            credentials.values["webhook_secret"] = secret
        return await self.stub.ParseWebhook(
            pb.ParseWebhookRequest(headers=headers, body=body, credentials=credentials),
            timeout=DEADLINE_S,
        )


def new_key() -> str:
    # Shaped like the orchestrator's (orchestrator/keys.py), and longer than a receipt.
    return f"ord_{uuid.uuid4().hex}:authorize:razorpay:1"


def credentials_for(fake: RazorpayFake, **overrides: str) -> pb.Credentials:
    values = {
        "key_id": fake.key_id,
        "key_secret": fake.key_secret,
        "webhook_secret": fake.webhook_secret,
        **overrides,
    }
    return pb.Credentials(values=values)


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)
    assert status is not None, "error carries no google.rpc.Status"
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            assert info.domain == "razorpay.payloops.dev"
            return info
    raise AssertionError("no ErrorInfo")


def reason(error: grpc.aio.AioRpcError) -> str:
    return str(error_info(error).reason)


@contextlib.asynccontextmanager
async def running_adapter(
    fake: RazorpayFake, *, timeout_ms: int = 3000, name: str = "razorpay-test"
) -> AsyncIterator[Adapter]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[int] = loop.create_future()
    task = asyncio.create_task(
        serve(
            RazorpayConfig(name=name, api_base=fake.url, timeout_ms=timeout_ms),
            on_ready=ready.set_result,
        )
    )
    starting: set[asyncio.Future[Any]] = {ready, task}
    await asyncio.wait(starting, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises the start-up error
    port = ready.result()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Adapter(
                port, channel, processor_pb2_grpc.ProcessorStub(channel), credentials_for(fake)
            )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Inbox(ThreadingHTTPServer):
    """Receives the fake's webhooks as a merchant endpoint would: raw bytes and headers."""

    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.changed = threading.Condition()
        super().__init__(("127.0.0.1", 0), _InboxHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhooks/razorpay"

    def wait_for(
        self, event: str, payment_id: str, timeout: float = 5
    ) -> tuple[dict[str, str], bytes]:
        def find() -> tuple[dict[str, str], bytes] | None:
            for headers, body in self.received:
                data = json.loads(body)
                entities = [e["entity"] for e in data["payload"].values()]
                if data["event"] == event and any(
                    payment_id in (e.get("id"), e.get("payment_id")) for e in entities
                ):
                    return headers, body
            return None

        with self.changed:
            assert self.changed.wait_for(find, timeout), f"no {event} for {payment_id}"
            found = find()
            assert found is not None
            return found


class _InboxHandler(BaseHTTPRequestHandler):
    server: Inbox

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.changed:
            self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.server.changed.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    server = Inbox()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def fake(inbox: Inbox) -> Iterator[RazorpayFake]:
    with RazorpayFake(webhook_url=inbox.url) as api:
        yield api


@pytest.fixture(scope="module")
async def rzp(fake: RazorpayFake) -> AsyncIterator[Adapter]:
    async with running_adapter(fake) as adapter:
        yield adapter


@pytest.fixture
async def impatient(fake: RazorpayFake) -> AsyncIterator[Adapter]:
    """An adapter that gives Razorpay 300 ms per request."""
    async with running_adapter(fake, timeout_ms=300, name="razorpay-impatient") as adapter:
        yield adapter


@pytest.fixture(autouse=True)
def _no_fault_leaks(fake: RazorpayFake) -> Iterator[None]:
    yield
    fake.clear_faults()


@pytest.fixture
def no_sdk_prints(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The SDK print()s on transport failures; the adapter's session must keep it quiet."""
    yield
    out = capsys.readouterr().out
    assert "Request" not in out and "Connection" not in out, out


@pytest.fixture
async def page() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, timeout=5) as client:
        yield client


def order_of(fake: RazorpayFake, payment: pb.Payment) -> dict[str, Any]:
    return fake.order(fake.payment(payment.processor_reference)["order_id"])


def posts(fake: RazorpayFake) -> int:
    return sum(1 for r in fake.requests if r.method in ("POST", "PATCH"))


def order_creates_for(fake: RazorpayFake, receipt: str) -> list[dict[str, Any]]:
    return [
        r.json()
        for r in fake.requests_to("POST", "/v1/orders")
        if r.json().get("receipt") == receipt
    ]


# -- capabilities, health, reflection ----------------------------------------------------------


async def test_capabilities(rzp: Adapter) -> None:
    caps = await rzp.stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=DEADLINE_S)
    assert caps.name == "razorpay-test"
    assert list(caps.credential_fields) == ["key_id", "key_secret", "webhook_secret"]
    assert caps.currencies[0] == "INR"
    assert {"INR", "USD", "JPY", "KWD"} <= set(caps.currencies)
    assert set(caps.card_networks) == {"visa", "mastercard", "rupay"}
    assert caps.manual_capture and caps.partial_refund and caps.three_d_secure
    assert not caps.partial_capture  # Razorpay captures the whole authorization only
    # The advertised test tokens are exactly the fake's, with the outcomes it produces.
    methods = {m.token: m for m in caps.test_payment_methods}
    assert set(methods) == set(TEST_TOKENS)
    expected = {
        Behaviour.SUCCEED: pb.OUTCOME_SUCCEEDED,
        Behaviour.DECLINE: pb.OUTCOME_DECLINED,
        Behaviour.CHALLENGE: pb.OUTCOME_REQUIRES_ACTION,
        Behaviour.CHALLENGE_THEN_FAIL: pb.OUTCOME_REQUIRES_ACTION,
    }
    for token, spec in TEST_TOKENS.items():
        assert methods[token].outcome == expected[spec.behaviour], token
        if spec.failure is not None and spec.behaviour is Behaviour.DECLINE:
            assert methods[token].decline_code == DECLINES[spec.failure.reason].code


def test_currency_table_agrees_with_iso4217() -> None:
    for code, rule in CURRENCIES.items():
        assert iso4217.Currency(code).exponent == rule.exponent, code
        assert rule.step == (10 if rule.exponent == 3 else 1), code


def test_soft_declines_are_only_gateway_side() -> None:
    soft = {reason for reason, rule in DECLINES.items() if rule.soft}
    assert soft == {"gateway_technical_error", "bank_technical_error"}
    assert all(rule.soft for rule in BY_ERROR_CODE.values())


async def test_health_and_reflection(rzp: Adapter) -> None:
    # The health and reflection stubs are typed for sync channels only.
    health: Any = health_pb2_grpc.HealthStub(rzp.channel)
    for service in ("", "payloops.processor.v1.Processor"):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    stub: Any = reflection_pb2_grpc.ServerReflectionStub(rzp.channel)
    call = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    response = await call.read()
    call.cancel()
    names = {s.name for s in response.list_services_response.service}
    assert {"payloops.processor.v1.Processor", "grpc.health.v1.Health"} <= names


# -- success and declines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "network", "funding"),
    [
        ("pm_card_visa", "visa", "credit"),
        ("pm_card_mastercard", "mastercard", "credit"),
        ("pm_card_rupay", "rupay", "debit"),
    ],
)
async def test_success_tokens_capture_automatically(
    rzp: Adapter, fake: RazorpayFake, token: str, network: str, funding: str
) -> None:
    key = new_key()
    payment = await rzp.authorize(token, 50_000, key=key)
    assert payment.outcome == pb.OUTCOME_SUCCEEDED
    assert payment.attempt_key == key
    assert payment.processor_reference.startswith("pay_")
    assert (payment.amount, payment.currency, payment.amount_captured) == (50_000, "INR", 50_000)
    assert (payment.card.network, payment.card.funding, payment.card.country) == (
        network,
        funding,
        "IN",
    )
    # At Razorpay: one order for the attempt, its receipt short and derived from the key, the
    # whole key in its notes, automatic capture asked for, and the payment captured.
    order = order_of(fake, payment)
    assert len(order["receipt"]) <= 40 and key not in order["receipt"]
    assert order["notes"]["payloops_attempt_key"] == key
    assert order["status"] == "paid"
    # Razorpay is told to leave the capture to the adapter, which makes it at once.
    [create] = order_creates_for(fake, order["receipt"])
    assert create["payment_capture"] == 0
    assert create["notes"]["payloops_capture"] == "automatic"
    [created] = fake.payments_for_order(order["id"])
    assert created["captured"] and created["notes"]["payloops_attempt_key"] == key
    [capture] = fake.requests_to("POST", rf"/v1/payments/{created['id']}/capture")
    assert capture.json() == {"amount": 50_000, "currency": "INR"}
    [pay_request] = [
        r.json()
        for r in fake.requests_to("POST", CREATE_PAYMENT)
        if r.json()["order_id"] == order["id"]
    ]
    assert (pay_request["method"], pay_request["token"]) == ("card", token)


async def test_manual_capture_authorizes_only(rzp: Adapter, fake: RazorpayFake) -> None:
    payment = await rzp.authorize("pm_card_visa", manual=True)
    assert payment.outcome == pb.OUTCOME_AUTHORIZED
    assert payment.amount_captured == 0
    order = order_of(fake, payment)
    [create] = order_creates_for(fake, order["receipt"])
    assert (create["payment_capture"], create["notes"]["payloops_capture"]) == (0, "manual")
    assert fake.payment(payment.processor_reference)["status"] == "authorized"
    assert (await rzp.get_payment(reference=payment.processor_reference)).outcome == (
        pb.OUTCOME_AUTHORIZED
    )
    assert fake.requests_to("POST", rf"/v1/payments/{payment.processor_reference}/capture") == []


async def test_automatic_capture_completed_on_the_next_look(
    rzp: Adapter, fake: RazorpayFake
) -> None:
    """Authorized, but the adapter's capture failed: PENDING, and the next GetPayment
    captures it."""
    key = new_key()
    fake.inject(FaultKind.SERVER_ERROR, method="POST", path=r"/v1/payments/\w+/capture")
    payment = await rzp.authorize("pm_card_visa", 20_000, key=key)
    assert payment.outcome == pb.OUTCOME_PENDING
    assert payment.amount_captured == 0
    assert fake.payment(payment.processor_reference)["status"] == "authorized"
    done = await rzp.get_payment(key=key)
    assert (done.outcome, done.amount_captured) == (pb.OUTCOME_SUCCEEDED, 20_000)
    assert fake.payment(payment.processor_reference)["captured"]


@pytest.mark.parametrize(
    ("token", "code", "soft", "gateway_code"),
    [
        ("pm_card_declined", "generic_decline", False, "card_declined"),
        ("pm_card_insufficient_funds", "insufficient_funds", False, "insufficient_funds"),
        ("pm_card_soft_decline", "try_again_later", True, "gateway_technical_error"),
    ],
)
async def test_declines(
    rzp: Adapter, fake: RazorpayFake, token: str, code: str, soft: bool, gateway_code: str
) -> None:
    key = new_key()
    payment = await rzp.authorize(token, key=key)
    assert payment.outcome == pb.OUTCOME_DECLINED
    assert (payment.decline.code, payment.decline.soft, payment.decline.gateway_code) == (
        code,
        soft,
        gateway_code,
    )
    assert payment.decline.message
    assert payment.amount_captured == 0
    # The failed payment exists at Razorpay; GetPayment reports the same decline.
    assert fake.payment(payment.processor_reference)["status"] == "failed"
    assert await rzp.get_payment(key=key) == payment


def raw(number: str, cvc: str = "123") -> pb.RawCard:
    return pb.RawCard(number=number, exp_month=3, exp_year=2031, cvc=cvc, holder_name="A Rao")


async def test_capabilities_declare_raw_cards_and_razorpay_tokens(rzp: Adapter) -> None:
    caps = await rzp.stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=DEADLINE_S)
    assert caps.accepts_raw_cards
    assert list(caps.token_prefixes) == ["token_", "pm_card_"]
    assert all(m.token.startswith(tuple(caps.token_prefixes)) for m in caps.test_payment_methods)


@pytest.mark.parametrize(
    ("number", "outcome", "code", "soft"),
    [
        ("4111111111111111", pb.OUTCOME_SUCCEEDED, "", False),
        ("5267318187975449", pb.OUTCOME_SUCCEEDED, "", False),
        ("6521000000020005", pb.OUTCOME_SUCCEEDED, "", False),
        ("4000000000000002", pb.OUTCOME_DECLINED, "generic_decline", False),
        ("4000000000009995", pb.OUTCOME_DECLINED, "insufficient_funds", False),
        ("4000000000000119", pb.OUTCOME_DECLINED, "try_again_later", True),
        ("4000002500003155", pb.OUTCOME_REQUIRES_ACTION, "", False),
    ],
)
async def test_raw_cards_go_to_razorpay_as_card_details(
    rzp: Adapter,
    fake: RazorpayFake,
    number: str,
    outcome: pb.Outcome.ValueType,
    code: str,
    soft: bool,
) -> None:
    key = new_key()
    payment = await rzp.authorize(key=key, return_url=RETURN_URL, raw_card=raw(number))
    assert payment.outcome == outcome
    assert (payment.decline.code, payment.decline.soft) == (code, soft)
    order = order_of(fake, payment)
    [pay_request] = [
        r.json()
        for r in fake.requests_to("POST", CREATE_PAYMENT)
        if r.json()["order_id"] == order["id"]
    ]
    assert "token" not in pay_request
    assert pay_request["card"] == {
        "number": number,
        "expiry_month": "03",
        "expiry_year": "31",
        "cvv": "123",
        "name": "A Rao",
    }


async def test_a_merchant_initiated_payment_is_paid_as_a_customer_present_one(
    rzp: Adapter, fake: RazorpayFake
) -> None:
    # Razorpay's API neither takes nor gives a card network transaction id (its recurring card
    # payments go through its own mandate tokens): a merchant-initiated payment is the same S2S
    # payment, and no payment reports an id.
    present = await rzp.authorize(raw_card=raw("4111111111111111"))
    merchant = await rzp.authorize(
        raw_card=raw("4111111111111111", cvc=""),
        initiator=pb.INITIATOR_MERCHANT,
        network_transaction_id="483297487231504",
    )
    assert present.outcome == merchant.outcome == pb.OUTCOME_SUCCEEDED
    assert present.network_transaction_id == merchant.network_transaction_id == ""
    bodies = {
        payment.processor_reference: r.json()
        for payment in (present, merchant)
        for r in fake.requests_to("POST", CREATE_PAYMENT)
        if r.json()["order_id"] == order_of(fake, payment)["id"]
    }
    sent = [bodies[p.processor_reference] for p in (present, merchant)]
    assert set(sent[0]) - {"card"} == set(sent[1]) - {"card"}
    assert "483297487231504" not in json.dumps(sent[1])


async def test_a_raw_card_resent_without_its_cvc_is_the_same_payment(
    rzp: Adapter, fake: RazorpayFake
) -> None:
    key = new_key()
    first = await rzp.authorize(key=key, raw_card=raw("4111111111111111"))
    writes = posts(fake)
    again = await rzp.authorize(key=key, raw_card=raw("4111111111111111", cvc=""))
    assert again == first
    assert posts(fake) == writes


async def test_malformed_raw_cards_are_refused_before_razorpay(
    rzp: Adapter, fake: RazorpayFake
) -> None:
    writes = posts(fake)
    for card, why in [
        (raw("4111 1111"), "CARD_NUMBER_INVALID"),
        (pb.RawCard(number="4111111111111111", exp_month=13, exp_year=2031), "CARD_EXPIRY_INVALID"),
        (raw("4111111111111111", cvc="12345"), "CARD_CVC_INVALID"),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await rzp.authorize(raw_card=card)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_info(caught.value).reason == why
        assert "4111" not in (caught.value.details() or "")
    assert posts(fake) == writes


async def test_unknown_token_is_invalid_argument(rzp: Adapter, fake: RazorpayFake) -> None:
    key = new_key()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize("pm_card_nope", key=key)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(caught.value)
    assert info.reason == "GATEWAY_REJECTED_REQUEST"
    assert info.metadata["gateway_field"] == "token"
    assert info.metadata["gateway_http_status"] == "400"


# -- 3-D Secure ----------------------------------------------------------------------------------


async def test_3ds_redirect_then_success(
    rzp: Adapter, fake: RazorpayFake, page: httpx.AsyncClient
) -> None:
    key = new_key()
    payment = await rzp.authorize("pm_card_3ds_required", key=key, return_url=RETURN_URL)
    assert payment.outcome == pb.OUTCOME_REQUIRES_ACTION
    url = payment.next_action.redirect_url
    assert url == f"{fake.url}/_fake/authenticate/{payment.processor_reference}"
    assert (await rzp.get_payment(key=key)).next_action.redirect_url == url
    shown = await page.get(url)
    assert shown.status_code == 200 and "Succeed" in shown.text
    answered = await page.post(url, data={"outcome": "succeed"})
    assert answered.status_code == 303
    assert answered.headers["location"].startswith(
        f"{RETURN_URL}?razorpay_payment_id={payment.processor_reference}"
    )
    # Authorized at Razorpay; PayLoops' next look captures it (automatic capture).
    assert fake.payment(payment.processor_reference)["status"] == "authorized"
    done = await rzp.get_payment(key=key)
    assert done.outcome == pb.OUTCOME_SUCCEEDED
    assert done.amount_captured == payment.amount
    assert fake.payment(payment.processor_reference)["captured"]


async def test_3ds_with_manual_capture_ends_authorized(
    rzp: Adapter, page: httpx.AsyncClient
) -> None:
    payment = await rzp.authorize("pm_card_3ds_required", manual=True)
    assert payment.outcome == pb.OUTCOME_REQUIRES_ACTION
    await page.get(payment.next_action.redirect_url + "?outcome=succeed")
    done = await rzp.get_payment(reference=payment.processor_reference)
    assert done.outcome == pb.OUTCOME_AUTHORIZED


@pytest.mark.parametrize(
    ("token", "answer"),
    [
        ("pm_card_3ds_required", "fail"),
        ("pm_card_3ds_fail", "succeed"),
    ],
)
async def test_3ds_failure_is_a_hard_decline(
    rzp: Adapter, page: httpx.AsyncClient, token: str, answer: str
) -> None:
    key = new_key()
    payment = await rzp.authorize(token, key=key)
    assert payment.outcome == pb.OUTCOME_REQUIRES_ACTION
    response = await page.post(payment.next_action.redirect_url, data={"outcome": answer})
    assert response.status_code == 200
    done = await rzp.get_payment(key=key)
    assert done.outcome == pb.OUTCOME_DECLINED
    assert (done.decline.code, done.decline.soft, done.decline.gateway_code) == (
        "three_d_secure_failed",
        False,
        "authentication_failed",
    )


async def test_3ds_link_survives_an_adapter_restart(
    fake: RazorpayFake, page: httpx.AsyncClient
) -> None:
    """Another adapter instance never saw the create answer's `next`: it sends the customer
    to the hosted authentication path, which leads to the same challenge."""
    async with running_adapter(fake, name="first") as first:
        payment = await first.authorize("pm_card_3ds_required")
    async with running_adapter(fake, name="second") as second:
        found = await second.get_payment(reference=payment.processor_reference)
        assert found.outcome == pb.OUTCOME_REQUIRES_ACTION
        url = found.next_action.redirect_url
        assert url == f"{fake.url}/v1/payments/{payment.processor_reference}/authenticate"
        assert (await page.get(url + "?outcome=succeed")).status_code == 200
        assert (await second.get_payment(reference=payment.processor_reference)).outcome == (
            pb.OUTCOME_SUCCEEDED
        )


# -- capture ------------------------------------------------------------------------------------


async def test_capture_in_full(rzp: Adapter, fake: RazorpayFake) -> None:
    payment = await rzp.authorize("pm_card_mastercard", 25_000, manual=True)
    captured = await rzp.capture(payment.processor_reference, key="cap-1")
    assert captured.outcome == pb.OUTCOME_SUCCEEDED
    assert (captured.amount_captured, captured.card.network) == (25_000, "mastercard")
    assert fake.payment(payment.processor_reference)["captured"]
    # Same key again, and the explicit full amount: nothing more is sent.
    assert (await rzp.capture(payment.processor_reference, key="cap-1")).outcome == (
        pb.OUTCOME_SUCCEEDED
    )
    assert (await rzp.capture(payment.processor_reference, 25_000)).amount_captured == 25_000
    path = rf"/v1/payments/{payment.processor_reference}/capture"
    [capture_request] = fake.requests_to("POST", path)
    assert capture_request.json() == {"amount": 25_000, "currency": "INR"}


async def test_partial_capture_is_refused_before_razorpay(rzp: Adapter, fake: RazorpayFake) -> None:
    payment = await rzp.authorize("pm_card_visa", 25_000, manual=True)
    for amount, why in (
        (10_000, "PARTIAL_CAPTURE_NOT_SUPPORTED"),
        (30_000, "AMOUNT_EXCEEDS_AUTHORIZED"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await rzp.capture(payment.processor_reference, amount)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason(caught.value) == why
    assert fake.requests_to("POST", rf"/v1/payments/{payment.processor_reference}/capture") == []
    assert (await rzp.get_payment(reference=payment.processor_reference)).outcome == (
        pb.OUTCOME_AUTHORIZED
    )


async def test_capture_of_a_declined_payment(rzp: Adapter) -> None:
    payment = await rzp.authorize("pm_card_declined", manual=True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.capture(payment.processor_reference)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "PAYMENT_NOT_AUTHORIZED"


async def test_capture_unknown_payment_is_not_found(rzp: Adapter) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.capture("pay_NoSuchPayment00")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason(caught.value) == "PAYMENT_NOT_FOUND"


# -- void -----------------------------------------------------------------------------------------


async def test_void_an_authorization(rzp: Adapter, fake: RazorpayFake) -> None:
    payment = await rzp.authorize("pm_card_visa", 30_000, manual=True)
    reference = payment.processor_reference
    voided = await rzp.void(reference, key="void-1")
    assert voided.outcome == pb.OUTCOME_CANCELED
    assert (voided.amount_captured, voided.amount_refunded) == (0, 0)
    assert fake.payment(reference)["notes"]["payloops_void_key"] == "void-1"
    assert (await rzp.get_payment(reference=reference)).outcome == pb.OUTCOME_CANCELED
    # Nothing can take the money afterwards, and voiding again is a no-op.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.capture(reference)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "PAYMENT_VOIDED"
    assert (await rzp.void(reference, key="void-2")).outcome == pb.OUTCOME_CANCELED
    assert fake.payment(reference)["notes"]["payloops_void_key"] == "void-1"
    assert fake.requests_to("POST", rf"/v1/payments/{reference}/(capture|refund)") == []
    # Razorpay releases the authorization at the capture timeout: still CANCELED, nothing
    # captured or refunded from PayLoops' point of view.
    fake.expire_authorization(reference)
    released = await rzp.get_payment(reference=reference)
    assert released.outcome == pb.OUTCOME_CANCELED
    assert (released.amount_captured, released.amount_refunded) == (0, 0)


@pytest.mark.parametrize("manual", [True, False], ids=["manual", "automatic"])
async def test_void_of_a_pending_challenge_survives_its_completion(
    rzp: Adapter, fake: RazorpayFake, page: httpx.AsyncClient, manual: bool
) -> None:
    key = new_key()
    payment = await rzp.authorize("pm_card_3ds_required", key=key, manual=manual)
    reference = payment.processor_reference
    assert (await rzp.void(reference)).outcome == pb.OUTCOME_CANCELED
    # The customer finishes the challenge anyway: Razorpay authorizes, nobody captures, not
    # even for automatic capture (the adapter captures, never a voided payment).
    await page.post(payment.next_action.redirect_url, data={"outcome": "succeed"})
    assert fake.payment(reference)["status"] == "authorized"
    assert (await rzp.get_payment(key=key)).outcome == pb.OUTCOME_CANCELED
    assert (await rzp.authorize("pm_card_3ds_required", key=key, manual=manual)).outcome == (
        pb.OUTCOME_CANCELED
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.capture(reference)
    assert reason(caught.value) == "PAYMENT_VOIDED"
    assert fake.requests_to("POST", rf"/v1/payments/{reference}/capture") == []
    assert not fake.payment(reference)["captured"]


@pytest.mark.parametrize(
    ("token", "manual", "why"),
    [
        ("pm_card_visa", False, "PAYMENT_CAPTURED"),
        ("pm_card_declined", True, "PAYMENT_DECLINED"),
    ],
)
async def test_void_refused(
    rzp: Adapter, fake: RazorpayFake, token: str, manual: bool, why: str
) -> None:
    payment = await rzp.authorize(token, manual=manual)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.void(payment.processor_reference)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == why
    assert "payloops_void_key" not in fake.payment(payment.processor_reference)["notes"]


# -- refunds --------------------------------------------------------------------------------------


async def test_partial_and_full_refunds(rzp: Adapter, fake: RazorpayFake) -> None:
    key = new_key()
    payment = await rzp.authorize("pm_card_visa", 50_000, key=key)
    reference = payment.processor_reference
    first = await rzp.refund(reference, 20_000, key=f"{key}:refund")
    assert first.status == pb.Refund.STATUS_SUCCEEDED
    assert (first.amount, first.currency, first.payment_reference, first.refund_key) == (
        20_000,
        "INR",
        reference,
        f"{key}:refund",
    )
    assert first.processor_reference.startswith("rfnd_")
    second = await rzp.refund(reference, 10_000, key=f"{key}:refund:2")
    assert second.amount == 10_000
    # More than what is left is refused before Razorpay is asked.
    before = posts(fake)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.refund(reference, 30_000)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "REFUND_EXCEEDS_CAPTURED"
    assert posts(fake) == before
    # Amount 0 refunds the rest; then nothing is left.
    rest = await rzp.refund(reference, 0, key=f"{key}:refund:3")
    assert rest.amount == 20_000
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.refund(reference, 0)
    assert reason(caught.value) == "PAYMENT_FULLY_REFUNDED"
    after = await rzp.get_payment(key=key)
    assert after.outcome == pb.OUTCOME_SUCCEEDED
    assert (after.amount_captured, after.amount_refunded) == (50_000, 50_000)
    assert len(fake.refunds_for_payment(reference)) == 3
    # Each refund carried its idempotency header and receipt, derived from its key.
    refund_posts = fake.requests_to("POST", rf"/v1/payments/{reference}/refund")
    headers = [r.headers["x-refund-idempotency"] for r in refund_posts]
    assert len(set(headers)) == 3 and all(10 <= len(h) <= 40 for h in headers)
    assert [r.json()["receipt"] for r in refund_posts] == headers


async def test_refund_is_idempotent_on_its_key(rzp: Adapter, fake: RazorpayFake) -> None:
    payment = await rzp.authorize("pm_card_visa", 40_000)
    reference = payment.processor_reference
    first = await rzp.refund(reference, 15_000, key="refund-once-only")
    again = await rzp.refund(reference, 15_000, key="refund-once-only")
    assert again == first
    assert len(fake.refunds_for_payment(reference)) == 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.refund(reference, 5_000, key="refund-once-only")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == "IDEMPOTENCY_KEY_REUSED"


async def test_refund_whose_answer_was_lost(
    rzp: Adapter, fake: RazorpayFake, no_sdk_prints: None
) -> None:
    payment = await rzp.authorize("pm_card_visa", 40_000)
    reference = payment.processor_reference
    fake.inject(FaultKind.SUCCEED_THEN_500, method="POST", path=rf"/v1/payments/{reference}/refund")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.refund(reference, 40_000, key="refund-lost-answer")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(caught.value) == "GATEWAY_SERVER_ERROR"
    [made] = fake.refunds_for_payment(reference)
    again = await rzp.refund(reference, 40_000, key="refund-lost-answer")
    assert again.processor_reference == made["id"]
    assert len(fake.refunds_for_payment(reference)) == 1


async def test_refund_of_an_uncaptured_payment(rzp: Adapter) -> None:
    payment = await rzp.authorize("pm_card_visa", manual=True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.refund(payment.processor_reference)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "PAYMENT_NOT_CAPTURED"


async def test_get_refund(rzp: Adapter, fake: RazorpayFake) -> None:
    key = new_key()
    payment = await rzp.authorize("pm_card_visa", 30_000, key=key)
    refund = await rzp.refund(payment.processor_reference, 10_000, key=f"{key}:refund")
    assert await rzp.get_refund(reference=refund.processor_reference) == refund
    assert await rzp.get_refund(key=f"{key}:refund") == refund
    # A fresh adapter has not seen the refund: it finds it through the attempt in its key.
    async with running_adapter(fake, name="fresh") as fresh:
        assert await fresh.get_refund(key=f"{key}:refund") == refund
        for lookup in ({"key": f"{key}:refund:2"}, {"reference": "rfnd_NoSuchRefund00"}):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await fresh.get_refund(**lookup)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
            assert reason(caught.value) == "REFUND_NOT_FOUND"


async def test_pending_refund_settles(rzp: Adapter, fake: RazorpayFake) -> None:
    payment = await rzp.authorize("pm_card_rupay", 20_000)
    fake.refund_status = "pending"
    try:
        refund = await rzp.refund(payment.processor_reference, 20_000, key="refund-pending")
    finally:
        fake.refund_status = "processed"
    assert refund.status == pb.Refund.STATUS_PENDING
    fake.settle_refund(refund.processor_reference, "processed")
    settled = await rzp.get_refund(key="refund-pending")
    assert settled.status == pb.Refund.STATUS_SUCCEEDED


# -- idempotency --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["pm_card_visa", "pm_card_declined", "pm_card_3ds_required"])
async def test_same_attempt_key_pays_once(rzp: Adapter, fake: RazorpayFake, token: str) -> None:
    key = new_key()
    first = await rzp.authorize(token, 12_300, key=key, return_url=RETURN_URL)
    writes = posts(fake)
    again = await rzp.authorize(token, 12_300, key=key, return_url=RETURN_URL)
    assert again == first
    assert posts(fake) == writes  # the retry only looked: no order, no payment
    order = order_of(fake, first)
    assert len(fake.orders_with_receipt(order["receipt"])) == 1
    assert len(fake.payments_for_order(order["id"])) == 1


async def test_concurrent_duplicates_pay_once(rzp: Adapter, fake: RazorpayFake) -> None:
    key = new_key()
    results = await asyncio.gather(
        *(rzp.authorize("pm_card_visa", 7_700, key=key) for _ in range(4))
    )
    assert all(r == results[0] for r in results)
    assert len(fake.payments_for_order(order_of(fake, results[0])["id"])) == 1


async def test_attempt_key_reused_with_other_amount(rzp: Adapter, fake: RazorpayFake) -> None:
    key = new_key()
    first = await rzp.authorize("pm_card_visa", 10_000, key=key)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize("pm_card_visa", 10_100, key=key)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == "IDEMPOTENCY_KEY_REUSED"
    assert len(fake.payments_for_order(order_of(fake, first)["id"])) == 1


# -- faults ---------------------------------------------------------------------------------------


async def test_connection_refused_is_not_sent(
    rzp: Adapter, fake: RazorpayFake, no_sdk_prints: None
) -> None:
    key = new_key()
    before = len(fake.requests)
    with fake.refusing_connections(), pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize(key=key)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(caught.value) == "NOT_SENT"
    assert len(fake.requests) == before
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.get_payment(key=key)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_rate_limited_is_not_sent(rzp: Adapter, fake: RazorpayFake) -> None:
    fake.inject(FaultKind.RATE_LIMITED, method="POST", path=CREATE_PAYMENT)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(caught.value) == "NOT_SENT"


async def test_timeout_is_unknown_then_resolved(
    impatient: Adapter, fake: RazorpayFake, no_sdk_prints: None
) -> None:
    key = new_key()
    fake.inject(FaultKind.DELAY, method="POST", path=CREATE_PAYMENT, delay_s=1.0)
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await impatient.authorize(key=key)
    assert time.monotonic() - started < 1.0  # the adapter's 300 ms, not the fake's delay
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert reason(caught.value) == "GATEWAY_TIMEOUT"
    await asyncio.sleep(1.2)  # Razorpay finished the payment after all
    [order] = fake.orders_with_receipt(_receipt_of(fake, key))
    [made] = fake.payments_for_order(order["id"])
    again = await impatient.authorize(key=key)
    assert again.outcome == pb.OUTCOME_SUCCEEDED
    assert again.processor_reference == made["id"]
    assert len(fake.payments_for_order(order["id"])) == 1


async def test_resend_while_the_first_request_is_still_at_razorpay(
    impatient: Adapter, fake: RazorpayFake
) -> None:
    """The re-send pays before the lost request arrives: Razorpay's order takes one payment,
    so the late one is refused (or, once authorized on a paid order, auto-refunded)."""
    key = new_key()
    fake.inject(FaultKind.DELAY, method="POST", path=CREATE_PAYMENT, delay_s=0.8)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await impatient.authorize(key=key)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    again = await impatient.authorize(key=key)
    assert again.outcome == pb.OUTCOME_SUCCEEDED
    await asyncio.sleep(1.0)  # the first request reaches Razorpay now
    order = order_of(fake, again)
    charged = [
        p
        for p in fake.payments_for_order(order["id"])
        if p["captured"] and p["amount_refunded"] < p["amount"]
    ]
    assert [p["id"] for p in charged] == [again.processor_reference]
    assert await impatient.get_payment(key=key) == again


def _receipt_of(fake: RazorpayFake, key: str) -> str:
    for request in fake.requests_to("POST", "/v1/orders"):
        if request.json()["notes"]["payloops_attempt_key"] == key:
            return str(request.json()["receipt"])
    raise AssertionError(f"no order was created for {key}")


async def test_grpc_deadline_bounds_the_gateway_call(rzp: Adapter, fake: RazorpayFake) -> None:
    """The caller's deadline, shorter than the adapter's timeout, cuts the HTTP request."""
    fake.inject(FaultKind.DELAY, method="POST", path=CREATE_PAYMENT, delay_s=1.5)
    request = pb.AuthorizeRequest(
        attempt_key=new_key(),
        amount=10_000,
        currency="INR",
        payment_method=pb.PaymentMethod(type="card", token="pm_card_visa"),
        credentials=rzp.credentials,
    )
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.stub.Authorize(request, timeout=0.6)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 1.2
    await asyncio.sleep(1.0)  # let the fake's delayed request finish before the next test


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        (FaultKind.SERVER_ERROR, "GATEWAY_SERVER_ERROR"),
        (FaultKind.GATEWAY_ERROR, "GATEWAY_UPSTREAM_ERROR"),
        (FaultKind.HTML_502, "GATEWAY_RESPONSE_UNREADABLE"),
    ],
)
async def test_gateway_errors_are_unknown(
    rzp: Adapter, fake: RazorpayFake, fault: FaultKind, why: str, no_sdk_prints: None
) -> None:
    key = new_key()
    fake.inject(fault, method="POST", path=CREATE_PAYMENT)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize(key=key)
    # Not NOT_SENT: PayLoops must resolve it with the same key before charging elsewhere.
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(caught.value) == why
    # Nothing was charged this time; the re-send pays once.
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await rzp.get_payment(key=key)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    again = await rzp.authorize(key=key)
    assert again.outcome == pb.OUTCOME_SUCCEEDED
    assert len(fake.payments_for_order(order_of(fake, again)["id"])) == 1


async def test_payment_created_then_500(
    rzp: Adapter, fake: RazorpayFake, no_sdk_prints: None
) -> None:
    key = new_key()
    fake.inject(FaultKind.SUCCEED_THEN_500, method="POST", path=CREATE_PAYMENT)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize(key=key)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(caught.value) != "NOT_SENT"
    found = await rzp.get_payment(key=key)
    assert found.outcome == pb.OUTCOME_SUCCEEDED
    again = await rzp.authorize(key=key)
    assert again == found
    assert len(fake.payments_for_order(order_of(fake, again)["id"])) == 1


async def test_not_sent_only_before_money_could_move(rzp: Adapter, fake: RazorpayFake) -> None:
    """The payment was made; reading it back is then refused (429, "not sent" on its own):
    Authorize must not say NOT_SENT, or PayLoops would charge elsewhere."""
    key = new_key()
    fake.inject(FaultKind.RATE_LIMITED, method="GET", path=r"/v1/payments/pay_\w+")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize(key=key)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    info = error_info(caught.value)
    assert (info.reason, info.metadata["cause_reason"]) == (
        "OUTCOME_UNKNOWN_AFTER_REQUEST",
        "NOT_SENT",
    )
    again = await rzp.authorize(key=key)
    assert again.outcome == pb.OUTCOME_SUCCEEDED
    assert len(fake.payments_for_order(order_of(fake, again)["id"])) == 1


async def test_order_create_500_is_unknown(rzp: Adapter, fake: RazorpayFake) -> None:
    fake.inject(FaultKind.SERVER_ERROR, method="POST", path="/v1/orders")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(caught.value) == "GATEWAY_SERVER_ERROR"


async def test_lookup_during_an_outage_is_not_not_found(rzp: Adapter, fake: RazorpayFake) -> None:
    fake.inject(FaultKind.SERVER_ERROR, method="GET", path="/v1/orders")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.get_payment(key=new_key())
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_get_payment_not_found(rzp: Adapter) -> None:
    for lookup in ({"key": new_key()}, {"reference": "pay_NoSuchPayment00"}):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await rzp.get_payment(**lookup)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert reason(caught.value) == "PAYMENT_NOT_FOUND"


@pytest.mark.parametrize(
    ("values", "livemode", "code", "why"),
    [
        ({"key_secret": "wrong"}, False, grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_REJECTED"),
        ({"key_secret": ""}, False, grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MISSING"),
        ({}, True, grpc.StatusCode.FAILED_PRECONDITION, "CREDENTIALS_MODE_MISMATCH"),
    ],
)
async def test_credentials(
    rzp: Adapter,
    fake: RazorpayFake,
    values: dict[str, str],
    livemode: bool,
    code: grpc.StatusCode,
    why: str,
) -> None:
    credentials = credentials_for(fake, **values)
    credentials.livemode = livemode
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize(credentials=credentials)
    assert caught.value.code() == code
    assert reason(caught.value) == why
    assert fake.key_secret not in str(caught.value)


# -- amounts and currencies ---------------------------------------------------------------------


async def test_inr_minimum_is_one_rupee(rzp: Adapter, fake: RazorpayFake) -> None:
    before = len(fake.requests)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize(amount=99)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == "AMOUNT_TOO_SMALL"
    assert len(fake.requests) == before  # refused without asking Razorpay
    payment = await rzp.authorize(amount=100)
    assert (payment.outcome, payment.amount) == (pb.OUTCOME_SUCCEEDED, 100)
    assert order_of(fake, payment)["amount"] == 100


@pytest.mark.parametrize(
    ("amount", "currency", "why"),
    [
        (0, "INR", "AMOUNT_NOT_POSITIVE"),
        (12_345, "KWD", "AMOUNT_NOT_ACCEPTED"),  # three decimals: the last digit must be 0
        (5_000, "BRL", "CURRENCY_NOT_SUPPORTED"),
    ],
)
async def test_amounts_refused(rzp: Adapter, amount: int, currency: str, why: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.authorize(amount=amount, currency=currency)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == why


@pytest.mark.parametrize(("amount", "currency"), [(12_340, "KWD"), (500, "JPY"), (250, "usd")])
async def test_amounts_sent_in_minor_units(
    rzp: Adapter, fake: RazorpayFake, amount: int, currency: str
) -> None:
    payment = await rzp.authorize(amount=amount, currency=currency)
    assert (payment.outcome, payment.amount, payment.currency) == (
        pb.OUTCOME_SUCCEEDED,
        amount,
        currency.upper(),
    )
    order = order_of(fake, payment)
    assert (order["amount"], order["currency"]) == (amount, currency.upper())


async def test_metadata_goes_to_fields_and_notes(rzp: Adapter, fake: RazorpayFake) -> None:
    payment = await rzp.authorize(
        metadata={
            "email": "buyer@example.com",
            "contact": "9000090000",
            "cart": "c-42",
            "payloops_attempt_key": "spoof",
        }
    )
    [sent] = [
        r.json()
        for r in fake.requests_to("POST", CREATE_PAYMENT)
        if r.json()["order_id"] == order_of(fake, payment)["id"]
    ]
    assert (sent["email"], sent["contact"]) == ("buyer@example.com", "9000090000")
    assert sent["notes"]["cart"] == "c-42"
    assert "email" not in sent["notes"]
    assert sent["notes"]["payloops_attempt_key"] == payment.attempt_key


# -- webhooks -----------------------------------------------------------------------------------


async def test_payment_webhook_accepted(rzp: Adapter, inbox: Inbox) -> None:
    key = new_key()
    payment = await rzp.authorize("pm_card_visa", key=key)
    headers, body = inbox.wait_for("payment.captured", payment.processor_reference)
    event = await rzp.parse_webhook(headers, body)
    assert event.event_id == headers["x-razorpay-event-id"]
    assert event.event_type == "payment.captured"
    assert event.kind == pb.ParseWebhookResponse.KIND_PAYMENT
    assert (event.payment.attempt_key, event.payment.processor_reference) == (
        key,
        payment.processor_reference,
    )
    assert event.payment.outcome == pb.OUTCOME_SUCCEEDED
    failed = await rzp.authorize("pm_card_insufficient_funds")
    headers, body = inbox.wait_for("payment.failed", failed.processor_reference)
    event = await rzp.parse_webhook(headers, body)
    assert event.payment.outcome == pb.OUTCOME_DECLINED
    assert event.payment.decline.code == "insufficient_funds"


async def test_refund_and_other_webhooks(rzp: Adapter, inbox: Inbox) -> None:
    payment = await rzp.authorize("pm_card_visa", 30_000)
    refund = await rzp.refund(payment.processor_reference, 10_000, key="refund-webhook")
    headers, body = inbox.wait_for("refund.processed", payment.processor_reference)
    event = await rzp.parse_webhook(headers, body)
    assert event.kind == pb.ParseWebhookResponse.KIND_REFUND
    assert (event.refund.refund_key, event.refund.processor_reference) == (
        "refund-webhook",
        refund.processor_reference,
    )
    assert event.refund.status == pb.Refund.STATUS_SUCCEEDED
    headers, body = inbox.wait_for("order.paid", payment.processor_reference)
    event = await rzp.parse_webhook(headers, body)
    assert event.kind == pb.ParseWebhookResponse.KIND_UNSPECIFIED
    assert event.event_type == "order.paid"


async def test_webhook_signed_by_hand(rzp: Adapter, fake: RazorpayFake) -> None:
    body = fake.event_body(
        "payment.authorized",
        payment={
            "id": "pay_HandMadeEvent01",
            "entity": "payment",
            "amount": 1000,
            "currency": "INR",
            "status": "authorized",
            "captured": False,
            "order_id": "order_HandMadeEvent1",
            "notes": {"payloops_attempt_key": "att-1", "payloops_capture": "manual"},
        },
    )
    event = await rzp.parse_webhook(
        {"x-razorpay-signature": fake.sign(body), "x-razorpay-event-id": "evt_hand_1"}, body
    )
    assert (event.event_id, event.payment.attempt_key) == ("evt_hand_1", "att-1")
    assert event.payment.outcome == pb.OUTCOME_AUTHORIZED
    garbage = b'{"not": "an event"}'
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rzp.parse_webhook({"x-razorpay-signature": fake.sign(garbage)}, garbage)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(caught.value) == "WEBHOOK_MALFORMED"


async def test_webhook_rejected(rzp: Adapter, fake: RazorpayFake, inbox: Inbox) -> None:
    payment = await rzp.authorize("pm_card_visa")
    headers, body = inbox.wait_for("payment.captured", payment.processor_reference)
    tampered = body.replace(b'"captured"', b'"failed"', 1)
    assert tampered != body
    unsigned = {k: v for k, v in headers.items() if k != "x-razorpay-signature"}
    key_secret_signed = {**headers, "x-razorpay-signature": fake.sign(body, fake.key_secret)}
    cases: list[tuple[dict[str, str], bytes, str | None]] = [
        (headers, tampered, None),  # body changed after signing
        (headers, body, "another-secret"),  # signed with another webhook secret
        (unsigned, body, None),  # no signature
        (key_secret_signed, body, None),  # signed with the key secret, not the webhook's
        (headers, body, ""),  # no webhook secret configured
        ({**headers, "x-razorpay-signature": "é" * 64}, body, None),  # not even hex
    ]
    for case_headers, case_body, secret in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await rzp.parse_webhook(case_headers, case_body, secret)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason(caught.value) == "SIGNATURE_INVALID"


# -- the fake itself, through the SDK (keeps it honest where the adapter never goes) -------------


@pytest.fixture
def sdk(fake: RazorpayFake) -> razorpay.Client:
    return razorpay.Client(
        session=RazorpaySession(2.0), auth=(fake.key_id, fake.key_secret), base_url=fake.url
    )


def test_fake_speaks_razorpay_errors(fake: RazorpayFake, sdk: razorpay.Client) -> None:
    with call_budget(CallBudget(None)) as budget:
        with pytest.raises(razorpay.errors.BadRequestError, match="minimum amount"):
            sdk.order.create({"amount": 99, "currency": "INR", "receipt": "r-min"})
        assert budget.last_error is not None
        assert (
            budget.last_error.http_status,
            budget.last_error.reason,
            budget.last_error.field,
            budget.last_error.step,
        ) == (400, "amount_less_than_minimum_amount", "amount", "order_creation")
        for bad in (
            {"amount": 100.5, "currency": "INR"},
            {"amount": 1000, "currency": "INR", "receipt": "r" * 41},
            {"amount": 1000, "currency": "INR", "unique_receipt": True},
        ):
            with pytest.raises(razorpay.errors.BadRequestError):
                sdk.order.create(bad)
    wrong = razorpay.Client(auth=(fake.key_id, "nope"), base_url=fake.url)
    with pytest.raises(razorpay.errors.BadRequestError, match="Authentication failed"):
        wrong.order.all({})


def test_fake_receipts_point_to_the_order(sdk: razorpay.Client) -> None:
    receipt = f"r-{uuid.uuid4().hex[:12]}"
    order = sdk.order.create({"amount": 1000, "currency": "INR", "receipt": receipt})
    assert sdk.order.create({"amount": 1000, "currency": "INR", "receipt": receipt}) == order
    with call_budget(CallBudget(None)) as budget:
        with pytest.raises(razorpay.errors.BadRequestError):
            sdk.order.create({"amount": 2000, "currency": "INR", "receipt": receipt})
        assert budget.last_error is not None
        assert budget.last_error.metadata == {"order_id": order["id"]}
    found = sdk.order.all({"receipt": receipt})
    assert [o["id"] for o in found["items"]] == [order["id"]]


def test_fake_capture_and_refund_rules(fake: RazorpayFake, sdk: razorpay.Client) -> None:
    order = sdk.order.create({"amount": 5000, "currency": "INR", "payment_capture": 0})
    created = sdk.payment.createPaymentJson(
        {
            "amount": 5000,
            "currency": "INR",
            "order_id": order["id"],
            "method": "card",
            "token": "pm_card_visa",
        }
    )
    payment_id = created["razorpay_payment_id"]
    with pytest.raises(razorpay.errors.BadRequestError, match="only on captured"):
        sdk.payment.refund(payment_id, {"amount": 100})
    # The SDK README's dict form sends a wrong body; the fake refuses it.
    with pytest.raises(razorpay.errors.BadRequestError):
        sdk.payment.capture(payment_id, {"amount": 5000, "currency": "INR"})
    with pytest.raises(razorpay.errors.BadRequestError, match="equal to the amount"):
        sdk.payment.capture(payment_id, 4000, {"currency": "INR"})
    assert sdk.payment.capture(payment_id, 5000, {"currency": "INR"})["status"] == "captured"
    with pytest.raises(razorpay.errors.BadRequestError, match="already been captured"):
        sdk.payment.capture(payment_id, 5000, {"currency": "INR"})
    idempotent = {"headers": {"X-Refund-Idempotency": "refund-key-0001"}}
    first = sdk.payment.refund(payment_id, {"amount": 3000}, **idempotent)
    assert sdk.payment.refund(payment_id, {"amount": 3000}, **idempotent) == first
    with pytest.raises(razorpay.errors.BadRequestError, match="greater than amount captured"):
        sdk.payment.refund(payment_id, {"amount": 2001})
    assert fake.payment(payment_id)["amount_refunded"] == 3000


def test_fake_auto_capture_and_late_duplicate(fake: RazorpayFake, sdk: razorpay.Client) -> None:
    """payment_capture=1 captures at authorization; a payment authorized on an order another
    payment paid meanwhile is auto-refunded at once, as Razorpay does."""
    order = sdk.order.create({"amount": 2000, "currency": "INR", "payment_capture": 1})
    base = {"amount": 2000, "currency": "INR", "order_id": order["id"], "method": "card"}
    challenged = sdk.payment.createPaymentJson({**base, "token": "pm_card_3ds_required"})
    paid = sdk.payment.createPaymentJson({**base, "token": "pm_card_visa"})
    assert sdk.payment.fetch(paid["razorpay_payment_id"], {})["status"] == "captured"
    assert sdk.order.fetch(order["id"], {})["status"] == "paid"
    late = fake.authenticate(challenged["razorpay_payment_id"], succeed=True)
    assert (late["status"], late["captured"], late["amount_refunded"]) == ("refunded", False, 2000)
    with pytest.raises(razorpay.errors.BadRequestError, match="already been paid"):
        sdk.payment.createPaymentJson({**base, "token": "pm_card_visa"})
