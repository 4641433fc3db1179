"""Puts the API's generated message modules (gen/payloops/v1) in the SDK's wheel, for
transport="grpc"; not in an editable install, which reads them from gen/ itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

GENERATED = Path(__file__).resolve().parent.parent / "gen" / "payloops" / "v1"


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "standard" and GENERATED.is_dir():
            build_data["force_include"][str(GENERATED)] = "payloops/v1"
