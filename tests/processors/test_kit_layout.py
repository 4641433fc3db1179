"""The shape every adapter shares, read from the source: processors know only the generated
contract and the kit, each adapter has the kit's files under the same names, and only the kit
builds gRPC servers, statuses and interceptors, so a new adapter cannot grow a fourth way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROCESSORS = Path(__file__).resolve().parents[2] / "processors"
ADAPTERS = sorted(
    p.name for p in PROCESSORS.iterdir() if (p / "__init__.py").exists() and p.name != "kit"
)
# Every adapter has these, with these names: a reader of one adapter knows where to look in
# another.
SHARED_FILES = (
    "__init__.py",
    "__main__.py",
    "config.py",
    "server.py",
    "servicer.py",
    "params.py",
    "mapping.py",
    "declines.py",
    "payment_methods.py",
    "webhooks.py",
)
# The repository's own packages a processor must not import: adapters run anywhere, alone.
FORBIDDEN = ("core", "edge", "orchestrator", "cli", "sdk", "bench", "tests")
# What only the kit does, by the names an adapter would use to do it itself.
KIT_ONLY = {
    "grpc.aio.server": "the gRPC server is built by the kit's serve_processor",
    "abort_with_status": "errors are raised as ProcessorError; the kit's interceptor answers",
    "ServerInterceptor": "the kit's ErrorInterceptor is the one interceptor",
    "enable_server_reflection": "reflection is set up by the kit's serve_processor",
    "add_signal_handler": "signals are handled by the kit's run()",
}


def modules(package: str) -> list[Path]:
    return sorted((PROCESSORS / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_there_are_adapters() -> None:
    assert {"sandbox", "stripe", "razorpay"} <= set(ADAPTERS)


@pytest.mark.parametrize("package", ["kit", *ADAPTERS])
def test_processors_import_only_the_contract_the_kit_and_themselves(package: str) -> None:
    allowed = ("processors.kit",) if package != "kit" else ()
    for path in modules(package):
        for name in imported(path):
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"{path.name} imports {name}"
            if top == "processors":
                own = name == f"processors.{package}" or name.startswith(f"processors.{package}.")
                assert own or name.startswith(allowed), f"{package}/{path.name} imports {name}"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_every_adapter_has_the_shared_files(adapter: str) -> None:
    missing = [f for f in SHARED_FILES if not (PROCESSORS / adapter / f).exists()]
    assert not missing, f"{adapter} lacks {missing}"


def used_names(path: Path) -> set[str]:
    """Every attribute and name a module uses, and its dotted calls ("grpc.aio.server")."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute):
            names.update((node.attr, ast.unparse(node)))
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return names


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_only_the_kit_builds_servers_statuses_and_interceptors(adapter: str) -> None:
    for path in modules(adapter):
        for name in used_names(path) & KIT_ONLY.keys():
            pytest.fail(f"{adapter}/{path.name}: {KIT_ONLY[name]}")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_no_adapter_defines_its_own_rpc_error_type(adapter: str) -> None:
    """A class that keeps a gRPC code and a reason is a second error type: ProcessorError is
    the one."""
    for path in modules(adapter):
        for cls in ast.walk(ast.parse(path.read_text())):
            if not isinstance(cls, ast.ClassDef):
                continue
            kept = {
                target.attr
                for node in ast.walk(cls)
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Attribute)
            }
            assert not {"code", "reason"} <= kept, f"{adapter}/{path.name}: {cls.name}"
