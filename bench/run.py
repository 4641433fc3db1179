"""`make bench` / `python -m bench.run [--quick]`: one run, one machine, seven measurements.

  (a) the sandbox processor's Authorize, directly over gRPC;
  (b) the floors, three Temporal workflows on the mesh's Temporal server (bench/floor.py):
      (b1) one activity, (b2) one local activity, (b3) update-with-start whose update waits
      for one local activity (a payment's shape, stripped);
  (c) a payment through the platform: create + pay over Envoy REST;
  (m) memory: each component's resident size after half of --payments payments and after all
      of them, and the growth between (bench/memory.py);
  (r) the routing decision per payment: the pure engine, and the routing activity with its
      database work;
  (f) failover: time to success when the primary processor hangs, with its circuit breaker
      closed and open, and when it is down (connection refused);
  (l) the per-key rate limit: a request's p50 with and without the limit applied.

(a)-(c) each get a closed-loop throughput run (N clients for a fixed time), then, once all
are known, an open-loop latency run at one moderate rate for all (a quarter of the slowest
throughput, at most 10/s, unless --rate says otherwise). Around the closed-loop runs of (b) and
(c), each component's CPU is read from /proc (bench/components.py): a shorter run before the
timed one, the two differenced, gives CPU ms per operation. Then (c) is compared with the
floors: its p50 within 10 ms of (b3)'s and at most 45 ms, its throughput at least 30/s and
0.8 x (b2)'s, PayLoops' own components at most 25 ms of CPU per payment.
(m), (r), (f) and (l) run after them, on the same mesh, and print tables of their own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType

from bench.components import (
    COMPONENTS,
    LOAD_GENERATOR,
    CpuRun,
    floor_view,
    ms_per_operation,
    own_cpu_line,
    own_cpu_ms,
    read_cpu,
)
from bench.failover import FailoverFigures, measure_failover
from bench.floor import FloorShape, floor_workflow
from bench.load import (
    Latency,
    Operation,
    Throughput,
    closed_loop,
    open_loops_in_turns,
    warm_up,
)
from bench.memory import MemoryFigures, measure_memory, report_memory
from bench.processor import authorize, sandbox
from bench.ratelimit import RateLimitCost, measure_rate_limit_cost
from bench.rest import create_and_pay
from bench.routing import RoutingRow, measure_activity, measure_engine
from core.config import Settings
from tests.conftest import Mesh, free_port, start_mesh, stop_mesh_process

# (c)'s targets against the floors: p50 at most P50_GAP_TARGET_MS above (b3)'s and at most
# P50_TARGET_MS; throughput at least THROUGHPUT_TARGET/s and THROUGHPUT_SHARE_TARGET x (b2)'s;
# PayLoops' own components (bench/components.py OWN) at most OWN_CPU_TARGET_MS per payment.
P50_GAP_TARGET_MS = 10.0
P50_TARGET_MS = 45.0
THROUGHPUT_TARGET = 30.0
THROUGHPUT_SHARE_TARGET = 0.8
OWN_CPU_TARGET_MS = 25.0
# The CPU run before each timed closed loop lasts this share of it (bench/components.py).
SHORT_RUN_SHARE = 1 / 3
AUTO_RATE_SHARE = 0.25
MAX_AUTO_RATE = 10.0
SETTLE_S = 3.0
# The latency runs take turns in this many blocks each, so that drift weighs on all alike.
LATENCY_BLOCKS = 5
# The tests shorten PayOrder's wait to exercise it; the bench measures the platform as shipped.
MESH_ENV = {"PAYLOOPS_PAY_WAIT_SECONDS": str(Settings(database_url="").pay_wait_seconds)}
LETTERS = "abcmrfl"
MESH_LETTERS = "bcmrfl"
FLOORS = (
    ("b1", FloorShape.ACTIVITY),
    ("b2", FloorShape.LOCAL_ACTIVITY),
    ("b3", FloorShape.UPDATE_WITH_START),
)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    concurrency: int
    timeout: float
    operation: Callable[[], AbstractAsyncContextManager[Operation]]
    # A floor's client and worker run in the bench process (bench/components.py floor_view).
    floor: bool = False


@dataclass(frozen=True)
class Result:
    key: str
    title: str
    throughput: Throughput
    latency: Latency
    # CPU ms per operation of each component (bench/components.py); empty for (a).
    cpu_ms: dict[str, float]


@dataclass(frozen=True)
class Figures:
    results: list[Result]
    # The open-loop rate of (a)-(c); 0 when none of them ran.
    rate: float
    memory: MemoryFigures | None
    routing: list[RoutingRow]
    failover: FailoverFigures | None
    rate_limit: RateLimitCost | None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short runs (3 s throughput, 20 latency samples, 200 payments for (m)) for a "
        "smoke test",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of each closed-loop throughput run (default 10; (b) and (c) are preceded "
        f"by one {SHORT_RUN_SHARE:.2g} as long, their CPU differenced)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="operations/s of the open-loop latency runs, the same for all "
        f"(default: {AUTO_RATE_SHARE * 100:.0f} percent of the lowest throughput "
        f"measured, at most {MAX_AUTO_RATE:g}/s)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=100,
        help="operations in each open-loop latency run (default 100)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of unmeasured load before each run (default 2)",
    )
    parser.add_argument(
        "--processor-concurrency",
        type=int,
        default=16,
        help="closed-loop clients for (a) (default 16)",
    )
    parser.add_argument(
        "--temporal-concurrency",
        type=int,
        default=32,
        help="closed-loop clients for each of (b1)-(b3) (default 32)",
    )
    parser.add_argument(
        "--rest-concurrency", type=int, default=32, help="closed-loop clients for (c) (default 32)"
    )
    parser.add_argument(
        "--payments",
        type=int,
        default=10_000,
        help="(m) payments made, with the rest-concurrency's clients; resident sizes are read "
        "after half of them and after all (default 10000)",
    )
    parser.add_argument(
        "--routing-iterations",
        type=int,
        default=20_000,
        help="(r) decisions timed per mode in the pure engine (default 20000)",
    )
    parser.add_argument(
        "--routing-calls",
        type=int,
        default=200,
        help="(r) route_payment activity calls per mode against PostgreSQL (default 200)",
    )
    parser.add_argument(
        "--failover-samples",
        type=int,
        default=10,
        help="(f) payments with the primary's breaker closed, each about its deadline + the "
        "resolution budget long (default 10)",
    )
    parser.add_argument(
        "--breaker-open-samples",
        type=int,
        default=60,
        help="(f) payments once the primary's breaker is open, enough to span a cool-down or "
        "two (default 60)",
    )
    parser.add_argument(
        "--down-samples",
        type=int,
        default=20,
        help="(f) payments with the primary down (connection refused), its breaker reset before "
        "each (default 20)",
    )
    parser.add_argument(
        "--resolution-budget",
        type=float,
        default=1.0,
        help="(f) the merchant's resolution budget, seconds, at least 1 (default 1)",
    )
    parser.add_argument(
        "--only",
        default=LETTERS,
        help=f"which measurements to run, such as 'a' or 'bc' or 'fr' (default {LETTERS})",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--keep-state",
        action="store_true",
        help="keep the mesh's state dir (its logs explain failures)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a (c)-vs-(b) target is missed"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.samples, args.warmup, args.payments = 3.0, 20, 1.0, 200
        args.routing_iterations, args.routing_calls = 5_000, 50
        args.failover_samples, args.breaker_open_samples, args.down_samples = 3, 20, 5
    if not args.only or not set(args.only) <= set(LETTERS):
        parser.error(f"--only takes letters from '{LETTERS}'")
    if (args.rate is not None and args.rate <= 0) or args.samples < 2 or args.duration <= 0:
        parser.error("--rate, --samples and --duration must be positive (samples >= 2)")
    counts = (
        args.routing_iterations,
        args.routing_calls,
        args.failover_samples,
        args.breaker_open_samples,
        args.down_samples,
    )
    if min(counts) < 1 or args.payments < 2 or args.resolution_budget < 1:
        parser.error(
            "(r) and (f) counts must be positive, --payments at least 2 and "
            "--resolution-budget at least 1"
        )
    return args


def scenarios(args: argparse.Namespace, mesh: Mesh | None, workdir: Path) -> list[Scenario]:
    found = []
    if "a" in args.only:

        @contextlib.asynccontextmanager
        async def processor() -> AsyncIterator[Operation]:
            async with (
                sandbox(free_port(), free_port(), workdir / "sandbox.log") as target,
                authorize(target) as operation,
            ):
                yield operation

        found.append(
            Scenario("a", "(a) sandbox Authorize, gRPC", args.processor_concurrency, 5.0, processor)
        )
    if mesh is not None and "b" in args.only:
        address = mesh.env["PAYLOOPS_TEMPORAL_ADDRESS"]
        namespace = mesh.env.get("PAYLOOPS_TEMPORAL_NAMESPACE", "default")
        for key, shape in FLOORS:
            found.append(
                Scenario(
                    key,
                    f"({key}) floor: {shape.value}",
                    args.temporal_concurrency,
                    30.0,
                    functools.partial(floor_workflow, address, namespace, shape),
                    floor=True,
                )
            )
    if mesh is not None and "c" in args.only:
        found.append(
            Scenario(
                "c",
                "(c) create+pay via Envoy REST",
                args.rest_concurrency,
                60.0,
                lambda: create_and_pay(mesh.api_url, mesh.api_key, args.rest_concurrency),
            )
        )
    return found


async def measure_throughput(
    scenario: Scenario, args: argparse.Namespace, state_dir: Path | None
) -> tuple[Throughput, dict[str, float]]:
    """The closed-loop throughput and, on the mesh, each component's CPU ms per operation."""
    print(
        f"{scenario.title}: throughput, {scenario.concurrency} clients for {args.duration:g} s",
        flush=True,
    )
    async with scenario.operation() as operation:
        # At the run's concurrency when CPU is read: every run then starts with as many
        # payments' tails (their workflows going on after the answer) as it leaves behind.
        warm_clients = scenario.concurrency if state_dir else min(4, scenario.concurrency)
        await warm_up(operation, warm_clients, args.warmup, scenario.timeout)

        if state_dir is None:
            throughput = await closed_loop(
                operation, scenario.concurrency, args.duration, scenario.timeout
            )
            return throughput, {}
        _, short = await _closed_loop_with_cpu(
            operation, scenario, args.duration * SHORT_RUN_SHARE, state_dir
        )
        throughput, long = await _closed_loop_with_cpu(
            operation, scenario, args.duration, state_dir
        )
        cpu_ms = ms_per_operation(short, long)
        return throughput, floor_view(cpu_ms) if scenario.floor else cpu_ms


async def _closed_loop_with_cpu(
    operation: Operation, scenario: Scenario, seconds: float, state_dir: Path
) -> tuple[Throughput, CpuRun]:
    before = read_cpu(state_dir)
    throughput = await closed_loop(operation, scenario.concurrency, seconds, scenario.timeout)
    return throughput, CpuRun(before, read_cpu(state_dir), throughput.completed)


async def measure_latencies(
    chosen: list[Scenario], rate: float, args: argparse.Namespace
) -> list[Latency]:
    """Every scenario's open loop at one rate, in turns (LATENCY_BLOCKS blocks each)."""
    titles = ", ".join(s.title for s in chosen)
    print(
        f"latency, {args.samples} each at {rate:g}/s, in {LATENCY_BLOCKS} turns: {titles}",
        flush=True,
    )
    async with contextlib.AsyncExitStack() as stack:
        operations = [await stack.enter_async_context(s.operation()) for s in chosen]
        for scenario, operation in zip(chosen, operations, strict=True):
            await warm_up(operation, 1, min(args.warmup, 1.0), scenario.timeout)
        return await open_loops_in_turns(
            [(op, s.timeout) for op, s in zip(operations, chosen, strict=True)],
            rate,
            args.samples,
            LATENCY_BLOCKS,
        )


def latency_rate(throughputs: dict[str, Throughput]) -> float:
    """A moderate rate: far enough below the slowest saturation point that the latency is the
    system's and not its queue's. Two cores shared by the whole mesh saturate early."""
    slowest = min(t.per_second for t in throughputs.values())
    return max(0.5, min(MAX_AUTO_RATE, math.floor(slowest * AUTO_RATE_SHARE * 2) / 2))


async def run_all(args: argparse.Namespace, mesh: Mesh | None, workdir: Path) -> Figures:
    chosen = scenarios(args, mesh, workdir)
    results: list[Result] = []
    rate = 0.0
    if chosen:
        state_dir = mesh.state_dir if mesh is not None else None
        measured = {
            s.key: await measure_throughput(s, args, None if s.key == "a" else state_dir)
            for s in chosen
        }
        throughputs = {key: throughput for key, (throughput, _) in measured.items()}
        rate = args.rate or latency_rate(throughputs)
        # Let the work the saturation runs left behind (workflows finishing) drain first.
        await asyncio.sleep(SETTLE_S)
        latencies = await measure_latencies(chosen, rate, args)
        results = [
            Result(s.key, s.title, throughputs[s.key], latency, measured[s.key][1])
            for s, latency in zip(chosen, latencies, strict=True)
        ]
    memory = None
    if mesh is not None and "m" in args.only:
        # Before (f): its hung primary would slow these payments down.
        memory = await measure_memory(
            mesh.api_url, mesh.api_key, mesh.state_dir, args.payments, args.rest_concurrency, 60.0
        )
    routing: list[RoutingRow] = []
    failover = None
    if mesh is not None and "r" in args.only:
        # Before (f): its payments leave workflows behind that keep asking the hung primary.
        print(f"(r) routing: {args.routing_iterations} engine decisions per mode", flush=True)
        routing = measure_engine(args.routing_iterations)
        print(f"(r) routing: {args.routing_calls} route_payment calls per mode", flush=True)
        routing += await measure_activity(mesh, args.routing_calls)
    if mesh is not None and "f" in args.only:
        print("(f) failover with the primary down, then hanging", flush=True)
        failover = await measure_failover(
            mesh,
            args.failover_samples,
            args.breaker_open_samples,
            args.resolution_budget,
            args.down_samples,
        )
    rate_limit = None
    if mesh is not None and "l" in args.only:
        print(
            f"(l) rate limit: GET /health, {args.samples} each with and without an API key",
            flush=True,
        )
        rate_limit = await measure_rate_limit_cost(mesh.api_url, mesh.api_key, args.samples)
    return Figures(results, rate, memory, routing, failover, rate_limit)


def report(figures: Figures) -> bool:
    """Prints the figures; True when the (c)-vs-(b) targets hold (or cannot be checked)."""
    ok = report_platform(figures.results, figures.rate) if figures.results else True
    if figures.memory is not None:
        report_memory(figures.memory)
    if figures.routing:
        report_routing(figures.routing)
    if figures.failover is not None:
        report_failover(figures.failover)
    if figures.rate_limit is not None:
        report_rate_limit(figures.rate_limit)
    return ok


TITLE_WIDTH = 44


def report_platform(results: list[Result], rate: float) -> bool:
    """(a)-(c), each component's CPU per operation, and (c) against the floors."""
    w = TITLE_WIDTH
    print()
    print(f"{'':{w}}{'throughput (closed loop)':>30}   {f'latency (open loop, {rate:g}/s)':>34}")
    print(
        f"{'measurement':{w}}{'N':>4}{'per s':>10}{'p50 ms':>9}{'failed':>7}   "
        f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'failed':>7}"
    )
    for r in results:
        t, lat = r.throughput, r.latency
        print(
            f"{r.title:{w}}{t.concurrency:>4}{t.per_second:>10.1f}{t.p50_ms:>9.1f}"
            f"{t.failed:>7}   {lat.p50_ms:>9.1f}{lat.p99_ms:>9.1f}{lat.max_ms:>9.1f}"
            f"{lat.failed:>7}"
        )
    for r in results:
        for phase, error in (
            ("throughput", r.throughput.first_error),
            ("latency", r.latency.first_error),
        ):
            if error:
                print(f"  {r.title}, {phase} run, first failure: {error}")
    with_cpu = [r for r in results if r.cpu_ms]
    if with_cpu:
        report_cpu(with_cpu)
    by_key = {r.key: r for r in results}
    if "c" not in by_key:
        return True
    return report_targets(by_key)


def report_cpu(results: list[Result]) -> None:
    """CPU ms per operation, a column per measurement and a row per component."""
    print()
    print(
        f"CPU ms per operation (closed loop: runs of {SHORT_RUN_SHARE:.2g} x and 1 x the "
        "duration, differenced; a floor's worker is the bench process, its client too)"
    )
    print(f"{'component':16}" + "".join(f"{f'({r.key})':>10}" for r in results))
    for name in (*COMPONENTS, LOAD_GENERATOR, "total"):
        cells = []
        for r in results:
            value = sum(r.cpu_ms.values()) if name == "total" else r.cpu_ms.get(name)
            cells.append(f"{'-':>10}" if value is None else f"{value:>10.1f}")
        print(f"{name:16}{''.join(cells)}")
    if payment := next((r for r in results if r.key == "c"), None):
        print(own_cpu_line(payment.cpu_ms, "(c)", OWN_CPU_TARGET_MS))


def report_targets(by_key: dict[str, Result]) -> bool:
    """(c) against the floors: True when every target that could be checked is met."""
    c = by_key["c"]
    checks: list[tuple[str, str, bool]] = []
    if (b3 := by_key.get("b3")) is not None:
        gap = c.latency.p50_ms - b3.latency.p50_ms
        checks.append(
            (
                "(c)-(b3) p50",
                f"{gap:+.1f} ms  (target <= {P50_GAP_TARGET_MS:g} ms",
                gap <= P50_GAP_TARGET_MS,
            )
        )
    checks.append(
        (
            "(c) p50",
            f"{c.latency.p50_ms:.1f} ms  (target <= {P50_TARGET_MS:g} ms",
            c.latency.p50_ms <= P50_TARGET_MS,
        )
    )
    if (b2 := by_key.get("b2")) is not None:
        share = c.throughput.per_second / b2.throughput.per_second
        checks.append(
            (
                "(c)/(b2) throughput",
                f"{share:.2f}  (target >= {THROUGHPUT_SHARE_TARGET:.2f}",
                share >= THROUGHPUT_SHARE_TARGET,
            )
        )
    checks.append(
        (
            "(c) throughput",
            f"{c.throughput.per_second:.1f}/s  (target >= {THROUGHPUT_TARGET:g}/s",
            c.throughput.per_second >= THROUGHPUT_TARGET,
        )
    )
    if c.cpu_ms:
        own = own_cpu_ms(c.cpu_ms)
        checks.append(
            (
                "(c) PayLoops' own CPU",
                f"{own:.1f} ms  (target <= {OWN_CPU_TARGET_MS:g} ms",
                own <= OWN_CPU_TARGET_MS,
            )
        )
    print()
    for label, figure, met in checks:
        print(f"{label + ':':24}{figure}: {'met' if met else 'MISSED'})")
    return all(met for _, _, met in checks)


def report_routing(rows: list[RoutingRow]) -> None:
    print()
    print(
        f"{'(r) routing decision, per payment':40}{'N':>7}{'mean':>11}{'p50':>11}{'p99':>11}"
        f"{'max':>11}"
    )
    for row in rows:
        scale = 1000.0 if row.unit == "us" else 1.0
        t = row.timings
        figures = "".join(
            f"{value * scale:>8.1f} {row.unit}"
            for value in (t.mean_ms, t.p50_ms, t.p99_ms, t.max_ms)
        )
        print(f"{row.title:40}{t.count:>7}{figures}")


def report_failover(f: FailoverFigures) -> None:
    print()
    print(
        f"(f) failover, primary hanging: deadline {f.deadline_ms} ms + resolution budget "
        f"{f.resolution_budget_s:g} s = {f.must_wait_ms:.0f} ms before sandbox-b"
    )
    print(
        f"{'regime (time from pay request to SUCCEEDED)':48}{'N':>4}{'p50 ms':>10}"
        f"{'p99 ms':>10}{'max ms':>10}"
    )
    for title, t in (
        ("(i) breaker closed: tried the primary", f.closed),
        ("(ii) breaker open: skipped the primary", f.open_skipped),
        ("(ii) breaker open: half-open probes", f.open_probes),
        ("(iii) primary down: connection refused", f.down),
    ):
        figures = "".join(
            f"{v:>10.1f}" if t.count else f"{'-':>10}" for v in (t.p50_ms, t.p99_ms, t.max_ms)
        )
        print(f"{title:48}{t.count:>4}{figures}")
    print(f"(i) overhead, p50 - (deadline + budget): {f.overhead_ms:+.1f} ms")
    print(
        f"(ii) {f.open_probes.count} probe(s) in {f.open_seconds:.1f} s with the breaker open "
        f"(cool-down {f.cool_down_s:g} s)"
    )
    print("(iii) nothing was sent to the primary: none of its deadline or the budget is waited")
    if f.failed:
        print(f"  {f.failed} payment(s) failed; first: {f.first_error}")


def report_rate_limit(cost: RateLimitCost) -> None:
    print()
    print(
        f"{'(l) GET /health via Envoy REST, in turns':48}{'N':>5}{'p50 ms':>10}"
        f"{'p99 ms':>10}{'failed':>8}"
    )
    for title, lat in (
        ("with an API key (rate limited per key)", cost.keyed),
        ("without a key (no bucket)", cost.keyless),
    ):
        print(f"{title:48}{lat.completed:>5}{lat.p50_ms:>10.1f}{lat.p99_ms:>10.1f}{lat.failed:>8}")
        if lat.first_error:
            print(f"  first failure: {lat.first_error}")
    print(f"(l) the limit's cost, p50 with - without: {cost.p50_gap_ms:+.1f} ms")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"bench: {os.cpu_count()} CPUs, shared by every process below; load average {_load()}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="pl-bench-", dir="/tmp"))
    mesh = None
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        if set(args.only) & set(MESH_LETTERS):
            print("starting the mesh (payloops dev)…", flush=True)
            with _signals_held():
                mesh = start_mesh(extra_env=MESH_ENV)
        figures = asyncio.run(run_all(args, mesh, workdir))
    finally:
        if mesh is not None:
            stop_mesh_process(mesh.process, mesh.state_dir)
            if args.keep_state:
                print(f"mesh state and logs kept in {mesh.state_dir}")
            else:
                shutil.rmtree(mesh.state_dir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    ok = report(figures)
    print(f"load average at the end: {_load()}")
    if args.json is not None:
        failover = figures.failover
        args.json.write_text(
            json.dumps(
                {
                    "cpus": os.cpu_count(),
                    "load_average_end": os.getloadavg(),
                    "latency_rate": figures.rate,
                    "results": [
                        {**asdict(r), "throughput_per_s": r.throughput.per_second}
                        for r in figures.results
                    ],
                    "memory": None if figures.memory is None else asdict(figures.memory),
                    "routing": [asdict(row) for row in figures.routing],
                    "failover": None
                    if failover is None
                    else {**asdict(failover), "overhead_ms": failover.overhead_ms},
                    "rate_limit": None
                    if figures.rate_limit is None
                    else {
                        **asdict(figures.rate_limit),
                        "p50_gap_ms": figures.rate_limit.p50_gap_ms,
                    },
                },
                indent=2,
            )
            + "\n"
        )
    return 1 if args.strict and not ok else 0


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like an error, so the `finally` that stops the mesh runs."""
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """While the mesh starts there is no handle to stop it yet: SIGINT and SIGTERM wait until
    start_mesh returns, then unwind as usual (and the mesh is stopped)."""
    caught: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, _frame: caught.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            raise SystemExit(128 + caught[0])


def _load() -> str:
    """Other work on the machine skews every figure; the load average shows how much."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal bridge's threads can crash interpreter teardown (sdk-python#300).
    os._exit(code)
