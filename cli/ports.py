"""Loopback port checks for the dev mesh. Everything binds 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

HOST = "127.0.0.1"
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Linux's default start; BSD and macOS start higher (49152), so below it is below theirs too.
_DEFAULT_EPHEMERAL_START = 32768


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when a listener could bind the port now.

    SO_REUSEADDR mirrors what Envoy and grpcio do: a port held only by TIME_WAIT connections
    counts as free, a port with a live listener does not.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range: a process that binds port 0 (any free
    port) always gets one at or above it."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    return _DEFAULT_EPHEMERAL_START


def free_port(host: str = HOST) -> int:
    """A port the kernel just handed out (ephemeral range), so it is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class PortPicker:
    """Hands out ports for internal services: the conventional one when it is free (stable
    addresses across restarts are friendlier to humans and to 3-D Secure links already handed
    out), otherwise an ephemeral one; never the same port twice. With `ephemeral_only`, never
    the conventional ones: several stacks starting at once on one host (test runs) would race
    for them."""

    def __init__(self, reserved: set[int] | None = None, ephemeral_only: bool = False) -> None:
        self._taken: set[int] = set(reserved or ())
        self._ephemeral_only = ephemeral_only

    def pick(self, preferred: int | None = None) -> int:
        if (
            preferred
            and not self._ephemeral_only
            and preferred not in self._taken
            and port_is_free(preferred)
        ):
            port = preferred
        else:
            port = free_port()
            while port in self._taken:
                port = free_port()
        self._taken.add(port)
        return port


def accepts_connections(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False
