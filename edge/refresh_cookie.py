"""The refresh token in a cookie, for the dashboard: a page that keeps its access token in
memory must not hold the refresh token where a script could read it. CreateSession and
RefreshSession set it (httpOnly: no script reads it; Secure; SameSite=Strict: no other site's
page makes the browser send it), RefreshSession and LogoutSession read it when the body has no
token, LogoutSession clears it.

Scoped to exactly the two calls that take it. A cookie's Path matches a request path only at a
`/` boundary (RFC 6265 5.1.4), and the calls' paths are `/v1/sessions:refresh` and
`/v1/sessions:logout`: a Path of `/v1/sessions` would match neither. So there is one cookie per
path, each with the same name and value, and no other call ever receives the token.

Carried as gRPC metadata both ways: `cookie` in (Envoy passes request headers on), `set-cookie`
out in the initial metadata (Envoy's transcoder makes each entry a response header)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from core import errors
from edge.context import add_response_header

NAME = "payloops_refresh_token"
PATHS = ("/v1/sessions:refresh", "/v1/sessions:logout")
# What a browser's Fetch Metadata says of a request its own page made.
_SAME_ORIGIN = "same-origin"


def set_cookie(token: str, expires_at: datetime) -> None:
    """The token, on this call's response, until it expires."""
    max_age = max(0, round((expires_at - datetime.now(UTC)).total_seconds()))
    for path in PATHS:
        add_response_header("set-cookie", _cookie(token, path, max_age))


def clear_cookie() -> None:
    """The browser forgets the token (LogoutSession)."""
    for path in PATHS:
        add_response_header("set-cookie", _cookie("", path, 0))


def _cookie(value: str, path: str, max_age: int) -> str:
    return f"{NAME}={value}; Path={path}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"


def presented(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The token of the request's cookie, or "". Refused when a browser says another origin's
    page sent the request: SameSite=Strict keeps other sites out, but not a page of another
    port or subdomain of the same site."""
    token = ""
    fetched_from = ""
    for key, value in metadata or ():
        if not isinstance(value, str):
            continue
        if key == "cookie":
            token = token or _value_of(value)
        elif key == "sec-fetch-site":
            fetched_from = value.strip().lower()
    if token and fetched_from not in ("", _SAME_ORIGIN):
        raise errors.PayLoopsError(
            errors.REFRESH_COOKIE_CROSS_ORIGIN,
            "the refresh token cookie is only accepted from the dashboard's own origin",
        )
    return token


def _value_of(header: str) -> str:
    for pair in header.split(";"):
        name, _, value = pair.strip().partition("=")
        if name == NAME and value:
            return value
    return ""
