"""Reading a py-spy flame graph back (bench/flamegraph.py, what `make profile` prints): on a
real recording of a process whose time is known to go to one function, called from another."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.flamegraph import package_of, self_by_package, shares
from bench.profile import py_spy, record_argv

pytestmark = pytest.mark.slow

BUSY = """
import time

def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(1000))

def outer():
    spin(0.5)
    spin(0.5)

start = time.monotonic()
while time.monotonic() - start < 20:
    outer()
"""


def test_self_and_total_shares_come_from_the_recorded_stacks(tmp_path: Path) -> None:
    script = tmp_path / "busy.py"
    script.write_text(BUSY)
    busy = subprocess.Popen([sys.executable, str(script)])
    try:
        time.sleep(0.5)
        svg = tmp_path / "busy.svg"
        subprocess.run(
            record_argv(busy.pid, 2, svg, 100),
            executable=py_spy(),
            check=True,
            capture_output=True,
        )
    finally:
        busy.kill()
        busy.wait()
    found = {share.name.split(" (")[0]: share for share in shares(svg.read_text())}
    # Every sample is in outer, under it in spin, and nearly all of spin's time is its own.
    assert found["outer"].total_share == pytest.approx(1.0, abs=0.02)
    assert found["outer"].self_share < 0.05
    assert found["spin"].total_share == pytest.approx(1.0, abs=0.02)
    assert found["spin"].self_share > 0.5
    assert sum(share.self_share for share in found.values()) == pytest.approx(1.0, abs=0.01)
    assert package_of(next(s.name for s in shares(svg.read_text()) if "spin" in s.name)) == "busy"
    assert self_by_package(list(found.values()))[0][0] == "busy"
