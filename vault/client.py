"""The vault as the platform's services see it: core.vaulted_cards.CardSource over the vault's
internal gRPC API, with the calling service's credential. The card it returns lives only in
the memory of the processor call that asked for it."""

from __future__ import annotations

import os
from collections.abc import Mapping

import grpc

from core.vaulted_cards import CardData
from payloops.vault.v1 import vault_pb2, vault_pb2_grpc
from vault.config import SERVICE_TOKEN_VAR, TARGET_VAR

DEADLINE_SECONDS = 10.0


class VaultUnavailable(Exception):
    """The vault could not answer (down, refused the credential, timed out); the message names
    the gRPC code only."""


def is_configured(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get(TARGET_VAR) and env.get(SERVICE_TOKEN_VAR))


class VaultClient:
    """One channel, reused; close() it when done."""

    def __init__(self, target: str, service_token: str) -> None:
        self._channel = grpc.aio.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)])
        self._stub = vault_pb2_grpc.VaultServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {service_token}"),)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VaultClient:
        env = os.environ if env is None else env
        target, token = env.get(TARGET_VAR, ""), env.get(SERVICE_TOKEN_VAR, "")
        if not target or not token:
            raise SystemExit(f"{TARGET_VAR} and {SERVICE_TOKEN_VAR} must be set to reach the vault")
        return cls(target, token)

    async def card_for(
        self,
        *,
        payment_method: str,
        merchant_id: str,
        livemode: bool,
        processor: str,
        attempt_key: str,
        first_authorization: bool,
    ) -> CardData:
        request = vault_pb2.DetokenizeRequest(
            payment_method=payment_method,
            merchant=merchant_id,
            livemode=livemode,
            processor=processor,
            attempt_key=attempt_key,
            first_authorization=first_authorization,
        )
        try:
            answer = await self._stub.Detokenize(
                request, metadata=self._metadata, timeout=DEADLINE_SECONDS
            )
        except grpc.aio.AioRpcError as error:
            raise _translated(error) from None
        return CardData(
            number=answer.number,
            exp_month=answer.exp_month,
            exp_year=answer.exp_year,
            cvc=answer.cvc,
            holder_name=answer.holder_name,
        )

    async def facts_of(
        self, *, payment_method: str, merchant_id: str, livemode: bool
    ) -> vault_pb2.PaymentMethodFacts:
        """What a receipt shows of the card; LookupError when it is not this merchant's in
        this mode."""
        request = vault_pb2.GetPaymentMethodRequest(
            payment_method=payment_method, merchant=merchant_id, livemode=livemode
        )
        try:
            return await self._stub.GetPaymentMethod(
                request, metadata=self._metadata, timeout=DEADLINE_SECONDS
            )
        except grpc.aio.AioRpcError as error:
            raise _translated(error) from None

    async def close(self) -> None:
        await self._channel.close()


def _translated(error: grpc.aio.AioRpcError) -> Exception:
    if error.code() == grpc.StatusCode.NOT_FOUND:
        return LookupError("no such vaulted payment method for this merchant and mode")
    return VaultUnavailable(f"the vault answered {error.code().name}")
