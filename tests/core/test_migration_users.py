"""Migration 0008 (users, sessions, the audit log) on a real PostgreSQL holding a merchant and
its key from before: the key is untouched, an e-mail belongs to one active user at a time, and
the way back drops only what 0008 added."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from core.db.migrate import downgrade, upgrade
from tests.core.migrated_database import database_at
from tests.e2e.mesh_db import sql_at

_ADD_USER = (
    "insert into users (id, merchant_id, email, password_hash, role, removed_at) "
    "values ('{id}', 'mer_1', 'a@example.com', 'h', 'owner', {removed})"
)


@pytest.fixture
def database_at_0007(postgres_url: str) -> Iterator[str]:
    with database_at(postgres_url, "0007") as url:
        sql_at(
            url, "insert into merchants (id, name, default_processor) values ('mer_1', 'm', 's')"
        )
        sql_at(
            url,
            "insert into api_keys (id, merchant_id, key_hash, prefix, livemode) "
            "values ('key_1', 'mer_1', 'h1', 'sk_test_abcd', false)",
        )
        yield url


def test_an_email_belongs_to_one_active_user(database_at_0007: str) -> None:
    url = database_at_0007
    upgrade(url, "0008")
    sql_at(url, _ADD_USER.format(id="usr_1", removed="now()"))
    sql_at(url, _ADD_USER.format(id="usr_2", removed="null"))
    with pytest.raises(IntegrityError):
        sql_at(url, _ADD_USER.format(id="usr_3", removed="null"))
    assert sql_at(url, "select id from users order by id") == [("usr_1",), ("usr_2",)]


def test_the_way_back_keeps_the_keys(database_at_0007: str) -> None:
    url = database_at_0007
    upgrade(url, "0008")
    assert sql_at(url, "select prefix, revoked_at from api_keys") == [("sk_test_abcd", None)]
    downgrade(url, "0007")
    assert sql_at(url, "select to_regclass('audit_log'), to_regclass('users')") == [(None, None)]
    assert sql_at(url, "select id from api_keys") == [("key_1",)]
