"""`make profile` / `python -m bench.profile`: where the edge's and the worker's time goes.

Starts the mesh as the bench does (bench/run.py), pays through Envoy in a closed loop (create +
pay, bench/rest.py), and once it is warm records the edge and the worker at the same time with
py-spy for --seconds: flame graphs as SVG in --out (docs/profiles/edge.svg and worker.svg),
without --idle and without --subprocesses (the process itself), aggregated by function
(--function), and with --gil: only samples of a thread holding the GIL, i.e. running Python.
(Without it, py-spy's idle detection lets waits through here: the event loop's epoll, the
thread pools' queues, gRPC's and Temporal's native threads, a third to half of the samples.)
Then prints, for each, the self share of its samples by package, the functions with the
largest self shares, and PayLoops' own functions with the largest total shares, read back
from the SVG (bench/flamegraph.py).

    .venv/bin/python -m bench.profile [--seconds 30] [--concurrency 8] [--out docs/profiles]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.flamegraph import Share, package_of, self_by_package, shares
from bench.load import closed_loop, warm_up
from bench.rest import create_and_pay
from bench.run import MESH_ENV
from tests.conftest import Mesh, start_mesh, stop_mesh_process

PROFILED = ("edge", "worker")
# The packages whose functions are PayLoops' code (cli is only the entry point).
OWN_PACKAGES = frozenset({"core", "edge", "orchestrator", "processors", "vault"})
# The load outlasts the recording by this much, so its last samples are under load too.
LOAD_MARGIN_S = 5.0
PAYMENT_TIMEOUT_S = 60.0


def py_spy() -> str:
    """The venv's py-spy (the `profile` extra), else one on the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy is missing: install the project's `profile` extra")
    return found


def record_argv(pid: int, seconds: float, output: Path, rate: int) -> list[str]:
    """py-spy's command line, run with executable=py_spy(): the SVG's title shows it, and the
    program's name there says no more than which tool made it."""
    return [
        "py-spy",
        "record",
        "--format",
        "flamegraph",
        "--function",
        "--gil",
        "--rate",
        str(rate),
        "--pid",
        str(pid),
        "--duration",
        str(round(seconds)),
        "--output",
        str(output),
    ]


async def record_under_load(mesh: Mesh, args: argparse.Namespace) -> None:
    async with create_and_pay(mesh.api_url, mesh.api_key, args.concurrency) as operation:
        print(f"warming up: {args.concurrency} clients for {args.warmup:g} s", flush=True)
        await warm_up(operation, args.concurrency, args.warmup, PAYMENT_TIMEOUT_S)
        print(f"recording {', '.join(PROFILED)} for {args.seconds:g} s under load", flush=True)
        recorders = [
            await asyncio.create_subprocess_exec(
                *record_argv(mesh.pid_of(name), args.seconds, args.out / f"{name}.svg", args.rate),
                executable=py_spy(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for name in PROFILED
        ]
        load = await closed_loop(
            operation, args.concurrency, args.seconds + LOAD_MARGIN_S, PAYMENT_TIMEOUT_S
        )
        for name, recorder in zip(PROFILED, recorders, strict=True):
            _, stderr = await recorder.communicate()
            if recorder.returncode != 0:
                raise RuntimeError(f"py-spy on the {name} failed: {stderr.decode()[-2000:]}")
    print(
        f"load: {load.completed} payments ({load.per_second:.1f}/s), {load.failed} failed",
        flush=True,
    )


def report(out: Path, count: int) -> None:
    for name in PROFILED:
        path = out / f"{name}.svg"
        found = shares(path.read_text())
        print(f"\n{name} ({path}): self share by package")
        for package, share in self_by_package(found)[:count]:
            print(f"{share * 100:>8.1f}  {package}")
        print(f"{name}: top {count} functions by self share")
        _print_shares(found[:count])
        own = [share for share in found if package_of(share.name) in OWN_PACKAGES]
        print(f"{name}: top {count} of PayLoops' own functions by total share")
        _print_shares(sorted(own, key=lambda share: -share.total_share)[:count])


def _print_shares(found: list[Share]) -> None:
    print(f"{'self %':>8}{'total %':>9}  function")
    for share in found:
        print(f"{share.self_share * 100:>8.1f}{share.total_share * 100:>9.1f}  {share.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="recorded (30 s)")
    parser.add_argument("--warmup", type=float, default=5.0, help="load before recording (5 s)")
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop clients (8)")
    parser.add_argument("--rate", type=int, default=100, help="samples per second (100)")
    parser.add_argument("--top", type=int, default=15, help="functions listed per table (15)")
    parser.add_argument("--out", type=Path, default=Path("docs/profiles"), help="where the SVGs go")
    args = parser.parse_args(argv)
    if args.seconds < 1:
        parser.error("--seconds must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)", flush=True)
    mesh = start_mesh(extra_env=MESH_ENV)
    try:
        asyncio.run(record_under_load(mesh, args))
    finally:
        stop_mesh_process(mesh.process, mesh.state_dir)
        shutil.rmtree(mesh.state_dir, ignore_errors=True)
    report(args.out, args.top)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
