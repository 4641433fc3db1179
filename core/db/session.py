"""Engine and session factory for the async PostgreSQL driver."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


def create_engine(database_url: str, pool_size: int = 10, pre_ping: bool = True) -> AsyncEngine:
    """`pre_ping` checks each connection as it leaves the pool (one round trip), so a database
    restart costs no request an error. `hide_parameters`: a database error's text would
    otherwise carry the statement's values, which are what the caller sent, into the logs."""
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=20,
        pool_pre_ping=pre_ping,
        hide_parameters=True,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)
