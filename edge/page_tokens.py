"""Opaque, signed page tokens for ListOrders and ListEvents (AIP-158): a client cannot forge a
cursor, and a token is only valid with the same filter it was issued for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from core import errors
from core.config import PAGE_TOKEN_SECRET_VAR

# HMAC-SHA256 keys shorter than this can be guessed offline from one token a client holds.
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    order_id: str


def secret_problem(secret: str) -> str | None:
    """Why `secret` cannot sign page tokens, or None. The edge checks it before it starts."""
    if not secret:
        return (
            f"{PAGE_TOKEN_SECRET_VAR} is not set: page tokens need a secret of this "
            "installation (`payloops dev` makes one in its state dir)"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        return f"{PAGE_TOKEN_SECRET_VAR} is too short: at least {MIN_SECRET_LENGTH} characters"
    return None


class PageTokens:
    def __init__(self, secret: str) -> None:
        if problem := secret_problem(secret):
            raise ValueError(problem)
        self._key = secret.encode()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, cursor: Cursor, scope: str) -> str:
        payload = json.dumps(
            {"c": cursor.created_at.isoformat(), "i": cursor.order_id, "s": scope},
            separators=(",", ":"),
        ).encode()
        return base64.urlsafe_b64encode(self._sign(payload) + payload).decode().rstrip("=")

    def decode(self, token: str, scope: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            signature, payload = raw[:16], raw[16:]
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise ValueError("bad signature")
            fields = json.loads(payload)
            if fields["s"] != scope:
                raise ValueError("other filter")
            return Cursor(datetime.fromisoformat(fields["c"]), fields["i"])
        except (ValueError, KeyError, TypeError) as error:
            raise errors.PayLoopsError(
                errors.PAGE_TOKEN_INVALID,
                "page_token is not valid for this request; start again without it",
            ) from error
