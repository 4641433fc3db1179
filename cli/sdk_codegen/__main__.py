"""`python -m cli.sdk_codegen` (run by `make gen`): writes the Python SDK's generated modules.

- sdk/payloops/sdk/models.py and _operations.py from gen/openapi.json;
- sdk/payloops/sdk/_async_resources.py from the hand-written _resources.py.

Each is passed through `ruff format`, so `make check-gen` compares like with like.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli.sdk_codegen.models import Document, models_module, operations_module
from cli.sdk_codegen.unasync import to_async

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "gen" / "openapi.json"
SDK = REPO / "sdk" / "payloops" / "sdk"
SYNC_RESOURCES = SDK / "_resources.py"


def outputs() -> dict[Path, str]:
    """Each generated module and its source, as `make gen` writes it."""
    document = Document(json.loads(DOCUMENT.read_text()))
    sources = {
        SDK / "models.py": models_module(document),
        SDK / "_operations.py": operations_module(document),
        SDK / "_async_resources.py": to_async(
            SYNC_RESOURCES.read_text(), str(SYNC_RESOURCES.relative_to(REPO))
        ),
    }
    return {path: _formatted(source, path) for path, source in sources.items()}


def main() -> None:
    for path, source in outputs().items():
        path.write_text(source)
        print(f"wrote {path.relative_to(REPO)}")


def _formatted(source: str, path: Path) -> str:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout


if __name__ == "__main__":
    main()
