"""Reads and writes the running mesh's PostgreSQL directly, for what a test must set up or
check behind the API (an operator's action, a stored secret's ciphertext)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import Mesh


def sql(mesh: Mesh, statement: str, /, **values: object) -> list[tuple]:
    """Runs one statement in the mesh's database, in its own transaction; returns its rows."""
    return sql_at(mesh.env["PAYLOOPS_DATABASE_URL"], statement, **values)


def sql_at(database_url: str, statement: str, /, **values: object) -> list[tuple]:
    """Runs one statement in the database at `database_url`, in its own transaction; returns
    its rows, if any. Positional-only, so a bind value may be called `url`."""

    async def run() -> list[tuple]:
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), values)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())
