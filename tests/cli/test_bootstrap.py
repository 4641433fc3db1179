"""`payloops bootstrap`'s settings (cli/bootstrap.py); the compose twin runs the job itself
against the real mesh (tests/deploy/test_compose_twin.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cli import bootstrap


def test_processors_are_name_equals_target_pairs() -> None:
    assert bootstrap.processor_targets(" sandbox=sandbox:50061, stripe=stripe:50071 ,") == {
        "sandbox": "sandbox:50061",
        "stripe": "stripe:50071",
    }


@pytest.mark.parametrize("value", ["sandbox", "=sandbox:50061", "sandbox="])
def test_a_malformed_processor_entry_is_refused_by_name(value: str) -> None:
    with pytest.raises(bootstrap.BootstrapError, match="PAYLOOPS_BOOTSTRAP_PROCESSORS"):
        bootstrap.processor_targets(value)


def test_without_a_database_nothing_is_attempted(tmp_path: Path) -> None:
    with pytest.raises(bootstrap.BootstrapError, match="PAYLOOPS_DATABASE_URL"):
        bootstrap.run({}, tmp_path / "merchant.json")


def test_an_owner_needs_a_password_file() -> None:
    """Refused before any call: a password never comes from a variable."""
    with (
        httpx.Client(base_url="http://127.0.0.1:9") as api,
        pytest.raises(bootstrap.BootstrapError, match="PASSWORD_FILE"),
    ):
        bootstrap._create_owner(api, "mer_1", {bootstrap.OWNER_EMAIL_VAR: "a@b.test"})
