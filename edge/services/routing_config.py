"""RoutingService: read and replace the routing configuration of the merchant behind the API
key, in the key's mode (test and live each have their own). Every replacement is validated
whole and stored as a new version; versions are listed, read and restored (a rollback is one
more version). A payment is simulated, and recent history replayed, against the active
configuration or a draft, through the engine that routes real payments."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from core.audit import AuditAction
from core.db import models
from core.routing_config import store, validation
from core.routing_config.model import RoutingConfig
from edge import routing_simulator, routing_what_if
from edge.auth import authenticate
from edge.context import ServicerContext, request_header
from edge.idempotency import Claim, Idempotency
from edge.page_tokens import Cursor, PageTokens, page_size, page_size_violations
from payloops.v1 import routing_pb2, routing_pb2_grpc

# The id part of a versions page cursor: "ver_<version>".
_VERSION_CURSOR = re.compile(r"ver_([1-9][0-9]{0,17})")


class RoutingService(routing_pb2_grpc.RoutingServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        idempotency: Idempotency,
        page_tokens: PageTokens,
    ) -> None:
        self._sessions = sessions
        self._idempotency = idempotency
        self._page_tokens = page_tokens

    async def GetRoutingConfig(
        self, request: routing_pb2.GetRoutingConfigRequest, context: ServicerContext
    ) -> routing_pb2.RoutingConfig:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
        stored = await store.latest(self._sessions, caller.merchant_id, caller.livemode)
        return _message(stored)

    async def UpdateRoutingConfig(
        self, request: routing_pb2.UpdateRoutingConfigRequest, context: ServicerContext
    ) -> routing_pb2.RoutingConfig:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            config = await _validated(session, request.routing_config)
        async with self._sessions.begin() as session:
            version, update_time = await store.save_in(
                session, caller.merchant_id, caller.livemode, config
            )
            caller.record_change(
                session,
                AuditAction.ROUTING_UPDATED,
                "routing_config",
                str(version),
                {"version": version, "rules": [rule.name for rule in config.rules]},
            )
        return _message(store.StoredConfig(version, config, update_time))

    async def ListRoutingConfigVersions(
        self, request: routing_pb2.ListRoutingConfigVersionsRequest, context: ServicerContext
    ) -> routing_pb2.ListRoutingConfigVersionsResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            if violations := page_size_violations(request.page_size):
                raise errors.invalid(violations)
            size = page_size(request.page_size)
            scope = f"routing_versions|{caller.merchant_id}|{caller.livemode}"
            before = (
                _version_of(self._page_tokens.decode(request.page_token, scope))
                if request.page_token
                else None
            )
            rows = await store.versions_in(
                session, caller.merchant_id, caller.livemode, before=before, limit=size + 1
            )
        page = rows[:size]
        response = routing_pb2.ListRoutingConfigVersionsResponse(
            routing_configs=[_message(stored) for stored in page]
        )
        if len(rows) > size and page[-1].update_time is not None:
            response.next_page_token = self._page_tokens.encode(
                Cursor(page[-1].update_time, f"ver_{page[-1].version}"), scope
            )
        return response

    async def GetRoutingConfigVersion(
        self, request: routing_pb2.GetRoutingConfigVersionRequest, context: ServicerContext
    ) -> routing_pb2.RoutingConfig:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            stored = await _version(session, caller.merchant_id, caller.livemode, request.version)
        return _message(stored)

    async def RollbackRoutingConfig(
        self, request: routing_pb2.RollbackRoutingConfigRequest, context: ServicerContext
    ) -> routing_pb2.RoutingConfig:
        key = request_header(context.invocation_metadata(), "idempotency-key")
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            claim = None
            if key is not None:
                claimed = await self._idempotency.claim(
                    session,
                    caller,
                    key,
                    "RollbackRoutingConfig",
                    request,
                    routing_pb2.RoutingConfig,
                )
                if not isinstance(claimed, Claim):
                    return claimed
                claim = claimed
            restored = await _version(session, caller.merchant_id, caller.livemode, request.version)
            # Processors may have changed since: the copy must be valid today, as any update.
            await _check(session, restored.config)
            version, update_time = await store.save_in(
                session, caller.merchant_id, caller.livemode, restored.config
            )
            caller.record_change(
                session,
                AuditAction.ROUTING_ROLLED_BACK,
                "routing_config",
                str(version),
                {"version": version, "restored_version": restored.version},
            )
            made = _message(store.StoredConfig(version, restored.config, update_time))
            if claim is not None:
                await self._idempotency.store(session, claim, made)
        return made

    async def SimulateRouting(
        self, request: routing_pb2.SimulateRoutingRequest, context: ServicerContext
    ) -> routing_pb2.SimulateRoutingResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            found = routing_simulator.payment_violations(request.payment)
            draft = request.HasField("routing_config")
            if draft:
                config = RoutingConfig.from_proto(request.routing_config)
                found = await _violations(session, config) + found
                version = 0
            else:
                active = await store.latest_in(session, caller.merchant_id, caller.livemode)
                config, version = active.config, active.version
            if found:
                raise errors.invalid(found)
            response = await routing_simulator.simulate(
                session, caller.merchant_id, caller.livemode, config, request.payment
            )
        response.config_version = version
        response.draft = draft
        return response

    async def WhatIfRouting(
        self, request: routing_pb2.WhatIfRoutingRequest, context: ServicerContext
    ) -> routing_pb2.WhatIfRoutingResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            config = RoutingConfig.from_proto(request.routing_config)
            found = await _violations(session, config)
            found += routing_what_if.days_violations(request.days)
            if found:
                raise errors.invalid(found)
            return await routing_what_if.what_if(
                session, caller.merchant_id, caller.livemode, config, request.days
            )


async def _violations(session: AsyncSession, config: RoutingConfig) -> list[errors.FieldViolation]:
    """UpdateRoutingConfig's validation, for every call that takes a configuration: a draft
    simulated or replayed gets exactly the violations saving it would."""
    known = set((await session.execute(select(models.Processor.name))).scalars())
    return validation.violations(config, known)


async def _check(session: AsyncSession, config: RoutingConfig) -> None:
    if found := await _violations(session, config):
        raise errors.invalid(found)


async def _validated(session: AsyncSession, message: routing_pb2.RoutingConfig) -> RoutingConfig:
    config = RoutingConfig.from_proto(message)
    await _check(session, config)
    return config


async def _version(
    session: AsyncSession, merchant_id: str, livemode: bool, version: int
) -> store.StoredConfig:
    stored = (
        await store.version_in(session, merchant_id, livemode, version) if version >= 0 else None
    )
    if stored is None:
        raise errors.PayLoopsError(
            errors.ROUTING_CONFIG_VERSION_NOT_FOUND,
            f"there is no routing configuration version {version} in this mode",
        )
    return stored


def _version_of(cursor: Cursor) -> int:
    matched = _VERSION_CURSOR.fullmatch(cursor.order_id)
    if matched is None:
        raise errors.PayLoopsError(
            errors.PAGE_TOKEN_INVALID,
            "page_token is not valid for this request; start again without it",
        )
    return int(matched.group(1))


def _message(stored: store.StoredConfig) -> routing_pb2.RoutingConfig:
    message = stored.config.to_proto()
    message.version = stored.version
    update_time: datetime | None = stored.update_time
    if update_time is not None:
        message.update_time.FromDatetime(update_time)
    return message
