"""A third-party gateway that misbehaves on cue: a real Processor gRPC server on loopback whose
answers each test scripts (refused lookups, refused voids and refunds, charges that show up
late). Registered in the running mesh as one more processor, so the real worker calls it."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.mesh_db import sql
from tests.fakes.dropping_proxy import DroppingProxy

Answer = Callable[["ScriptedGateway", object, grpc.ServicerContext], object]


class Refuse(Exception):
    """Raised by a script to end the call with this gRPC status."""

    def __init__(self, code: grpc.StatusCode, message: str = "scripted refusal") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ScriptedGateway(processor_pb2_grpc.ProcessorServicer):
    """One payment at a time is enough for these tests: `payment` is the gateway's truth about
    it, None while the gateway has not charged anything."""

    name: str = field(default_factory=lambda: f"scripted-{uuid.uuid4().hex[:6]}")
    payment: pb.Payment | None = None
    refunds: dict[str, pb.Refund] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    scripts: dict[str, Answer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # What GetCapabilities declares; the credentials each call carried, in order.
    credential_fields: tuple[str, ...] = ()
    # The payment-method forms it declares; none: a gateway older than the forms.
    token_prefixes: tuple[str, ...] = ()
    credentials_seen: list[tuple[str, dict[str, str], bool]] = field(default_factory=list)

    # -- what tests call ---------------------------------------------------------------------

    def charge(
        self,
        attempt_key: str,
        outcome: pb.Outcome.ValueType = pb.OUTCOME_SUCCEEDED,
        amount: int = 1500,
    ) -> pb.Payment:
        self.payment = pb.Payment(
            attempt_key=attempt_key,
            processor_reference="sp_1",
            outcome=outcome,
            amount=amount,
            currency="USD",
            amount_captured=amount if outcome == pb.OUTCOME_SUCCEEDED else 0,
        )
        return self.payment

    def live(self) -> bool:
        """Whether the gateway holds the customer's money."""
        payment = self.payment
        return payment is not None and (
            payment.outcome == pb.OUTCOME_AUTHORIZED
            or (
                payment.outcome == pb.OUTCOME_SUCCEEDED
                and payment.amount_refunded < payment.amount_captured
            )
        )

    def count(self, method: str) -> int:
        return self.calls.count(method)

    # -- the Processor service -----------------------------------------------------------------

    def _answer(self, method: str, request: object, context: grpc.ServicerContext) -> object:
        with self.lock:
            self.calls.append(method)
            sent = request.credentials  # type: ignore[attr-defined]
            self.credentials_seen.append((method, dict(sent.values), sent.livemode))
            script = self.scripts.get(method, _DEFAULTS[method])
            try:
                return script(self, request, context)
            except Refuse as refusal:
                context.abort(refusal.code, refusal.message)
                raise AssertionError("abort returned") from None

    def GetCapabilities(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.GetCapabilitiesResponse(
            name=self.name,
            credential_fields=list(self.credential_fields),
            token_prefixes=list(self.token_prefixes),
        )

    def Authorize(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("Authorize", request, context)

    def GetPayment(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("GetPayment", request, context)

    def Void(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("Void", request, context)

    def Refund(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("Refund", request, context)

    def GetRefund(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("GetRefund", request, context)

    def ParseWebhook(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("ParseWebhook", request, context)

    def Capture(self, request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "the scripted gateway does not capture")


# What an honest gateway answers, for the calls a test does not script.
def _get_payment(
    gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext
) -> pb.GetPaymentResponse:
    if gateway.payment is None:
        raise Refuse(grpc.StatusCode.NOT_FOUND, "no such payment")
    return pb.GetPaymentResponse(payment=gateway.payment)


def _void(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> pb.VoidResponse:
    payment = gateway.payment
    if payment is None or payment.outcome not in (
        pb.OUTCOME_AUTHORIZED,
        pb.OUTCOME_REQUIRES_ACTION,
        pb.OUTCOME_CANCELED,
    ):
        raise Refuse(grpc.StatusCode.FAILED_PRECONDITION, "nothing to void")
    payment.outcome = pb.OUTCOME_CANCELED
    return pb.VoidResponse(payment=payment)


def _refund(
    gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext
) -> pb.RefundResponse:
    payment = gateway.payment
    if (
        payment is None
        or payment.outcome != pb.OUTCOME_SUCCEEDED
        or payment.amount_refunded >= payment.amount_captured
    ):
        raise Refuse(grpc.StatusCode.FAILED_PRECONDITION, "nothing to refund")
    refund = pb.Refund(
        refund_key=request.refund_key,
        processor_reference="sr_1",
        payment_reference=payment.processor_reference,
        amount=payment.amount_captured,
        currency=payment.currency,
        status=pb.Refund.STATUS_SUCCEEDED,
    )
    payment.amount_refunded = payment.amount_captured
    gateway.refunds[request.refund_key] = refund
    return pb.RefundResponse(refund=refund)


def _get_refund(
    gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext
) -> pb.GetRefundResponse:
    if request.refund_key not in gateway.refunds:
        raise Refuse(grpc.StatusCode.NOT_FOUND, "no such refund")
    return pb.GetRefundResponse(refund=gateway.refunds[request.refund_key])


def _authorize(
    gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext
) -> pb.AuthorizeResponse:
    return pb.AuthorizeResponse(payment=gateway.charge(request.attempt_key, amount=request.amount))


def charge_then_drop(proxy: DroppingProxy) -> Answer:
    """An Authorize that charges (once per gateway), then has `proxy` cut the connection the
    request came on, so the caller gets no answer: a gateway that got the request and charged."""

    def answer(gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext) -> Any:
        payment = gateway.payment or gateway.charge(request.attempt_key, amount=request.amount)
        proxy.drop()
        return pb.AuthorizeResponse(payment=payment)  # goes nowhere

    return answer


SIGNATURE_HEADER = "x-scripted-signature"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _parse_webhook(
    gateway: ScriptedGateway, request: Any, context: grpc.ServicerContext
) -> pb.ParseWebhookResponse:
    """Body: {"id": …, "type": …, "attempt_key": …}; signed with the account's
    webhook_secret."""
    secret = request.credentials.values.get("webhook_secret", "")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not secret or not hmac.compare_digest(given, sign(secret, request.body)):
        raise Refuse(grpc.StatusCode.UNAUTHENTICATED, "SIGNATURE_INVALID")
    event = json.loads(request.body)
    payment = pb.Payment(attempt_key=event.get("attempt_key", ""))
    if gateway.payment is not None and gateway.payment.attempt_key == payment.attempt_key:
        payment = gateway.payment
    return pb.ParseWebhookResponse(
        event_id=event["id"],
        event_type=event["type"],
        kind=pb.ParseWebhookResponse.KIND_PAYMENT,
        payment=payment,
    )


_DEFAULTS: dict[str, Answer] = {
    "Authorize": _authorize,
    "GetPayment": _get_payment,
    "Void": _void,
    "Refund": _refund,
    "GetRefund": _get_refund,
    "ParseWebhook": _parse_webhook,
}


@contextlib.contextmanager
def serving(gateway: ScriptedGateway) -> Iterator[str]:
    """Serves a ScriptedGateway on a free loopback port; yields its target."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    processor_pb2_grpc.add_ProcessorServicer_to_server(gateway, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


@contextlib.contextmanager
def scripted_gateway(
    mesh: Mesh, deadline_ms: int = 2000, token_prefixes: tuple[str, ...] = ()
) -> Iterator[ScriptedGateway]:
    """Serves a ScriptedGateway and registers it in the mesh under its name for the length of
    the block (then removes it, so no other test routes to it)."""
    gateway = ScriptedGateway(token_prefixes=token_prefixes)
    capabilities: dict[str, object] = (
        {"token_prefixes": list(token_prefixes)} if token_prefixes else {}
    )
    with (
        serving(gateway) as target,
        registered(mesh, gateway.name, target, deadline_ms, capabilities),
    ):
        yield gateway


@contextlib.contextmanager
def registered(
    mesh: Mesh,
    name: str,
    target: str,
    deadline_ms: int = 2000,
    capabilities: dict[str, object] | None = None,
) -> Iterator[None]:
    """The processor at `target` registered in the mesh as `name` for the length of the block
    (registered directly: the CLI would ask a gateway that may be down for its capabilities),
    with the capabilities it would have declared."""
    try:
        sql(
            mesh,
            "insert into processors (name, target, deadline_ms, enabled, capabilities) "
            "values (:name, :target, :deadline, true, cast(:capabilities as jsonb))",
            name=name,
            target=target,
            deadline=deadline_ms,
            capabilities=json.dumps(capabilities or {}),
        )
        yield
    finally:
        forget(mesh, name)


def forget(mesh: Mesh, name: str) -> None:
    """Removes a processor registered by a test, with its accounts and breaker."""
    sql(mesh, "delete from processor_accounts where processor = :name", name=name)
    sql(mesh, "delete from processors where name = :name", name=name)
    sql(mesh, "delete from processor_health where processor = :name", name=name)
