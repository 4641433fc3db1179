"""The floors, CPU per component and memory (bench/run.py's (b), (c) and (m)) at a tiny size,
on a mesh of the bench's own: every floor and the payment are measured, the CPU table has a
row for every component with a figure for each of them, the targets are compared, and the
memory table has every component after both halves. The figures themselves are the bench's
to report (docs/benchmarks.md), not a test's."""

from __future__ import annotations

import pytest

from bench import run
from bench.components import COMPONENTS

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

MEASUREMENTS = [
    "(b1) floor: 1 activity",
    "(b2) floor: 1 local activity",
    "(b3) floor: update-with-start, 1 local act.",
    "(c) create+pay via Envoy REST",
]
TARGETS = [
    "(c)-(b3) p50:",
    "(c) p50:",
    "(c)/(b2) throughput:",
    "(c) throughput:",
    "(c) PayLoops' own CPU:",
]


def _rows_after(lines: list[str], header: str, count: int) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(header)) + 1
    return lines[start : start + count]


def test_the_bench_prints_the_floors_cpu_per_component_and_memory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--only", "bcm", "--duration", "2", "--warmup", "0.5", "--samples", "4"]
    argv += ["--temporal-concurrency", "4", "--rest-concurrency", "4", "--payments", "20"]
    assert run.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()

    measured = _rows_after(lines, "measurement", len(MEASUREMENTS))
    assert [line[: run.TITLE_WIDTH].strip() for line in measured] == MEASUREMENTS
    for line in measured:
        # N, per s, p50, failed; then p50, p99, max, failed of the open loop.
        figures = line[run.TITLE_WIDTH :].split()
        assert len(figures) == 8 and float(figures[1]) > 0, line

    cpu_rows = _rows_after(lines, "component ", len(COMPONENTS) + 2)
    assert lines[lines.index(cpu_rows[0]) - 1].split()[1:] == ["(b1)", "(b2)", "(b3)", "(c)"]
    assert [row.split()[0] for row in cpu_rows] == [*COMPONENTS, "load", "total"]
    for row in cpu_rows:
        # The component's name in 16 columns, then one cell per measurement.
        assert len(row[16:].split()) == len(MEASUREMENTS), row
    # A floor has no edge (its client is in its own process) and its worker is that process.
    assert cpu_rows[COMPONENTS.index("edge")].split()[1:4] == ["-", "-", "-"]
    assert float(cpu_rows[-1].split()[-1]) > 0
    assert any(line.startswith("PayLoops' own CPU per payment, (c): ") for line in lines)
    targets = [line.split(":")[0] + ":" for line in lines if line.startswith(tuple(TARGETS))]
    assert targets == TARGETS

    memory = _rows_after(lines, "(m) resident size", len(COMPONENTS) + 3)
    assert memory[0].split()[:5] == ["component", "after", "10", "after", "20"]
    assert [row.split()[0] for row in memory[1:]] == [*COMPONENTS, "load", "total"]
    for row in memory[1 : len(COMPONENTS) + 1]:
        after_half, after_all = (float(value) for value in row.split()[1:3])
        assert after_half > 0 and after_all > 0, row
    assert any(line.startswith("(m) leak check: ") for line in lines)
    halves = [line for line in lines if line.startswith(("(m) first half", "(m) second half"))]
    assert [line.split(":")[1].split()[0] for line in halves] == ["10", "10"]
