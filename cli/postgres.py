"""Embedded PostgreSQL for `payloops dev`, from the pgserver wheel (no Docker, no system
install). Data lives in <state>/pgdata; the server listens on a unix socket only."""

from __future__ import annotations

import logging
import subprocess
import urllib.parse
import warnings
from dataclasses import dataclass
from pathlib import Path

from cli.procs import terminate


class PostgresError(Exception):
    """Raised with a one-line, actionable message."""


@dataclass(frozen=True)
class EmbeddedPostgres:
    pgdata: Path
    url: str
    pid: int
    system_user: str | None  # pgserver runs the server as `pgserver` when we are root
    reused: bool  # already running (an earlier run was killed before it could stop it)

    def stop(self) -> None:
        """Fast shutdown (disconnects clients, no crash recovery needed at next start)."""
        # pgserver defines one function per bundled binary at import time.
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        try:
            pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user, timeout=30
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            terminate(self.pid)


def start(pgdata: Path) -> EmbeddedPostgres:
    """Starts the server for pgdata (initialising it on first use), or reuses a running one."""
    # pgserver logs whole server logs on failure and platformdirs warns about
    # XDG_RUNTIME_DIR; we report one line instead.
    logging.getLogger("pgserver").disabled = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import PostgresServer, get_server
        from pgserver.utils import PostmasterInfo

        # get_server() caches one handle per pgdata for the life of the process, including
        # its view of the running server; after a crash that view is stale, so start afresh.
        PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)
        previous = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.is_dir() else None
        reused = previous is not None and previous.is_running()
        try:
            server = get_server(pgdata, cleanup_mode=None)
            info = server.get_postmaster_info()
        except Exception as error:
            raise PostgresError(
                f"embedded PostgreSQL did not start in {pgdata} "
                f"({type(error).__name__}: {error}); see {pgdata / 'log'}"
            ) from error
    # pgserver puts the socket in pgdata, or in a short runtime folder when pgdata's path is
    # too long for a unix socket (107 bytes); either way postmaster.pid says where.
    if info.socket_dir is None:
        raise PostgresError(f"embedded PostgreSQL in {pgdata} is not listening on a socket")
    host = urllib.parse.quote(str(info.socket_dir), safe="/")
    url = f"postgresql+asyncpg://postgres@/postgres?host={host}"
    return EmbeddedPostgres(
        pgdata=pgdata, url=url, pid=info.pid, system_user=server.system_user, reused=reused
    )
