"""A database error never carries the statement's values: they are what a caller sent, and
the error's text ends up in logs."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.db.session import create_engine

SENT = "merchant-input-5521"


async def test_a_database_error_does_not_quote_the_values_of_its_statement(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as refused:
                # A NUL, which PostgreSQL text cannot hold, fails the statement.
                await connection.execute(text("select cast(:v as text)"), {"v": f"{SENT}\x00"})
    finally:
        await engine.dispose()
    assert SENT not in str(refused.value)
