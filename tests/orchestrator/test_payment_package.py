"""The payment workflow's package stays readable: its parts import each other in one direction
only (no import circle), and each file can be read at once."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import orchestrator.workflows.payment as package

PACKAGE = package.__name__
FILES = sorted(Path(package.__file__).parent.glob("*.py"))
LONGEST = 250


def parts_imported(path: Path) -> set[str]:
    """The package's own modules that `path` imports (the package itself excluded)."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            imported |= {f"{PACKAGE}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{PACKAGE}."):
            imported.add(str(node.module))
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names if a.name.startswith(f"{PACKAGE}.")}
    return imported


def test_the_parts_import_each_other_without_a_circle() -> None:
    graph = {f"{PACKAGE}.{path.stem}": parts_imported(path) for path in FILES}
    assert graph[f"{PACKAGE}.workflow"]  # the class composes the parts
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError on a circle


def test_every_file_can_be_read_at_once() -> None:
    lengths = {path.name: len(path.read_text().splitlines()) for path in FILES}
    assert {name: n for name, n in lengths.items() if n > LONGEST} == {}
