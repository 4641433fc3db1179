"""MerchantService: the platform operator creates merchants (admin key only), each with its
first API keys, whose secrets are in this one answer."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit, errors
from core.audit import AuditAction
from core.merchants import create_merchant_in
from edge.auth import admin_actor, authenticate_admin
from edge.context import ServicerContext
from edge.services.api_keys import key_message
from payloops.v1 import merchants_pb2, merchants_pb2_grpc

MAX_NAME_LENGTH = 200


class MerchantService(merchants_pb2_grpc.MerchantServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        admin_api_keys: tuple[str, ...],
        default_processor: str,
    ) -> None:
        self._sessions = sessions
        self._admin_api_keys = admin_api_keys
        self._default_processor = default_processor

    async def CreateMerchant(
        self, request: merchants_pb2.CreateMerchantRequest, context: ServicerContext
    ) -> merchants_pb2.Merchant:
        authenticate_admin(context, self._admin_api_keys)
        name = request.merchant.name.strip()
        if not 1 <= len(name) <= MAX_NAME_LENGTH:
            raise errors.invalid(
                [
                    errors.FieldViolation(
                        "merchant.name",
                        "MERCHANT_NAME_INVALID",
                        f"must be 1 to {MAX_NAME_LENGTH} characters",
                    )
                ]
            )
        async with self._sessions.begin() as session:
            made = await create_merchant_in(
                session, name, self._default_processor, live=request.live
            )
            # In the new merchant's log, in both modes: its first keys are made here.
            audit.record(
                session,
                admin_actor(context),
                AuditAction.MERCHANT_CREATED,
                merchant_id=made.id,
                livemode=None,
                target_type="merchant",
                target_id=made.id,
                details={
                    "name": made.name,
                    "api_keys": [
                        {"id": key.row.id, "prefix": key.row.prefix, "livemode": key.row.livemode}
                        for key in made.keys
                    ],
                },
            )
        return merchants_pb2.Merchant(
            id=made.id,
            name=made.name,
            api_keys=[key_message(key.row, secret=key.secret) for key in made.keys],
        )
