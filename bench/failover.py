"""(f) Failover latency: how long a payment takes when its primary processor hangs, or is down.

A merchant of its own routes to `sandbox`, then `sandbox-b`, with a short resolution budget,
and `sandbox` is set to HANG until cleared. Payments are made one at a time (create, then pay
with pm_card_visa over Envoy REST), each timed from the pay request until the order is
SUCCEEDED. Two regimes of the primary's circuit breaker, measured separately:

(i) closed: `processor_health` is emptied before each payment, so each one tries the primary,
    waits out its deadline, asks again with the same key for the resolution budget, and only
    then goes to sandbox-b. It must wait deadline + budget; the rest is the platform's overhead.
(ii) open: THRESHOLD payments at once trip the breaker, then the payments that follow skip the
    primary. Once per cool-down one of them is the half-open probe and takes the slow path
    again; those are counted apart.

And a primary that is down, measured first: (iii) the same merchant routes to a processor
registered at a loopback port nothing listens on (connection refused), then `sandbox-b`, with
the breakers reset before each payment. No connection means nothing was sent, so the payment
goes to sandbox-b at once: no deadline and no resolution budget to wait out.

The fault is cleared, the down processor removed and the breakers reset at the end, whatever
happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.load import Spread, spread
from bench.rest import IN_FLIGHT, response_body
from core.db import models
from core.db.session import create_engine, session_factory
from orchestrator.routing_engine.breaker import COOL_DOWN, THRESHOLD
from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from tests.conftest import Mesh

PRIMARY, SECONDARY = "sandbox", "sandbox-b"
# (iii)'s primary: registered at a port nothing listens on. Its deadline is the sandboxes', to
# show that none of it is waited.
DOWN = "bench-down"
_POLL_S = 0.05
# Per payment: the slow path is about deadline + budget; this only stops a stuck run.
_PAYMENT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class FailoverFigures:
    deadline_ms: int
    resolution_budget_s: float
    closed: Spread  # (i): every payment tried the primary first
    open_skipped: Spread  # (ii): skipped the primary
    open_probes: Spread  # (ii): half-open probes, which tried it
    open_seconds: float  # how long (ii) ran, against the breaker's cool-down
    cool_down_s: float
    down: Spread  # (iii): the primary down (connection refused), breaker reset each time
    failed: int
    first_error: str = ""

    @property
    def must_wait_ms(self) -> float:
        """What (i) cannot beat: the primary's deadline, then the resolution budget."""
        return self.deadline_ms + self.resolution_budget_s * 1000

    @property
    def overhead_ms(self) -> float:
        return self.closed.p50_ms - self.must_wait_ms


@dataclass
class _Failures:
    count: int = 0
    first: str = ""

    def add(self, error: Exception) -> None:
        self.count += 1
        self.first = self.first or f"{type(error).__name__}: {error}"


async def measure_failover(
    mesh: Mesh,
    closed_samples: int,
    open_samples: int,
    resolution_budget_s: float,
    down_samples: int,
) -> FailoverFigures:
    _, api_key = await asyncio.to_thread(mesh.new_merchant, "bench failover")
    failures = _Failures()
    skipped: list[float] = []
    probes: list[float] = []
    async with (
        _database(mesh) as sessions,
        httpx.AsyncClient(
            base_url=mesh.api_url, timeout=60.0, headers={"Authorization": f"Bearer {api_key}"}
        ) as http,
    ):
        deadline_ms = await _primary_deadline_ms(sessions)
        # First: its payments leave nothing behind, unlike the hung primary's.
        async with _down_processor(sessions, deadline_ms):
            await _route(http, DOWN, resolution_budget_s)
            print(f"  (iii) primary down: {down_samples} payments, one at a time", flush=True)
            down = await _through_the_primary(sessions, http, failures, DOWN, down_samples)
        async with _hanging_primary(mesh, sessions):
            await _route(http, PRIMARY, resolution_budget_s)
            print(f"  (i) breaker closed: {closed_samples} payments, one at a time", flush=True)
            closed = await _through_the_primary(sessions, http, failures, PRIMARY, closed_samples)
            await _reset_breakers(sessions)
            print(f"  tripping the breaker: {THRESHOLD} payments at once", flush=True)
            await asyncio.gather(*(_pay(http, failures, PRIMARY) for _ in range(THRESHOLD)))
            state = await _breaker_state(sessions)
            if state != "open":
                raise RuntimeError(f"{PRIMARY}'s breaker is {state!r} after {THRESHOLD} failures")
            print(f"  (ii) breaker open: {open_samples} payments, one at a time", flush=True)
            began = time.perf_counter()
            for _ in range(open_samples):
                paid = await _pay(http, failures, PRIMARY)
                if paid is not None:
                    (probes if paid[1] else skipped).append(paid[0])
            open_seconds = time.perf_counter() - began
    return FailoverFigures(
        deadline_ms=deadline_ms,
        resolution_budget_s=resolution_budget_s,
        closed=spread(closed),
        open_skipped=spread(skipped),
        open_probes=spread(probes),
        open_seconds=open_seconds,
        cool_down_s=COOL_DOWN.total_seconds(),
        down=spread(down),
        failed=failures.count,
        first_error=failures.first,
    )


async def _route(http: httpx.AsyncClient, primary: str, resolution_budget_s: float) -> None:
    routing = {
        "rules": [{"name": "all", "failover": {"processors": [primary, SECONDARY]}}],
        "resolution_budget": f"{resolution_budget_s:g}s",
    }
    response_body(await http.put("/v1/routing", json=routing))


async def _through_the_primary(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    failures: _Failures,
    primary: str,
    samples: int,
) -> list[float]:
    """The times of `samples` payments, one at a time, each trying `primary` first (its breaker
    reset before each, so none skips it)."""
    times: list[float] = []
    for _ in range(samples):
        await _reset_breakers(sessions)
        paid = await _pay(http, failures, primary)
        if paid is not None and paid[1]:
            times.append(paid[0])
        elif paid is not None:
            failures.add(RuntimeError(f"skipped {primary} with its breaker reset"))
    return times


async def _pay(
    http: httpx.AsyncClient, failures: _Failures, primary: str
) -> tuple[float, bool] | None:
    """One payment: its time and whether it tried `primary`, or None when it failed."""
    try:
        elapsed_ms, processors = await asyncio.wait_for(_timed_payment(http), _PAYMENT_TIMEOUT_S)
        if processors not in ([primary, SECONDARY], [SECONDARY]):
            raise RuntimeError(f"unexpected attempts {processors}")
    except Exception as error:  # counted and reported; the run goes on
        failures.add(error)
        return None
    return elapsed_ms, processors[0] == primary


async def _timed_payment(http: httpx.AsyncClient) -> tuple[float, list[str]]:
    """Milliseconds from the pay request to SUCCEEDED, and the processors tried in order."""
    order = response_body(
        await http.post(
            "/v1/orders",
            json={"amount": 4999, "currency": "USD"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    )
    began = time.perf_counter()
    paid = response_body(
        await http.post(
            f"/v1/orders/{order['id']}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    )
    # PayOrder's wait (10 s) outlasts the slow path, so this is only for a loaded machine.
    while paid["status"] in IN_FLIGHT:
        await asyncio.sleep(_POLL_S)
        paid = response_body(await http.get(f"/v1/orders/{order['id']}"))
    elapsed_ms = (time.perf_counter() - began) * 1000
    if paid["status"] != "SUCCEEDED":
        raise RuntimeError(f"order {order['id']} ended {paid['status']}")
    return elapsed_ms, [attempt["processor"] for attempt in paid["attempts"]]


@contextlib.asynccontextmanager
async def _database(mesh: Mesh) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(mesh.env["PAYLOOPS_DATABASE_URL"], pool_size=2)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _primary_deadline_ms(sessions: async_sessionmaker[AsyncSession]) -> int:
    """As registered (`payloops dev` registers each sandbox with the default, 5 s)."""
    async with sessions() as session:
        deadline = await session.scalar(
            select(models.Processor.deadline_ms).where(models.Processor.name == PRIMARY)
        )
    if deadline is None:
        raise RuntimeError(f"no processor {PRIMARY!r} is registered")
    return int(deadline)


@contextlib.asynccontextmanager
async def _down_processor(
    sessions: async_sessionmaker[AsyncSession], deadline_ms: int
) -> AsyncIterator[None]:
    """DOWN registered at a loopback port nothing listens on, for the length of the block."""
    # Bound but never listening: connecting is refused, and no other process can take the port.
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        host, port = reserved.getsockname()
        async with sessions.begin() as session:
            session.add(
                models.Processor(name=DOWN, target=f"{host}:{port}", deadline_ms=deadline_ms)
            )
        try:
            yield
        finally:
            async with sessions.begin() as session:
                await session.execute(delete(models.Processor).where(models.Processor.name == DOWN))
            await _reset_breakers(sessions)


@contextlib.asynccontextmanager
async def _hanging_primary(
    mesh: Mesh, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    target = mesh.env[f"PAYLOOPS_PROCESSOR_{PRIMARY.upper().replace('-', '_')}_TARGET"]
    async with grpc.aio.insecure_channel(target) as channel:
        control = control_pb2_grpc.SandboxControlServiceStub(channel)
        # count 0: every call hangs until the fault is cleared.
        await control.SetFault(
            control_pb2.SetFaultRequest(mode=control_pb2.FAULT_MODE_HANG, count=0), timeout=10
        )
        try:
            yield
        finally:
            await control.SetFault(
                control_pb2.SetFaultRequest(mode=control_pb2.FAULT_MODE_CLEAR), timeout=10
            )
            await _reset_breakers(sessions)


async def _reset_breakers(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(models.ProcessorHealth))


async def _breaker_state(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions() as session:
        state = await session.scalar(
            select(models.ProcessorHealth.state).where(models.ProcessorHealth.processor == PRIMARY)
        )
    return state or "closed"
