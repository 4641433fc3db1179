"""The memory a process tree holds: the sum of its processes' resident sizes (VmRSS in
/proc/<pid>/status). Pages shared between processes of the tree (PostgreSQL's shared buffers,
touched by every backend) count once per process that maps them: a component's figure is an
upper bound of its footprint, and what it is for, growth over a run, is read the same way each
time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bench.proc_cpu import tree_pids


def rss_bytes(pid: int) -> int:
    """VmRSS of one process; 0 once it has exited (or for a zombie, which holds none)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            kilobytes = int(line.split()[1])
            return kilobytes * 1024
    return 0


def tree_rss_bytes(roots: Iterable[int]) -> int:
    """VmRSS summed over the roots and all their live descendants."""
    return sum(rss_bytes(pid) for pid in tree_pids(roots))
