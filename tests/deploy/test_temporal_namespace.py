"""docker-compose.yml's temporal-namespace job, run for real: deploy/temporal/create-namespace.sh
with the Temporal CLI against a Temporal dev server on loopback (the compose twin does not run
the job; it registers the same attributes on its dev server). It makes the namespace and
registers exactly the payment workflow's search attributes (core.contracts.search_attributes),
and runs again without failing (a `docker compose up` after the first)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from cli import probes
from cli.binaries import find_binary
from cli.procs import dying_with_this_process
from core.contracts import search_attributes
from tests.conftest import free_port
from tests.deploy.compose import REPO

SCRIPT = REPO / "deploy" / "temporal" / "create-namespace.sh"
STARTUP_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A bare dev server: nothing registered but Temporal's own attributes."""
    binary = find_binary("temporal")
    grpc_port, http_port, metrics_port = (free_port() for _ in range(3))
    address = f"127.0.0.1:{grpc_port}"
    argv = [str(binary), "server", "start-dev", "--ip", "127.0.0.1", "--headless"]
    argv += ["--port", str(grpc_port), "--http-port", str(http_port)]
    argv += ["--metrics-port", str(metrics_port), "--log-level", "warn"]
    argv += ["--db-filename", str(tmp_path_factory.mktemp("temporal") / "temporal.db")]
    server = subprocess.Popen(
        dying_with_this_process(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not probes.grpc_serving(address, probes.TEMPORAL_SERVICE):
            assert server.poll() is None, "the Temporal dev server exited"
            assert time.monotonic() < deadline, "the Temporal dev server did not start"
            time.sleep(0.5)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_job(address: str, namespace: str) -> subprocess.CompletedProcess[str]:
    """The script as the job runs it: sh, TEMPORAL_ADDRESS, and the CLI on the PATH."""
    cli_dir = Path(find_binary("temporal")).parent
    env = {
        "PATH": f"{cli_dir}{os.pathsep}{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": address,
        "PAYLOOPS_TEMPORAL_NAMESPACE": namespace,
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=180
    )


async def payloops_attributes(address: str, namespace: str) -> dict[str, int]:
    client = await Client.connect(address, namespace=namespace)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return {
        name: kind for name, kind in listed.custom_attributes.items() if name.startswith("PayLoops")
    }


def test_the_namespace_job_registers_the_payment_search_attributes_and_runs_again(
    temporal_address: str,
) -> None:
    namespace = f"payloops-{uuid.uuid4().hex[:8]}"
    for run in ("first", "again"):
        done = run_job(temporal_address, namespace)
        assert done.returncode == 0, (run, done.stdout, done.stderr)
        assert f"namespace {namespace} ready" in done.stdout, (run, done.stdout)
    registered = asyncio.run(payloops_attributes(temporal_address, namespace))
    assert registered == {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in search_attributes.ALL
    }
