"""The CPU a process tree has spent, from the kernel's own counters in /proc.

A component is one or more root processes and everything below them: PostgreSQL forks a
backend per connection, and a backend that exits during a run hands its CPU to the
postmaster's cutime/cstime when reaped. So a tree's CPU is, for each live process in it,
utime + stime + cutime + cstime (its own and its reaped children's); taken before and after a
run, the difference is what the component spent in it, whoever was born or died meanwhile
(a process that exits unreaped between the readings is the only thing lost).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return text.rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_pids(roots: Iterable[int]) -> list[int]:
    """The roots that are alive and all their live descendants."""
    children = _children()
    found: list[int] = []
    pending = list(roots)
    seen: set[int] = set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if Path(f"/proc/{pid}").exists():
            found.append(pid)
            pending += children.get(pid, [])
    return found


def tree_cpu_seconds(roots: Iterable[int]) -> float:
    """utime + stime + cutime + cstime over the roots and all their live descendants."""
    total_ticks = 0
    for pid in tree_pids(roots):
        # Fields 14-17 of /proc/<pid>/stat; index 0 here is field 3.
        if (fields := _stat_fields(pid)) is not None:
            total_ticks += sum(int(value) for value in fields[11:15])
    return total_ticks / CLOCK_TICKS
