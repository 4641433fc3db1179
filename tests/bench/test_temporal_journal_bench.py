"""The journal-mode benchmark's smoke run: both dev servers start, run the floor workflow in
turns and report each; its timings are the bench's to report (docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from bench import temporal_journal

pytestmark = pytest.mark.slow


def test_the_bench_compares_both_history_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert temporal_journal.main(["--workflows", "4", "--rounds", "2"]) == 0
    rows = [
        line.rsplit(maxsplit=4)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith(("rollback journal", "WAL"))
    ]
    assert [row[0] for row in rows] == ["rollback journal", "WAL, synchronous=normal"]
    assert all(row[1] == "4" and float(row[4]) > 0 for row in rows)
