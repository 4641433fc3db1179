"""Migration 0007 (keys a merchant manages) on a real PostgreSQL holding keys made before it:
each stays a full-access secret key with no expiry, and the way back drops only what 0007
added."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.db.migrate import downgrade, upgrade
from tests.core.migrated_database import database_at
from tests.e2e.mesh_db import sql_at


@pytest.fixture
def database_at_0006(postgres_url: str) -> Iterator[str]:
    with database_at(postgres_url, "0006") as url:
        yield url


def test_existing_keys_keep_working_as_full_access_secret_keys(database_at_0006: str) -> None:
    url = database_at_0006
    sql_at(url, "insert into merchants (id, name, default_processor) values ('mer_1', 'm', 's')")
    sql_at(
        url,
        "insert into api_keys (id, merchant_id, key_hash, prefix, livemode) "
        "values ('key_1', 'mer_1', 'h1', 'sk_test_abcd', false)",
    )
    upgrade(url, "0007")
    assert sql_at(
        url,
        "select kind, name, read_only, last_used_at, expires_at, revoked_at from api_keys "
        "where id = 'key_1'",
    ) == [("secret", "", False, None, None, None)]
    downgrade(url, "0006")
    assert sql_at(url, "select id, prefix from api_keys") == [("key_1", "sk_test_abcd")]
