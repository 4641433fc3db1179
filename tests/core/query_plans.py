"""How PostgreSQL would run one of the edge's queries: the tests that show a list or search is
answered from indexes read these plans."""

from __future__ import annotations

import asyncio

from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import create_async_engine


def generic_plan(url: str, query: Select[object]) -> str:
    """The plan PostgreSQL runs `query` with as the edge sends it (a prepared statement, its
    values bound), generic: the plan a statement gets once prepared and run often."""

    async def run() -> str:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                compiled = query.compile(dialect=connection.dialect)
                values = [compiled.params[name] for name in compiled.positiontup or ()]
                for setting in ("enable_seqscan = off", "plan_cache_mode = force_generic_plan"):
                    await connection.execute(text(f"set local {setting}"))
                await connection.exec_driver_sql(f"prepare listing as {compiled}")
                arguments = ", ".join(literal(value) for value in values)
                rows = await connection.exec_driver_sql(f"explain execute listing({arguments})")
                return "\n".join(str(row[0]) for row in rows)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    assert isinstance(value, str), value
    return "'" + value.replace("'", "''") + "'"
