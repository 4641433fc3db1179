"""The vault's database role and schema, made with the platform's administrative connection
(`payloops dev` does it on its embedded PostgreSQL; an operator does the same once by hand):

- a login role of the vault's own, owner of the schema `vault`, where its tables live;
- nobody else gets any privilege on that schema (the platform's own role, when it is not a
  superuser, cannot read a card record);
- the vault's role may read `public.api_keys` (just the columns that accept a publishable key)
  and nothing else of the platform's."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from vault.db.models import SCHEMA, api_keys

ROLE = "payloops_vault"
_READABLE_COLUMNS = ", ".join(column.name for column in api_keys.columns)


def vault_url(admin_url: str, password: str, role: str = ROLE) -> str:
    """The vault's own URL: the administrative one's server and database, its own role."""
    return (
        make_url(admin_url)
        .set(username=role, password=password)
        .render_as_string(hide_password=False)
    )


def provision(admin_url: str, password: str, role: str = ROLE) -> str:
    """Creates (or updates the password of) the role, the schema and the grants; returns the
    vault's URL. Safe to run on every start."""
    asyncio.run(_provision(admin_url, password, role))
    return vault_url(admin_url, password, role)


async def _provision(admin_url: str, password: str, role: str) -> None:
    engine = create_async_engine(admin_url, hide_parameters=True)
    quoted_role = f'"{role}"'
    try:
        async with engine.begin() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
            )
            verb = "ALTER" if exists else "CREATE"
            # DDL takes no bind parameters: the password is quoted as a literal (it is ours,
            # made of URL-safe characters, but quote_literal is applied all the same).
            literal = await connection.scalar(text("SELECT quote_literal(:p)"), {"p": password})
            await connection.execute(text(f"{verb} ROLE {quoted_role} LOGIN PASSWORD {literal}"))
            await connection.execute(
                text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA} AUTHORIZATION {quoted_role}")
            )
            await connection.execute(text(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC"))
            await connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted_role}"))
            await connection.execute(text(f"REVOKE ALL ON public.api_keys FROM {quoted_role}"))
            await connection.execute(
                text(f"GRANT SELECT ({_READABLE_COLUMNS}) ON public.api_keys TO {quoted_role}")
            )
    finally:
        await engine.dispose()
