from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from core.errors import PayLoopsError
from edge.page_tokens import Cursor, PageTokens


def test_round_trip() -> None:
    tokens = PageTokens("secret")
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
    tokens = PageTokens("secret")
    token = tokens.encode(Cursor(datetime.now(UTC), "ord_abc"), "m1|")
    with pytest.raises(PayLoopsError) as error:
        tokens.decode(mangle(token), "m1|")  # type: ignore[operator]
    assert error.value.kind.reason == "PAGE_TOKEN_INVALID"


def test_a_token_only_works_with_its_filter_and_secret() -> None:
    token = PageTokens("secret").encode(Cursor(datetime.now(UTC), "ord_abc"), "m1|")
    with pytest.raises(PayLoopsError):
        PageTokens("secret").decode(token, "m1|succeeded")
    with pytest.raises(PayLoopsError):
        PageTokens("other secret").decode(token, "m1|")


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
        PageTokens("secret").decode(signed("secret", inner), "m1|")
    assert error.value.kind.reason == "PAGE_TOKEN_INVALID"


def test_a_token_signed_like_the_edge_signs_them_is_read() -> None:
    inner = b'{"c":"2026-01-02T03:04:05+00:00","i":"ord_abc","s":"m1|"}'
    cursor = PageTokens("secret").decode(signed("secret", inner), "m1|")
    assert cursor == Cursor(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "ord_abc")
