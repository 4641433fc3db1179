from __future__ import annotations

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
