"""`payloops processors add|list` against a real PostgreSQL, as a user runs them, and the
registration step of `payloops dev` that must not undo what they set."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cli.dev_db import register_processors
from cli.state import format_env
from core.db.session import create_engine, session_factory
from core.processors.registry import Registration, registrations
from tests.cli.broken_processor import running, self_signed_for_127_0_0_1
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
PAYLOOPS = [sys.executable, "-m", "cli.main"]


def payloops(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLOOPS_")}
    if database_url:
        env["PAYLOOPS_DATABASE_URL"] = database_url
    return subprocess.run(
        [*PAYLOOPS, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


def listed(database_url: str, *names: str) -> dict[str, dict[str, object]]:
    result = payloops("processors", "list", "--json", database_url=database_url)
    assert result.returncode == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout) if p["name"] in names}


@pytest.fixture
def name() -> str:
    return f"gw-{uuid.uuid4().hex[:8]}"


def test_add_registers_a_processor_with_the_default_deadline_and_list_shows_it(
    postgres_url: str, name: str, sandbox_targets: list[str]
) -> None:
    target = sandbox_targets[0]
    added = payloops("processors", "add", name, target, database_url=postgres_url)
    assert added.returncode == 0, added.stderr
    assert added.stdout.split() == [name, target, "deadline", "5000", "ms"]
    assert listed(postgres_url, name) == {
        name: {"name": name, "target": target, "deadline_ms": 5000, "enabled": True}
    }
    table = payloops("processors", "list", database_url=postgres_url).stdout.splitlines()
    assert table[0].split() == ["NAME", "TARGET", "DEADLINE_MS", "ENABLED"]
    assert [name, target, "5000", "yes"] in [line.split() for line in table]


def test_add_reads_the_adapters_capabilities(
    postgres_url: str, name: str, sandbox_targets: list[str]
) -> None:
    added = payloops("processors", "add", name, sandbox_targets[0], database_url=postgres_url)
    assert added.returncode == 0, added.stderr
    [registration] = asyncio.run(_registrations(postgres_url, name))
    assert registration.capabilities["manual_capture"] is True
    assert registration.capabilities["credential_fields"] == []


def test_a_target_that_does_not_answer_is_not_registered(postgres_url: str, name: str) -> None:
    result = payloops(
        "processors", "add", name, f"127.0.0.1:{free_port()}", database_url=postgres_url
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "does not answer GetCapabilities" in line
    assert listed(postgres_url, name) == {}


def test_add_again_updates_the_target_and_only_a_given_deadline(
    postgres_url: str, name: str, sandbox_targets: list[str]
) -> None:
    first, second = sandbox_targets
    payloops("processors", "add", name, first, "--deadline-ms", "750", database_url=postgres_url)
    moved = payloops("processors", "add", name, second, database_url=postgres_url)
    assert moved.returncode == 0, moved.stderr
    assert (
        listed(postgres_url, name)[name]["target"],
        listed(postgres_url, name)[name]["deadline_ms"],
    ) == (second, 750)
    payloops("processors", "add", name, first, "--deadline-ms", "120000", database_url=postgres_url)
    assert (
        listed(postgres_url, name)[name]["target"],
        listed(postgres_url, name)[name]["deadline_ms"],
    ) == (first, 120000)


def test_the_database_is_found_through_the_state_dir(
    postgres_url: str, name: str, tmp_path: Path, sandbox_targets: list[str]
) -> None:
    (tmp_path / "dev.env").write_text(format_env({"PAYLOOPS_DATABASE_URL": postgres_url}))
    added = payloops(
        "processors",
        "add",
        name,
        sandbox_targets[1],
        "--deadline-ms",
        "50",
        "--state-dir",
        str(tmp_path),
    )
    assert added.returncode == 0, added.stderr
    result = payloops("processors", "list", "--json", "--state-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert {
        "name": name,
        "target": sandbox_targets[1],
        "deadline_ms": 50,
        "enabled": True,
    } in json.loads(result.stdout)


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["127.0.0.1"], "TARGET must be host:port"),
        (["127.0.0.1:0"], "TARGET must be host:port"),
        (["127.0.0.1:65536"], "TARGET must be host:port"),
        (["http://127.0.0.1:50071"], "TARGET must be host:port"),
        (["host name:50071"], "TARGET must be host:port"),
        (["127.0.0.1:50071", "--deadline-ms", "49"], "50..120000 ms (got 49)"),
        (["127.0.0.1:50071", "--deadline-ms", "120001"], "50..120000 ms (got 120001)"),
        (["127.0.0.1:50071", "--deadline-ms", "5s"], "--deadline-ms must be a whole number"),
        (["127.0.0.1:50071", "--deadline-ms", "-5"], "--deadline-ms must be a whole number"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2_and_changes_nothing(
    postgres_url: str, name: str, args: list[str], complaint: str
) -> None:
    result = payloops("processors", "add", name, *args, database_url=postgres_url)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("payloops processors add: error: ") and complaint in line
    assert listed(postgres_url, name) == {}


def test_a_bad_name_is_refused(postgres_url: str) -> None:
    result = payloops(
        "processors", "add", "Sandbox B", "127.0.0.1:50071", database_url=postgres_url
    )
    assert result.returncode == 2
    assert "NAME must be" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_without_a_database_it_says_so_in_one_line(tmp_path: Path) -> None:
    for args in (["list"], ["add", "gw", "127.0.0.1:50071"]):
        result = payloops("processors", *args, "--state-dir", str(tmp_path))
        assert result.returncode == 2
        [line] = result.stderr.strip().splitlines()
        assert "PAYLOOPS_DATABASE_URL" in line


def test_payloops_dev_registering_again_keeps_a_deadline_someone_set(
    postgres_url: str, name: str, sandbox_targets: list[str]
) -> None:
    fresh = f"{name}-new"
    first, second = sandbox_targets
    register_processors(postgres_url, {name: first})
    payloops("processors", "add", name, first, "--deadline-ms", "300", database_url=postgres_url)
    # The next `payloops dev` start: the sandbox listens elsewhere now.
    register_processors(postgres_url, {name: second, fresh: first})
    assert listed(postgres_url, name, fresh) == {
        name: {"name": name, "target": second, "deadline_ms": 300, "enabled": True},
        fresh: {"name": fresh, "target": first, "deadline_ms": 5000, "enabled": True},
    }


async def _registrations(database_url: str, name: str) -> list[Registration]:
    engine = create_engine(database_url)
    try:
        return [r for r in await registrations(session_factory(engine)) if r.name == name]
    finally:
        await engine.dispose()


def test_a_tls_adapter_is_registered_with_its_ca_and_refused_without_it(
    postgres_url: str, name: str, tmp_path: Path
) -> None:
    key, cert = self_signed_for_127_0_0_1()
    ca = tmp_path / "ca.pem"
    ca.write_bytes(cert)
    with running(tls_key_and_cert=(key, cert)) as target:
        plain = payloops("processors", "add", name, target, database_url=postgres_url)
        secured = payloops(
            "processors", "add", name, target, "--tls-ca", str(ca), database_url=postgres_url
        )
    assert plain.returncode == 2 and "does not answer GetCapabilities" in plain.stderr
    assert secured.returncode == 0, secured.stderr
    [registration] = asyncio.run(_registrations(postgres_url, name))
    assert (registration.tls, registration.tls_ca_pem) == (True, cert.decode())
