"""A database of a test's own on the tests' PostgreSQL, migrated to a chosen revision: where a
migration test puts the data the schema before it could hold."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.migrate import upgrade


@contextlib.contextmanager
def database_at(postgres_url: str, revision: str) -> Iterator[str]:
    """The new database's URL, at `revision`; dropped afterwards."""
    name = f"mig_{uuid.uuid4().hex[:12]}"
    server = make_url(postgres_url)
    admin = server.render_as_string(hide_password=False)

    async def ddl(statement: str) -> None:
        engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(ddl(f'create database "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url, revision)
    try:
        yield url
    finally:
        asyncio.run(ddl(f'drop database "{name}" with (force)'))
