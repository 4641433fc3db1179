"""(m) Memory over many payments: a leak check, printed, not a test.

Payments through Envoy (bench/rest.py, as (c)) in a closed loop until half of `payments` are
done, then until all are: each component's resident size (bench/proc_memory.py) is read at both
points, and the growth between them is what a leak would show (a component that only warms up,
caches filling, grows in the first half). The CPU each component spends over the second half,
per payment, is read too: thousands of payments, so no run's edges weigh on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.components import (
    COMPONENTS,
    LOAD_GENERATOR,
    CpuRun,
    own_cpu_line,
    read_cpu,
    read_resident,
)
from bench.load import Throughput, closed_loop
from bench.proc_memory import Resident
from bench.rest import create_and_pay

MIB = 1024 * 1024
# Growth over the second half above this share of a component's size is reported as growth;
# below it, a garbage collector's and an allocator's ordinary swings.
GROWTH_TOLERANCE = 0.05


@dataclass(frozen=True)
class MemoryFigures:
    half: int
    payments: int
    rss_half: dict[str, Resident]
    rss_end: dict[str, Resident]
    first: Throughput
    second: Throughput
    # CPU ms per payment over the second half, per component (and the load generator).
    cpu_ms: dict[str, float]

    def growth(self, name: str) -> int:
        return self.rss_end[name].rss - self.rss_half[name].rss

    def shared_growth(self, name: str) -> int:
        return self.rss_end[name].shmem - self.rss_half[name].shmem

    def grew(self) -> list[str]:
        """The components whose memory other than shared memory grew beyond the tolerance."""
        return [
            name
            for name in COMPONENTS
            if self.growth(name) - self.shared_growth(name)
            > GROWTH_TOLERANCE * max(1, self.rss_half[name].rss - self.rss_half[name].shmem)
        ]


async def measure_memory(
    api_url: str,
    api_key: str,
    state_dir: Path,
    payments: int,
    concurrency: int,
    op_timeout_s: float,
) -> MemoryFigures:
    half = payments // 2
    async with create_and_pay(api_url, api_key, concurrency) as operation:
        print(f"(m) memory: {half} payments, {concurrency} clients", flush=True)
        first = await closed_loop(operation, concurrency, math.inf, op_timeout_s, half)
        rss_half = read_resident(state_dir)
        before = read_cpu(state_dir)
        print(f"(m) memory: {payments - half} payments more", flush=True)
        second = await closed_loop(operation, concurrency, math.inf, op_timeout_s, payments - half)
        after = read_cpu(state_dir)
        rss_end = read_resident(state_dir)
    run = CpuRun(before, after, second.completed)
    cpu_ms = {name: run.spent(name) * 1000 / max(1, second.completed) for name in after.seconds}
    return MemoryFigures(half, payments, rss_half, rss_end, first, second, cpu_ms)


def report_memory(figures: MemoryFigures, write: Callable[[str], None] = print) -> None:
    half, payments = figures.half, figures.payments
    write("")
    write(
        f"(m) resident size (VmRSS, MiB) after {half} and {payments} payments, its growth, the "
        f"growth's shared memory (RssShmem), the rest's growth in percent, and CPU ms per "
        f"payment over the last {payments - half}"
    )
    write(
        f"{'component':16}{f'after {half}':>14}{f'after {payments}':>14}{'growth':>10}"
        f"{'shared':>9}{'other %':>9}{'CPU ms':>9}"
    )
    for name in COMPONENTS:
        before, after = figures.rss_half[name].rss / MIB, figures.rss_end[name].rss / MIB
        shared = figures.shared_growth(name) / MIB
        private_before = (figures.rss_half[name].rss - figures.rss_half[name].shmem) / MIB
        share = (after - before - shared) / private_before * 100 if private_before else 0.0
        write(
            f"{name:16}{before:>14.1f}{after:>14.1f}{after - before:>+10.1f}{shared:>+9.1f}"
            f"{share:>+8.1f}%{figures.cpu_ms[name]:>9.1f}"
        )
    write(f"{LOAD_GENERATOR:16}{'':>56}{figures.cpu_ms[LOAD_GENERATOR]:>9.1f}")
    total_before = sum(r.rss for r in figures.rss_half.values()) / MIB
    total_after = sum(r.rss for r in figures.rss_end.values()) / MIB
    write(
        f"{'total':16}{total_before:>14.1f}{total_after:>14.1f}"
        f"{total_after - total_before:>+10.1f}{'':>18}{sum(figures.cpu_ms.values()):>9.1f}"
    )
    write(own_cpu_line(figures.cpu_ms, f"over the last {payments - half} payments"))
    for label, run in (("first", figures.first), ("second", figures.second)):
        write(
            f"(m) {label} half: {run.completed} payments in {run.seconds:.1f} s "
            f"({run.per_second:.1f}/s), {run.failed} failed"
            + (f"; first failure: {run.first_error}" if run.first_error else "")
        )
    grew = figures.grew()
    write(
        "(m) leak check: "
        + (
            "GREW: "
            + ", ".join(
                f"{name} {(figures.growth(name) - figures.shared_growth(name)) / MIB:+.1f} MiB"
                for name in grew
            )
            if grew
            else f"no component's memory other than shared memory grew by more than "
            f"{GROWTH_TOLERANCE:.0%} over the second half"
        )
    )
