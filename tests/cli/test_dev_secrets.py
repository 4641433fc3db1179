"""The secrets `payloops dev` keeps in its state dir: made once, owner-only, the same after a
restart, and made owner-only again when someone opened them up."""

from __future__ import annotations

from pathlib import Path

from cli.state import StatePaths, kept_secret, restrict_to_owner


def test_every_secret_file_of_the_state_dir_is_listed(tmp_path: Path) -> None:
    state = StatePaths.at(tmp_path)
    assert {path.name for path in state.secret_files} == {
        "demo_api_key",
        "secrets_keys",
        "admin_api_key",
        "page_token_secret",
        "jwt_signing_keys",
        "temporal_codec_keys",
        "dev_owner_password",
        "demo_publishable_key",
        "vault_keks",
        "vault_fingerprint_key",
        "vault_service_token",
        "vault_edge_service_token",
        "vault_db_password",
        "dev.env",
    }


def test_a_kept_secret_is_made_once_owner_only_and_then_reused(tmp_path: Path) -> None:
    path = StatePaths.at(tmp_path).page_token_secret
    made = iter(["first", "second"])
    assert kept_secret(path, lambda: next(made)) == "first"
    assert path.stat().st_mode & 0o777 == 0o600
    assert kept_secret(path, lambda: next(made)) == "first"


def test_secret_files_open_to_others_are_made_owner_only_and_named(tmp_path: Path) -> None:
    state = StatePaths.at(tmp_path)
    state.create()
    state.admin_api_key.write_text("adm_x\n")
    state.admin_api_key.chmod(0o644)
    state.page_token_secret.write_text("p" * 43 + "\n")
    state.page_token_secret.chmod(0o620)
    state.secrets_keys.write_text("k\n")
    state.secrets_keys.chmod(0o600)
    widened = restrict_to_owner(state.secret_files)  # the others do not exist: no error
    assert widened == [state.admin_api_key, state.page_token_secret]
    assert {p.stat().st_mode & 0o777 for p in state.secret_files if p.exists()} == {0o600}
    assert restrict_to_owner(state.secret_files) == []
