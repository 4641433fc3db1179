"""`payloops dev`: the whole mesh on one machine, no Docker.

Start order: PostgreSQL (embedded) -> Temporal (dev server) -> migrations -> the card vault's
role, schema and migrations -> sandbox gateway(s) -> vault -> edge -> worker -> Envoy -> demo
merchant (its secret and publishable keys) and its dev owner (through the admin API), each
waited for before the next. Then it supervises: a child that exits is restarted
(the crash-safety tests kill the worker on purpose). SIGINT/SIGTERM stop everything in
reverse order and exit 0.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from cli import dashboard_site, dev_db, dev_layout, dev_services, envoy_config, probes
from cli.binaries import BinaryNotFound, find_binary
from cli.ports import PortPicker, ephemeral_start, port_is_free
from cli.postgres import EmbeddedPostgres, PostgresError
from cli.procs import STATE_MARKER_VAR, is_alive, kill_stale
from cli.state import StatePaths, format_env, kept_secret, restrict_to_owner, write_secret
from core.config import JWT_SIGNING_KEYS_VAR, PAGE_TOKEN_SECRET_VAR, TEMPORAL_CODEC_KEYS_VAR
from core.webhooks.destinations import parse_allowlist, parse_listeners
from vault import config as vault_config

# A child restarted this many times within the window is considered broken: give up.
CRASH_LOOP_RESTARTS = 5
CRASH_LOOP_WINDOW_S = 60.0
STOP_GRACE_S = 10.0
API_READY_TIMEOUT_S = 60.0
WEBHOOK_ALLOWLIST_VAR = "PAYLOOPS_WEBHOOK_TEST_ALLOWLIST"
PLATFORM_LISTENERS_VAR = "PAYLOOPS_PLATFORM_LISTENERS"
# Below 1024: the machine's own services (ssh, mail, DNS), never a developer's receiver.
FIRST_RECEIVER_PORT = 1024


class DevError(Exception):
    """Start-up or supervision failed; the message is the one line the user sees."""


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


class StopFlag:
    """Signal handlers only set a flag; the code polls it at safe points, so a signal never
    lands in the middle of starting or stopping a process."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True

    def check(self) -> None:
        if self.requested:
            raise Interrupted

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check()
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        self.check()


def say(text: str) -> None:
    print(text, flush=True)


def status(name: str, text: str) -> None:
    # A name longer than the column ("sandbox-sandbox-b") still gets a space before its text.
    say(f"  {name:<16} {text}")


@dataclass(frozen=True)
class Options:
    state: StatePaths
    http_port: int
    grpc_port: int
    # Print the demo API key itself once ready; by default only where it is (dev.env): the
    # output of `payloops dev` ends up in terminals' scrollback and CI logs.
    show_key: bool = False
    # `--otel URL`: the OpenTelemetry collector every service sends its telemetry to.
    otel: str = ""


class DevMesh:
    def __init__(self, options: Options, stop: StopFlag) -> None:
        self.options = options
        self.state = options.state
        self.stop = stop
        self.ports = PortPicker(
            reserved={options.http_port, options.grpc_port},
            ephemeral_only=os.environ.get("PAYLOOPS_DEV_EPHEMERAL_PORTS") == "1",
        )
        self.services: list[dev_services.Service] = []  # started ones, in start order
        self.postgres: EmbeddedPostgres | None = None
        self.restarts: dict[str, collections.deque[float]] = {}

    # -- start-up ---------------------------------------------------------------------------

    def start(self) -> None:
        self.state.dev_env.unlink(missing_ok=True)  # written again once everything is ready
        env = dict(os.environ)
        if self.options.otel:
            env.update(dev_services.otel_env(self.options.otel))
        envoy_bin = find_binary("envoy")
        temporal_bin = None if env.get("PAYLOOPS_TEMPORAL_ADDRESS") else find_binary("temporal")

        database_url = self._start_database(env)
        # Every PAYLOOPS_* variable of our own environment reaches the children (they inherit
        # it); these are the ones the mesh decides.
        child_env = {
            **env,
            "PAYLOOPS_DATABASE_URL": database_url,
            STATE_MARKER_VAR: str(self.state.root),
            "PYTHONUNBUFFERED": "1",
            # Kept in the state dir: credentials sealed with the key must open after a restart.
            "PAYLOOPS_SECRETS_KEYS": env.get("PAYLOOPS_SECRETS_KEYS")
            or kept_secret(self.state.secrets_keys, new_secrets_key),
            "PAYLOOPS_ADMIN_API_KEY": env.get("PAYLOOPS_ADMIN_API_KEY")
            or kept_secret(self.state.admin_api_key, new_admin_api_key),
            # Kept too: a client's page token must stay valid across a restart.
            PAGE_TOKEN_SECRET_VAR: env.get(PAGE_TOKEN_SECRET_VAR)
            or kept_secret(self.state.page_token_secret, new_page_token_secret),
            # Kept too: a signed-in dashboard stays signed in across a restart.
            JWT_SIGNING_KEYS_VAR: env.get(JWT_SIGNING_KEYS_VAR)
            or kept_secret(self.state.jwt_signing_keys, new_jwt_signing_key),
            # Kept too: a workflow's history, encrypted with it, must decrypt after a restart.
            TEMPORAL_CODEC_KEYS_VAR: env.get(TEMPORAL_CODEC_KEYS_VAR)
            or kept_secret(self.state.temporal_codec_keys, new_temporal_codec_key),
            # The worker's credential for the vault's internal API (the vault's own keys are
            # given to the vault alone: vault_env below).
            vault_config.SERVICE_TOKEN_VAR: env.get(vault_config.SERVICE_TOKEN_VAR)
            or kept_secret(self.state.vault_service_token, vault_config.new_service_token),
        }

        # Every address the mesh listens on: webhooks must never reach one of them.
        listeners: list[str] = []
        if temporal_bin is None:
            temporal_address = env["PAYLOOPS_TEMPORAL_ADDRESS"]
            status("temporal", f"external  {temporal_address}  (PAYLOOPS_TEMPORAL_ADDRESS)")
        else:
            temporal_ports = dev_services.TemporalPorts(
                grpc=self.ports.pick(dev_layout.TEMPORAL_PORT),
                http=self.ports.pick(dev_layout.TEMPORAL_HTTP_PORT),
                metrics=self.ports.pick(dev_layout.TEMPORAL_METRICS_PORT),
                ui=self.ports.pick(dev_layout.TEMPORAL_UI_PORT),
            )
            listeners += temporal_ports.listeners()
            temporal_address = f"127.0.0.1:{temporal_ports.grpc}"
            self._launch(dev_services.temporal(self.state, temporal_bin, temporal_ports, child_env))
        child_env["PAYLOOPS_TEMPORAL_ADDRESS"] = temporal_address

        self._migrate(database_url)
        vault_database_url = self._vault_database(env, database_url)

        sandboxes = {
            name: dev_services.SandboxPorts(
                grpc=self.ports.pick(dev_layout.SANDBOX_GRPC_PORT + index),
                http=self.ports.pick(dev_layout.SANDBOX_HTTP_PORT + index),
            )
            for index, name in enumerate(dev_layout.SANDBOXES)
        }
        child_env.update(dev_services.sandbox_env(sandboxes))
        gateways = {
            name: self.ports.pick(dev_layout.GATEWAY_PORT + index)
            for index, name in enumerate(dev_layout.GATEWAYS)
        }
        processor_targets = {
            **{name: f"127.0.0.1:{ports.grpc}" for name, ports in sandboxes.items()},
            **{name: f"127.0.0.1:{port}" for name, port in gateways.items()},
        }
        edge_port = self._edge_port(env)
        child_env["PAYLOOPS_EDGE_PORT"] = str(edge_port)
        vault_port = self.ports.pick(dev_layout.VAULT_PORT)
        child_env[vault_config.TARGET_VAR] = f"127.0.0.1:{vault_port}"
        envoy_ports = dev_services.EnvoyPorts(
            http=self.options.http_port, grpc=self.options.grpc_port
        )
        listeners += dev_services.listeners(envoy_ports, edge_port, vault_port, sandboxes, gateways)
        child_env.update(webhook_settings(env, listeners))

        for name, ports in sandboxes.items():
            self._launch(dev_services.sandbox(self.state, name, ports, child_env))
        for name, port in gateways.items():
            self._launch(dev_services.gateway(self.state, name, port, child_env))
        self._register_processors(database_url, processor_targets)

        self._launch(
            dev_services.vault(
                self.state, vault_port, self._vault_env(child_env, vault_database_url)
            )
        )
        self._launch(dev_services.edge(self.state, edge_port, self._edge_env(child_env)))
        self._launch(dev_services.worker(self.state, temporal_address, child_env))
        upstreams = envoy_config.Upstreams(
            edge=f"127.0.0.1:{edge_port}", vault=f"127.0.0.1:{vault_port}"
        )
        self._launch(dev_services.envoy(self.state, envoy_bin, envoy_ports, upstreams, child_env))
        self._wait_for_api(envoy_ports.http)

        api_url = f"http://127.0.0.1:{envoy_ports.http}"
        grpc_target = f"127.0.0.1:{envoy_ports.grpc}"
        admin_api_key = child_env["PAYLOOPS_ADMIN_API_KEY"]
        merchant = self._demo_merchant(database_url, api_url, admin_api_key)
        api_key = merchant.api_key
        publishable_key = self._demo_publishable_key(database_url, api_url, api_key)
        owner = self._dev_owner(api_url, admin_api_key, merchant.id)
        write_secret(
            self.state.dev_env,
            format_env(
                {
                    "PAYLOOPS_API_URL": api_url,
                    "PAYLOOPS_GRPC_TARGET": grpc_target,
                    "PAYLOOPS_API_KEY": api_key,
                    # Tokenizes cards (POST /v1/tokens), nothing else.
                    "PAYLOOPS_PUBLISHABLE_KEY": publishable_key,
                    "PAYLOOPS_ADMIN_API_KEY": admin_api_key,
                    # The demo merchant's owner: signs in to the dashboard (POST /v1/sessions).
                    "PAYLOOPS_DEV_OWNER_EMAIL": owner.email,
                    "PAYLOOPS_DEV_OWNER_PASSWORD": owner.password,
                    "PAYLOOPS_DATABASE_URL": database_url,
                    "PAYLOOPS_TEMPORAL_ADDRESS": temporal_address,
                    **dev_services.sandbox_env(sandboxes),
                    **{
                        f"PAYLOOPS_PROCESSOR_{dev_services.env_name(name)}_TARGET": target
                        for name, target in processor_targets.items()
                    },
                    "PAYLOOPS_EDGE_TARGET": f"127.0.0.1:{edge_port}",
                    vault_config.TARGET_VAR: child_env[vault_config.TARGET_VAR],
                    # For `payloops vault migrate|rewrap`.
                    vault_config.DATABASE_URL_VAR: vault_database_url,
                    "PAYLOOPS_ENVOY_ADMIN_SOCKET": str(self.state.envoy_admin_socket),
                    WEBHOOK_ALLOWLIST_VAR: child_env[WEBHOOK_ALLOWLIST_VAR],
                    PLATFORM_LISTENERS_VAR: child_env[PLATFORM_LISTENERS_VAR],
                }
            ),
        )
        key = api_key if self.options.show_key else f"in {self.state.dev_env}"
        dashboard = (
            "(sign in as PAYLOOPS_DEV_OWNER_EMAIL with PAYLOOPS_DEV_OWNER_PASSWORD, in dev.env)"
            if dashboard_site.is_built()
            else "(not built: run `make dashboard`, then restart)"
        )
        say(
            f"payloops dev ready: REST {api_url}  gRPC {grpc_target}  API key {key}  "
            f"API reference {api_url}{envoy_config.API_REFERENCE_PATH}  "
            f"dashboard {api_url}/ {dashboard}  "
            f"(settings in {self.state.dev_env}; Ctrl-C stops everything)"
        )

    def _start_database(self, env: dict[str, str]) -> str:
        if env.get("PAYLOOPS_DATABASE_URL"):
            status("postgres", "external  (PAYLOOPS_DATABASE_URL)")
            return env["PAYLOOPS_DATABASE_URL"]
        from cli import postgres

        self.stop.check()
        try:
            self.postgres = postgres.start(self.state.pgdata)
        except PostgresError as error:
            raise DevError(str(error)) from error
        note = "  (was still running; reused)" if self.postgres.reused else ""
        status("postgres", f"ready  {self.postgres.url}{note}")
        return self.postgres.url

    def _migrate(self, database_url: str) -> None:
        from core.db.migrate import upgrade

        self.stop.check()
        try:
            upgrade(database_url)
        except Exception as error:
            raise DevError(f"database migrations failed: {_one_line(error)}") from error
        status("migrations", "up to date")

    def _demo_merchant(
        self, database_url: str, api_url: str, admin_api_key: str
    ) -> dev_db.DemoMerchant:
        self.stop.check()
        try:
            with _admin_client(api_url, admin_api_key) as api:
                merchant = dev_db.ensure_demo_merchant(
                    database_url, self.state.demo_api_key, dev_layout.SANDBOXES, api
                )
        except Exception as error:
            raise DevError(f"could not create the demo merchant: {_one_line(error)}") from error
        how = "created" if merchant.created else "reused"
        status("demo merchant", f"{how}  (API key in {self.state.demo_api_key})")
        return merchant

    def _demo_publishable_key(self, database_url: str, api_url: str, api_key: str) -> str:
        self.stop.check()
        try:
            with _admin_client(api_url, api_key) as api:
                made = dev_db.ensure_publishable_key(
                    database_url, self.state.demo_publishable_key, api
                )
        except Exception as error:
            raise DevError(
                f"could not make the demo publishable key: {_one_line(error)}"
            ) from error
        status("publishable key", f"{'created' if made.created else 'reused'}  (in dev.env)")
        return made.key

    def _vault_database(self, env: dict[str, str], database_url: str) -> str:
        """The vault's own database URL: PAYLOOPS_VAULT_DATABASE_URL, or a role and schema of
        its own made on the mesh's PostgreSQL; then the vault's migrations, as that role."""
        from vault.db import provision
        from vault.db.migrate import upgrade

        self.stop.check()
        try:
            url = env.get(vault_config.DATABASE_URL_VAR) or provision.provision(
                database_url, kept_secret(self.state.vault_db_password, new_database_password)
            )
            upgrade(url)
        except Exception as error:
            raise DevError(f"vault database: {_one_line(error)}") from error
        status("vault db", f"role {provision.ROLE}, schema vault: up to date")
        return url

    def _edge_vault_token(self) -> str:
        return kept_secret(self.state.vault_edge_service_token, vault_config.new_service_token)

    def _edge_env(self, child_env: dict[str, str]) -> dict[str, str]:
        """The edge's environment: the platform's, with the edge's own credential for the
        vault (it asks for saved cards' facts; the vault audits each service by name)."""
        return {**child_env, vault_config.SERVICE_TOKEN_VAR: self._edge_vault_token()}

    def _vault_env(self, child_env: dict[str, str], vault_database_url: str) -> dict[str, str]:
        """The vault's environment: its own database URL and keys, and none of the platform's
        secrets (the platform's database URL, credential keys, admin key, signing keys)."""
        from vault.crypto import new_fingerprint_key, new_kek

        own = {key: value for key, value in child_env.items() if not key.startswith("PAYLOOPS_")}
        service_token = child_env[vault_config.SERVICE_TOKEN_VAR]
        return {
            **own,
            STATE_MARKER_VAR: child_env[STATE_MARKER_VAR],
            vault_config.DATABASE_URL_VAR: vault_database_url,
            vault_config.KEKS_VAR: os.environ.get(vault_config.KEKS_VAR)
            or kept_secret(self.state.vault_keks, lambda: new_kek("dev-1")),
            vault_config.FINGERPRINT_KEY_VAR: os.environ.get(vault_config.FINGERPRINT_KEY_VAR)
            or kept_secret(self.state.vault_fingerprint_key, new_fingerprint_key),
            vault_config.SERVICE_TOKENS_VAR: os.environ.get(vault_config.SERVICE_TOKENS_VAR)
            or f"worker={service_token},edge={self._edge_vault_token()}",
            # The one tunable the environment may pass on (the tests shorten it).
            **{key: child_env[key] for key in (vault_config.CVC_TTL_VAR,) if key in child_env},
        }

    def _dev_owner(self, api_url: str, admin_api_key: str, merchant_id: str) -> dev_db.DevOwner:
        self.stop.check()
        try:
            with _admin_client(api_url, admin_api_key) as api:
                owner = dev_db.ensure_dev_owner(
                    merchant_id, self.state.dev_owner_password, new_dev_owner_password, api
                )
        except Exception as error:
            raise DevError(f"could not create the dev owner: {_one_line(error)}") from error
        how = "created" if owner.created else "kept"
        status("dev owner", f"{how}  {owner.email}  (password in {self.state.dev_env})")
        return owner

    def _register_processors(self, database_url: str, targets: dict[str, str]) -> None:
        self.stop.check()
        try:
            dev_db.register_processors(database_url, targets)
        except Exception as error:
            raise DevError(f"could not register processors: {_one_line(error)}") from error
        status("processors", "registered  " + ", ".join(f"{n} -> {t}" for n, t in targets.items()))

    def _edge_port(self, env: dict[str, str]) -> int:
        if not env.get("PAYLOOPS_EDGE_PORT"):
            return self.ports.pick(dev_layout.EDGE_PORT)
        port = int(env["PAYLOOPS_EDGE_PORT"])
        if not port_is_free(port):
            raise DevError(f"PAYLOOPS_EDGE_PORT={port} is already in use on 127.0.0.1")
        return port

    def _launch(self, service: dev_services.Service) -> None:
        self.stop.check()
        service.prepare()
        service.child.start()
        self.services.append(service)
        self._wait_ready(service)
        status(service.name, f"ready  {service.summary}")

    def _wait_ready(self, service: dev_services.Service) -> None:
        deadline = time.monotonic() + service.ready_timeout
        while True:
            self.stop.check()
            code = service.child.exit_code()
            if code is not None:
                raise DevError(
                    f"{service.name} exited with code {code} while starting; "
                    f"see {service.child.log_path}"
                )
            if service.probe():
                return
            if time.monotonic() > deadline:
                raise DevError(
                    f"{service.name} was not ready after "
                    f"{service.ready_timeout:.0f} s; see {service.child.log_path}"
                )
            self.stop.sleep(0.1)

    def _wait_for_api(self, http_port: int) -> None:
        url = f"http://127.0.0.1:{http_port}/health"
        deadline = time.monotonic() + API_READY_TIMEOUT_S
        while not probes.http_ok(url):
            if time.monotonic() > deadline:
                raise DevError(
                    f"GET {url} did not answer 200 within {API_READY_TIMEOUT_S:.0f} s;"
                    f" see {self.state.log('edge')} and {self.state.log('envoy')}"
                )
            self.stop.sleep(0.2)
        status("api", f"ready  GET {url} -> 200")

    # -- supervision ------------------------------------------------------------------------

    def supervise(self) -> None:
        """Restarts children that exit until a signal arrives (raises Interrupted)."""
        while True:
            for service in self.services:
                code = service.child.exit_code()
                if code is not None:
                    self._restart(service, code)
            self._check_postgres()
            self.stop.sleep(0.25)

    def _check_postgres(self) -> None:
        """PostgreSQL is not our child (pg_ctl daemonizes it), so watch its pid instead."""
        if self.postgres is None or is_alive(self.postgres.pid):
            return
        from cli import postgres

        status("postgres", "stopped unexpectedly; restarting")
        try:
            self.postgres = postgres.start(self.state.pgdata)
        except PostgresError as error:
            raise DevError(str(error)) from error
        status("postgres", f"ready again  (pid {self.postgres.pid})")

    def _restart(self, service: dev_services.Service, code: int) -> None:
        recent = self.restarts.setdefault(service.name, collections.deque())
        now = time.monotonic()
        while recent and now - recent[0] > CRASH_LOOP_WINDOW_S:
            recent.popleft()
        if len(recent) >= CRASH_LOOP_RESTARTS:
            raise DevError(
                f"{service.name} keeps exiting ({len(recent)} restarts in "
                f"{CRASH_LOOP_WINDOW_S:.0f} s, last code {code}); "
                f"see {service.child.log_path}"
            )
        recent.append(now)
        status(service.name, f"exited with code {code}; restarting")
        service.child.stop()  # reaps it and clears anything left in its process group
        self.stop.sleep(min(0.25 * 2 ** (len(recent) - 1), 4.0))
        service.prepare()
        service.child.start()
        try:
            self._wait_ready(service)
        except DevError as error:
            status(service.name, f"restart failed: {error}")
            service.child.stop()  # the next supervision round counts it and tries again
            return
        status(service.name, f"ready again  (pid {service.child.pid})")

    # -- shutdown ---------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stops everything that was started, in reverse order. Never raises."""
        for service in reversed(self.services):
            try:
                started = time.monotonic()
                killed = service.child.stop(STOP_GRACE_S)
                took = f"{time.monotonic() - started:.1f} s"
                status(service.name, f"killed after {took}" if killed else f"stopped ({took})")
            except Exception as error:
                print(
                    f"payloops dev: could not stop {service.name}: {_one_line(error)}",
                    file=sys.stderr,
                    flush=True,
                )
        (self.state.run / "worker.ready").unlink(missing_ok=True)
        # dev.env says where a running mesh listens; a stale one would send
        # `payloops merchants create` and tests to a dead socket.
        self.state.dev_env.unlink(missing_ok=True)
        if self.postgres is not None:
            try:
                self.postgres.stop()
            except Exception as error:
                print(
                    f"payloops dev: could not stop PostgreSQL: {_one_line(error)}",
                    file=sys.stderr,
                    flush=True,
                )


def _admin_client(api_url: str, admin_api_key: str) -> httpx.Client:
    return httpx.Client(
        base_url=api_url,
        timeout=30,
        trust_env=False,
        headers={"Authorization": f"Bearer {admin_api_key}"},
    )


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One `payloops dev` per state folder: a second one would kill the first one's children
    as stale and share its database files."""
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DevError(
                f"another `payloops dev` is running with state folder {lock_path.parent.parent}"
            ) from None
        yield


def preflight(options: Options) -> None:
    """The checks that must fail fast, before anything starts."""
    if options.http_port == options.grpc_port:
        raise DevError("--http-port and --grpc-port must differ")
    for flag, port in (("--http-port", options.http_port), ("--grpc-port", options.grpc_port)):
        if not port_is_free(port):
            raise DevError(
                f"port {port} ({flag}) is already in use on 127.0.0.1; "
                f"stop what is using it or pass another {flag}"
            )
    try:
        find_binary("envoy")
        if not os.environ.get("PAYLOOPS_TEMPORAL_ADDRESS"):
            find_binary("temporal")
    except BinaryNotFound as error:
        raise DevError(str(error)) from error
    if not envoy_config.DEFAULT_DESCRIPTOR.is_file():
        raise DevError(f"{envoy_config.DEFAULT_DESCRIPTOR} is missing (run `make gen`)")
    # Paths end up in unix socket names (PostgreSQL) and command lines; keep them sane.
    if re.search(r"\s", str(options.state.root)):
        raise DevError(f"the state folder path must not contain spaces: {options.state.root}")
    if len(str(options.state.envoy_admin_socket).encode()) > envoy_config.MAX_SOCKET_PATH:
        raise DevError(
            f"the state folder path is too long for Envoy's admin socket "
            f"({options.state.envoy_admin_socket}); pass a shorter --state-dir"
        )
    try:
        parse_allowlist(os.environ.get(WEBHOOK_ALLOWLIST_VAR, ""))
        parse_listeners(os.environ.get(PLATFORM_LISTENERS_VAR, ""))
    except ValueError as error:
        raise DevError(f"webhook destinations: {error}") from error
    try:
        envoy_config.RateLimit.from_env(os.environ, default=dev_services.DEV_RATE_LIMIT)
    except ValueError as error:
        raise DevError(f"rate limit: {error}") from error


def run(
    state_dir: str | Path,
    http_port: int,
    grpc_port: int,
    show_key: bool = False,
    otel: str = "",
) -> int:
    stop = StopFlag()
    stop.install()
    options = Options(
        state=StatePaths.at(state_dir),
        http_port=http_port,
        grpc_port=grpc_port,
        show_key=show_key,
        otel=otel,
    )
    mesh: DevMesh | None = None
    try:
        options.state.create()
        with _exclusive(options.state.lock):
            for leftover in kill_stale(options.state.run, options.state.root):
                say(f"payloops dev: stopped {leftover} left over from an earlier run")
            for exposed in restrict_to_owner(options.state.secret_files):
                say(
                    f"payloops dev: {exposed} was open to other users; made it owner-only "
                    "(delete it to get a new secret)"
                )
            preflight(options)
            say(f"payloops dev: starting the mesh (state in {options.state.root})")
            mesh = DevMesh(options, stop)
            try:
                mesh.start()
                mesh.supervise()
            finally:
                if stop.requested:
                    say("payloops dev: stopping")
                mesh.shutdown()
    except Interrupted:
        say("payloops dev: stopped")
        return 0
    except (DevError, BinaryNotFound) as error:
        print(f"payloops dev: error: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


def webhook_settings(env: dict[str, str], listeners: list[str]) -> dict[str, str]:
    """Where test-mode webhooks may go, and the mesh's own listeners they never reach (added
    to any the environment names). Unless the environment says otherwise, the developer's
    receiver may listen on loopback on any port below the kernel's ephemeral range: every
    port the mesh's processes get by asking for "any free port" (Temporal's internal ones
    among them) is in that range, so none of them is admitted by accident."""
    if WEBHOOK_ALLOWLIST_VAR in env:
        allowlist = env[WEBHOOK_ALLOWLIST_VAR]
    else:
        allowlist = default_webhook_allowlist()
    status(
        "webhooks",
        f"test endpoints may reach {allowlist or 'public addresses only'}  "
        f"({WEBHOOK_ALLOWLIST_VAR})",
    )
    return {
        WEBHOOK_ALLOWLIST_VAR: allowlist,
        PLATFORM_LISTENERS_VAR: ",".join(
            [*filter(None, [env.get(PLATFORM_LISTENERS_VAR, "")]), *listeners]
        ),
    }


def default_webhook_allowlist() -> str:
    last = ephemeral_start() - 1
    if last < FIRST_RECEIVER_PORT:
        return ""
    ports = f"{FIRST_RECEIVER_PORT}-{last}"
    return f"127.0.0.1:{ports},[::1]:{ports}"


def new_secrets_key() -> str:
    from core.secrets import new_key

    return new_key()


def new_admin_api_key() -> str:
    from core import ids

    return ids.new_id("adm")


def new_page_token_secret() -> str:
    return secrets.token_urlsafe(32)


def new_jwt_signing_key() -> str:
    from core.signing_keys import new_key

    return new_key()


def new_temporal_codec_key() -> str:
    from core.payload_codec import new_key

    return new_key()


def new_database_password() -> str:
    return secrets.token_urlsafe(24)


def new_dev_owner_password() -> str:
    return secrets.token_urlsafe(18)
