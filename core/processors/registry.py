"""Processor registrations (the `processors` table): where each gateway adapter listens and how
long one call to it may take. Routing reads the table for every payment, so a change applies
to the next payment without restarting anything."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import models
from core.processors.channels import (
    ProcessorChannels,
    capabilities_to_json,
    fetch_capabilities,
)

DEFAULT_DEADLINE_MS = 5000
# Below 50 ms no gateway answers even when healthy; above two minutes a payment's own budget
# (60 s by default) runs out first anyway.
MIN_DEADLINE_MS = 50
MAX_DEADLINE_MS = 120_000
# Names appear in routing rules and environment variable names (PAYLOOPS_PROCESSOR_<NAME>_…).
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# host:port, the form grpc.aio dials: a DNS name, an IPv4 address or a bracketed IPv6 one.
_TARGET = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)"
    r":(?P<port>[0-9]{1,5})"
)


@dataclass(frozen=True)
class Registration:
    name: str
    target: str
    deadline_ms: int
    enabled: bool
    tls: bool = False
    tls_ca_pem: str = ""
    capabilities: dict[str, object] = field(default_factory=dict)


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a processor's name, or None."""
    if _NAME.fullmatch(name):
        return None
    return (
        f"NAME must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter "
        f"or digit (got {name!r})"
    )


def target_problem(target: str) -> str | None:
    """Why `target` cannot be a processor's gRPC target, or None."""
    found = _TARGET.fullmatch(target)
    if found and 1 <= int(found["port"]) <= 65535:
        return None
    return (
        f"TARGET must be host:port with a port of 1-65535, such as 127.0.0.1:50061 (got {target!r})"
    )


def deadline_problem(deadline_ms: int) -> str | None:
    if MIN_DEADLINE_MS <= deadline_ms <= MAX_DEADLINE_MS:
        return None
    return f"the deadline must be {MIN_DEADLINE_MS}..{MAX_DEADLINE_MS} ms (got {deadline_ms})"


async def register(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    target: str,
    deadline_ms: int | None = None,
    *,
    capabilities: dict[str, object],
    tls: bool = False,
    tls_ca_pem: str = "",
) -> Registration:
    """`register_in` in a transaction of its own."""
    async with sessions.begin() as session:
        return await register_in(
            session,
            name,
            target,
            deadline_ms,
            capabilities=capabilities,
            tls=tls,
            tls_ca_pem=tls_ca_pem,
        )


async def register_in(
    session: AsyncSession,
    name: str,
    target: str,
    deadline_ms: int | None = None,
    *,
    capabilities: dict[str, object],
    tls: bool = False,
    tls_ca_pem: str = "",
) -> Registration:
    """Adds a processor, or points an existing one at `target`, with the capabilities its
    adapter just reported. Its deadline changes only when one is given (a new processor gets
    DEFAULT_DEADLINE_MS), and `enabled` never does: what an operator set survives `payloops
    dev` registering its processors again at every start."""
    problems = [
        name_problem(name),
        target_problem(target),
        None if deadline_ms is None else deadline_problem(deadline_ms),
    ]
    if any(problems):
        raise ValueError("; ".join(p for p in problems if p))
    statement = insert(models.Processor).values(
        name=name,
        target=target,
        deadline_ms=deadline_ms or DEFAULT_DEADLINE_MS,
        enabled=True,
        tls=tls,
        tls_ca_pem=tls_ca_pem,
        capabilities=capabilities,
    )
    changes: dict[str, object] = {
        "target": target,
        "tls": tls,
        "tls_ca_pem": tls_ca_pem,
        "capabilities": capabilities,
    }
    if deadline_ms is not None:
        changes["deadline_ms"] = deadline_ms
    upsert = statement.on_conflict_do_update(
        index_elements=[models.Processor.name],
        set_=changes,
    ).returning(models.Processor)
    row = (await session.execute(upsert)).scalar_one()
    return _registration(row)


async def registrations(sessions: async_sessionmaker[AsyncSession]) -> list[Registration]:
    """Every registered processor, by name."""
    async with sessions() as session:
        rows = await session.execute(select(models.Processor).order_by(models.Processor.name))
        return [_registration(row) for row in rows.scalars()]


async def targets(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every registered processor's target, enabled or not: a disabled adapter still listens
    (webhooks must never reach one, core/webhooks/urls.py)."""
    async with sessions() as session:
        return list(await session.scalars(select(models.Processor.target)))


def _registration(row: models.Processor) -> Registration:
    return Registration(
        name=row.name,
        target=row.target,
        deadline_ms=row.deadline_ms,
        enabled=row.enabled,
        tls=row.tls,
        tls_ca_pem=row.tls_ca_pem,
        capabilities=dict(row.capabilities),
    )


async def register_adapter(
    sessions: async_sessionmaker[AsyncSession],
    channels: ProcessorChannels,
    name: str,
    target: str,
    deadline_ms: int | None = None,
    *,
    tls: bool = False,
    tls_ca_pem: str = "",
) -> Registration:
    """Asks the adapter at `target` for its capabilities, then registers it: an address that
    does not answer GetCapabilities is never registered (raises grpc.aio.AioRpcError)."""
    capabilities = await adapter_capabilities(channels, target, tls, tls_ca_pem)
    return await register(
        sessions,
        name,
        target,
        deadline_ms,
        capabilities=capabilities,
        tls=tls,
        tls_ca_pem=tls_ca_pem,
    )


async def adapter_capabilities(
    channels: ProcessorChannels, target: str, tls: bool = False, tls_ca_pem: str = ""
) -> dict[str, object]:
    """What the adapter at `target` answers to GetCapabilities, as stored (raises
    grpc.aio.AioRpcError when nothing answers there). Asked before any transaction opens:
    dialing may take seconds."""
    problem = target_problem(target)
    if problem:
        raise ValueError(problem)
    return capabilities_to_json(await fetch_capabilities(channels, target, tls, tls_ca_pem))
