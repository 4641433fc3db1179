"""The scale benchmark's smoke run: on the compose twin, all four configurations are measured
and the table has a row for each, and a CPU row for each component; the figures themselves are
the bench's to report (docs/benchmarks.md, docs/deploy.md)."""

from __future__ import annotations

import pytest

from bench import scale

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

LABELS = ["1 edge, 1 worker", "1 edge, 2 workers", "2 edges, 1 worker", "2 edges, 2 workers"]


def test_the_bench_measures_every_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert scale.main(["--quick"]) == 0
    lines = capsys.readouterr().out.splitlines()
    configurations = [line for line in lines if line.startswith(tuple(LABELS))]
    assert [line[:20].strip() for line in configurations] == LABELS
    for line in configurations:
        payments_per_s, p50_ms, failed = line[20:].split()
        assert float(payments_per_s) > 0 and float(p50_ms) > 0 and failed == "0", line
    components = {
        line[:16].strip(): line[16:]
        for line in lines[
            lines.index("CPU per payment in ms (cores busy during the closed-loop run)") + 2 :
        ]
        if line[:16].strip() in (*scale.COMPONENTS, "total")
    }
    assert list(components) == [*scale.COMPONENTS, "total"]
    for component, cells in components.items():
        # One figure per configuration, each a CPU time per payment and the cores it kept busy.
        assert cells.count("(") == len(LABELS), component
    total_ms = [float(cell.split("(")[0]) for cell in components["total"].split(")")[:-1]]
    assert all(ms > 0 for ms in total_ms)
