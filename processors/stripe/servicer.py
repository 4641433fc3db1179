"""The Stripe adapter's Processor servicer (payloops.processor.v1.Processor, grpc.aio).

Each RPC is one or a few Stripe API calls through the official SDK:

| RPC        | Stripe                                                                       |
| ---------- | ---------------------------------------------------------------------------- |
| Authorize  | POST /v1/payment_intents (confirm=true), Idempotency-Key = attempt_key       |
| Capture    | POST /v1/payment_intents/{id}/capture, Idempotency-Key = capture_key         |
| Void       | POST /v1/payment_intents/{id}/cancel, Idempotency-Key = void_key             |
| Refund     | tag the intent (lookup.py), POST /v1/refunds, Idempotency-Key = refund_key   |
| GetPayment | GET /v1/payment_intents/{id}, or search by metadata (lookup.py)              |
| GetRefund  | GET /v1/refunds/{id}, or the intent's tag then its refunds (lookup.py)       |

A call that Stripe answers from its idempotency store (`Idempotent-Replayed: true`) is read
back, so a repeated call reports the payment as it stands now (a 3-D Secure challenge may have
finished since). Errors are raised as the kit's ProcessorError, which its interceptor sends.

Credentials: `values["secret_key"]` on every payment call (params.secret_key says why a missing
one is INVALID_ARGUMENT), `values["webhook_secret"]` for ParseWebhook only.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
import stripe

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from processors.kit.capabilities import advertised
from processors.kit.checks import lookup_required, non_negative
from processors.kit.errors import ProcessorError, failed_precondition, not_found
from processors.stripe import params
from processors.stripe.client import Sent, StripeClients, send
from processors.stripe.currencies import StripeCurrency
from processors.stripe.declines import decline_from_error
from processors.stripe.errors import Op, answered_by_server_error
from processors.stripe.lookup import find_intent, find_refund, refund_tag
from processors.stripe.mapping import as_dict, payment_from_intent, refund_from_stripe
from processors.stripe.payment_methods import TEST_METHODS
from processors.stripe.webhooks import normalize, verify

log = logging.getLogger(__name__)

CARD_NETWORKS = ("visa", "mastercard", "amex", "discover", "diners", "jcb", "unionpay")
CREDENTIAL_FIELDS = ("secret_key", "webhook_secret")
_STRIPE_METADATA_KEYS = 50


class StripeServicer(processor_pb2_grpc.ProcessorServicer):
    def __init__(self, name: str, clients: StripeClients) -> None:
        self._name = name
        self._clients = clients

    def _client(self, credentials: pb.Credentials) -> stripe.StripeClient:
        return self._clients.for_key(params.secret_key(credentials))

    async def _intent(self, client: stripe.StripeClient, op: Op, reference: str) -> dict[str, Any]:
        got = await send(
            op, client.v1.payment_intents.retrieve_async(reference, {"expand": params.EXPAND})
        )
        return as_dict(got.value)

    async def _now(
        self, client: stripe.StripeClient, op: Op, sent: Sent[stripe.PaymentIntent]
    ) -> pb.Payment:
        """The payment a call returned; read again when the answer was a replay."""
        if sent.replayed:
            try:
                return payment_from_intent(await self._intent(client, op, str(sent.value.id)))
            except ProcessorError:
                pass  # the replayed answer is still a true answer, if an older one
        return payment_from_intent(as_dict(sent.value))

    # -- RPCs ------------------------------------------------------------------------------

    async def GetCapabilities(
        self, request: pb.GetCapabilitiesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetCapabilitiesResponse:
        return pb.GetCapabilitiesResponse(
            name=self._name,
            currencies=[],
            card_networks=list(CARD_NETWORKS),
            manual_capture=True,
            partial_capture=True,
            partial_refund=True,
            three_d_secure=True,
            credential_fields=list(CREDENTIAL_FIELDS),
            test_payment_methods=advertised(TEST_METHODS),
            # Raw card data goes to Stripe as payment_method_data (params.py); tokens are
            # Stripe PaymentMethod ids.
            accepts_raw_cards=True,
            token_prefixes=list(params.TOKEN_PREFIXES),
        )

    async def Authorize(
        self, request: pb.AuthorizeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.AuthorizeResponse:
        currency, create = params.create_intent(request)
        client = self._client(request.credentials)
        attempt_key = request.attempt_key
        try:
            sent = await send(
                Op.AUTHORIZE,
                client.v1.payment_intents.create_async(create, {"idempotency_key": attempt_key}),  # type: ignore[arg-type]
            )
        except stripe.CardError as error:
            payment = _declined(error, request, currency)
        except ProcessorError as error:
            if _card_resent_without_cvc(request, error):
                payment = await self._resent_card(client, create, attempt_key, error)
            elif answered_by_server_error(error):
                payment = await self._after_server_error(client, attempt_key, error)
            else:
                raise
        else:
            payment = await self._now(client, Op.AUTHORIZE, sent)
        log.info(
            "rpc=Authorize attempt_key=%s reference=%s outcome=%s",
            attempt_key,
            payment.processor_reference,
            pb.Outcome.Name(payment.outcome),
        )
        return pb.AuthorizeResponse(payment=payment)

    async def _after_server_error(
        self, client: stripe.StripeClient, attempt_key: str, error: ProcessorError
    ) -> pb.Payment:
        """Stripe failed after the request reached it, and may have charged: Stripe keeps
        such a 500 under the idempotency key, so even a re-send would only replay it. Look
        the attempt up once; if nothing is there (yet), the outcome stays unknown."""
        try:
            intent = await find_intent(client, attempt_key)
        except ProcessorError:
            intent = None
        if intent is None:
            raise error
        log.info(
            "rpc=Authorize attempt_key=%s found after Stripe error %s",
            attempt_key,
            error.metadata.get("http_status", "?"),
        )
        return payment_from_intent(intent)

    async def _resent_card(
        self,
        client: stripe.StripeClient,
        create: dict[str, Any],
        attempt_key: str,
        error: ProcessorError,
    ) -> pb.Payment:
        """A raw card re-sent under its attempt key comes without the CVC the first send had
        (PayLoops keeps it for the first authorization only), so Stripe refuses it as other
        parameters. It is the same payment when the key's PaymentIntent has the same amount,
        currency and capture method: that one is the answer, as a replay would have been."""
        intent = await find_intent(client, attempt_key)
        same = intent is not None and all(
            intent.get(name) == create[name] for name in ("amount", "currency", "capture_method")
        )
        if intent is None or not same:
            raise error
        return payment_from_intent(intent)

    async def Capture(
        self, request: pb.CaptureRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CaptureResponse:
        capture_key = params.key(request.capture_key, "capture_key")
        reference = params.reference(request.processor_reference, "pi_")
        amount = non_negative(request.amount)
        client = self._client(request.credentials)
        capture: dict[str, Any] = {}
        if amount:
            intent = await self._intent(client, Op.CAPTURE, reference)
            currency = params.currency_of(str(intent["currency"]))
            capture["amount_to_capture"] = params.to_stripe(currency, amount)
        capture["expand"] = params.EXPAND
        sent = await send(
            Op.CAPTURE,
            client.v1.payment_intents.capture_async(
                reference,
                capture,  # type: ignore[arg-type]
                {"idempotency_key": capture_key},
            ),
        )
        payment = await self._now(client, Op.CAPTURE, sent)
        log.info("rpc=Capture reference=%s outcome=%s", reference, pb.Outcome.Name(payment.outcome))
        return pb.CaptureResponse(payment=payment)

    async def Void(
        self, request: pb.VoidRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.VoidResponse:
        void_key = params.key(request.void_key, "void_key")
        reference = params.reference(request.processor_reference, "pi_")
        client = self._client(request.credentials)
        try:
            sent = await send(
                Op.VOID,
                client.v1.payment_intents.cancel_async(
                    reference, {"expand": params.EXPAND}, {"idempotency_key": void_key}
                ),
            )
        except ProcessorError as error:
            if error.reason != "PAYMENT_STATE_CONFLICT":
                raise
            # Stripe refuses to cancel a canceled intent; the contract makes that a no-op.
            intent = await self._intent(client, Op.VOID, reference)
            if intent.get("status") != "canceled":
                raise
            payment = payment_from_intent(intent)
        else:
            payment = await self._now(client, Op.VOID, sent)
        log.info("rpc=Void reference=%s outcome=%s", reference, pb.Outcome.Name(payment.outcome))
        return pb.VoidResponse(payment=payment)

    async def Refund(
        self, request: pb.RefundRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.RefundResponse:
        refund_key = params.key(request.refund_key, "refund_key")
        reference = params.reference(request.processor_reference, "pi_")
        amount = non_negative(request.amount)
        client = self._client(request.credentials)
        intent = await self._intent(client, Op.REFUND, reference)
        currency = params.currency_of(str(intent["currency"]))
        await self._tag_for_refund(client, intent, refund_key)
        create = params.create_refund(
            refund_key,
            reference,
            params.to_stripe(currency, amount) if amount else 0,
            request.reason,
        )
        sent = await send(
            Op.REFUND,
            client.v1.refunds.create_async(create, {"idempotency_key": refund_key}),  # type: ignore[arg-type]
        )
        refund = as_dict(sent.value)
        if sent.replayed:
            got = await send(Op.GET_REFUND, client.v1.refunds.retrieve_async(str(sent.value.id)))
            refund = as_dict(got.value)
        log.info(
            "rpc=Refund refund_key=%s reference=%s status=%s",
            refund_key,
            refund.get("id"),
            refund.get("status"),
        )
        return pb.RefundResponse(refund=refund_from_stripe(refund))

    async def _tag_for_refund(
        self, client: stripe.StripeClient, intent: dict[str, Any], refund_key: str
    ) -> None:
        """Records the refund key on the intent before the refund exists (lookup.py)."""
        tag = refund_tag(refund_key)
        metadata = intent.get("metadata") or {}
        if metadata.get(tag) == refund_key:
            return
        if len(metadata) >= _STRIPE_METADATA_KEYS:
            raise failed_precondition(
                "REFUND_LIMIT_REACHED",
                "this payment has as many refunds as Stripe metadata can track",
            )
        await send(
            Op.REFUND,
            client.v1.payment_intents.update_async(
                str(intent["id"]), {"metadata": {tag: refund_key}}
            ),
        )

    async def GetPayment(
        self, request: pb.GetPaymentRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetPaymentResponse:
        match request.WhichOneof("lookup"):
            case "processor_reference" if request.processor_reference:
                reference = params.reference(request.processor_reference, "pi_")
                client = self._client(request.credentials)
                intent = await self._intent(client, Op.GET_PAYMENT, reference)
            case "attempt_key" if request.attempt_key:
                attempt_key = params.key(request.attempt_key, "attempt_key")
                client = self._client(request.credentials)
                found = await find_intent(client, attempt_key)
                if found is None:
                    raise not_found(
                        "PAYMENT_NOT_FOUND", "Stripe has no payment for this attempt key"
                    )
                intent = found
            case _:
                raise lookup_required("attempt_key", "processor_reference")
        return pb.GetPaymentResponse(payment=payment_from_intent(intent))

    async def GetRefund(
        self, request: pb.GetRefundRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetRefundResponse:
        match request.WhichOneof("lookup"):
            case "processor_reference" if request.processor_reference:
                reference = params.reference(request.processor_reference, "")
                client = self._client(request.credentials)
                got = await send(Op.GET_REFUND, client.v1.refunds.retrieve_async(reference))
                refund = as_dict(got.value)
            case "refund_key" if request.refund_key:
                refund_key = params.key(request.refund_key, "refund_key")
                client = self._client(request.credentials)
                found = await find_refund(client, refund_key)
                if found is None:
                    raise not_found("REFUND_NOT_FOUND", "Stripe has no refund for this key")
                refund = found
            case _:
                raise lookup_required("refund_key", "processor_reference")
        return pb.GetRefundResponse(refund=refund_from_stripe(refund))

    async def ParseWebhook(
        self, request: pb.ParseWebhookRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ParseWebhookResponse:
        event = verify(
            request.headers, request.body, request.credentials.values.get("webhook_secret", "")
        )
        response = normalize(event)
        log.info(
            "rpc=ParseWebhook event_id=%s type=%s kind=%s",
            response.event_id,
            response.event_type,
            pb.ParseWebhookResponse.Kind.Name(response.kind),
        )
        return response


def _declined(
    error: stripe.CardError, request: pb.AuthorizeRequest, currency: StripeCurrency
) -> pb.Payment:
    """A 402: the PaymentIntent Stripe sends along (requires_payment_method), declined."""
    body: dict[str, Any] = {}
    if isinstance(error.json_body, dict) and isinstance(error.json_body.get("error"), dict):
        body = error.json_body["error"]
    intent = body.get("payment_intent")
    if isinstance(intent, dict):
        payment = payment_from_intent(intent)
    else:
        payment = pb.Payment(
            attempt_key=request.attempt_key, amount=request.amount, currency=currency.code
        )
    payment.outcome = pb.OUTCOME_DECLINED
    if not payment.HasField("decline"):
        payment.decline.CopyFrom(decline_from_error(body))
    return payment


def _card_resent_without_cvc(request: pb.AuthorizeRequest, error: ProcessorError) -> bool:
    method = request.payment_method
    return (
        error.reason == "IDEMPOTENCY_CONFLICT"
        and method.HasField("raw_card")
        and not method.raw_card.cvc
    )
