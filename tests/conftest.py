"""Shared fixtures. The e2e `mesh` is the real thing: `payloops dev` started in a temporary state
dir on free ports (PostgreSQL, Temporal, Envoy, edge, worker, sandbox), stopped at the end."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from cli.dev import FIRST_RECEIVER_PORT
from cli.ports import ephemeral_start, port_is_free
from cli.procs import dying_with_this_process
from cli.state import StatePaths
from core import temporal
from core.config import (
    JWT_SIGNING_KEYS_VAR,
    PAGE_TOKEN_SECRET_VAR,
    TEMPORAL_CODEC_KEYS_VAR,
    Settings,
)
from tests import log_secrets, openapi_responses
from tests.fakes.razorpay_api import RazorpayFake
from tests.fakes.stripe_api import FakeStripe
from vault import config as vault_config

REPO = Path(__file__).resolve().parents[1]
PAYLOOPS = [sys.executable, "-m", "cli.main"]
# Short enough that the abandoned-challenge test is quick, long enough to click through one.
THREE_DS_TIMEOUT_SECONDS = 6
# How long PayOrder waits before answering PROCESSING: short, so the bounded wait is testable.
PAY_WAIT_SECONDS = 3
# The first retry of a failed webhook delivery (30 s in production): short, so retries are
# testable; the whole schedule runs under time skipping in tests/orchestrator.
WEBHOOK_RETRY_FIRST_SECONDS = 1
# How long an uncaptured authorization lives: short, so its expiry is testable.
AUTHORIZATION_TTL_SECONDS = 12
# How long the vault keeps a card's CVC for its first authorization: short, so its expiry is
# testable, long enough for a test to tokenize and detokenize at once.
VAULT_CVC_TTL_SECONDS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def receiver_port() -> int:
    """A free port on 127.0.0.1 where `payloops dev` lets test-mode webhooks go: its default
    allow-list admits loopback ports below the kernel's ephemeral range, and free_port()'s
    ports are all in that range (as are the test mesh's own)."""
    while True:
        port = random.randrange(FIRST_RECEIVER_PORT, ephemeral_start())
        if port_is_free(port):
            return port


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@dataclass
class Mesh:
    state_dir: Path
    api_url: str
    grpc_target: str
    api_key: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    # The gateways' wire-level fakes the mesh's stripe and razorpay adapters talk to.
    stripe: FakeStripe | None = None
    razorpay: RazorpayFake | None = None

    def installation_env(self) -> dict[str, str]:
        """The keys the mesh's edge and worker get besides dev.env (kept in the state dir):
        what another process of the platform, started beside the mesh, needs too."""
        paths = StatePaths.at(self.state_dir)
        return {
            PAGE_TOKEN_SECRET_VAR: paths.page_token_secret.read_text().strip(),
            "PAYLOOPS_SECRETS_KEYS": paths.secrets_keys.read_text().strip(),
            JWT_SIGNING_KEYS_VAR: paths.jwt_signing_keys.read_text().strip(),
            TEMPORAL_CODEC_KEYS_VAR: paths.temporal_codec_keys.read_text().strip(),
            # A worker reads vaulted cards with it (dev.env names the vault, not the secret).
            vault_config.SERVICE_TOKEN_VAR: paths.vault_service_token.read_text().strip(),
        }

    def settings(self) -> Settings:
        """The settings of the mesh's own edge and worker, as far as dev.env and the state
        dir say (the tests' shortened timings are not among them)."""
        return Settings.from_env({**self.env, **self.installation_env()})

    async def temporal(self) -> Client:
        """A client of the mesh's Temporal as the platform makes them: it encrypts and
        decrypts payloads with the mesh's keys."""
        return await temporal.connect(self.settings())

    def pid_of(self, service: str) -> int:
        return int((self.state_dir / "run" / f"{service}.pid").read_text().strip())

    def new_merchant(self, name: str = "test merchant") -> tuple[str, str]:
        created = self._create_merchant(name)
        return created["id"], created["api_key"]

    def new_live_merchant(self, name: str = "live merchant") -> tuple[str, str, str]:
        """A merchant with both keys, as `payloops merchants create --live` makes it: its id,
        its test key and its live key."""
        created = self._create_merchant(name, "--live")
        return created["id"], created["api_key"], created["live_api_key"]

    def _create_merchant(self, name: str, *flags: str) -> dict[str, str]:
        out = subprocess.run(
            [
                *PAYLOOPS,
                "merchants",
                "create",
                name,
                *flags,
                "--json",
                "--state-dir",
                str(self.state_dir),
            ],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        created: dict[str, str] = json.loads(out)
        return created

    def client(self, api_key: str | None = None, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url,
            timeout=30,
            headers={"Authorization": f"Bearer {api_key or self.api_key}", **headers},
        )


def start_mesh(extra_env: dict[str, str] | None = None) -> Mesh:
    # /tmp keeps the PostgreSQL socket path under the 107-byte unix socket limit.
    state_dir = Path(tempfile.mkdtemp(prefix="pl-", dir="/tmp"))
    http_port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "PAYLOOPS_THREE_DS_TIMEOUT_SECONDS": str(THREE_DS_TIMEOUT_SECONDS),
        "PAYLOOPS_THREE_DS_POLL_SECONDS": "0.5",
        "PAYLOOPS_PAY_WAIT_SECONDS": str(PAY_WAIT_SECONDS),
        "PAYLOOPS_WEBHOOK_RETRY_FIRST_SECONDS": str(WEBHOOK_RETRY_FIRST_SECONDS),
        "PAYLOOPS_AUTHORIZATION_TTL_SECONDS": str(AUTHORIZATION_TTL_SECONDS),
        "PAYLOOPS_VAULT_CVC_TTL_SECONDS": str(VAULT_CVC_TTL_SECONDS),
        # The tests run several stacks at once (this one, test_dev's): no fixed ports.
        "PAYLOOPS_DEV_EPHEMERAL_PORTS": "1",
        **(extra_env or {}),
    }
    env.pop("PAYLOOPS_DATABASE_URL", None)
    env.pop("PAYLOOPS_TEMPORAL_ADDRESS", None)
    log = (state_dir / "dev.out").open("wb")
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
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    env_file = state_dir / "dev.env"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"payloops dev exited {process.returncode}: "
                f"{(state_dir / 'dev.out').read_text()[-3000:]}"
            )
        if env_file.exists():
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    else:
        stop_mesh_process(process, state_dir)
        raise RuntimeError("payloops dev did not become ready in 120 s")
    values = read_env_file(env_file)
    # Every answer of its REST listener is held to the published document from now on.
    openapi_responses.watch(values["PAYLOOPS_API_URL"])
    return Mesh(
        state_dir=state_dir,
        api_url=values["PAYLOOPS_API_URL"],
        grpc_target=values["PAYLOOPS_GRPC_TARGET"],
        api_key=values["PAYLOOPS_API_KEY"],
        env=values,
        process=process,
    )


def stop_mesh_process(process: subprocess.Popen[bytes], state_dir: Path | None = None) -> int:
    """Stops `payloops dev` (SIGTERM, then SIGKILL). Its children die with it, but its
    PostgreSQL is a daemon (pg_ctl detaches it): if dev could not stop it, stop it here by the
    pid in its postmaster.pid, so no test run leaves a database server behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    postmaster = state_dir / "pgdata" / "postmaster.pid" if state_dir else None
    if postmaster is not None and postmaster.exists():
        with contextlib.suppress(ValueError, IndexError, ProcessLookupError, OSError):
            os.kill(int(postmaster.read_text().split()[0]), signal.SIGTERM)
    return process.returncode


def retire_mesh(
    process: subprocess.Popen[bytes], state_dir: Path, secrets: Iterable[str] = ()
) -> None:
    """Stops a mesh, scans every log it wrote for secrets (tests/log_secrets.py), removes its
    state dir, and fails loudly if a log held one: what a test did to it is in that log, so
    every mesh of the run is checked. `secrets`: values the caller knows to be secret beyond
    the installation's own (processor credentials it sent, say)."""
    env_file = state_dir / "dev.env"
    if env_file.exists():
        # Its port may serve something else next: no more checking of what answers there.
        openapi_responses.unwatch(read_env_file(env_file)["PAYLOOPS_API_URL"])
    stop_mesh_process(process, state_dir)
    try:
        known = log_secrets.Secrets(log_secrets.installation_secrets(state_dir)).plus(secrets)
        findings = log_secrets.scan(log_secrets.log_files(state_dir), known)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    if findings:
        pytest.fail(
            "a secret was written to a log of the mesh:\n" + log_secrets.report(findings),
            pytrace=False,
        )


def fake_gateway_credentials(stripe: FakeStripe, razorpay: RazorpayFake) -> list[str]:
    """The credentials of the gateway fakes' accounts, which the tests give their merchants."""
    return [
        *stripe.accounts,
        stripe.webhook_secret,
        razorpay.key_secret,
        razorpay.webhook_secret,
    ]


@contextlib.contextmanager
def mesh_with_gateway_fakes() -> Iterator[Mesh]:
    """A mesh (start_mesh) whose stripe and razorpay adapters talk to wire-level fakes of the
    gateways' HTTP APIs: the real gateways are out of reach, and must never be charged by tests."""
    with FakeStripe() as stripe, RazorpayFake() as razorpay:
        started = start_mesh(
            {
                "PAYLOOPS_STRIPE_API_BASE": stripe.base_url,
                "PAYLOOPS_RAZORPAY_API_BASE": razorpay.url,
            }
        )
        started.stripe, started.razorpay = stripe, razorpay
        try:
            yield started
        finally:
            retire_mesh(
                started.process, started.state_dir, fake_gateway_credentials(stripe, razorpay)
            )


@pytest.fixture(scope="session")
def mesh() -> Iterator[Mesh]:
    with mesh_with_gateway_fakes() as started:
        yield started


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL of the tests' own (embedded, as `payloops dev` runs it), at the newest
    schema: for tests of real SQL that need no Temporal or processors."""
    from cli import postgres
    from core.db.migrate import upgrade

    # /tmp: the server's unix socket path must stay under 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="pl-db-", dir="/tmp"))
    server = postgres.start(root / "pgdata")
    try:
        upgrade(server.url)
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def start_sandbox(name: str, workdir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A sandbox gateway of its own, as `payloops dev` runs it (`payloops serve processor
    sandbox`), on free ports; returns its gRPC target once it answers, and the process."""
    from cli import probes

    grpc_port, http_port = free_port(), free_port()
    log = (workdir / f"{name}.log").open("wb")
    process = subprocess.Popen(
        dying_with_this_process(
            [
                *PAYLOOPS,
                "serve",
                "processor",
                "sandbox",
                "--name",
                name,
                "--port",
                str(grpc_port),
                "--http-port",
                str(http_port),
                "--ledger",
                str(workdir / f"{name}.ledger"),
            ]
        ),
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    target = f"127.0.0.1:{grpc_port}"
    deadline = time.monotonic() + 30
    while not probes.grpc_serving(target):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(
                f"sandbox {name} did not start: {(workdir / f'{name}.log').read_text()[-2000:]}"
            )
        time.sleep(0.1)
    return target, process


@pytest.fixture(scope="session")
def sandbox_targets() -> Iterator[list[str]]:
    """Two running sandbox adapters (for tests that register processors: registration asks
    the adapter for its capabilities, so something must answer at the target)."""
    workdir = Path(tempfile.mkdtemp(prefix="pl-sbx-", dir="/tmp"))
    started = [start_sandbox(f"sbx{index}", workdir) for index in range(2)]
    try:
        yield [target for target, _ in started]
    finally:
        for _, process in started:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    # A run stopped with SIGTERM (a CI runner's timeout, `kill`) tears down like Ctrl-C: every
    # fixture stops the servers it started. Against SIGKILL, the servers die with this process
    # (dying_with_this_process); the embedded PostgreSQL of `postgres_url` is a daemon and is
    # only stopped by its fixture.
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._payloops_exitstatus = int(exitstatus)  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # The Temporal bridge's threads can crash interpreter teardown (sdk-python#300); fixtures
    # are torn down by now, so leave with pytest's own exit status.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(getattr(config, "_payloops_exitstatus", 0))
