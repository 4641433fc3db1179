"""What secrets look like, whoever made them: API keys, JWTs, argon2 hashes, refresh tokens,
webhook signing secrets. A text of one of these shapes is kept out of the logs: the edge adopts
no caller's correlation id that looks like one (the id is in every log line of the request),
and the tests scan every log of their meshes for them."""

from __future__ import annotations

import re

SHAPES: dict[str, re.Pattern[str]] = {
    # Secret, restricted and publishable keys alike: a publishable key is meant for browsers,
    # but the rule for logs stays simple (no whole key, of any kind).
    "an API key": re.compile(r"[srp]k_(?:test|live)_[A-Za-z0-9]{20,}"),
    "a JWT": re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*"),
    "an argon2 hash": re.compile(r"\$argon2(?:id|i|d)?\$\S*"),
    # `rt_` and at least 40 base62 characters: the dashboard sessions' refresh tokens.
    "a refresh token": re.compile(r"(?<![A-Za-z0-9])rt_[A-Za-z0-9]{40,}"),
    # core/webhooks/signing.py: `whsec_` and 32 random bytes in base64url (43 characters).
    "a webhook signing secret": re.compile(r"whsec_[A-Za-z0-9_-]{32,}"),
}


def secret_shapes_in(text: str) -> list[str]:
    """The names of the shapes found in `text`."""
    return [name for name, shape in SHAPES.items() if shape.search(text)]
