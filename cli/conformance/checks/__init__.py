"""The contract's rules, one module per area. Each module exports CHECKS, in the order they run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cli.conformance.session import Session


@dataclass(frozen=True)
class Check:
    # "area.rule", as `--only` and the table name it.
    name: str
    # What passing proves, in one line (docs and `--only` errors list it).
    proves: str
    # Returns the PASS detail; raises CheckFailed or CheckSkipped.
    run: Callable[[Session], str]
