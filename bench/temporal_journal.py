"""The local Temporal server's history file: the default rollback journal against write-ahead
logging with synchronous=normal (cli/dev_services.py TEMPORAL_SQLITE_PRAGMAS, what `payloops dev`
runs). Two dev servers side by side, each with its own file, the same dynamic config and the
same floor workflow (bench/floor.py: start, one activity, result); the runs alternate between
them in rounds, so the machine's noise falls on both alike. Prints, per server, the latency of
sequential workflows (p50, p95) and the server's CPU per workflow, read from /proc.

    .venv/bin/python -m bench.temporal_journal [--workflows 300] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.floor import floor_workflow
from bench.load import Operation
from cli import probes
from cli.binaries import find_binary
from cli.dev_services import TEMPORAL_SQLITE_PRAGMAS, TemporalPorts, temporal_argv
from cli.ports import free_port
from cli.procs import dying_with_this_process

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    label: str
    pid: int
    operation: Operation | None = None
    latencies_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, from /proc/<pid>/stat (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextlib.contextmanager
def dev_server(workdir: Path, label: str, pragmas: Sequence[str]) -> Iterator[tuple[int, str]]:
    ports = TemporalPorts(grpc=free_port(), http=free_port(), metrics=free_port())
    argv = temporal_argv(find_binary("temporal"), workdir / f"{label}.db", ports, pragmas)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with (workdir / f"{label}.log").open("wb") as log:
        process = subprocess.Popen(
            dying_with_this_process(argv), env=env, stdout=log, stderr=subprocess.STDOUT
        )
    target = f"127.0.0.1:{ports.grpc}"
    try:
        deadline = time.monotonic() + 60
        while not probes.grpc_serving(target, probes.TEMPORAL_SERVICE):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {label} server did not start: see {workdir}")
            time.sleep(0.2)
        # The wrapper execs the server: the pid is the server's.
        yield process.pid, target
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.asynccontextmanager
async def servers(workdir: Path) -> AsyncIterator[list[Server]]:
    configurations = {"rollback journal": (), "WAL, synchronous=normal": TEMPORAL_SQLITE_PRAGMAS}
    with contextlib.ExitStack() as stack:
        found = []
        async with contextlib.AsyncExitStack() as workers:
            for label, pragmas in configurations.items():
                pid, target = stack.enter_context(
                    dev_server(workdir, label.split(",")[0].replace(" ", "-"), pragmas)
                )
                server = Server(label, pid)
                server.operation = await workers.enter_async_context(
                    floor_workflow(target, "default")
                )
                found.append(server)
            yield found


async def measure(args: argparse.Namespace) -> list[Server]:
    workdir = Path(tempfile.mkdtemp(prefix="pl-bench-journal-", dir="/tmp"))
    try:
        async with servers(workdir) as found:
            for server in found:  # warm-up, unmeasured
                assert server.operation is not None
                for _ in range(10):
                    await server.operation()
            per_round = max(1, args.workflows // args.rounds)
            for _ in range(args.rounds):
                for server in found:
                    assert server.operation is not None
                    before = cpu_seconds(server.pid)
                    for _ in range(per_round):
                        started = time.perf_counter()
                        await server.operation()
                        server.latencies_ms.append((time.perf_counter() - started) * 1000)
                    server.cpu_seconds += cpu_seconds(server.pid) - before
            return found
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(found: list[Server]) -> None:
    print(f"{'history file':<26} {'workflows':>9} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms/wf':>10}")
    for server in found:
        latencies = sorted(server.latencies_ms)
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        cpu_ms = server.cpu_seconds * 1000 / len(latencies)
        print(
            f"{server.label:<26} {len(latencies):>9} {statistics.median(latencies):>8.1f} "
            f"{p95:>8.1f} {cpu_ms:>10.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.temporal_journal", description=__doc__)
    parser.add_argument("--workflows", type=int, default=300, help="per server (default 300)")
    parser.add_argument("--rounds", type=int, default=6, help="alternations (default 6)")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    report(asyncio.run(measure(args)))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
