"""The worker's ready file (the compose file's health check for a worker) says that this
process polls: a file left by an earlier process, which a restarted container keeps in its
/tmp, is removed as the worker starts, before it could be mistaken for this one's."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.conftest import PAYLOOPS, REPO, free_port

START_S = 60.0


def test_a_restarted_worker_is_not_ready_before_it_polls(tmp_path: Path) -> None:
    ready = tmp_path / "worker.ready"
    ready.touch()  # left by the process before, killed
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", str(REPO)),
        # Nothing listens there: this worker never polls, so it must never look ready.
        "PAYLOOPS_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "PAYLOOPS_DATABASE_URL": f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none",
        "OTEL_SDK_DISABLED": "true",
    }
    process = subprocess.Popen(
        [*PAYLOOPS, "serve", "worker", "--ready-file", str(ready)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_S
        while ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not ready.exists()
    finally:
        process.terminate()
        process.wait(timeout=30)
