"""Database steps of `payloops dev` (the demo merchant, processor registrations) and of the
commands that change the same rows (`payloops processors add`). The demo merchant itself is
made through the admin API, as an operator makes any merchant.

Imports of core (SQLAlchemy, asyncpg) happen inside the functions so `payloops --help` stays
fast.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cli.state import kept_secret, write_secret

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from core.processors.registry import Registration

DEMO_MERCHANT_NAME = "Demo merchant"
# A reserved top-level domain (RFC 2606): no real mailbox.
DEV_OWNER_EMAIL = "owner@payloops.dev.test"
T = TypeVar("T")


@dataclass(frozen=True)
class DemoMerchant:
    id: str
    api_key: str
    created: bool  # False when the key from an earlier run was reused


@dataclass(frozen=True)
class DevOwner:
    email: str
    password: str
    created: bool  # False when the user from an earlier run was kept


def ensure_demo_merchant(
    database_url: str, key_file: Path, sandbox_names: Sequence[str], api: httpx.Client
) -> DemoMerchant:
    """Reuses the key in key_file while the database still knows it (data survives restarts);
    otherwise creates the demo merchant through the admin API (`api` carries the admin key)
    and stores its key, readable by the owner only."""

    stored = key_file.read_text().strip() if key_file.is_file() else ""
    if stored and (
        known := _with_sessions(database_url, lambda sessions: _merchant_of_key(sessions, stored))
    ):
        return DemoMerchant(id=known, api_key=stored, created=False)
    made = api.post("/v1/merchants", json={"merchant": {"name": DEMO_MERCHANT_NAME}})
    made.raise_for_status()
    [key] = made.json()["api_keys"]
    api_key = str(key["secret"])
    # The failover playground (test mode, as the demo key is): every currency tries the
    # sandboxes in order.
    routed = api.put(
        "/v1/routing",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"rules": [{"name": "every_currency", "failover": {"processors": [*sandbox_names]}}]},
    )
    routed.raise_for_status()
    write_secret(key_file, api_key + "\n")
    return DemoMerchant(id=str(made.json()["id"]), api_key=api_key, created=True)


@dataclass(frozen=True)
class PublishableKey:
    key: str
    created: bool


def ensure_publishable_key(database_url: str, key_file: Path, api: httpx.Client) -> PublishableKey:
    """The demo merchant's publishable key (browsers tokenize cards with it): the one in
    key_file while the database still accepts it, else a new one made through the API with
    the merchant's secret key (`api` carries it)."""
    stored = key_file.read_text().strip() if key_file.is_file() else ""
    if stored and _with_sessions(database_url, lambda sessions: _merchant_of_key(sessions, stored)):
        return PublishableKey(stored, created=False)
    made = api.post("/v1/api_keys", json={"name": "demo publishable key", "kind": "PUBLISHABLE"})
    made.raise_for_status()
    key = str(made.json()["secret"])
    write_secret(key_file, key + "\n")
    return PublishableKey(key, created=True)


def ensure_dev_owner(
    merchant_id: str, password_file: Path, make_password: Callable[[], str], api: httpx.Client
) -> DevOwner:
    """The demo merchant's owner, made through the admin API (`api` carries the admin key) as
    an operator makes any merchant's first owner. Its password is kept in password_file, so a
    later start keeps the user and the same credentials."""
    password = kept_secret(password_file, make_password)
    made = api.post(
        "/v1/users",
        json={
            "merchant": merchant_id,
            "user": {"email": DEV_OWNER_EMAIL, "role": "OWNER"},
            "password": password,
        },
    )
    if made.status_code == 409:
        return DevOwner(DEV_OWNER_EMAIL, password, created=False)
    made.raise_for_status()
    return DevOwner(DEV_OWNER_EMAIL, password, created=True)


def register_processors(database_url: str, targets: Mapping[str, str]) -> None:
    """Points each processor name at its gRPC target (insert or update). Only the target: a
    deadline or `enabled` someone set survives the next start."""

    async def run(sessions: async_sessionmaker[AsyncSession]) -> None:
        from core.processors.channels import ProcessorChannels
        from core.processors.registry import register_adapter

        channels = ProcessorChannels()
        try:
            for name, target in targets.items():
                await register_adapter(sessions, channels, name, target)
        finally:
            await channels.close()

    _with_sessions(database_url, run)


def add_processor(
    database_url: str,
    name: str,
    target: str,
    deadline_ms: int | None,
    tls: bool = False,
    tls_ca_pem: str = "",
) -> Registration:
    """`payloops processors add`: asks the adapter for its capabilities, then inserts or
    updates its registration."""

    async def run(sessions: async_sessionmaker[AsyncSession]) -> Registration:
        from core.processors.channels import ProcessorChannels
        from core.processors.registry import register_adapter

        channels = ProcessorChannels()
        try:
            return await register_adapter(
                sessions, channels, name, target, deadline_ms, tls=tls, tls_ca_pem=tls_ca_pem
            )
        finally:
            await channels.close()

    return _with_sessions(database_url, run)


def set_platform_account(
    database_url: str,
    secrets_keys: tuple[str, ...],
    processor: str,
    livemode: bool,
    credentials: dict[str, str],
) -> str:
    """`payloops processors account`: the platform's own account at a processor (replacing
    the enabled one of that mode, if any). Returns its id."""

    async def run(sessions: async_sessionmaker[AsyncSession]) -> str:
        from sqlalchemy import update

        from core.db import models
        from core.processors import accounts as processor_accounts
        from core.secrets import SecretBox

        async with sessions.begin() as session:
            await session.execute(
                update(models.ProcessorAccount)
                .where(
                    models.ProcessorAccount.merchant_id.is_(None),
                    models.ProcessorAccount.processor == processor,
                    models.ProcessorAccount.livemode == livemode,
                )
                .values(enabled=False)
            )
            account = await processor_accounts.create(
                session, SecretBox(secrets_keys), None, processor, livemode, credentials
            )
            return account.id

    return _with_sessions(database_url, run)


def list_processors(database_url: str) -> list[Registration]:
    async def run(sessions: async_sessionmaker[AsyncSession]) -> list[Registration]:
        from core.processors.registry import registrations

        return await registrations(sessions)

    return _with_sessions(database_url, run)


async def _merchant_of_key(sessions: async_sessionmaker[AsyncSession], api_key: str) -> str | None:
    """The merchant of a key the database still accepts; None for an unknown or dead key."""
    from sqlalchemy import func, or_, select

    from core import ids
    from core.db import models

    async with sessions() as session:
        found = await session.scalar(
            select(models.ApiKey.merchant_id).where(
                models.ApiKey.key_hash == ids.hash_api_key(api_key),
                models.ApiKey.revoked_at.is_(None),
                # A rolled demo key stops working: a new demo merchant is made instead.
                or_(models.ApiKey.expires_at.is_(None), models.ApiKey.expires_at > func.now()),
            )
        )
    return found


def _with_sessions(
    database_url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    from core.db.session import create_engine, session_factory

    async def run() -> T:
        engine = create_engine(database_url, pool_size=1)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())
