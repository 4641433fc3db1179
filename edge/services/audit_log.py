"""AuditLogService: the merchant's audit log, newest first. A caller sees its own merchant's
entries of its own mode and those that belong to both modes (livemode NULL); never another
merchant's, nor the platform operator's own (merchant_id NULL). Only callers who may change
things read it: a read-only key (or a viewer) is refused."""

from __future__ import annotations

from google.protobuf import struct_pb2
from sqlalchemy import Select, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from core.audit import ActorType, AuditAction
from core.db import models
from edge.auth import Caller, authenticate
from edge.context import ServicerContext
from edge.page_tokens import Cursor, PageTokens, page_size, page_size_violations
from payloops.v1 import audit_pb2, audit_pb2_grpc

# The column's width: a longer id names nothing.
MAX_TARGET_ID_LENGTH = 128
_ACTIONS = frozenset(AuditAction)
_ACTOR_TYPES: dict[str, audit_pb2.AuditActor.Type.ValueType] = {
    ActorType.USER: audit_pb2.AuditActor.USER,
    ActorType.API_KEY: audit_pb2.AuditActor.API_KEY,
    ActorType.ADMIN: audit_pb2.AuditActor.ADMIN,
    ActorType.ANONYMOUS: audit_pb2.AuditActor.ANONYMOUS,
}


class AuditLogService(audit_pb2_grpc.AuditLogServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], page_tokens: PageTokens) -> None:
        self._sessions = sessions
        self._page_tokens = page_tokens

    async def ListAuditEntries(
        self, request: audit_pb2.ListAuditEntriesRequest, context: ServicerContext
    ) -> audit_pb2.ListAuditEntriesResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            if caller.read_only:
                raise errors.PayLoopsError(
                    errors.AUDIT_LOG_FORBIDDEN,
                    "the audit log is for keys and users that may change things; "
                    "this caller may only read",
                )
            if violations := _violations(request):
                raise errors.invalid(violations)
            size = page_size(request.page_size)
            # A token is valid only with the filters it was issued for (AIP-158).
            # The target id goes last: it is the one part that may hold a "|".
            scope = (
                f"audit_log|{caller.merchant_id}|{caller.livemode}|{request.action}"
                f"|{request.target_id}"
            )
            query = _entries_of(caller, request)
            if request.page_token:
                after = self._page_tokens.decode(request.page_token, scope)
                query = query.where(
                    tuple_(models.AuditEntry.created_at, models.AuditEntry.id)
                    < tuple_(after.created_at, after.order_id)
                )
            query = query.order_by(models.AuditEntry.created_at.desc(), models.AuditEntry.id.desc())
            rows = list((await session.execute(query.limit(size + 1))).scalars())
        page = rows[:size]
        response = audit_pb2.ListAuditEntriesResponse(
            audit_entries=[entry_message(entry) for entry in page]
        )
        if len(rows) > size:
            response.next_page_token = self._page_tokens.encode(
                Cursor(page[-1].created_at, page[-1].id), scope
            )
        return response


def _violations(request: audit_pb2.ListAuditEntriesRequest) -> list[errors.FieldViolation]:
    found = page_size_violations(request.page_size)
    if request.action and request.action not in _ACTIONS:
        found.append(
            errors.FieldViolation(
                "action", "ACTION_UNKNOWN", f"must be one of {', '.join(sorted(_ACTIONS))}"
            )
        )
    if len(request.target_id) > MAX_TARGET_ID_LENGTH:
        found.append(
            errors.FieldViolation(
                "target_id",
                "TARGET_ID_TOO_LONG",
                f"must be at most {MAX_TARGET_ID_LENGTH} characters",
            )
        )
    return found


def _entries_of(
    caller: Caller, request: audit_pb2.ListAuditEntriesRequest
) -> Select[models.AuditEntry]:
    entry = models.AuditEntry
    query = select(entry).where(
        entry.merchant_id == caller.merchant_id,
        or_(entry.livemode == caller.livemode, entry.livemode.is_(None)),
    )
    if request.action:
        query = query.where(entry.action == request.action)
    if request.target_id:
        query = query.where(entry.target_id == request.target_id)
    return query


def entry_message(entry: models.AuditEntry) -> audit_pb2.AuditEntry:
    details = struct_pb2.Struct()
    details.update(entry.details)
    message = audit_pb2.AuditEntry(
        id=entry.id,
        action=entry.action,
        actor=audit_pb2.AuditActor(
            type=_ACTOR_TYPES.get(entry.actor_type, audit_pb2.AuditActor.TYPE_UNSPECIFIED),
            id=entry.actor_id,
            label=entry.actor_label,
        ),
        target=audit_pb2.AuditTarget(type=entry.target_type, id=entry.target_id),
        client_address=entry.client_address,
        correlation_id=entry.correlation_id,
        details=details,
    )
    if entry.livemode is not None:
        message.livemode = entry.livemode
    message.create_time.FromDatetime(entry.created_at)
    return message
