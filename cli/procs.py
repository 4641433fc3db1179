"""Child processes of `payloops dev`: started with a log file and a pid file, stopped by pid.

Each child runs in its own session, so a Ctrl-C in the terminal reaches only the supervisor,
which then stops the children in order; and each child gets SIGTERM from the kernel if the
supervisor dies without cleaning up (PR_SET_PDEATHSIG), so a `kill -9` of the supervisor
leaves nothing running. Whatever still survives is found through the pid files at the next
start (kill_stale).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Set in every child's environment; identifies processes of one state folder in /proc.
STATE_MARKER_VAR = "PAYLOOPS_DEV_STATE_DIR"
# What a child of `payloops dev` has in its command line (python children, Temporal, Envoy).
_CMDLINE_SIGNATURES = ("cli.main", "start-dev", "envoy")

# Execs the child with PR_SET_PDEATHSIG set (no preexec_fn: see the module's docstring).
_DIE_WITH_PARENT = str(Path(__file__).with_name("die_with_parent.py"))


def dying_with_this_process(argv: Sequence[str]) -> list[str]:
    """`argv`, wrapped so that the process gets SIGTERM when this one exits, however it exits
    (SIGKILL included). Start it from a thread that lives as long as the process: the kernel
    ties the signal to the thread that forked."""
    return [sys.executable, "-S", _DIE_WITH_PARENT, str(os.getpid()), *argv]


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: dict[str, str]
    log_path: Path
    pid_path: Path
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(
                f"\n=== {stamp} payloops dev starts {self.name}: {' '.join(self.argv)}\n".encode()
            )
            log.flush()
            self.popen = subprocess.Popen(
                dying_with_this_process(self.argv),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        self.pid_path.write_text(f"{self.popen.pid}\n")

    def exit_code(self) -> int | None:
        """None while running."""
        return None if self.popen is None else self.popen.poll()

    def stop(self, grace: float = 10.0) -> bool:
        """SIGTERM, up to `grace` seconds to exit, then SIGKILL. Idempotent. True when it had
        to be killed."""
        killed = False
        popen = self.popen
        if popen is not None:
            if popen.poll() is None:
                _signal_group(popen.pid, signal.SIGTERM)
                try:
                    popen.wait(grace)
                except subprocess.TimeoutExpired:
                    killed = True
                    _signal_group(popen.pid, signal.SIGKILL)
                    popen.wait(5)
            # The child was its session's leader; anything it left in its group goes too.
            _signal_group(popen.pid, signal.SIGKILL)
        self.pid_path.unlink(missing_ok=True)
        return killed


def _signal_group(pid: int, sig: int) -> None:
    """Signals the child's process group (pgid == pid, it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def is_alive(pid: int) -> bool:
    """Running and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def belongs_to(pid: int, state_dir: Path) -> bool:
    """True only for a live process that `payloops dev` started for this state folder."""
    try:
        cmdline = (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return False
    if not any(signature in cmdline for signature in _CMDLINE_SIGNATURES):
        return False  # the pid was reused by something else
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return str(state_dir) in cmdline
    return f"{STATE_MARKER_VAR}={state_dir}".encode() in environ


def terminate(pid: int, grace: float = 10.0) -> None:
    """Stops a process that is not our child (left over from an earlier run)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline:
            if not is_alive(pid):
                return
            time.sleep(0.1)


def kill_stale(run_dir: Path, state_dir: Path) -> list[str]:
    """Stops what a previous, killed run left behind; returns 'name (pid N)' for each."""
    stopped: list[str] = []
    for pid_file in sorted(run_dir.glob("*.pid")):
        with contextlib.suppress(ValueError, OSError):
            pid = int(pid_file.read_text().split()[0])
            if pid != os.getpid() and belongs_to(pid, state_dir):
                terminate(pid)
                stopped.append(f"{pid_file.stem} (pid {pid})")
        pid_file.unlink(missing_ok=True)
    return stopped
