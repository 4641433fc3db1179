"""Versioned routing configurations in `routing_configs`: every save is a new row, the highest
version is current, and a merchant without rows has the default (version 0). Each mode has its
own configuration and versions: a change made with a test key never routes a live payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import models
from core.routing_config.defaults import default_config
from core.routing_config.model import RoutingConfig

_UNIQUE_VIOLATION = "23505"
# Concurrent saves for one merchant and mode collide on (merchant_id, livemode, version); each
# retry sees the winner's row, so this only runs out under dozens of simultaneous saves.
_SAVE_TRIES = 20


@dataclass(frozen=True)
class StoredConfig:
    version: int
    config: RoutingConfig
    # None for the built-in default.
    update_time: datetime | None


async def latest(
    sessions: async_sessionmaker[AsyncSession], merchant_id: str, livemode: bool
) -> StoredConfig:
    async with sessions() as session:
        return await latest_in(session, merchant_id, livemode)


# Built once: every payment reads it (see orchestrator/activities/orders.py).
_LATEST = (
    select(models.RoutingConfigVersion)
    .where(
        models.RoutingConfigVersion.merchant_id == bindparam("merchant_id"),
        models.RoutingConfigVersion.livemode == bindparam("livemode"),
    )
    .order_by(models.RoutingConfigVersion.version.desc())
    .limit(1)
)


async def latest_in(session: AsyncSession, merchant_id: str, livemode: bool) -> StoredConfig:
    """The merchant's current configuration in this mode, read in the caller's session."""
    row = (
        await session.execute(_LATEST, {"merchant_id": merchant_id, "livemode": livemode})
    ).scalar_one_or_none()
    if row is None:
        return StoredConfig(0, default_config(), None)
    return _stored(row)


async def version_in(
    session: AsyncSession, merchant_id: str, livemode: bool, version: int
) -> StoredConfig | None:
    """One saved version of the merchant's configuration in this mode (0: the built-in
    default), or None when there is no such version."""
    if version == 0:
        return StoredConfig(0, default_config(), None)
    table = models.RoutingConfigVersion
    row = (
        await session.execute(
            select(table).where(
                table.merchant_id == merchant_id,
                table.livemode == livemode,
                table.version == version,
            )
        )
    ).scalar_one_or_none()
    return None if row is None else _stored(row)


async def versions_in(
    session: AsyncSession, merchant_id: str, livemode: bool, *, before: int | None, limit: int
) -> list[StoredConfig]:
    """Saved versions in this mode, newest first, only those older than `before` if given."""
    table = models.RoutingConfigVersion
    query = select(table).where(table.merchant_id == merchant_id, table.livemode == livemode)
    if before is not None:
        query = query.where(table.version < before)
    rows = await session.execute(query.order_by(table.version.desc()).limit(limit))
    return [_stored(row) for row in rows.scalars()]


def _stored(row: models.RoutingConfigVersion) -> StoredConfig:
    return StoredConfig(row.version, RoutingConfig.from_json(row.config), row.created_at)


async def save(
    sessions: async_sessionmaker[AsyncSession],
    merchant_id: str,
    livemode: bool,
    config: RoutingConfig,
) -> tuple[int, datetime]:
    """Stores `config` as the merchant's next version in this mode, in a transaction of its
    own; returns that version and its time."""
    async with sessions.begin() as session:
        return await save_in(session, merchant_id, livemode, config)


async def save_in(
    session: AsyncSession, merchant_id: str, livemode: bool, config: RoutingConfig
) -> tuple[int, datetime]:
    """`save` in the caller's transaction, so what the caller records about the change (its
    audit entry) commits or rolls back with it. Each try is a savepoint: a collision undoes
    that try only, and the next one's statement sees the winner's committed row."""
    table = models.RoutingConfigVersion
    next_version = (
        select(func.coalesce(func.max(table.version), 0) + 1)
        .where(table.merchant_id == merchant_id, table.livemode == livemode)
        .scalar_subquery()
    )
    statement = (
        insert(table)
        .values(
            merchant_id=merchant_id,
            livemode=livemode,
            version=next_version,
            config=config.to_json(),
        )
        .returning(table.version, table.created_at)
    )
    for attempt in range(_SAVE_TRIES):
        try:
            async with session.begin_nested():
                version, created_at = (await session.execute(statement)).one()
            return int(version), created_at
        except IntegrityError as error:
            if (
                getattr(error.orig, "sqlstate", None) != _UNIQUE_VIOLATION
                or attempt == _SAVE_TRIES - 1
            ):
                raise
    raise AssertionError("unreachable")
