"""`python -m bench.scale [--quick]`: how PayLoops scales out, on the compose twin.

The compose twin (tests/deploy/twin.py) runs docker-compose.yml's services natively with the
file's own commands: two edges behind Envoy, two workers on one task queue, the adapters, the
vault, PostgreSQL and Temporal. A payment is create + pay over Envoy's REST listener
(bench/rest.py). Four configurations, 1 or 2 edges x 1 or 2 workers, each reached by stopping
or starting the extra edge or worker by its pid; a stopped edge is also left out of Envoy's
endpoints (restarted with them), as a stopped container's name stops resolving for STRICT_DNS.

Each configuration gets a warm-up, a closed-loop run (N clients for a fixed time: its
payments/s is the throughput), and an open-loop run at a fixed moderate rate (its p50 is the
latency of an unsaturated system). Around the closed-loop run, the CPU of each component
(utime + stime of its processes and their children, bench/proc_cpu.py) is read: per payment,
and as cores kept busy, the component nearest one core (or the machine's) is the one that
saturates first. The load generator, on the same machine, is shown too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from bench.load import Latency, Throughput, closed_loop, open_loops_in_turns, warm_up
from bench.proc_cpu import tree_cpu_seconds
from bench.rest import create_and_pay
from cli import dashboard_site
from tests.deploy.twin import Twin, bring_up, made_merchant, running_twin

EDGES = ("edge-1", "edge-2")
WORKERS = ("worker-1", "worker-2")
ADAPTERS = ("sandbox", "stripe", "razorpay")
# Measured in this order: one stop or start between neighbours. Printed as (edges, workers).
CONFIGURATIONS = ((2, 2), (2, 1), (1, 1), (1, 2))
COMPONENTS = (
    "Envoy",
    "edges",
    "workers",
    "adapters",
    "vault",
    "PostgreSQL",
    "Temporal",
    "load generator",
)
ENVOY_READY_S = 60.0


@dataclass
class Figures:
    edges: int
    workers: int
    throughput: Throughput
    latency: Latency
    # Component -> CPU seconds spent during the closed-loop run.
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.edges} edge{'s' * (self.edges > 1)}, {self.workers} worker" + (
            "s" * (self.workers > 1)
        )


def _running(twin: Twin, name: str) -> bool:
    return twin.process(name).poll() is None


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def component_pids(twin: Twin) -> dict[str, list[int]]:
    """The running processes of each component (the load generator is read differently)."""

    def pids(names: tuple[str, ...]) -> list[int]:
        return [twin.process(name).pid for name in names if _running(twin, name)]

    assert twin.database is not None
    return {
        "Envoy": pids(("envoy",)),
        "edges": pids(EDGES),
        "workers": pids(WORKERS),
        "adapters": pids(ADAPTERS),
        "vault": pids(("vault",)),
        "PostgreSQL": [twin.database.pid],
        "Temporal": pids(("temporal",)),
    }


@contextmanager
def cpu_spent(twin: Twin) -> Iterator[dict[str, float]]:
    """Yields a dict filled, at the end of the block, with each component's CPU seconds."""
    roots = component_pids(twin)
    before = {name: tree_cpu_seconds(pids) for name, pids in roots.items()}
    own_before = _own_cpu_seconds()
    spent: dict[str, float] = {}
    yield spent
    for name, pids in roots.items():
        spent[name] = tree_cpu_seconds(pids) - before[name]
    spent["load generator"] = _own_cpu_seconds() - own_before


def arrange(twin: Twin, edges: int, workers: int) -> str:
    """Stops or starts the extra edge and worker by pid; returns the API's URL."""
    wanted_by_name = {name: index < workers for index, name in enumerate(WORKERS)}
    wanted_by_name |= {name: index < edges for index, name in enumerate(EDGES)}
    for name, wanted in wanted_by_name.items():
        if wanted and not _running(twin, name):
            twin.start_service(name)
            twin.wait_healthy(name)
        elif not wanted and _running(twin, name):
            twin.stop_service(name)
    twin.stop_service("envoy")
    api_url = twin.start_envoy(absent=frozenset(EDGES[edges:]))
    _wait_for_api(api_url)
    return api_url


def _wait_for_api(api_url: str) -> None:
    deadline = time.monotonic() + ENVOY_READY_S
    while True:
        try:
            if httpx.get(f"{api_url}/health", timeout=5, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "Envoy did not answer /health"
        time.sleep(0.3)


async def measure_one(
    twin: Twin, api_url: str, api_key: str, args: argparse.Namespace, edges: int, workers: int
) -> Figures:
    async with create_and_pay(api_url, api_key, args.concurrency) as operation:
        await warm_up(operation, args.concurrency, args.warmup, args.timeout)
        with cpu_spent(twin) as spent:
            throughput = await closed_loop(operation, args.concurrency, args.seconds, args.timeout)
        [latency] = await open_loops_in_turns(
            [(operation, args.timeout)], args.rate, args.samples, blocks=1
        )
    return Figures(edges, workers, throughput, latency, spent)


def measure(args: argparse.Namespace) -> list[Figures]:
    assert dashboard_site.is_built(), "the dashboard is not built: run `make dashboard`"
    found: list[Figures] = []
    with running_twin() as twin:
        bring_up(twin)
        api_key = made_merchant(twin)["api_key"]
        for edges, workers in CONFIGURATIONS:
            print(f"-- {edges} edge(s), {workers} worker(s)", flush=True)
            api_url = arrange(twin, edges, workers)
            found.append(asyncio.run(measure_one(twin, api_url, api_key, args, edges, workers)))
    return sorted(found, key=lambda figures: (figures.edges, figures.workers))


def report(found: list[Figures], write: Callable[[str], None] = print) -> None:
    write("")
    write(f"{'configuration':<20} {'payments/s':>10} {'p50 ms':>8} {'failed':>7}")
    for figures in found:
        failed = figures.throughput.failed + figures.latency.failed
        write(
            f"{figures.label:<20} {figures.throughput.per_second:>10.2f} "
            f"{figures.latency.p50_ms:>8.1f} {failed:>7}"
        )
    write("")
    write("CPU per payment in ms (cores busy during the closed-loop run)")
    header = "".join(f"{figures.label:>22}" for figures in found)
    write(f"{'component':<16}{header}")
    for component in (*COMPONENTS, "total"):
        cells = []
        for figures in found:
            spent = (
                sum(figures.cpu_s.values()) if component == "total" else figures.cpu_s[component]
            )
            per_payment_ms = spent * 1000 / max(1, figures.throughput.completed)
            busy = spent / figures.throughput.seconds
            cells.append(f"{per_payment_ms:>14.1f} ({busy:>4.2f})")
        write(f"{component:<16}{''.join(cells)}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds per configuration")
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop clients (8)")
    parser.add_argument("--seconds", type=float, default=30.0, help="closed-loop run (30 s)")
    parser.add_argument("--warmup", type=float, default=8.0, help="warm-up (8 s)")
    parser.add_argument("--rate", type=float, default=2.0, help="open-loop payments/s (2)")
    parser.add_argument("--samples", type=int, default=40, help="open-loop payments (40)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per payment (60 s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrency, args.seconds, args.warmup, args.samples = 2, 3.0, 1.0, 4
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)", flush=True)
    found = measure(args)
    report(found)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
