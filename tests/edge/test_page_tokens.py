from __future__ import annotations

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
