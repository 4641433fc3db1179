"""The log scanner every mesh's teardown runs (tests/log_secrets.py), on crafted logs: it finds
each kind of secret in each kind of log file, masks what it quotes, passes clean lines, and a
mesh whose log holds a secret fails its teardown."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core import ids
from core.webhooks.signing import new_secret
from tests import log_secrets
from tests.conftest import retire_mesh

API_KEY = ids.new_api_key(livemode=True)
JWT = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlLWJ5dGVz"
ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
REFRESH_TOKEN = "rt_" + "A1b2C3d4E5" * 5
WEBHOOK_SECRET = new_secret()
ADMIN_KEY = ids.new_id("adm")
FERNET_KEY = "x" * 43 + "="
PAGE_TOKEN_SECRET = "p" * 43
SIGNING_KEY = "s" * 43
CODEC_KEY = "c" * 43
DEV_OWNER_PASSWORD = "correct horse battery staple 7"

SHAPED = {
    "an API key": f"auth failed for Bearer {API_KEY}",
    "a JWT": f'{{"msg": "token {JWT}"}}',
    "an argon2 hash": f"stored {ARGON2}",
    "a refresh token": f"refresh={REFRESH_TOKEN}",
    "a webhook signing secret": f"signing with {WEBHOOK_SECRET}",
}
CLEAN = [
    # What the logs legitimately hold: ids, a key's prefix, short test values, request ids.
    '{"msg": "rpc /payloops.v1.ApiKeyService/CreateApiKey OK", "key": "key_AbCdEfGhIjKlMnOpQrSt"}',
    "prefix sk_test_AbCd, whsec_test, rt_short",
    '{"request_id": "7c1e4b8a-4f6e-4a38-9d0c-2f5d9f1f0b7e", "duration_ms": 12.5}',
    "order ord_4242abcd paid; eyJzdWIiOiJ4In0 alone is no JWT",
]


def state_dir_with(tmp_path: Path, lines_by_file: dict[str, list[str]]) -> Path:
    """A mesh's state dir with the installation's secret files and these logs."""
    (tmp_path / "logs").mkdir(parents=True)
    (tmp_path / "pgdata" / "log").mkdir(parents=True)
    (tmp_path / "admin_api_key").write_text(ADMIN_KEY + "\n")
    (tmp_path / "secrets_keys").write_text(f"{FERNET_KEY},{'y' * 43}=\n")
    (tmp_path / "page_token_secret").write_text(PAGE_TOKEN_SECRET + "\n")
    (tmp_path / "jwt_signing_keys").write_text(f"{SIGNING_KEY},{'t' * 43}\n")
    (tmp_path / "dev_owner_password").write_text(DEV_OWNER_PASSWORD + "\n")
    # Only the key of an ID:KEY entry is secret: its id is in every payload's metadata.
    (tmp_path / "temporal_codec_keys").write_text(f"kb:{'d' * 43},ka:{CODEC_KEY}\n")
    for name, lines in lines_by_file.items():
        (tmp_path / name).write_text("".join(f"{line}\n" for line in lines))
    return tmp_path


@pytest.mark.parametrize("kind", SHAPED)
@pytest.mark.parametrize(
    "log", ["dev.out", "logs/edge.log", "logs/envoy-access.log", "pgdata/log/pg.log", "edge-2.log"]
)
def test_each_shape_of_secret_is_found_in_each_log_and_masked_in_the_report(
    tmp_path: Path, kind: str, log: str
) -> None:
    state_dir = state_dir_with(tmp_path, {log: [*CLEAN, SHAPED[kind], *CLEAN]})
    secrets = log_secrets.Secrets(log_secrets.installation_secrets(state_dir))
    [finding] = log_secrets.scan(log_secrets.log_files(state_dir), secrets)
    assert (finding.path, finding.line_number, finding.what) == (
        state_dir / log,
        len(CLEAN) + 1,
        [kind],
    )
    assert "[SECRET]" in str(finding)
    for secret in (API_KEY, JWT, ARGON2, REFRESH_TOKEN, WEBHOOK_SECRET):
        assert secret not in str(finding)


def test_the_installations_own_secrets_and_the_values_a_test_sent_are_found(
    tmp_path: Path,
) -> None:
    sent = "fake_processor_secret_value"
    installed = (
        ADMIN_KEY,
        FERNET_KEY,
        PAGE_TOKEN_SECRET,
        SIGNING_KEY,
        CODEC_KEY,
        DEV_OWNER_PASSWORD,
    )
    lines = [*(f"value {secret}" for secret in installed), f"c {sent}", "codec key ka"]
    state_dir = state_dir_with(tmp_path, {"logs/worker.log": lines})
    secrets = log_secrets.Secrets(log_secrets.installation_secrets(state_dir)).plus([sent])
    found = log_secrets.scan(log_secrets.log_files(state_dir), secrets)
    assert [finding.line_number for finding in found] == [1, 2, 3, 4, 5, 6, 7]
    report = log_secrets.report(found)
    for secret in (*installed, sent):
        assert secret not in report


def test_card_numbers_are_found_however_their_digits_are_spaced(tmp_path: Path) -> None:
    state_dir = state_dir_with(tmp_path, {"dev.out": ["card 4242 4242-4242+4242 declined"]})
    secrets = log_secrets.Secrets(card_numbers=("4242424242424242",))
    [finding] = log_secrets.scan(log_secrets.log_files(state_dir), secrets)
    assert finding.what == ["card number 424242…"]
    assert "4242" not in finding.quoted


def test_clean_logs_have_no_finding(tmp_path: Path) -> None:
    state_dir = state_dir_with(tmp_path, {"logs/edge.log": CLEAN, "dev.out": CLEAN})
    secrets = log_secrets.Secrets(log_secrets.installation_secrets(state_dir))
    assert log_secrets.scan(log_secrets.log_files(state_dir), secrets) == []


def test_a_mesh_whose_log_holds_a_secret_fails_its_teardown(tmp_path: Path) -> None:
    state_dir = state_dir_with(tmp_path / "pl-x", {"logs/edge.log": [*CLEAN, SHAPED["a JWT"]]})
    stopped = subprocess.Popen(["true"])
    stopped.wait()
    with pytest.raises(pytest.fail.Exception) as failed:
        retire_mesh(stopped, state_dir)
    assert "logs/edge.log:5 holds a JWT" in str(failed.value)
    assert JWT not in str(failed.value)
    assert not state_dir.exists()


def test_a_mesh_with_clean_logs_retires_quietly(tmp_path: Path) -> None:
    state_dir = state_dir_with(tmp_path / "pl-y", {"logs/edge.log": CLEAN})
    stopped = subprocess.Popen(["true"])
    stopped.wait()
    retire_mesh(stopped, state_dir)
    assert not state_dir.exists()
