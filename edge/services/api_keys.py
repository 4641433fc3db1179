"""ApiKeyService: the keys a merchant manages itself. An API key sees and manages the keys of
its own merchant and mode only (as Stripe's API does; a dashboard user, later, will manage
both modes); anything else is NOT_FOUND. Secrets are stored as hashes, so a key's secret is in
the answer of create or roll once, and never again (not in an idempotent replay either)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import api_keys, errors
from core.audit import AuditAction
from core.db import models
from edge.auth import Caller, authenticate
from edge.context import ServicerContext, request_header
from edge.idempotency import Claim, Idempotency
from edge.page_tokens import Cursor, PageTokens, page_size
from payloops.v1 import api_keys_pb2, api_keys_pb2_grpc

MAX_NAME_LENGTH = 100
MAX_OVERLAP = timedelta(days=7)
_KINDS = {
    api_keys.SECRET_KIND: api_keys_pb2.ApiKey.SECRET,
    api_keys.PUBLISHABLE_KIND: api_keys_pb2.ApiKey.PUBLISHABLE,
}
_KIND_NAMES = {number: name for name, number in _KINDS.items()}


class ApiKeyService(api_keys_pb2_grpc.ApiKeyServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        idempotency: Idempotency,
        page_tokens: PageTokens,
    ) -> None:
        self._sessions = sessions
        self._idempotency = idempotency
        self._page_tokens = page_tokens

    async def CreateApiKey(
        self, request: api_keys_pb2.CreateApiKeyRequest, context: ServicerContext
    ) -> api_keys_pb2.ApiKey:
        wanted = request.api_key
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            if found := _create_violations(wanted):
                raise errors.invalid(found)
            if wanted.livemode != caller.livemode:
                raise errors.PayLoopsError(
                    errors.API_KEY_OTHER_MODE,
                    "an API key creates keys of its own mode only",
                )
            claim = await self._claim(session, caller, context, "CreateApiKey", request)
            if not isinstance(claim, Claim | None):
                return claim
            issued = api_keys.issue(
                caller.merchant_id,
                caller.livemode,
                name=wanted.name,
                read_only=wanted.read_only,
                kind=_KIND_NAMES.get(wanted.kind, api_keys.SECRET_KIND),
            )
            _record(session, caller, AuditAction.API_KEY_CREATED, issued.row, _described(issued))
            return await self._added(session, issued, claim)

    async def ListApiKeys(
        self, request: api_keys_pb2.ListApiKeysRequest, context: ServicerContext
    ) -> api_keys_pb2.ListApiKeysResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            size = page_size(request.page_size)
            scope = f"api_keys|{caller.merchant_id}|{caller.livemode}"
            after = (
                self._page_tokens.decode(request.page_token, scope) if request.page_token else None
            )
            query = select(models.ApiKey).where(
                models.ApiKey.merchant_id == caller.merchant_id,
                models.ApiKey.livemode == caller.livemode,
            )
            if after is not None:
                query = query.where(
                    tuple_(models.ApiKey.created_at, models.ApiKey.id)
                    < tuple_(after.created_at, after.order_id)
                )
            query = query.order_by(models.ApiKey.created_at.desc(), models.ApiKey.id.desc())
            rows = list((await session.execute(query.limit(size + 1))).scalars())
        page = rows[:size]
        response = api_keys_pb2.ListApiKeysResponse(api_keys=[key_message(key) for key in page])
        if len(rows) > size:
            response.next_page_token = self._page_tokens.encode(
                Cursor(page[-1].created_at, page[-1].id), scope
            )
        return response

    async def RollApiKey(
        self, request: api_keys_pb2.RollApiKeyRequest, context: ServicerContext
    ) -> api_keys_pb2.ApiKey:
        overlap = request.overlap.ToTimedelta()
        if not timedelta(0) <= overlap <= MAX_OVERLAP:
            raise errors.invalid(
                [errors.FieldViolation("overlap", "OVERLAP_OUT_OF_RANGE", "must be 0 to 7 days")]
            )
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            claim = await self._claim(session, caller, context, "RollApiKey", request)
            if not isinstance(claim, Claim | None):
                return claim
            old = await _find(session, caller, request.api_key, lock=True)
            if old.revoked_at is not None or _expired(old):
                raise errors.PayLoopsError(
                    errors.API_KEY_NOT_FOUND, "the API key is revoked or expired"
                )
            old.expires_at = datetime.now(UTC) + overlap
            issued = api_keys.issue(
                caller.merchant_id,
                caller.livemode,
                name=old.name,
                read_only=old.read_only,
                kind=old.kind,
            )
            overlap_seconds = int(overlap.total_seconds())
            details = {"new_api_key": issued.row.id, "overlap_seconds": overlap_seconds}
            _record(session, caller, AuditAction.API_KEY_ROLLED, old, details)
            return await self._added(session, issued, claim)

    async def RevokeApiKey(
        self, request: api_keys_pb2.RevokeApiKeyRequest, context: ServicerContext
    ) -> api_keys_pb2.ApiKey:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            key = await _find(session, caller, request.api_key, lock=True)
            if key.revoked_at is None:
                await session.execute(
                    update(models.ApiKey)
                    .where(models.ApiKey.id == key.id)
                    .values(revoked_at=datetime.now(UTC))
                )
                await session.refresh(key)
                _record(session, caller, AuditAction.API_KEY_REVOKED, key, {})
            return key_message(key)

    async def _claim(
        self,
        session: AsyncSession,
        caller: Caller,
        context: ServicerContext,
        method: str,
        request: api_keys_pb2.CreateApiKeyRequest | api_keys_pb2.RollApiKeyRequest,
    ) -> Claim | api_keys_pb2.ApiKey | None:
        key = request_header(context.invocation_metadata(), "idempotency-key")
        if key is None:
            return None
        return await self._idempotency.claim(
            session, caller, key, method, request, api_keys_pb2.ApiKey
        )

    async def _added(
        self, session: AsyncSession, issued: api_keys.IssuedKey, claim: Claim | None
    ) -> api_keys_pb2.ApiKey:
        session.add(issued.row)
        await session.flush()
        await session.refresh(issued.row)
        if claim is not None:
            # Stored without the secret: the idempotency table holds no key in clear.
            await self._idempotency.store(session, claim, key_message(issued.row))
        return key_message(issued.row, secret=issued.secret)


def _record(
    session: AsyncSession,
    caller: Caller,
    action: AuditAction,
    key: models.ApiKey,
    details: Mapping[str, object],
) -> None:
    caller.record_change(session, action, "api_key", key.id, {"prefix": key.prefix, **details})


def _create_violations(wanted: api_keys_pb2.ApiKey) -> list[errors.FieldViolation]:
    found = []
    if len(wanted.name) > MAX_NAME_LENGTH:
        found.append(
            errors.FieldViolation(
                "api_key.name", "NAME_TOO_LONG", f"must be at most {MAX_NAME_LENGTH} characters"
            )
        )
    # A publishable key can only tokenize cards: "read-only" would promise something it
    # cannot mean.
    if wanted.kind == api_keys_pb2.ApiKey.PUBLISHABLE and wanted.read_only:
        found.append(
            errors.FieldViolation(
                "api_key.read_only",
                "READ_ONLY_NOT_FOR_PUBLISHABLE",
                "a publishable key can only tokenize cards; read_only is for secret keys",
            )
        )
    return found


def _described(issued: api_keys.IssuedKey) -> dict[str, object]:
    """What the log says of a new key: never its secret, only what the list shows too."""
    return {"name": issued.row.name, "read_only": issued.row.read_only, "kind": issued.row.kind}


def key_message(key: models.ApiKey, secret: str = "") -> api_keys_pb2.ApiKey:
    message = api_keys_pb2.ApiKey(
        id=key.id,
        name=key.name,
        livemode=key.livemode,
        read_only=key.read_only,
        kind=_KINDS[key.kind],
        prefix=key.prefix,
        secret=secret,
    )
    message.create_time.FromDatetime(key.created_at)
    for field, value in (
        (message.last_used_time, key.last_used_at),
        (message.expire_time, key.expires_at),
        (message.revoke_time, key.revoked_at),
    ):
        if value is not None:
            field.FromDatetime(value)
    return message


def _expired(key: models.ApiKey) -> bool:
    return key.expires_at is not None and key.expires_at <= datetime.now(UTC)


async def _find(
    session: AsyncSession, caller: Caller, key_id: str, *, lock: bool = False
) -> models.ApiKey:
    query = select(models.ApiKey).where(
        models.ApiKey.id == key_id,
        models.ApiKey.merchant_id == caller.merchant_id,
        models.ApiKey.livemode == caller.livemode,
    )
    key = (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if key is None:
        raise errors.PayLoopsError(
            errors.API_KEY_NOT_FOUND, "no such API key", metadata={"apiKey": key_id}
        )
    return key
