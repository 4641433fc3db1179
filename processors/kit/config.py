"""The typed configuration pattern every adapter follows.

An adapter's `config.py` holds one frozen dataclass that extends `ServerConfig` with the
gateway's own settings, checks them in `__post_init__` (ValueError), and a `parse_args(argv)`
that reads the command line into it with `server_arguments` and `parse_config`. Everything
below `main` receives that object, never an `argparse.Namespace`: a misspelled setting is a
type error, and a bad value stops the start with one line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

_C = TypeVar("_C")
_MAX_PORT = 65_535


@dataclass(frozen=True)
class ServerConfig:
    """Where an adapter listens and the name it gives itself (GetCapabilities.name)."""

    name: str
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must not be empty")
        check_port("port", self.port)


def check_port(name: str, port: int) -> None:
    """A port to listen on; 0 lets the system pick a free one."""
    if not 0 <= port <= _MAX_PORT:
        raise ValueError(f"{name} must be 0-{_MAX_PORT}, not {port}")


def check_api_base(api_base: str) -> None:
    """A gateway's API address: scheme://host[:port], without a path (the SDKs add theirs)."""
    url = urlsplit(api_base)
    if url.scheme not in ("http", "https") or not url.netloc or url.path.strip("/"):
        raise ValueError(f"api_base must be scheme://host[:port], not {api_base!r}")


def check_positive(name: str, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{name} must be positive")


def server_arguments(prog: str, description: str, default_name: str) -> argparse.ArgumentParser:
    """A parser with the arguments of `ServerConfig`; the adapter adds its own."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--name", default=default_name, help="processor name (GetCapabilities)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="gRPC port, 0 = any free port")
    return parser


def parse_config(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    build: Callable[[argparse.Namespace], _C],
) -> _C:
    """The adapter's config from the command line; a value its checks refuse ends the program
    with the usage and one line, as a malformed argument does."""
    args = parser.parse_args(argv)
    try:
        return build(args)
    except ValueError as error:
        parser.error(str(error))
