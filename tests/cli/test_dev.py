"""`payloops dev` as a user runs it: fails fast and clearly, brings the mesh up, pays an order
through Envoy, restarts a killed child, leaves nothing running after SIGTERM, and keeps its
secrets owner-only and out of its output."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.procs import dying_with_this_process
from cli.state import StatePaths, read_env

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PAYLOOPS = [sys.executable, "-m", "cli.main"]
READY_LINE = "payloops dev ready"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dev_env(**extra: str) -> dict[str, str]:
    """Our environment minus anything that would point the mesh elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "PAYLOOPS_DATABASE_URL",
            "PAYLOOPS_TEMPORAL_ADDRESS",
            "PAYLOOPS_EDGE_PORT",
            "PAYLOOPS_ENVOY_BIN",
            "PAYLOOPS_TEMPORAL_BIN",
        )
    }
    # Other stacks of this test run are up meanwhile: no fixed ports to race them for.
    return {**env, "PAYLOOPS_DEV_EPHEMERAL_PORTS": "1", **extra}


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Under /tmp, not pytest's tmp_path: PostgreSQL's socket lives in <state>/pgdata and unix
    # socket paths are limited to 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="pl-cli-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_dev(
    state_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PAYLOOPS, "dev", "--state-dir", str(state_dir), *args],
        cwd=REPO,
        env=env or dev_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_port_in_use_fails_fast_with_one_line(state_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        started = time.monotonic()
        result = run_dev(state_dir, "--http-port", str(taken), "--grpc-port", str(free_port()))
    assert time.monotonic() - started < 15
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {taken} (--http-port) is already in use" in lines[0]
    assert not (state_dir / "pgdata").exists()  # nothing was started


@pytest.mark.parametrize("binary", ["envoy", "temporal"])
def test_missing_binary_fails_with_one_line(state_dir: Path, binary: str) -> None:
    env = dev_env(**{f"PAYLOOPS_{binary.upper()}_BIN": "/nonexistent/" + binary})
    result = run_dev(
        state_dir, "--http-port", str(free_port()), "--grpc-port", str(free_port()), env=env
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"`{binary}` binary not found" in lines[0]
    assert not (state_dir / "pgdata").exists()


def test_failure_midway_stops_what_was_started(state_dir: Path) -> None:
    """PostgreSQL and Temporal are up when the edge's port turns out to be taken."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        result = run_dev(
            state_dir,
            "--http-port",
            str(free_port()),
            "--grpc-port",
            str(free_port()),
            env=dev_env(PAYLOOPS_EDGE_PORT=str(taken)),
            timeout=120,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"payloops dev: error: PAYLOOPS_EDGE_PORT={taken} is already in use on 127.0.0.1"
    ], result.stderr
    assert re.search(r"temporal +stopped", result.stdout), result.stdout
    assert not _processes_mentioning(state_dir)
    assert not (state_dir / "pgdata" / "postmaster.pid").exists()  # PostgreSQL stopped
    assert list((state_dir / "run").glob("*.pid")) == []


def _wait_for_line(
    process: subprocess.Popen[bytes], out: Path, pattern: str, timeout: float, occurrence: int = 1
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = out.read_text(errors="replace")
        if len(re.findall(pattern, output)) >= occurrence:
            return output
        assert process.poll() is None, f"payloops dev exited {process.returncode}:\n{output}"
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} within {timeout} s:\n{out.read_text()}")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _processes_mentioning(path: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in cmdline and _alive(int(proc.name)):
            found.append(f"{proc.name}: {cmdline}")
    return found


def test_full_stack_pays_an_order_restarts_a_crash_and_stops_cleanly(state_dir: Path) -> None:
    http_port, grpc_port = free_port(), free_port()
    out = state_dir.parent / f"{state_dir.name}.out"
    with out.open("wb") as log:
        process = subprocess.Popen(
            dying_with_this_process(
                [
                    *PAYLOOPS,
                    "dev",
                    "--state-dir",
                    str(state_dir),
                    "--http-port",
                    str(http_port),
                    "--grpc-port",
                    str(grpc_port),
                ]
            ),
            cwd=REPO,
            env=dev_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_line(process, out, READY_LINE, timeout=180)
        values = read_env(state_dir / "dev.env")
        assert values["PAYLOOPS_API_URL"] == f"http://127.0.0.1:{http_port}"
        assert values["PAYLOOPS_GRPC_TARGET"] == f"127.0.0.1:{grpc_port}"
        for key in (
            "PAYLOOPS_API_KEY",
            "PAYLOOPS_DATABASE_URL",
            "PAYLOOPS_TEMPORAL_ADDRESS",
            "PAYLOOPS_PROCESSOR_SANDBOX_TARGET",
            "PAYLOOPS_SANDBOX_SANDBOX_HTTP",
        ):
            assert values[key], key
        secret_files = StatePaths.at(state_dir).secret_files
        assert {path.name: path.stat().st_mode & 0o777 for path in secret_files} == {
            path.name: 0o600 for path in secret_files
        }
        assert (state_dir / "demo_api_key").read_text().strip() == values["PAYLOOPS_API_KEY"]
        # The log stream says where the key is, not the key (--show-key prints it; see below).
        assert f"API key in {state_dir / 'dev.env'}" in out.read_text()
        assert values["PAYLOOPS_API_KEY"] not in out.read_text()

        headers = {"Authorization": f"Bearer {values['PAYLOOPS_API_KEY']}"}
        with httpx.Client(
            base_url=values["PAYLOOPS_API_URL"], headers=headers, timeout=40, trust_env=False
        ) as api:
            created = api.post("/v1/orders", json={"amount": 4999, "currency": "USD"})
            assert created.status_code == 200, created.text
            order = created.json()
            paid = api.post(
                f"/v1/orders/{order['id']}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            )
            assert paid.status_code == 200, paid.text
            assert paid.json()["status"] == "SUCCEEDED"
            assert api.post("/v1/orders", json={"amount": 5, "currency": "USD"}).is_success
            page_token = api.get("/v1/orders", params={"page_size": 1}).json()["next_page_token"]
            # Authorized now, captured after Temporal has been killed and `payloops dev`
            # restarted: the capture is an update of this payment's workflow, so it succeeds
            # only if the server kept the workflow's history.
            held = api.post(
                "/v1/orders", json={"amount": 700, "currency": "USD", "capture_method": "MANUAL"}
            ).json()
            authorized = api.post(
                f"/v1/orders/{held['id']}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
            )
            assert authorized.json()["status"] == "REQUIRES_CAPTURE", authorized.text

        # A merchant created from another terminal finds the database through dev.env.
        created_merchant = subprocess.run(
            [
                *PAYLOOPS,
                "merchants",
                "create",
                "Other shop",
                "--json",
                "--state-dir",
                str(state_dir),
            ],
            cwd=REPO,
            env=dev_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert created_merchant.stdout.startswith('{"id": "mer_')

        # A crashed worker comes back.
        worker_pid = int((state_dir / "run" / "worker.pid").read_text())
        os.kill(worker_pid, signal.SIGKILL)
        _wait_for_line(process, out, r"worker +ready again", timeout=60)
        assert int((state_dir / "run" / "worker.pid").read_text()) != worker_pid
        # And so does a crashed Temporal server, with its history.
        temporal_pid = int((state_dir / "run" / "temporal.pid").read_text())
        os.kill(temporal_pid, signal.SIGKILL)
        _wait_for_line(process, out, r"temporal +ready again", timeout=90)

        pids = {p.stem: int(p.read_text()) for p in (state_dir / "run").glob("*.pid")}
        assert {"edge", "worker", "envoy", "temporal", "sandbox-sandbox"} <= set(pids)
        postgres_pid = int((state_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        assert all(_alive(pid) for pid in [*pids.values(), postgres_pid])
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            raise

    assert returncode == 0, out.read_text()
    survivors = [f"{name} (pid {pid})" for name, pid in pids.items() if _alive(pid)]
    assert not survivors, survivors
    assert not _alive(postgres_pid)
    assert not _processes_mentioning(state_dir)
    assert list((state_dir / "run").glob("*.pid")) == []
    assert not (state_dir / "dev.env").exists()  # it described a mesh that is gone
    # The history file is in write-ahead-log mode (its header's read and write versions are 2),
    # the setting docs/benchmarks.md measures.
    assert StatePaths.at(state_dir).temporal_db.read_bytes()[18:20] == b"\x02\x02"

    # A secret file someone made readable to others is made owner-only again, and said so.
    (state_dir / "page_token_secret").chmod(0o644)

    # Started again on the same state dir, the order, the demo key and the page token secret
    # are still there; --show-key prints the key.
    with out.open("ab") as log:
        again = subprocess.Popen(
            dying_with_this_process(
                [
                    *PAYLOOPS,
                    "dev",
                    "--state-dir",
                    str(state_dir),
                    "--http-port",
                    str(http_port),
                    "--grpc-port",
                    str(grpc_port),
                    "--show-key",
                ]
            ),
            cwd=REPO,
            env=dev_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        output = _wait_for_line(again, out, READY_LINE, timeout=180, occurrence=2)
        assert read_env(state_dir / "dev.env")["PAYLOOPS_API_KEY"] == values["PAYLOOPS_API_KEY"]
        assert f"API key {values['PAYLOOPS_API_KEY']}" in output.split(READY_LINE)[-1]
        assert f"{state_dir / 'page_token_secret'} was open to other users" in output
        assert (state_dir / "page_token_secret").stat().st_mode & 0o777 == 0o600
        with httpx.Client(
            base_url=values["PAYLOOPS_API_URL"], headers=headers, timeout=40, trust_env=False
        ) as api:
            kept = api.get(f"/v1/orders/{order['id']}")
            next_page = api.get("/v1/orders", params={"page_size": 1, "page_token": page_token})
            captured = api.post(f"/v1/orders/{held['id']}:capture", json={})
            assert captured.status_code == 200, captured.text
            # The restarted worker may take the payment's task only after its old sticky queue
            # times out: the capture then answers before it settles, and settles by itself.
            deadline = time.monotonic() + 60
            while captured.json()["status"] == "REQUIRES_CAPTURE" and time.monotonic() < deadline:
                time.sleep(0.5)
                captured = api.get(f"/v1/orders/{held['id']}")
        assert kept.status_code == 200, kept.text
        assert kept.json()["status"] == "SUCCEEDED"
        assert next_page.status_code == 200, next_page.text
        assert [o["id"] for o in next_page.json()["orders"]] == [order["id"]]
        assert captured.json()["status"] == "SUCCEEDED", captured.text
    finally:
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=90) == 0
    out.unlink(missing_ok=True)
