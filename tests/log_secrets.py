"""No log line of a mesh may hold a secret: a whole API key, a JWT, an argon2 hash, a refresh
token, a webhook signing secret, a card number, nor any value a test knows to be secret (the
installation's own keys, read from the state dir; the processor credentials the tests send).

Every mesh the tests start is scanned when it stops, before its state dir is removed
(tests/conftest.py `retire_mesh`), so the whole run is covered: a finding fails that mesh's
teardown. Findings name the file, the line and the kind of secret, and quote the line with every
secret in it masked: a report must not leak what it found."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cli.state import StatePaths
from core.secret_shapes import SHAPES, secret_shapes_in

# A card number's digits, written with spaces, dashes or a URL's %20 and + between them.
_SEPARATORS = re.compile(r"(%20|[\s+-])")
_CARD_LIKE = re.compile(r"\d(?:(?:%20|[\s+-])?\d){11,18}")
# Shorter values would match by chance (and are no secrets worth the name).
MIN_VALUE_LENGTH = 8
MAX_QUOTED = 300


@dataclass(frozen=True)
class Secrets:
    """Values that must appear nowhere: `values` as they are, `card_numbers` also with their
    digits spaced or dashed."""

    values: tuple[str, ...] = ()
    card_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        short = [value[:3] for value in self.values if len(value) < MIN_VALUE_LENGTH]
        if short:
            raise ValueError(f"secrets shorter than {MIN_VALUE_LENGTH} characters: {short}…")

    def plus(self, values: Iterable[str]) -> Secrets:
        return Secrets(tuple(dict.fromkeys((*self.values, *values))), self.card_numbers)

    def found_in(self, text: str) -> list[str]:
        """The known values in `text` (an answer, a log line), named by their first characters."""
        flat = _SEPARATORS.sub("", text)
        found = [
            f"card number {pan[:6]}…"
            for pan in self.card_numbers
            if _SEPARATORS.sub("", pan) in flat
        ]
        return found + [f"secret {value[:8]}…" for value in self.values if value in text]

    def in_log_line(self, line: str) -> list[str]:
        """What a log line must not hold: the known values, and anything shaped like a secret
        (an answer may hold a new key's secret; a log line never)."""
        return self.found_in(line) + secret_shapes_in(line)

    def masked(self, line: str) -> str:
        for value in self.values:
            line = line.replace(value, "[SECRET]")
        for shape in SHAPES.values():
            line = shape.sub("[SECRET]", line)
        return _CARD_LIKE.sub("[DIGITS]", line)


@dataclass
class Finding:
    path: Path
    line_number: int
    what: list[str]
    quoted: str = field(repr=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line_number} holds {', '.join(self.what)}: {self.quoted}"


def log_files(state_dir: Path) -> list[Path]:
    """Every log of a mesh's state dir: dev.out, each service's log (Envoy's access log among
    them), the logs of processes a test started beside the mesh, and PostgreSQL's."""
    found = [state_dir / "dev.out", *sorted(state_dir.glob("*.log"))]
    found += sorted((state_dir / "logs").glob("*"))
    found += sorted((state_dir / "pgdata" / "log").glob("*"))
    return [path for path in found if path.is_file()]


def wait_for_access_log(api_url: str, state_dir: Path) -> None:
    """Returns once Envoy has written its access log up to a request made now (it buffers)."""
    marker = httpx.get(f"{api_url}/v1/log-flush-marker", timeout=30)
    request_id = marker.json()["details"][0]["metadata"]["request_id"]
    access_log = state_dir / "logs" / "envoy-access.log"
    deadline = time.monotonic() + 60
    while request_id not in access_log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "Envoy never wrote the last request to its access log"
        time.sleep(0.5)


def installation_secrets(state_dir: Path) -> tuple[str, ...]:
    """The secrets `payloops dev` keeps in its state dir: the demo keys, the Fernet keys that
    seal credentials, the admin key, the JWT signing keys and the vault's KEKs
    (comma-separated lists, each of them, and each KEK's key without its id), the Temporal
    payload keys (each `ID:KEY` entry's key), the page-token secret, the dev owner's password,
    the vault's fingerprint key, service token and database password (whole)."""
    paths = StatePaths.at(state_dir)
    found: list[str] = []
    for path in (
        paths.demo_api_key,
        paths.demo_publishable_key,
        paths.secrets_keys,
        paths.admin_api_key,
        paths.jwt_signing_keys,
    ):
        if path.is_file():
            found += [part.strip() for part in path.read_text().split(",") if part.strip()]
    if paths.temporal_codec_keys.is_file():
        entries = paths.temporal_codec_keys.read_text().split(",")
        found += [entry.partition(":")[2].strip() for entry in entries if ":" in entry]
    if paths.vault_keks.is_file():
        keks = [part.strip() for part in paths.vault_keks.read_text().split(",") if part.strip()]
        found += keks + [kek.partition(":")[2] for kek in keks]
    for path in (
        paths.page_token_secret,
        paths.dev_owner_password,
        paths.vault_fingerprint_key,
        paths.vault_service_token,
        paths.vault_edge_service_token,
        paths.vault_db_password,
    ):
        if path.is_file():
            found.append(path.read_text().strip())
    return tuple(found)


def scan(paths: Iterable[Path], secrets: Secrets) -> list[Finding]:
    return [finding for path in paths for finding in _scan_file(path, secrets)]


def _scan_file(path: Path, secrets: Secrets) -> Iterator[Finding]:
    with path.open(errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if what := secrets.in_log_line(line):
                yield Finding(path, number, what, secrets.masked(line.rstrip())[:MAX_QUOTED])


def report(findings: list[Finding], limit: int = 20) -> str:
    shown = "\n".join(str(finding) for finding in findings[:limit])
    more = len(findings) - limit
    return shown + (f"\n… and {more} more" if more > 0 else "")
