"""The admin keys the edge accepts: PAYLOOPS_ADMIN_API_KEYS (a rotation's pair) and the single
PAYLOOPS_ADMIN_API_KEY, each once, blanks ignored."""

from __future__ import annotations

from core.config import Settings

DB = {"PAYLOOPS_DATABASE_URL": "postgresql+asyncpg://postgres@/postgres"}


def test_both_variables_are_read_and_merged() -> None:
    settings = Settings.from_env(
        DB | {"PAYLOOPS_ADMIN_API_KEYS": " adm_new , ,adm_old", "PAYLOOPS_ADMIN_API_KEY": "adm_old"}
    )
    assert settings.admin_api_keys == ("adm_new", "adm_old")


def test_the_single_key_alone_still_works_and_none_closes_the_api() -> None:
    assert Settings.from_env(DB | {"PAYLOOPS_ADMIN_API_KEY": "adm_x"}).admin_api_keys == ("adm_x",)
    assert Settings.from_env(DB).admin_api_keys == ()
