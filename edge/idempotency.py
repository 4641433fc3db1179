"""`Idempotency-Key` with Stripe's semantics, per merchant and mode (the same key string sent
with a test key and with a live key is two keys: nothing made in one mode is replayed in the
other):

- the first call with a key claims it (a row in `idempotency_keys`), runs, and stores its
  response, errors included;
- a later call with the same key and the same request replays that stored response;
- the same key with a different request fails with IDEMPOTENCY_KEY_REUSED;
- a concurrent duplicate waits for the first call to finish and then replays it.

Requests that fail validation never claim a key (they did nothing). A call that fails because a
dependency is down releases its key, so the merchant can simply retry.

The claim and the stored response are written in transactions the caller already has open, so
an idempotent call costs no extra database round trips of its own:
- a call whose work is one database transaction (CreateOrder) claims, works and stores in that
  transaction; a concurrent duplicate's claim waits on the row lock until it commits;
- a call whose work is long and outside the database (PayOrder waits on Temporal) claims in one
  transaction, commits so duplicates see the claim, works, and stores in a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from google.rpc import status_pb2
from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from core.db import models
from edge.auth import Caller
from edge.context import add_response_header
from edge.interceptors import StoredStatus

MAX_KEY_LENGTH = 255
# A claim older than this belongs to a call whose edge died; another call may take it over.
# Safe because the work behind it (order creation, payment workflow) is idempotent itself.
STALE_CLAIM = timedelta(seconds=60)
# Results that are facts about the request and would be the same on retry: stored and replayed.
STORED_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)

M = TypeVar("M", bound=Message)

# The two statements of every idempotent call, built once (see
# orchestrator/activities/orders.py).
_KEYS = models.table_of(models.IdempotencyRecord)
_CLAIM = (
    insert(_KEYS)
    .values(
        merchant_id=bindparam("merchant"),
        livemode=bindparam("mode"),
        key=bindparam("claimed_key"),
        method=bindparam("rpc"),
        request_hash=bindparam("hash"),
        state="in_progress",
    )
    .on_conflict_do_nothing()
    .returning(_KEYS.c.key)
)
_STORE = (
    update(_KEYS)
    .where(
        _KEYS.c.merchant_id == bindparam("merchant"),
        _KEYS.c.livemode == bindparam("mode"),
        _KEYS.c.key == bindparam("claimed_key"),
    )
    .values(state="done", response_code=bindparam("code"), response=bindparam("body"))
)


def validate_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.PayLoopsError(
            errors.IDEMPOTENCY_KEY_INVALID,
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters",
        )


@dataclass(frozen=True)
class Claim:
    """A key this call owns until it stores a response or releases it."""

    merchant_id: str
    livemode: bool
    key: str


class Idempotency:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], wait_seconds: float) -> None:
        self._sessions = sessions
        self._wait_seconds = wait_seconds

    async def claim(
        self,
        session: AsyncSession,
        caller: Caller,
        key: str,
        method: str,
        request: Message,
        response_type: type[M],
    ) -> Claim | M:
        """Claims the key in the caller's open transaction, or returns the stored response of
        the call that claimed it first (waiting for that call if it is still running). Raises
        the stored error, or IDEMPOTENCY_KEY_REUSED / _IN_USE."""
        validate_key(key)
        request_hash = hashlib.sha256(
            method.encode() + b"\0" + request.SerializeToString(deterministic=True)
        ).hexdigest()
        claim = Claim(caller.merchant_id, caller.livemode, key)
        if await _insert_claim(session, claim, method, request_hash):
            return claim
        deadline = time.monotonic() + self._wait_seconds
        while True:
            record = await _load(session, claim)
            if record is not None:
                if record.request_hash != request_hash or record.method != method:
                    raise errors.PayLoopsError(
                        errors.IDEMPOTENCY_KEY_REUSED,
                        "this Idempotency-Key was used with a different request",
                        metadata={"idempotencyKey": key},
                    )
                if record.state == "done":
                    return _replay(record, response_type)
                if await _take_over_stale(session, claim, record.locked_at):
                    return claim
            elif await _insert_claim(session, claim, method, request_hash):
                return claim  # released meanwhile: ours now
            if time.monotonic() >= deadline:
                raise errors.PayLoopsError(
                    errors.IDEMPOTENCY_KEY_IN_USE,
                    "a request with this Idempotency-Key is still in progress; retry shortly",
                    metadata={"idempotencyKey": key},
                )
            # The caller's transaction stays open (its callers run it in a `begin()` block, which
            # a commit here would close under them): at READ COMMITTED every statement of the
            # next round sees what the first call committed meanwhile, and nothing done so far
            # holds a lock (a claim that lost its insert, a take-over that matched no row).
            await asyncio.sleep(0.05)

    async def store(self, session: AsyncSession, claim: Claim, response: Message) -> None:
        """Stores the response of a claimed call, in the caller's transaction."""
        await _store(session, claim, 0, response.SerializeToString())

    async def store_error(self, claim: Claim, error: errors.PayLoopsError) -> None:
        """Stores a failure that would be the same on retry, or releases the key so a retry
        runs afresh (a dependency was down, nothing was decided)."""
        async with self._sessions.begin() as session:
            if error.kind.code in STORED_ERROR_CODES:
                await _store(
                    session, claim, error.kind.code.value[0], error.to_status().SerializeToString()
                )
            else:
                await _release(session, claim)

    async def release(self, claim: Claim) -> None:
        async with self._sessions.begin() as session:
            await _release(session, claim)

    @contextlib.asynccontextmanager
    async def settling(self, claim: Claim | None) -> AsyncIterator[None]:
        """Around work done after the claim was committed: an error that would be the same on
        retry is stored for replay; anything else gives the key back."""
        try:
            yield
        except errors.PayLoopsError as error:
            if claim is not None:
                await self.store_error(claim, error)
            raise
        except BaseException:
            if claim is not None:
                await asyncio.shield(self.release(claim))
            raise


def _replay(record: models.IdempotencyRecord, response_type: type[M]) -> M:
    add_response_header("idempotent-replayed", "true")
    if record.response_code == 0:
        return response_type.FromString(record.response)
    raise StoredStatus(status_pb2.Status.FromString(record.response))


def _of(claim: Claim) -> list[ColumnElement[bool]]:
    """The one row of the claim's (merchant, mode, key)."""
    return [
        models.IdempotencyRecord.merchant_id == claim.merchant_id,
        models.IdempotencyRecord.livemode == claim.livemode,
        models.IdempotencyRecord.key == claim.key,
    ]


async def _insert_claim(
    session: AsyncSession, claim: Claim, method: str, request_hash: str
) -> bool:
    # A concurrent claim of the same key that is not committed yet makes this wait on the row
    # lock, then see it: no duplicate ever runs beside the first.
    inserted = await session.execute(
        _CLAIM,
        {
            "merchant": claim.merchant_id,
            "mode": claim.livemode,
            "claimed_key": claim.key,
            "rpc": method,
            "hash": request_hash,
        },
    )
    return inserted.first() is not None


async def _load(session: AsyncSession, claim: Claim) -> models.IdempotencyRecord | None:
    return (
        await session.execute(
            select(models.IdempotencyRecord)
            .where(*_of(claim))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def _take_over_stale(session: AsyncSession, claim: Claim, locked_at: object) -> bool:
    taken = await session.execute(
        update(models.IdempotencyRecord)
        .where(
            *_of(claim),
            models.IdempotencyRecord.state == "in_progress",
            models.IdempotencyRecord.locked_at == locked_at,
            models.IdempotencyRecord.locked_at < func.now() - STALE_CLAIM,
        )
        .values(locked_at=func.now())
        .returning(models.IdempotencyRecord.key)
    )
    return taken.first() is not None


async def _store(session: AsyncSession, claim: Claim, code: int, response: bytes) -> None:
    await session.execute(
        _STORE,
        {
            "merchant": claim.merchant_id,
            "mode": claim.livemode,
            "claimed_key": claim.key,
            "code": code,
            "body": response,
        },
    )


async def _release(session: AsyncSession, claim: Claim) -> None:
    await session.execute(
        delete(models.IdempotencyRecord).where(
            *_of(claim), models.IdempotencyRecord.state == "in_progress"
        )
    )
