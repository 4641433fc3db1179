"""A Processor server for the conformance kit's tests, with breakages to choose from.

Without breakages it honours the contract, with its own tokens, name and currencies (so the kit
is shown to depend on nothing sandbox-specific). Each `Breakage` is one mistake a real adapter
could make; switching it on must make exactly the checks about that rule fail. A sync grpc
server on a thread pool, with health and reflection, on 127.0.0.1 and port 0.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import ipaddress
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn, TypeVar

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc

PROCESSOR_SERVICE = pb.DESCRIPTOR.services_by_name["Processor"].full_name
SIGNATURE_HEADER = "x-broken-signature"
SECRET_KEY = "sk_test_broken"

_T = TypeVar("_T")


class Breakage(StrEnum):
    BAD_CAPABILITIES = "bad_capabilities"  # upper-case name, lower-case currency
    HEALTH_NOT_SERVING = "health_not_serving"
    NO_REFLECTION = "no_reflection"
    ECHOES_LOWER_CASE_CURRENCY = "echoes_lower_case_currency"
    CHARGES_TWICE = "charges_twice"  # ignores attempt_key altogether
    KEY_REUSE_CHARGES = "key_reuse_charges"  # same key, other amount: a new charge
    DECLINES_AS_ERRORS = "declines_as_errors"
    WRONG_DECLINE_CODE = "wrong_decline_code"
    NOT_FOUND_AS_UNAVAILABLE = "not_found_as_unavailable"
    LOOKUP_BY_KEY_NOT_FOUND = "lookup_by_key_not_found"  # GetPayment finds references only
    CAPTURE_ANY_STATE = "capture_any_state"
    PARTIAL_CAPTURE_TAKES_ALL = "partial_capture_takes_all"
    CAPTURE_NOT_IDEMPOTENT = "capture_not_idempotent"
    VOID_NOT_IDEMPOTENT = "void_not_idempotent"
    VOIDS_CAPTURED = "voids_captured"
    OVER_REFUNDS = "over_refunds"
    REFUND_NOT_IDEMPOTENT = "refund_not_idempotent"
    REFUND_STAYS_PENDING = "refund_stays_pending"
    RELATIVE_REDIRECT_URL = "relative_redirect_url"
    CHARGES_AMOUNT_ZERO = "charges_amount_zero"
    ERRORS_WITHOUT_DETAILS = "errors_without_details"
    ACCEPTS_ANY_WEBHOOK = "accepts_any_webhook"
    WEBHOOK_WRONG_REASON = "webhook_wrong_reason"
    # Test tokens that work at the gateway but that the PayLoops API refuses ("tok:ok").
    TOKENS_THE_API_REFUSES = "tokens_the_api_refuses"
    # Test tokens outside the declared token_prefixes: routing would never send them here.
    TOKENS_OUTSIDE_PREFIXES = "tokens_outside_prefixes"


SUCCEED, DECLINE, CHALLENGE = "tok_ok", "tok_decline", "tok_3ds"
TOKEN_PREFIX = "tok_"
# The spelling of the tokens under TOKENS_THE_API_REFUSES: the gateway takes both.
_REFUSED_PREFIX = "tok:"
DECLINE_CODE = "card_declined"
_TOKENS = {
    SUCCEED: pb.TestPaymentMethod(
        token=SUCCEED, outcome=pb.OUTCOME_SUCCEEDED, description="succeeds"
    ),
    DECLINE: pb.TestPaymentMethod(
        token=DECLINE,
        outcome=pb.OUTCOME_DECLINED,
        decline_code=DECLINE_CODE,
        description="declines",
    ),
    CHALLENGE: pb.TestPaymentMethod(
        token=CHALLENGE, outcome=pb.OUTCOME_REQUIRES_ACTION, description="3-D Secure"
    ),
}


@dataclass(frozen=True)
class Features:
    """What the server declares, and so which checks apply."""

    manual_capture: bool = True
    partial_capture: bool = True
    partial_refund: bool = True
    three_d_secure: bool = True
    tokens: tuple[str, ...] = (SUCCEED, DECLINE, CHALLENGE)
    # Declared in credential_fields and required (SECRET_KEY) on every call but
    # GetCapabilities when True.
    needs_secret_key: bool = False


@dataclass
class _Payment:
    reference: str
    attempt_key: str
    amount: int
    currency: str
    manual: bool
    token: str
    outcome: pb.Outcome.ValueType
    decline_code: str = ""
    captured: int = 0
    refunded: int = 0


@dataclass
class _Refund:
    reference: str
    refund_key: str
    payment_reference: str
    requested: int
    amount: int
    currency: str


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class BrokenProcessor(processor_pb2_grpc.ProcessorServicer):
    def __init__(self, breakages: frozenset[Breakage], features: Features) -> None:
        self._broken = breakages
        self._features = features
        self._lock = threading.Lock()
        self._payments: dict[str, _Payment] = {}
        self._by_key: dict[str, str] = {}
        self._refunds: dict[str, _Refund] = {}
        self._refund_by_key: dict[str, str] = {}
        self._captures: set[str] = set()
        self._voids: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------

    def _abort(self, context: grpc.ServicerContext, error: _Abort) -> NoReturn:
        if Breakage.ERRORS_WITHOUT_DETAILS in self._broken:
            context.abort(error.code, error.message)
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.ErrorInfo(reason=error.reason, domain="broken.test"))
        context.abort_with_status(
            rpc_status.to_status(
                status_pb2.Status(code=error.code.value[0], message=error.message, details=[detail])
            )
        )
        raise AssertionError("abort returned")

    def _authenticate(self, credentials: pb.Credentials) -> None:
        if self._features.needs_secret_key and (
            credentials.values.get("secret_key") != SECRET_KEY or credentials.livemode
        ):
            raise _Abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "CREDENTIALS_INVALID",
                "secret_key missing or wrong",
            )

    def _payment(self, reference: str) -> _Payment:
        payment = self._payments.get(reference)
        if payment is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, "PAYMENT_NOT_FOUND", "no such payment")
        return payment

    def _render(self, p: _Payment) -> pb.Payment:
        currency = (
            p.currency.lower()
            if Breakage.ECHOES_LOWER_CASE_CURRENCY in self._broken
            else p.currency
        )
        msg = pb.Payment(
            attempt_key=p.attempt_key,
            processor_reference=p.reference,
            outcome=p.outcome,
            amount=p.amount,
            currency=currency,
            amount_captured=p.captured,
            amount_refunded=p.refunded,
        )
        if p.outcome == pb.OUTCOME_DECLINED:
            msg.decline.code = p.decline_code
            msg.decline.message = "declined"
        if p.outcome == pb.OUTCOME_REQUIRES_ACTION:
            path = f"/3ds/{p.reference}"
            msg.next_action.redirect_url = (
                path
                if Breakage.RELATIVE_REDIRECT_URL in self._broken
                else f"https://broken.test{path}"
            )
        return msg

    def _render_refund(self, r: _Refund) -> pb.Refund:
        status = (
            pb.Refund.STATUS_PENDING
            if Breakage.REFUND_STAYS_PENDING in self._broken
            else pb.Refund.STATUS_SUCCEEDED
        )
        currency = (
            r.currency.lower()
            if Breakage.ECHOES_LOWER_CASE_CURRENCY in self._broken
            else r.currency
        )
        return pb.Refund(
            refund_key=r.refund_key,
            processor_reference=r.reference,
            payment_reference=r.payment_reference,
            amount=r.amount,
            currency=currency,
            status=status,
        )

    def _guarded(
        self,
        context: grpc.ServicerContext,
        credentials: pb.Credentials,
        operation: Callable[[], _T],
    ) -> _T:
        with self._lock:
            try:
                self._authenticate(credentials)
                return operation()
            except _Abort as error:
                failure = error
        self._abort(context, failure)

    # -- RPCs ------------------------------------------------------------------------------

    def GetCapabilities(
        self, request: pb.GetCapabilitiesRequest, context: grpc.ServicerContext
    ) -> pb.GetCapabilitiesResponse:
        f = self._features
        bad = Breakage.BAD_CAPABILITIES in self._broken
        return pb.GetCapabilitiesResponse(
            name="Broken" if bad else "broken",
            currencies=["eur", "USD"] if bad else ["EUR", "USD"],
            card_networks=["visa", "mastercard"],
            manual_capture=f.manual_capture,
            partial_capture=f.partial_capture,
            partial_refund=f.partial_refund,
            three_d_secure=f.three_d_secure,
            test_payment_methods=[self._advertised(_TOKENS[t]) for t in f.tokens],
            credential_fields=["secret_key"] if f.needs_secret_key else [],
            token_prefixes=(
                ["card_"] if Breakage.TOKENS_OUTSIDE_PREFIXES in self._broken else [TOKEN_PREFIX]
            ),
        )

    def _advertised(self, method: pb.TestPaymentMethod) -> pb.TestPaymentMethod:
        if Breakage.TOKENS_THE_API_REFUSES not in self._broken:
            return method
        renamed = pb.TestPaymentMethod()
        renamed.CopyFrom(method)
        renamed.token = method.token.replace(TOKEN_PREFIX, _REFUSED_PREFIX, 1)
        return renamed

    def Authorize(
        self, request: pb.AuthorizeRequest, context: grpc.ServicerContext
    ) -> pb.AuthorizeResponse:
        def authorize() -> _Payment:
            if not request.attempt_key:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "ATTEMPT_KEY_REQUIRED",
                    "attempt_key is required",
                )
            if request.amount <= 0 and Breakage.CHARGES_AMOUNT_ZERO not in self._broken:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT, "AMOUNT_INVALID", "amount must be positive"
                )
            token = request.payment_method.token.replace(_REFUSED_PREFIX, TOKEN_PREFIX, 1)
            if token not in self._features.tokens:
                raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "TOKEN_UNKNOWN", "unknown token")
            manual = request.capture_method == pb.CAPTURE_METHOD_MANUAL
            existing = self._by_key.get(request.attempt_key)
            if existing is not None and Breakage.CHARGES_TWICE not in self._broken:
                first = self._payments[existing]
                same = (first.amount, first.currency, first.token, first.manual) == (
                    request.amount,
                    request.currency,
                    token,
                    manual,
                )
                if same or Breakage.KEY_REUSE_CHARGES not in self._broken:
                    return first  # the first result, whatever changed
            payment = _Payment(
                reference=f"bp_{secrets.token_hex(8)}",
                attempt_key=request.attempt_key,
                amount=request.amount,
                currency=request.currency,
                manual=manual,
                token=token,
                outcome=pb.OUTCOME_SUCCEEDED,
            )
            if token == SUCCEED:
                payment.outcome = pb.OUTCOME_AUTHORIZED if manual else pb.OUTCOME_SUCCEEDED
                payment.captured = 0 if manual else request.amount
            elif token == DECLINE:
                if Breakage.DECLINES_AS_ERRORS in self._broken:
                    raise _Abort(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        "CARD_DECLINED",
                        "the card was declined",
                    )
                payment.outcome = pb.OUTCOME_DECLINED
                payment.decline_code = (
                    "declined" if Breakage.WRONG_DECLINE_CODE in self._broken else DECLINE_CODE
                )
            else:
                payment.outcome = pb.OUTCOME_REQUIRES_ACTION
            self._payments[payment.reference] = payment
            self._by_key[request.attempt_key] = payment.reference
            return payment

        payment = self._guarded(context, request.credentials, authorize)
        return pb.AuthorizeResponse(payment=self._render(payment))

    def Capture(
        self, request: pb.CaptureRequest, context: grpc.ServicerContext
    ) -> pb.CaptureResponse:
        def capture() -> _Payment:
            payment = self._payment(request.processor_reference)
            if (
                request.capture_key in self._captures
                and Breakage.CAPTURE_NOT_IDEMPOTENT not in self._broken
            ):
                return payment
            if (
                payment.outcome != pb.OUTCOME_AUTHORIZED
                and Breakage.CAPTURE_ANY_STATE not in self._broken
            ):
                raise _Abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "PAYMENT_NOT_AUTHORIZED",
                    "only an authorized payment can be captured",
                )
            amount = request.amount or payment.amount
            if Breakage.PARTIAL_CAPTURE_TAKES_ALL in self._broken:
                amount = payment.amount
            if amount > payment.amount:
                raise _Abort(
                    grpc.StatusCode.FAILED_PRECONDITION, "CAPTURE_TOO_LARGE", "more than authorized"
                )
            payment.outcome, payment.captured = pb.OUTCOME_SUCCEEDED, amount
            self._captures.add(request.capture_key)
            return payment

        payment = self._guarded(context, request.credentials, capture)
        return pb.CaptureResponse(payment=self._render(payment))

    def Void(self, request: pb.VoidRequest, context: grpc.ServicerContext) -> pb.VoidResponse:
        def void() -> _Payment:
            payment = self._payment(request.processor_reference)
            idempotent = Breakage.VOID_NOT_IDEMPOTENT not in self._broken
            if request.void_key in self._voids and idempotent:
                return payment
            if payment.outcome == pb.OUTCOME_CANCELED and idempotent:
                return payment
            voidable = {pb.OUTCOME_AUTHORIZED, pb.OUTCOME_REQUIRES_ACTION}
            if Breakage.VOIDS_CAPTURED in self._broken:
                voidable.add(pb.OUTCOME_SUCCEEDED)
            if payment.outcome not in voidable:
                raise _Abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "PAYMENT_NOT_VOIDABLE",
                    "only an authorized payment can be voided",
                )
            payment.outcome = pb.OUTCOME_CANCELED
            self._voids.add(request.void_key)
            return payment

        payment = self._guarded(context, request.credentials, void)
        return pb.VoidResponse(payment=self._render(payment))

    def Refund(self, request: pb.RefundRequest, context: grpc.ServicerContext) -> pb.RefundResponse:
        def refund() -> _Refund:
            existing = self._refund_by_key.get(request.refund_key)
            if existing is not None and Breakage.REFUND_NOT_IDEMPOTENT not in self._broken:
                first = self._refunds[existing]
                if (first.payment_reference, first.requested) != (
                    request.processor_reference,
                    request.amount,
                ):
                    raise _Abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        "REFUND_KEY_REUSED",
                        "refund_key used for another refund",
                    )
                return first
            payment = self._payment(request.processor_reference)
            if payment.outcome != pb.OUTCOME_SUCCEEDED:
                raise _Abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "PAYMENT_NOT_CAPTURED",
                    "only a captured payment can be refunded",
                )
            remaining = payment.captured - payment.refunded
            amount = request.amount or remaining
            if (amount <= 0 or amount > remaining) and Breakage.OVER_REFUNDS not in self._broken:
                raise _Abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "REFUND_TOO_LARGE",
                    f"{remaining} remains refundable",
                )
            made = _Refund(
                reference=f"bre_{secrets.token_hex(8)}",
                refund_key=request.refund_key,
                payment_reference=payment.reference,
                requested=request.amount,
                amount=amount,
                currency=payment.currency,
            )
            payment.refunded += amount
            self._refunds[made.reference] = made
            self._refund_by_key[made.refund_key] = made.reference
            return made

        made = self._guarded(context, request.credentials, refund)
        return pb.RefundResponse(refund=self._render_refund(made))

    def _unknown(self, what: str) -> _Abort:
        if Breakage.NOT_FOUND_AS_UNAVAILABLE in self._broken:
            return _Abort(grpc.StatusCode.UNAVAILABLE, "GATEWAY_ERROR", "lookup failed")
        return _Abort(grpc.StatusCode.NOT_FOUND, f"{what.upper()}_NOT_FOUND", f"no such {what}")

    def GetPayment(
        self, request: pb.GetPaymentRequest, context: grpc.ServicerContext
    ) -> pb.GetPaymentResponse:
        def get() -> _Payment:
            if request.WhichOneof("lookup") == "attempt_key":
                reference = (
                    ""
                    if Breakage.LOOKUP_BY_KEY_NOT_FOUND in self._broken
                    else self._by_key.get(request.attempt_key, "")
                )
            else:
                reference = request.processor_reference
            if reference not in self._payments:
                raise self._unknown("payment")
            return self._payments[reference]

        payment = self._guarded(context, request.credentials, get)
        return pb.GetPaymentResponse(payment=self._render(payment))

    def GetRefund(
        self, request: pb.GetRefundRequest, context: grpc.ServicerContext
    ) -> pb.GetRefundResponse:
        def get() -> _Refund:
            reference = (
                self._refund_by_key.get(request.refund_key, "")
                if request.WhichOneof("lookup") == "refund_key"
                else request.processor_reference
            )
            if reference not in self._refunds:
                raise self._unknown("refund")
            return self._refunds[reference]

        made = self._guarded(context, request.credentials, get)
        return pb.GetRefundResponse(refund=self._render_refund(made))

    def ParseWebhook(
        self, request: pb.ParseWebhookRequest, context: grpc.ServicerContext
    ) -> pb.ParseWebhookResponse:
        def parse() -> pb.ParseWebhookResponse:
            secret = request.credentials.values.get("webhook_secret", "")
            expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
            given = request.headers.get(SIGNATURE_HEADER, "")
            if Breakage.ACCEPTS_ANY_WEBHOOK not in self._broken and not (
                secret and hmac.compare_digest(given, expected)
            ):
                reason = (
                    "BAD_SIGNATURE"
                    if Breakage.WEBHOOK_WRONG_REASON in self._broken
                    else "SIGNATURE_INVALID"
                )
                raise _Abort(grpc.StatusCode.UNAUTHENTICATED, reason, "signature invalid")
            event = json.loads(request.body)
            return pb.ParseWebhookResponse(
                event_id=str(event.get("id", "")), event_type=str(event.get("type", ""))
            )

        response = self._guarded(context, request.credentials, parse)
        return response


@contextlib.contextmanager
def running(
    breakages: frozenset[Breakage] | set[Breakage] = frozenset(),
    features: Features | None = None,
    tls_key_and_cert: tuple[bytes, bytes] | None = None,
) -> Iterator[str]:
    """A BrokenProcessor server on 127.0.0.1, port 0 (with TLS when given a PEM private key
    and certificate); yields its host:port."""
    broken = frozenset(breakages)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    processor_pb2_grpc.add_ProcessorServicer_to_server(
        BrokenProcessor(broken, features or Features()), server
    )
    health_servicer = health.HealthServicer()
    status = (
        health_pb2.HealthCheckResponse.NOT_SERVING
        if Breakage.HEALTH_NOT_SERVING in broken
        else health_pb2.HealthCheckResponse.SERVING
    )
    health_servicer.set("", status)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if Breakage.NO_REFLECTION not in broken:
        reflection.enable_server_reflection((PROCESSOR_SERVICE, reflection.SERVICE_NAME), server)
    if tls_key_and_cert is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        port = server.add_secure_port(
            "127.0.0.1:0", grpc.ssl_server_credentials([tls_key_and_cert])
        )
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()


def self_signed_for_127_0_0_1() -> tuple[bytes, bytes]:
    """A private key and a self-signed certificate for IP 127.0.0.1 (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "processor-check test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)
