"""The memory a process tree holds: the sum of its processes' resident sizes (VmRSS in
/proc/<pid>/status), and of the part of it that is shared memory (RssShmem). Pages shared
between processes of the tree (PostgreSQL's shared buffers, touched by every backend) count
once per process that maps them: a component's figure is an upper bound of its footprint, and
what it is for, growth over a run, is read the same way each time. Shared memory grows as a
cache fills up to its configured size (PostgreSQL's backends touching more of the shared
buffers); a leak grows the rest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.proc_cpu import tree_pids


@dataclass(frozen=True)
class Resident:
    """Resident bytes, and how many of them are shared memory."""

    rss: int = 0
    shmem: int = 0

    def __add__(self, other: Resident) -> Resident:
        return Resident(self.rss + other.rss, self.shmem + other.shmem)


def resident(pid: int) -> Resident:
    """VmRSS and RssShmem of one process; nothing once it has exited (or for a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return Resident()
    kilobytes = {
        key: int(value.split()[0])
        for key, _, value in (line.partition(":") for line in status.splitlines())
        if key in ("VmRSS", "RssShmem")
    }
    return Resident(kilobytes.get("VmRSS", 0) * 1024, kilobytes.get("RssShmem", 0) * 1024)


def tree_resident(roots: Iterable[int]) -> Resident:
    """Resident bytes summed over the roots and all their live descendants."""
    total = Resident()
    for pid in tree_pids(roots):
        total += resident(pid)
    return total
