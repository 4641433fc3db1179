"""`Idempotency-Key` with Stripe's semantics, per merchant:

- the first call with a key claims it (a row in `idempotency_keys`), runs, and stores its
  response, errors included;
- a later call with the same key and the same request replays that stored response;
- the same key with a different request fails with IDEMPOTENCY_KEY_REUSED;
- a concurrent duplicate waits for the first call to finish and then replays it.

Requests that fail validation never claim a key (they did nothing). A call that fails because a
dependency is down releases its key, so the merchant can simply retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from google.rpc import status_pb2
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from core.db import models
from edge.context import add_response_header
from edge.interceptors import StoredStatus

MAX_KEY_LENGTH = 255
# A claim older than this belongs to a call whose edge died; another call may take it over.
# Safe because the work behind it (order creation, payment workflow) is idempotent itself.
STALE_CLAIM = timedelta(seconds=60)
# Results that are facts about the request and would be the same on retry: stored and replayed.
_STORED_ERROR_CODES = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                                 grpc.StatusCode.FAILED_PRECONDITION})

M = TypeVar("M", bound=Message)


def validate_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.PayLoopsError(
            errors.IDEMPOTENCY_KEY_INVALID,
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters")


class Idempotency:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], wait_seconds: float) -> None:
        self._sessions = sessions
        self._wait_seconds = wait_seconds

    async def run(self, merchant_id: str, key: str, method: str, request: Message,
                  response_type: type[M], call: Callable[[], Awaitable[M]]) -> M:
        validate_key(key)
        request_hash = hashlib.sha256(
            method.encode() + b"\0" + request.SerializeToString(deterministic=True)).hexdigest()
        deadline = time.monotonic() + self._wait_seconds
        while True:
            if await self._claim(merchant_id, key, method, request_hash):
                return await self._run_claimed(merchant_id, key, call)
            record = await self._load(merchant_id, key)
            if record is None:
                continue  # released between our insert and our read: claim again
            if record.request_hash != request_hash or record.method != method:
                raise errors.PayLoopsError(
                    errors.IDEMPOTENCY_KEY_REUSED,
                    "this Idempotency-Key was used with a different request",
                    metadata={"idempotencyKey": key})
            if record.state == "done":
                add_response_header("idempotent-replayed", "true")
                if record.response_code == 0:
                    return response_type.FromString(record.response)
                raise StoredStatus(status_pb2.Status.FromString(record.response))
            if await self._take_over_stale(merchant_id, key, record.locked_at):
                return await self._run_claimed(merchant_id, key, call)
            if time.monotonic() >= deadline:
                raise errors.PayLoopsError(
                    errors.IDEMPOTENCY_KEY_IN_USE,
                    "a request with this Idempotency-Key is still in progress; retry shortly",
                    metadata={"idempotencyKey": key})
            await asyncio.sleep(0.05)

    async def _run_claimed(self, merchant_id: str, key: str,
                           call: Callable[[], Awaitable[M]]) -> M:
        try:
            response = await call()
        except errors.PayLoopsError as error:
            if error.kind.code in _STORED_ERROR_CODES:
                await self._store(merchant_id, key, error.kind.code.value[0],
                                  error.to_status().SerializeToString())
            else:
                await self._release(merchant_id, key)
            raise
        except BaseException:
            await asyncio.shield(self._release(merchant_id, key))
            raise
        await self._store(merchant_id, key, 0, response.SerializeToString())
        return response

    async def _claim(self, merchant_id: str, key: str, method: str, request_hash: str) -> bool:
        async with self._sessions.begin() as session:
            inserted = await session.execute(
                insert(models.IdempotencyRecord)
                .values(merchant_id=merchant_id, key=key, method=method,
                        request_hash=request_hash, state="in_progress")
                .on_conflict_do_nothing()
                .returning(models.IdempotencyRecord.key))
            return inserted.first() is not None

    async def _load(self, merchant_id: str, key: str) -> models.IdempotencyRecord | None:
        async with self._sessions() as session:
            return (await session.execute(
                select(models.IdempotencyRecord).where(
                    models.IdempotencyRecord.merchant_id == merchant_id,
                    models.IdempotencyRecord.key == key))).scalar_one_or_none()

    async def _take_over_stale(self, merchant_id: str, key: str, locked_at: object) -> bool:
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(models.IdempotencyRecord)
                .where(models.IdempotencyRecord.merchant_id == merchant_id,
                       models.IdempotencyRecord.key == key,
                       models.IdempotencyRecord.state == "in_progress",
                       models.IdempotencyRecord.locked_at == locked_at,
                       models.IdempotencyRecord.locked_at < func.now() - STALE_CLAIM)
                .values(locked_at=func.now())
                .returning(models.IdempotencyRecord.key))
            return taken.first() is not None

    async def _store(self, merchant_id: str, key: str, code: int, response: bytes) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(models.IdempotencyRecord)
                .where(models.IdempotencyRecord.merchant_id == merchant_id,
                       models.IdempotencyRecord.key == key)
                .values(state="done", response_code=code, response=response))

    async def _release(self, merchant_id: str, key: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(models.IdempotencyRecord).where(
                    models.IdempotencyRecord.merchant_id == merchant_id,
                    models.IdempotencyRecord.key == key,
                    models.IdempotencyRecord.state == "in_progress"))
