"""The mesh's components as the bench accounts for them, and what each spends.

A component is a set of root processes, from the pid files `payloops dev` writes in its state
dir (run/<service>.pid) and PostgreSQL's own postmaster.pid, and everything below them
(bench/proc_cpu.py): PostgreSQL is the postmaster and all its backends. The bench process
itself is the load generator (and, for a floor, the floor's client and worker).

CPU per operation comes from two closed-loop runs of different lengths, back to back: each
run's edges (the work of operations started before it and finished in it, or the reverse: a
payment's workflow goes on after PayOrder answers) are alike in both, so the difference of
the two runs' CPU over the difference of their operations is the cost of one operation in
steady state.
"""

from __future__ import annotations

import resource
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.proc_cpu import tree_cpu_seconds
from bench.proc_memory import Resident, tree_resident

ENVOY, EDGE, WORKER, ADAPTERS, VAULT, POSTGRESQL, TEMPORAL = (
    "Envoy",
    "edge",
    "worker",
    "adapters",
    "vault",
    "PostgreSQL",
    "Temporal",
)
COMPONENTS = (ENVOY, EDGE, WORKER, ADAPTERS, VAULT, POSTGRESQL, TEMPORAL)
LOAD_GENERATOR = "load generator"
# What PayLoops runs or configures itself: everything but Temporal's server and the bench.
OWN = (EDGE, WORKER, ADAPTERS, VAULT, ENVOY, POSTGRESQL)
# run/<name>.pid of each component; the adapters are every processor `payloops dev` serves.
_PID_FILES = {
    ENVOY: ("envoy.pid",),
    EDGE: ("edge.pid",),
    WORKER: ("worker.pid",),
    ADAPTERS: ("sandbox-*.pid", "stripe.pid", "razorpay.pid"),
    VAULT: ("vault.pid",),
    TEMPORAL: ("temporal.pid",),
}


def mesh_components(state_dir: Path) -> dict[str, list[int]]:
    """Each component's root pids, read now: `payloops dev` restarts a child that dies."""
    run = state_dir / "run"
    found = {
        name: sorted(_pid(path) for pattern in patterns for path in run.glob(pattern))
        for name, patterns in _PID_FILES.items()
    }
    found[POSTGRESQL] = [_pid(state_dir / "pgdata" / "postmaster.pid")]
    return {name: found[name] for name in COMPONENTS}


def _pid(path: Path) -> int:
    return int(path.read_text().split()[0])


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuReading:
    """Each component's CPU seconds so far, and the load generator's."""

    seconds: dict[str, float]


def read_cpu(state_dir: Path) -> CpuReading:
    seconds = {name: tree_cpu_seconds(pids) for name, pids in mesh_components(state_dir).items()}
    seconds[LOAD_GENERATOR] = _own_cpu_seconds()
    return CpuReading(seconds)


def read_resident(state_dir: Path) -> dict[str, Resident]:
    """Each component's resident memory now."""
    return {name: tree_resident(pids) for name, pids in mesh_components(state_dir).items()}


@dataclass(frozen=True)
class CpuRun:
    """CPU read around one closed-loop run, and the operations it completed."""

    before: CpuReading
    after: CpuReading
    operations: int

    def spent(self, name: str) -> float:
        return self.after.seconds[name] - self.before.seconds[name]


def ms_per_operation(short: CpuRun, long: CpuRun) -> dict[str, float]:
    """CPU milliseconds per operation of each component, the two runs differenced; from the
    long run alone when the short one completed as many operations (a run too short to tell)."""
    operations = long.operations - short.operations
    if operations <= 0:
        return {
            name: long.spent(name) * 1000 / max(1, long.operations) for name in long.after.seconds
        }
    return {
        name: (long.spent(name) - short.spent(name)) * 1000 / operations
        for name in long.after.seconds
    }


def floor_view(cpu_ms: Mapping[str, float]) -> dict[str, float]:
    """A floor's figures in the payment's rows: the floor's own process (client and worker, the
    bench process) stands where the worker is, and it has no edge; the mesh's idle edge and
    worker are no part of it."""
    view = {name: value for name, value in cpu_ms.items() if name not in (EDGE, WORKER)}
    view[WORKER] = view.pop(LOAD_GENERATOR)
    return view


def own_cpu_ms(cpu_ms: Mapping[str, float]) -> float:
    return sum(cpu_ms[name] for name in OWN)


def own_cpu_line(cpu_ms: Mapping[str, float], where: str, target_ms: float | None = None) -> str:
    """PayLoops' own CPU per payment, as one line with its parts."""
    parts = " + ".join(f"{name} {cpu_ms[name]:.1f}" for name in OWN)
    verdict = ""
    if target_ms is not None:
        met = own_cpu_ms(cpu_ms) <= target_ms
        verdict = f"  (target <= {target_ms:g} ms: {'met' if met else 'MISSED'})"
    return f"PayLoops' own CPU per payment, {where}: {own_cpu_ms(cpu_ms):.1f} ms = {parts}{verdict}"
