"""`payloops merchants create` as an operator runs it: a client of the admin API
(POST /v1/merchants) of the running mesh; a live key needs no SQL."""

from __future__ import annotations

import json
import subprocess

import pytest

from core import ids
from tests.cli.test_processors import payloops
from tests.conftest import Mesh
from tests.e2e.mesh_db import sql

pytestmark = pytest.mark.e2e


def create(mesh: Mesh, *args: str) -> subprocess.CompletedProcess[str]:
    return payloops("merchants", "create", *args, "--state-dir", str(mesh.state_dir))


def key_modes(mesh: Mesh, merchant_id: str) -> dict[str, bool]:
    """The merchant's API keys: hash -> livemode."""
    rows = sql(
        mesh, "select key_hash, livemode from api_keys where merchant_id = :m", m=merchant_id
    )
    return {str(key_hash): bool(livemode) for key_hash, livemode in rows}


def test_live_makes_a_live_key_beside_the_test_key(mesh: Mesh) -> None:
    result = create(mesh, "Acme", "--live", "--json")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["api_key"].startswith("sk_test_")
    assert created["live_api_key"].startswith("sk_live_")
    assert key_modes(mesh, created["id"]) == {
        ids.hash_api_key(created["api_key"]): False,
        ids.hash_api_key(created["live_api_key"]): True,
    }


def test_without_live_there_is_only_the_test_key(mesh: Mesh) -> None:
    result = create(mesh, "Acme", "--json")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"id", "api_key"}
    assert list(key_modes(mesh, created["id"]).values()) == [False]


def test_the_text_output_shows_both_keys_once(mesh: Mesh) -> None:
    result = create(mesh, "Acme", "--live")
    assert result.returncode == 0, result.stderr
    fields = dict(line.split() for line in result.stdout.splitlines())
    assert set(fields) == {"id", "api_key", "live_api_key"}
    assert fields["live_api_key"].startswith("sk_live_")
    assert "shown only this once" in result.stderr
