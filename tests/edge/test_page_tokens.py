from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import PayLoopsError
from edge.page_tokens import MIN_SECRET_LENGTH, Cursor, PageTokens

REPO = Path(__file__).resolve().parents[2]
SECRET = "s" * MIN_SECRET_LENGTH
OTHER_SECRET = "o" * MIN_SECRET_LENGTH


def test_round_trip() -> None:
    tokens = PageTokens(SECRET)
    cursor = Cursor(datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), "ord_abc")
    assert tokens.decode(tokens.encode(cursor, "m1|"), "m1|") == cursor


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1],  # tampered
        lambda t: "garbage!",
        lambda t: "",
    ],
)
def test_forged_tokens_are_rejected(mangle: object) -> None:
    tokens = PageTokens(SECRET)
    token = tokens.encode(Cursor(datetime.now(UTC), "ord_abc"), "m1|")
    with pytest.raises(PayLoopsError) as error:
        tokens.decode(mangle(token), "m1|")  # type: ignore[operator]
    assert error.value.kind.reason == "PAGE_TOKEN_INVALID"


def test_a_token_only_works_with_its_filter_and_secret() -> None:
    token = PageTokens(SECRET).encode(Cursor(datetime.now(UTC), "ord_abc"), "m1|")
    with pytest.raises(PayLoopsError):
        PageTokens(SECRET).decode(token, "m1|succeeded")
    with pytest.raises(PayLoopsError):
        PageTokens(OTHER_SECRET).decode(token, "m1|")


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("", "PAYLOOPS_PAGE_TOKEN_SECRET is not set"),
        ("payloops-dev-page-token-secret", "PAYLOOPS_PAGE_TOKEN_SECRET is too short"),
    ],
)
def test_the_edge_refuses_to_start_without_a_secret_of_its_own(secret: str, problem: str) -> None:
    """Checked before the edge connects to anything: the database and Temporal named here do
    not exist, and the one line says what to set."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAYLOOPS_")},
        "PAYLOOPS_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        "PAYLOOPS_TEMPORAL_ADDRESS": "127.0.0.1:1",
        "PAYLOOPS_PAGE_TOKEN_SECRET": secret,
    }
    started = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", "edge", "--port", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert started.stderr.strip().splitlines()[-1].startswith(f"payloops serve edge: {problem}")


@pytest.mark.parametrize("secret", ["", "x" * (MIN_SECRET_LENGTH - 1)])
def test_page_tokens_cannot_be_made_with_a_missing_or_short_secret(secret: str) -> None:
    with pytest.raises(ValueError, match="PAYLOOPS_PAGE_TOKEN_SECRET"):
        PageTokens(secret)


def signed(secret: str, payload: bytes) -> str:
    """A token as the edge makes them (16 bytes of HMAC-SHA256, then the JSON), for a payload
    of the test's choosing: what anyone holding the secret can make."""
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")


@pytest.mark.parametrize(
    "inner",
    [
        b'{"c":5,"i":"ord_abc","s":"m1|"}',
        b'{"c":"yesterday","i":"ord_abc","s":"m1|"}',
        b'{"c":"2026-01-02T03:04:05","i":"ord_abc","s":"m1|"}',  # no time zone
        b'{"c":"2026-01-02T03:04:05+00:00","i":7,"s":"m1|"}',
        b'{"c":"2026-01-02T03:04:05+00:00","i":"ord_\\u0000","s":"m1|"}',
        b'{"c":"2026-01-02T03:04:05+00:00","i":"' + b"x" * 5000 + b'","s":"m1|"}',
        b'{"c":"2026-01-02T03:04:05+00:00","i":"ord_abc","s":["m1|"]}',
        b'{"c":"2026-01-02T03:04:05+00:00","s":"m1|"}',
        b'{"c":"2026-01-02T03:04:05+00:00","i":"ord_abc","s":"m1|","x":1}',
        b'["2026-01-02T03:04:05+00:00","ord_abc","m1|"]',
        b'"m1|"',
        b"null",
        b"[" * 100_000,
        b"\xff\xfe",
    ],
)
def test_a_signed_token_with_an_unexpected_inside_is_invalid(inner: bytes) -> None:
    with pytest.raises(PayLoopsError) as error:
        PageTokens(SECRET).decode(signed(SECRET, inner), "m1|")
    assert error.value.kind.reason == "PAGE_TOKEN_INVALID"


def test_a_token_signed_like_the_edge_signs_them_is_read() -> None:
    inner = b'{"c":"2026-01-02T03:04:05+00:00","i":"ord_abc","s":"m1|"}'
    cursor = PageTokens(SECRET).decode(signed(SECRET, inner), "m1|")
    assert cursor == Cursor(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "ord_abc")
