"""Pages of every List method (AIP-158): the page size a request may ask for, and opaque,
signed page tokens: a client cannot forge a cursor, and a token is only valid with the same
filter it was issued for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime

from core import errors
from core.config import PAGE_TOKEN_SECRET_VAR

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# HMAC-SHA256 keys shorter than this can be guessed offline from one token a client holds.
MIN_SECRET_LENGTH = 32

# The ids a cursor points at (orders, events): a prefix, an underscore, letters and digits.
_ID = re.compile(r"[a-z]{1,8}_[A-Za-z0-9]{1,40}")


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    order_id: str


def page_size_violations(requested: int) -> list[errors.FieldViolation]:
    """For a List method that reports its other field violations with this one."""
    if requested < 0:
        return [errors.FieldViolation("page_size", "PAGE_SIZE_NEGATIVE", "must not be negative")]
    return []


def page_size(requested: int) -> int:
    """The page size a request gets: the default for 0, at most the maximum; a negative one is
    refused."""
    if violations := page_size_violations(requested):
        raise errors.invalid(violations)
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


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
        """The cursor of a token this installation issued for this scope; anything else,
        however it is wrong, is PAGE_TOKEN_INVALID."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            signature, payload = raw[:16], raw[16:]
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise ValueError("bad signature")
            cursor, issued_for = _parse(json.loads(payload))
        except (ValueError, TypeError, RecursionError) as error:
            raise _invalid() from error
        if issued_for != scope:
            raise _invalid()
        return cursor


def _parse(fields: object) -> tuple[Cursor, str]:
    """A signed payload is ours, but it is checked like input all the same: a token signed
    with a leaked or shared secret, or by an older release, must not reach the database as a
    value of the wrong type (the cursor's values go straight into the page query)."""
    if not isinstance(fields, dict) or fields.keys() != {"c", "i", "s"}:
        raise ValueError("not a cursor")
    created, order_id, scope = fields["c"], fields["i"], fields["s"]
    if not (isinstance(created, str) and isinstance(order_id, str) and isinstance(scope, str)):
        raise ValueError("not a cursor")
    created_at = datetime.fromisoformat(created)
    if created_at.tzinfo is None or not _ID.fullmatch(order_id):
        raise ValueError("not a cursor")
    return Cursor(created_at, order_id), scope


def _invalid() -> errors.PayLoopsError:
    return errors.PayLoopsError(
        errors.PAGE_TOKEN_INVALID,
        "page_token is not valid for this request; start again without it",
    )
