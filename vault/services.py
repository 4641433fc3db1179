"""The vault's two APIs: TokenService (public, through Envoy, publishable keys) and
VaultService (internal, its own port only, service credentials)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from core.vaulted_cards import is_vaulted
from edge.context import ServicerContext
from payloops.v1 import tokens_pb2, tokens_pb2_grpc
from payloops.vault.v1 import vault_pb2, vault_pb2_grpc
from vault import auth, cards
from vault.db.models import VaultedCard
from vault.store import Owner, Use, Vault

MAX_NAME = 64
MAX_ATTEMPT_KEY = 200


class TokenService(tokens_pb2_grpc.TokenServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vault: Vault) -> None:
        self._sessions = sessions
        self._vault = vault

    async def CreateToken(
        self, request: tokens_pb2.CreateTokenRequest, context: ServicerContext
    ) -> tokens_pb2.VaultedPaymentMethod:
        owner = await auth.publishable_key_owner(self._sessions, context)
        if not request.HasField("card"):
            raise errors.invalid([errors.FieldViolation("card", "CARD_REQUIRED", "is required")])
        given = request.card
        card = cards.checked(
            given.number,
            given.exp_month,
            given.exp_year,
            given.cvc,
            given.holder_name,
            datetime.now(UTC).date(),
        )
        if isinstance(card, list):
            raise errors.invalid(card)
        return payment_method_message(await self._vault.store(owner, card))


def payment_method_message(row: VaultedCard) -> tokens_pb2.VaultedPaymentMethod:
    message = tokens_pb2.VaultedPaymentMethod(
        id=row.id,
        type="card",
        livemode=row.livemode,
        card=tokens_pb2.VaultedCard(
            brand=row.brand,
            last4=row.last4,
            bin=row.bin,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
            fingerprint=row.fingerprint,
        ),
    )
    message.create_time.FromDatetime(row.created_at)
    return message


class VaultService(vault_pb2_grpc.VaultServiceServicer):
    def __init__(self, vault: Vault, service_tokens: Sequence[tuple[str, str]]) -> None:
        self._vault = vault
        self._service_tokens = service_tokens

    async def Detokenize(
        self, request: vault_pb2.DetokenizeRequest, context: ServicerContext
    ) -> vault_pb2.DetokenizeResponse:
        service = auth.calling_service(context, self._service_tokens)
        if service in auth.NO_CARD_SERVICES:
            raise errors.PayLoopsError(
                errors.SERVICE_NOT_ALLOWED, "this service's credential cannot read card data"
            )
        _check_use(request)
        if not is_vaulted(request.payment_method):
            raise _not_found()
        card = await self._vault.card_for(
            request.payment_method,
            Owner(request.merchant, request.livemode),
            Use(service, request.processor, request.attempt_key, request.first_authorization),
        )
        if card is None:
            raise _not_found()
        return vault_pb2.DetokenizeResponse(
            number=card.number,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            cvc=card.cvc,
            holder_name=card.holder_name,
        )

    async def GetPaymentMethod(
        self, request: vault_pb2.GetPaymentMethodRequest, context: ServicerContext
    ) -> vault_pb2.PaymentMethodFacts:
        auth.calling_service(context, self._service_tokens)
        _check_lengths((("merchant", request.merchant, MAX_NAME),))
        if not is_vaulted(request.payment_method):
            raise _not_found()
        row = await self._vault.record_of(
            request.payment_method, Owner(request.merchant, request.livemode)
        )
        if row is None:
            raise _not_found()
        return vault_pb2.PaymentMethodFacts(
            brand=row.brand,
            last4=row.last4,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
            fingerprint=row.fingerprint,
        )


def _check_use(request: vault_pb2.DetokenizeRequest) -> None:
    _check_lengths(
        (
            ("merchant", request.merchant, MAX_NAME),
            ("processor", request.processor, MAX_NAME),
            ("attempt_key", request.attempt_key, MAX_ATTEMPT_KEY),
        )
    )


def _check_lengths(fields: Sequence[tuple[str, str, int]]) -> None:
    found = [
        errors.FieldViolation(name, "FIELD_REQUIRED_OR_TOO_LONG", f"1 to {limit} characters")
        for name, value, limit in fields
        if not 0 < len(value) <= limit
    ]
    if found:
        raise errors.invalid(found)


def _not_found() -> errors.PayLoopsError:
    return errors.PayLoopsError(
        errors.PAYMENT_METHOD_NOT_FOUND,
        "no such payment method for this merchant in this mode",
    )
