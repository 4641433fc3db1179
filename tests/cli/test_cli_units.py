"""The small parts of the CLI, without the mesh."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli import dev, procs
from cli.main import build_parser
from cli.ports import PortPicker, ephemeral_start, port_is_free
from cli.state import NoDatabase, StatePaths, database_url, format_env, read_env, write_secret

REPO = Path(__file__).resolve().parents[2]
PAYLOOPS = [sys.executable, "-m", "cli.main"]


def _scrubbed_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PAYLOOPS_")}


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, cli.main\n"
        "try:\n    cli.main.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('grpc', 'sqlalchemy', 'temporalio', 'pgserver', 'yaml')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert time.monotonic() - started < 5
    assert "dev" in out and "merchants" in out and "serve" in out
    assert "HEAVY []" in out


def test_parser_surface() -> None:
    parser = build_parser()
    args = parser.parse_args(["dev"])
    assert (args.state_dir, args.http_port, args.grpc_port) == (".payloops", 8080, 8081)
    args = parser.parse_args(["merchants", "create", "Acme", "--json", "--state-dir", "/x"])
    assert (args.name, args.json, args.state_dir) == ("Acme", True, "/x")
    args, rest = parser.parse_known_args(
        ["serve", "processor", "sandbox", "--name", "b", "--port", "5"]
    )
    assert (args.component, args.processor, rest) == (
        "processor",
        "sandbox",
        ["--name", "b", "--port", "5"],
    )
    args, rest = parser.parse_known_args(["serve", "edge", "--port", "5", "--help"])
    assert (args.component, rest) == ("edge", ["--port", "5", "--help"])


def test_merchants_create_without_an_api_says_so_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PAYLOOPS, "merchants", "create", "Acme", "--state-dir", str(tmp_path)],
        cwd=REPO,
        env=_scrubbed_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PAYLOOPS_API_URL" in lines[0]


def test_unknown_processor_is_a_clear_error() -> None:
    result = subprocess.run(
        [*PAYLOOPS, "serve", "processor", "nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "no processor named 'nope'" in result.stderr


def test_env_file_round_trip_and_naive_readers(tmp_path: Path) -> None:
    values = {
        "PAYLOOPS_DATABASE_URL": "postgresql+asyncpg://postgres@/postgres?host=/tmp/a",
        "PAYLOOPS_API_KEY": "sk_test_abc",
        "ODD": "two words",
        "PAYLOOPS_WEBHOOK_TEST_ALLOWLIST": "127.0.0.1:1024-32767,[::1]:1024-32767",
    }
    path = tmp_path / "dev.env"
    write_secret(path, format_env(values))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_env(path) == values
    # Plain values stay unquoted, so `line.partition("=")` readers (tests/conftest.py) work.
    naive = dict(line.partition("=")[::2] for line in path.read_text().splitlines())
    assert naive["PAYLOOPS_DATABASE_URL"] == values["PAYLOOPS_DATABASE_URL"]
    allowlist = values["PAYLOOPS_WEBHOOK_TEST_ALLOWLIST"]
    assert naive["PAYLOOPS_WEBHOOK_TEST_ALLOWLIST"] == allowlist
    # And the shell agrees (brackets are not globbed in an assignment).
    shell = subprocess.run(
        [
            "sh",
            "-c",
            f'. {path}; printf %s "$ODD|$PAYLOOPS_DATABASE_URL|$PAYLOOPS_WEBHOOK_TEST_ALLOWLIST"',
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shell == f"two words|{values['PAYLOOPS_DATABASE_URL']}|{allowlist}"


def test_dev_admits_loopback_receivers_below_the_ephemeral_range_unless_told_otherwise() -> None:
    last = ephemeral_start() - 1
    assert dev.default_webhook_allowlist() == f"127.0.0.1:1024-{last},[::1]:1024-{last}"
    assert dev.webhook_settings({}, ["127.0.0.1:8080"]) == {
        "PAYLOOPS_WEBHOOK_TEST_ALLOWLIST": dev.default_webhook_allowlist(),
        "PAYLOOPS_PLATFORM_LISTENERS": "127.0.0.1:8080",
    }
    # The operator's own choice (here: no local receivers at all) and listeners are kept.
    assert dev.webhook_settings(
        {"PAYLOOPS_WEBHOOK_TEST_ALLOWLIST": "", "PAYLOOPS_PLATFORM_LISTENERS": "10.0.0.5:5432"},
        ["127.0.0.1:8080"],
    ) == {
        "PAYLOOPS_WEBHOOK_TEST_ALLOWLIST": "",
        "PAYLOOPS_PLATFORM_LISTENERS": "10.0.0.5:5432,127.0.0.1:8080",
    }


def test_database_url_prefers_the_environment(tmp_path: Path) -> None:
    with pytest.raises(NoDatabase):
        database_url(tmp_path, env={})
    (tmp_path / "dev.env").write_text("PAYLOOPS_DATABASE_URL=postgresql://from-file\n")
    assert database_url(tmp_path, env={}) == "postgresql://from-file"
    assert database_url(tmp_path, env={"PAYLOOPS_DATABASE_URL": "postgresql://env"}) == (
        "postgresql://env"
    )


def test_port_picker_prefers_free_conventional_ports_and_never_repeats() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert not port_is_free(taken)
        picker = PortPicker()
        first = picker.pick(taken)
        assert first != taken and port_is_free(first)
        assert picker.pick(first) != first


def test_child_pid_file_and_stop(tmp_path: Path) -> None:
    state = StatePaths.at(tmp_path)
    state.create()
    child = procs.Child(
        name="sleeper",
        argv=[sys.executable, "-c", "import time; time.sleep(60)"],
        env={**os.environ, procs.STATE_MARKER_VAR: str(state.root)},
        log_path=state.log("sleeper"),
        pid_path=state.pid_file("sleeper"),
    )
    child.start()
    assert int(state.pid_file("sleeper").read_text()) == child.pid
    assert child.exit_code() is None
    assert child.stop(grace=5) is False  # SIGTERM was enough
    assert child.exit_code() is not None
    assert not state.pid_file("sleeper").exists()


def test_kill_stale_only_kills_processes_of_this_state_dir(tmp_path: Path) -> None:
    state = StatePaths.at(tmp_path / "state")
    state.create()
    ours = subprocess.Popen(  # looks like a child of `payloops dev` for this state dir
        [sys.executable, "-c", "import time; time.sleep(60)", "cli.main"],
        env={**os.environ, procs.STATE_MARKER_VAR: str(state.root)},
    )
    other_state = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "cli.main"],
        env={**os.environ, procs.STATE_MARKER_VAR: "/somewhere/else"},
    )
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for name, process in (("a", ours), ("b", other_state), ("c", unrelated)):
            state.pid_file(name).write_text(f"{process.pid}\n")
        state.pid_file("gone").write_text("999999999\n")
        state.pid_file("junk").write_text("not a pid\n")
        stopped = procs.kill_stale(state.run, state.root)
        assert stopped == [f"a (pid {ours.pid})"]
        assert ours.wait(5) is not None
        assert other_state.poll() is None and unrelated.poll() is None
        assert list(state.run.glob("*.pid")) == []
    finally:
        for process in (ours, other_state, unrelated):
            process.kill()
            process.wait()


def test_ephemeral_only_never_hands_out_the_conventional_port() -> None:
    """Test runs start several stacks at once: they must not race for the fixed ports."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        preferred = sock.getsockname()[1]
    assert port_is_free(preferred)
    assert PortPicker().pick(preferred) == preferred
    assert PortPicker(ephemeral_only=True).pick(preferred) != preferred


def test_an_adapter_cannot_share_a_port_another_server_listens_on(tmp_path: Path) -> None:
    """grpcio's default SO_REUSEPORT would let two sandboxes split one port's calls; ours
    refuse to start instead."""
    from tests.conftest import start_sandbox

    target, first = start_sandbox("first", tmp_path)
    try:
        port = target.rsplit(":", 1)[1]
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "cli.main",
                "serve",
                "processor",
                "sandbox",
                "--name",
                "second",
                "--port",
                port,
                "--http-port",
                "0",
                "--ledger",
                str(tmp_path / "second.sqlite"),
            ],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
    finally:
        first.terminate()
        first.wait(10)


def test_a_child_dies_with_a_killed_supervisor(tmp_path: Path) -> None:
    """`kill -9` of `payloops dev` must leave nothing running: each child is armed with
    PR_SET_PDEATHSIG (set before exec by cli/die_with_parent.py)."""
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"""
import os, sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from pathlib import Path
from cli import dev, procs
root = Path({str(tmp_path)!r})
child = procs.Child(name="sleeper", argv=[sys.executable, "-c", "import time; time.sleep(60)"],
                    env=dict(os.environ), log_path=root / "sleeper.log",
                    pid_path=root / "sleeper.pid")
child.start()
print(child.pid, flush=True)
time.sleep(60)
""",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert supervisor.stdout is not None
    child_pid = int(supervisor.stdout.readline())
    assert procs.is_alive(child_pid)
    supervisor.kill()
    supervisor.wait(10)
    deadline = time.monotonic() + 10
    while procs.is_alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not procs.is_alive(child_pid)


def test_a_killed_test_run_leaves_no_server_behind(tmp_path: Path) -> None:
    """The servers the tests start (`start_sandbox` here; `start_mesh`'s `payloops dev` the
    same way) die with the test process, even when it is killed with SIGKILL."""
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from pathlib import Path
from tests.conftest import start_sandbox
target, process = start_sandbox("orphan", Path({str(tmp_path)!r}))
print(process.pid, flush=True)
time.sleep(60)
""",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert run.stdout is not None
    server_pid = int(run.stdout.readline())
    assert procs.is_alive(server_pid)
    run.kill()
    run.wait(10)
    deadline = time.monotonic() + 15
    while procs.is_alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not procs.is_alive(server_pid)
