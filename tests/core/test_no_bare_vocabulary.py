"""No status, outcome, failure code, reason or error type of the vocabulary is spelled as a bare
string in edge/, orchestrator/ or core/: each is written as its member of
core/contracts/vocabulary.py, so mypy catches a typo and a reader finds every value there.

The check reads the code's string constants (docstrings aside) and looks for any that equals a
value of the vocabulary. A string that only happens to spell such a value, meaning something
else, is listed below with what it means."""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

from core.contracts import vocabulary

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("edge", "orchestrator", "core")
NOT_SCANNED = (
    # The vocabulary itself.
    "core/contracts/vocabulary.py",
    # Migrations are SQL history: they keep the literals they were written with.
    "core/db/migrations/",
)
# (file, string): what the string means there.
OTHER_MEANINGS = {
    ("orchestrator/activities/processors.py", "refund"): "the refund activity's Temporal name",
    ("edge/services/refunds.py", "refund"): "the error metadata key naming a refund id",
    ("core/routing_config/model.py", "unknown"): "a routing mode or policy with no name",
    ("core/routing_config/model.py", "success_rate"): "the routing mode, defined there",
    ("orchestrator/routing_engine/inputs.py", "test_only"): "a processor capability's name",
    ("edge/services/processor_accounts.py", "test_only"): "a processor capability's name",
}


def _vocabulary() -> dict[str, list[str]]:
    """Every non-empty value of the vocabulary, with the families that use it."""
    values: dict[str, list[str]] = {}
    for family in vars(vocabulary).values():
        if isinstance(family, type) and issubclass(family, StrEnum) and family is not StrEnum:
            for member in family:
                if member.value:
                    values.setdefault(member.value, []).append(family.__name__)
    return values


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def bare_literals(root: Path = REPO) -> list[str]:
    """`path:line: 'value' (families)` for each bare vocabulary string, outside the exceptions."""
    values = _vocabulary()
    found = []
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name.startswith(NOT_SCANNED):
                continue
            tree = ast.parse(path.read_text(), name)
            docstrings = _docstrings(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and node.value in values
                    and id(node) not in docstrings
                    and (name, node.value) not in OTHER_MEANINGS
                ):
                    families = ", ".join(values[node.value])
                    found.append(f"{name}:{node.lineno}: {node.value!r} ({families})")
    return found


def test_no_bare_vocabulary_string_outside_its_home() -> None:
    assert bare_literals() == []


def test_the_check_finds_a_bare_status(tmp_path: Path) -> None:
    (tmp_path / "edge").mkdir()
    (tmp_path / "edge" / "service.py").write_text(
        '"""A docstring may say "succeeded"."""\n'
        "def paid(status: str) -> bool:\n"
        '    return status == "succeeded"\n'
    )
    assert bare_literals(tmp_path) == [
        "edge/service.py:3: 'succeeded' (OrderStatus, AttemptOutcome, GatewayOutcome, "
        "RefundStatus, DeliveryStatus)"
    ]


def test_every_exception_still_exists() -> None:
    """An exception whose string is gone is removed, so the list never hides a new one."""
    for name, value in OTHER_MEANINGS:
        constants = {
            node.value
            for node in ast.walk(ast.parse((REPO / name).read_text()))
            if isinstance(node, ast.Constant)
        }
        assert value in constants, f"{name} no longer holds {value!r}"
