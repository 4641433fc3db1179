"""The dev state folder (default `.payloops`): where `payloops dev` keeps data between runs.

<state>/pgdata/            embedded PostgreSQL
<state>/temporal.db        Temporal dev server (SQLite)
<state>/sandbox-<name>.sqlite  sandbox ledgers
<state>/demo_api_key       the demo merchant's key, reused on later starts
<state>/secrets_keys       the Fernet key that seals processor credentials and webhook secrets
<state>/admin_api_key      the operator API's key
<state>/page_token_secret  the key that signs list page tokens (they stay valid across restarts)
<state>/jwt_signing_keys   the key that signs dashboard access tokens (sessions survive restarts)
<state>/temporal_codec_keys  the key that encrypts Temporal payloads (histories stay readable)
<state>/dev_owner_password the demo merchant's dev owner's password, reused on later starts
<state>/demo_publishable_key  the demo merchant's publishable key (tokenizes cards)
<state>/vault_keks         the card vault's key-encryption keys (the first wraps)
<state>/vault_fingerprint_key  the key of the vault's card fingerprints
<state>/vault_service_token    the worker's credential for the vault's internal API
<state>/vault_edge_service_token  the edge's credential for it (saved cards' facts)
<state>/vault_db_password  the vault's own database role's password
<state>/dev.env            where everything listens, and the API keys
<state>/envoy.yaml         rendered Envoy config
<state>/logs/<name>.log    each child's stdout and stderr
<state>/run/<name>.pid     each running child's pid
<state>/run/envoy-admin.sock  Envoy's admin API (0600; no TCP port)

The files that hold secrets (StatePaths.secret_files) are owner-only (0600).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STATE_DIR = Path(".payloops")
DATABASE_URL_VAR = "PAYLOOPS_DATABASE_URL"


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @classmethod
    def at(cls, root: str | Path) -> StatePaths:
        # Absolute: children get these paths, and their cwd may differ.
        return cls(Path(root).expanduser().absolute())

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def temporal_db(self) -> Path:
        return self.root / "temporal.db"

    @property
    def demo_api_key(self) -> Path:
        return self.root / "demo_api_key"

    @property
    def secrets_keys(self) -> Path:
        """The Fernet key that encrypts processor credentials at rest (owner-only file)."""
        return self.root / "secrets_keys"

    @property
    def admin_api_key(self) -> Path:
        return self.root / "admin_api_key"

    @property
    def page_token_secret(self) -> Path:
        return self.root / "page_token_secret"

    @property
    def jwt_signing_keys(self) -> Path:
        return self.root / "jwt_signing_keys"

    @property
    def temporal_codec_keys(self) -> Path:
        return self.root / "temporal_codec_keys"

    @property
    def dev_owner_password(self) -> Path:
        return self.root / "dev_owner_password"

    @property
    def demo_publishable_key(self) -> Path:
        return self.root / "demo_publishable_key"

    @property
    def vault_keks(self) -> Path:
        return self.root / "vault_keks"

    @property
    def vault_fingerprint_key(self) -> Path:
        return self.root / "vault_fingerprint_key"

    @property
    def vault_service_token(self) -> Path:
        return self.root / "vault_service_token"

    @property
    def vault_edge_service_token(self) -> Path:
        return self.root / "vault_edge_service_token"

    @property
    def vault_db_password(self) -> Path:
        return self.root / "vault_db_password"

    @property
    def dev_env(self) -> Path:
        return self.root / "dev.env"

    @property
    def secret_files(self) -> tuple[Path, ...]:
        """Every file of the state dir that holds a secret: each must be owner-only."""
        return (
            self.demo_api_key,
            self.secrets_keys,
            self.admin_api_key,
            self.page_token_secret,
            self.jwt_signing_keys,
            self.temporal_codec_keys,
            self.dev_owner_password,
            self.demo_publishable_key,
            self.vault_keks,
            self.vault_fingerprint_key,
            self.vault_service_token,
            self.vault_edge_service_token,
            self.vault_db_password,
            self.dev_env,
        )

    @property
    def envoy_config(self) -> Path:
        return self.root / "envoy.yaml"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def envoy_admin_socket(self) -> Path:
        return self.run / "envoy-admin.sock"

    @property
    def lock(self) -> Path:
        return self.run / "dev.lock"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def ledger(self, sandbox_name: str) -> Path:
        return self.root / f"sandbox-{sandbox_name}.sqlite"

    def create(self) -> None:
        for folder in (self.root, self.logs, self.run):
            folder.mkdir(parents=True, exist_ok=True)


def restrict_to_owner(paths: Iterable[Path]) -> list[Path]:
    """Makes each existing file owner-only; returns those that were readable or writable by
    others (copied in, or made by hand), so the caller can say so: their secret may have been
    seen."""
    widened = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
                widened.append(path)
    return widened


def write_secret(path: Path, text: str) -> None:
    """Writes a file only its owner can read, without a window where it is world-readable."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


# Values made only of these need no quoting in sh assignments (no globbing happens there, so
# the brackets of an IPv6 address stay as they are).
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_@%+=:,./?\[\]-]*")


def format_env(values: Mapping[str, str]) -> str:
    """KEY=value lines that `source` (sh), docker's env_file and a naive `partition("=")`
    reader all understand; values are quoted only when they must be."""
    return "".join(
        f"{key}={value if _PLAIN_VALUE.fullmatch(value) else shlex.quote(value)}\n"
        for key, value in values.items()
    )


def read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        parts = shlex.split(raw)
        values[key.strip()] = parts[0] if parts else ""
    return values


class NoDatabase(Exception):
    """Raised with a one-line, actionable message."""


def database_url(state_dir: str | Path, env: Mapping[str, str] | None = None) -> str:
    """PAYLOOPS_DATABASE_URL, else the one `payloops dev` wrote to <state>/dev.env."""
    env = os.environ if env is None else env
    if env.get(DATABASE_URL_VAR):
        return env[DATABASE_URL_VAR]
    dev_env = StatePaths.at(state_dir).dev_env
    if dev_env.is_file():
        url = read_env(dev_env).get(DATABASE_URL_VAR)
        if url:
            return url
        raise NoDatabase(f"{dev_env} has no {DATABASE_URL_VAR}")
    raise NoDatabase(
        f"{DATABASE_URL_VAR} is not set and {dev_env} does not exist "
        "(start `payloops dev`, or set PAYLOOPS_DATABASE_URL)"
    )


def kept_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret stored at `path`, made (and stored, owner-only) on first use: data sealed
    with a key must stay readable across restarts."""
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    value = make()
    write_secret(path, value + "\n")
    return value
