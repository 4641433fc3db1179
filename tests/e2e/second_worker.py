"""A `payloops serve worker` process beside a running mesh, on a task queue of its own: a test
can restart it with other settings (codec keys, say) without disturbing the mesh's worker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator

from cli.procs import dying_with_this_process
from tests.conftest import PAYLOOPS, REPO, Mesh


@contextlib.contextmanager
def start_second_worker(mesh: Mesh, task_queue: str, **extra_env: str) -> Iterator[None]:
    ready = mesh.state_dir / f"second-worker-{task_queue}.ready"
    ready.unlink(missing_ok=True)
    env = {
        **os.environ,
        **mesh.env,
        **mesh.installation_env(),
        "PAYLOOPS_TASK_QUEUE": task_queue,
        **extra_env,
    }
    log = (mesh.state_dir / f"second-worker-{task_queue}.log").open("ab")
    process = subprocess.Popen(
        dying_with_this_process([*PAYLOOPS, "serve", "worker", "--ready-file", str(ready)]),
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the second worker did not start (log in {log.name})")
            time.sleep(0.1)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
