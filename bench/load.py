"""Two ways to load a system, both bounded in time and in the number of operations:

* closed loop: N clients, each sends its next operation when the previous one returns, for a
  fixed duration (or until a number of operations has been started). The rate they reach is
  the throughput at saturation.
* open loop: operations start on a fixed schedule (R per second) whatever the latency, so a slow
  reply cannot slow the arrivals down. Latency is measured from the scheduled start, so a
  load generator that falls behind shows up in the figures instead of hiding.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

Operation = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Throughput:
    concurrency: int
    completed: int
    failed: int
    seconds: float
    p50_ms: float
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Latency:
    rate: float
    completed: int
    failed: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    first_error: str = ""


@dataclass
class _Tally:
    latencies_ms: list[float]
    failures: int = 0
    first_error: str = ""

    def fail(self, error: BaseException) -> None:
        self.failures += 1
        self.first_error = self.first_error or f"{type(error).__name__}: {error}"


async def closed_loop(
    operation: Operation,
    concurrency: int,
    seconds: float,
    op_timeout_s: float,
    max_operations: int | None = None,
) -> Throughput:
    """`seconds` may be math.inf when `max_operations` bounds the run."""
    tally = _Tally([])
    start = time.perf_counter()
    deadline = start + seconds
    unstarted = math.inf if max_operations is None else max_operations

    def another() -> bool:
        nonlocal unstarted
        if unstarted <= 0 or time.perf_counter() >= deadline:
            return False
        unstarted -= 1
        return True

    async def client() -> None:
        while another():
            began = time.perf_counter()
            try:
                await asyncio.wait_for(operation(), op_timeout_s)
            except Exception as error:  # a failed operation is counted, not fatal
                tally.fail(error)
                continue
            tally.latencies_ms.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    # Includes the tail: operations started before the deadline are waited for and counted.
    elapsed = time.perf_counter() - start
    _raise_if_all_failed(tally)
    return Throughput(
        concurrency=concurrency,
        completed=len(tally.latencies_ms),
        failed=tally.failures,
        seconds=elapsed,
        p50_ms=_percentile(tally.latencies_ms, 50),
        first_error=tally.first_error,
    )


async def open_loops_in_turns(
    operations: Sequence[tuple[Operation, float]], rate: float, samples: int, blocks: int
) -> list[Latency]:
    """Open loops of several operations (each with its timeout) at one rate, `samples` each,
    taken in turns in `blocks` blocks (a, b, c, a, b, c, ...) rather than one whole run after
    the other: the slow drift of a shared machine (other work, the database growing) then
    weighs on every operation alike, and their difference is their own."""
    tallies = [_Tally([]) for _ in operations]
    for block in range(blocks):
        count = samples // blocks + (1 if block < samples % blocks else 0)
        for (operation, op_timeout_s), tally in zip(operations, tallies, strict=True):
            if count:
                await _on_schedule(tally, operation, rate, count, op_timeout_s)
    return [_latency(rate, tally) for tally in tallies]


async def _on_schedule(
    tally: _Tally, operation: Operation, rate: float, count: int, op_timeout_s: float
) -> None:
    start = time.perf_counter()

    async def one(scheduled: float) -> None:
        try:
            await asyncio.wait_for(operation(), op_timeout_s)
        except Exception as error:
            tally.fail(error)
            return
        tally.latencies_ms.append((time.perf_counter() - scheduled) * 1000)

    tasks = []
    for i in range(count):
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)


def _latency(rate: float, tally: _Tally) -> Latency:
    _raise_if_all_failed(tally)
    return Latency(
        rate=rate,
        completed=len(tally.latencies_ms),
        failed=tally.failures,
        p50_ms=_percentile(tally.latencies_ms, 50),
        p99_ms=_percentile(tally.latencies_ms, 99),
        max_ms=max(tally.latencies_ms),
        first_error=tally.first_error,
    )


async def warm_up(
    operation: Operation, concurrency: int, seconds: float, op_timeout_s: float
) -> None:
    """Connections, caches and the workflow sandbox warmed; nothing is measured, and failures
    here are left for the measured run to report."""
    if seconds > 0:
        with contextlib.suppress(RuntimeError):
            await closed_loop(operation, concurrency, seconds, op_timeout_s)


@dataclass(frozen=True)
class Spread:
    """A set of timings in milliseconds, for measurements that are not a load run."""

    count: int
    mean_ms: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def spread(values_ms: list[float]) -> Spread:
    """With few values p99 is interpolated between the two largest, so it sits near the max."""
    if not values_ms:
        return Spread(0, 0.0, 0.0, 0.0, 0.0)
    return Spread(
        count=len(values_ms),
        mean_ms=statistics.fmean(values_ms),
        p50_ms=_percentile(values_ms, 50),
        p99_ms=_percentile(values_ms, 99),
        max_ms=max(values_ms),
    )


def _percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _raise_if_all_failed(tally: _Tally) -> None:
    if not tally.latencies_ms:
        raise RuntimeError(f"every operation failed ({tally.failures}); first: {tally.first_error}")
