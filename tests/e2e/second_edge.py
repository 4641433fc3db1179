"""A second `payloops serve edge` process against a running mesh's database and Temporal, as a
deployment with several edge processes has: what one edge changes, the other must honour."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

from cli.procs import dying_with_this_process
from tests.conftest import PAYLOOPS, REPO, Mesh, free_port


@dataclass(frozen=True)
class SecondEdge:
    # host:port of its gRPC listener (no Envoy in front).
    target: str


@contextlib.contextmanager
def start_second_edge(mesh: Mesh, **extra_env: str) -> Iterator[SecondEdge]:
    port = free_port()
    env = {**os.environ, **mesh.env, **mesh.installation_env(), **extra_env}
    log = (mesh.state_dir / f"second-edge-{port}.log").open("wb")
    process = subprocess.Popen(
        dying_with_this_process([*PAYLOOPS, "serve", "edge", "--port", str(port)]),
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    target = f"127.0.0.1:{port}"
    try:
        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
        yield SecondEdge(target)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
