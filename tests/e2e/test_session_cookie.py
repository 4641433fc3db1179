"""The dashboard's refresh token in an httpOnly cookie, through Envoy as a browser gets it:
CreateSession and RefreshSession set it (once per path of the two calls that take it),
RefreshSession and LogoutSession read it when the body has none, rotation and reuse detection
work on it exactly as on a token in the body, LogoutSession clears it, and a page of another
origin cannot use it. Then the same in Chromium on http://127.0.0.1, where no script of the
page can read it."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from edge.refresh_cookie import NAME, PATHS
from payloops.v1 import sessions_pb2, sessions_pb2_grpc
from tests.browser import chromium
from tests.conftest import Mesh
from tests.e2e.mesh_db import sql
from tests.e2e.people import (
    PASSWORD,
    claims_of,
    create_user,
    loopback_address,
    reason,
    user_client,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def owner(mesh: Mesh) -> str:
    merchant_id, _ = mesh.new_merchant("cookies")
    return create_user(mesh, merchant_id, "owner")


@pytest.fixture
def api(mesh: Mesh) -> Iterator[httpx.Client]:
    """REST through Envoy from a loopback address of this test's own (sign-in throttling).
    Cookies are sent by hand: httpx, like Python's cookie jar, sends Secure ones over https
    only (Chromium's handling of them on 127.0.0.1 is the last test's)."""
    transport = httpx.HTTPTransport(local_address=loopback_address())
    with httpx.Client(base_url=mesh.api_url, timeout=30, transport=transport) as client:
        yield client


def with_cookie(token: str, **headers: str) -> dict[str, str]:
    return {"cookie": f"theme=dark; {NAME}={token}", **headers}


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie of the refresh token, by its Path."""
    found: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        assert list(cookie) == [NAME], header
        found[cookie[NAME]["path"]] = cookie
    return found


def cookie_token(response: httpx.Response) -> str:
    (token,) = {cookie[NAME].value for cookie in set_cookies(response).values()}
    return token


def assert_sets_token(response: httpx.Response, token: str) -> None:
    cookies = set_cookies(response)
    assert sorted(cookies) == sorted(PATHS)
    for header in response.headers.get_list("set-cookie"):
        attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
        assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes, header
        assert "samesite=strict" in header.lower()
    for cookie in cookies.values():
        assert cookie[NAME].value == token
        assert int(cookie[NAME]["max-age"]) > 6 * 86400  # the token's 7 days


def sign_in(client: httpx.Client, email: str) -> dict[str, Any]:
    answer = client.post("/v1/sessions", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert_sets_token(answer, answer.json()["refresh_token"])
    return dict(answer.json())


def session_call(api: httpx.Client, verb: str, token: str, **headers: str) -> httpx.Response:
    """RefreshSession or LogoutSession with no token in the body, `token` in the cookie."""
    return api.post(f"/v1/sessions:{verb}", json={}, headers=with_cookie(token, **headers))


def sid_of(session: dict[str, Any]) -> str:
    return str(claims_of(session["access_token"])["sid"])


def test_the_cookie_alone_refreshes_rotates_and_logs_out(
    mesh: Mesh, owner: str, api: httpx.Client
) -> None:
    first = sign_in(api, owner)

    refreshed = session_call(api, "refresh", first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert_sets_token(refreshed, second["refresh_token"])
    assert sid_of(second) == sid_of(first)

    # The first token again, from a cookie a thief kept: reuse, and the session ends.
    reused = session_call(api, "refresh", first["refresh_token"])
    assert (reused.status_code, reason(reused)) == (401, "REFRESH_TOKEN_REUSED")
    late = session_call(api, "refresh", cookie_token(refreshed))
    assert (late.status_code, reason(late)) == (401, "SESSION_REVOKED")

    again = sign_in(api, owner)
    out = session_call(api, "logout", again["refresh_token"])
    assert out.status_code == 200, out.text
    cleared = set_cookies(out)
    assert sorted(cleared) == sorted(PATHS)
    assert all(c[NAME].value == "" and c[NAME]["max-age"] == "0" for c in cleared.values())
    with user_client(mesh, again["access_token"]) as merchant_api:
        refused = merchant_api.get("/v1/orders")
    assert (refused.status_code, reason(refused)) == (401, "SESSION_REVOKED")
    assert sql(mesh, "select revoked_reason from user_sessions where id = :s", s=sid_of(again)) == [
        ("logout",)
    ]


def test_a_token_in_the_body_wins_and_no_token_at_all_is_refused(
    owner: str, api: httpx.Client
) -> None:
    first = sign_in(api, owner)
    second = sign_in(api, owner)
    # The body's token (the second session's) is the one exchanged, not the cookie's.
    by_body = api.post(
        "/v1/sessions:refresh",
        json={"refresh_token": second["refresh_token"]},
        headers=with_cookie(first["refresh_token"]),
    )
    assert by_body.status_code == 200, by_body.text
    assert sid_of(by_body.json()) == sid_of(second)
    by_cookie = session_call(api, "refresh", first["refresh_token"])
    assert by_cookie.status_code == 200, by_cookie.text
    assert sid_of(by_cookie.json()) == sid_of(first)
    nothing = api.post("/v1/sessions:refresh", json={})
    assert (nothing.status_code, reason(nothing)) == (401, "REFRESH_TOKEN_INVALID")
    assert api.post("/v1/sessions:logout", json={}).status_code == 200


def test_another_origins_page_cannot_use_the_cookie(
    mesh: Mesh, owner: str, api: httpx.Client
) -> None:
    """SameSite=Strict keeps other sites out; a page of another port of 127.0.0.1 is the same
    site, and the browser's Sec-Fetch-Site says where the request comes from."""
    signed = sign_in(api, owner)
    token = signed["refresh_token"]
    for verb in ("refresh", "logout"):
        for site in ("same-site", "cross-site"):
            refused = session_call(api, verb, token, **{"sec-fetch-site": site})
            assert (refused.status_code, reason(refused)) == (403, "REFRESH_COOKIE_CROSS_ORIGIN")
    with user_client(mesh, signed["access_token"]) as merchant_api:
        # Not logged out by the forged calls.
        assert merchant_api.get("/v1/orders").status_code == 200
    own = session_call(api, "refresh", token, **{"sec-fetch-site": "same-origin"})
    assert own.status_code == 200, own.text


def test_grpc_callers_get_the_cookie_in_the_initial_metadata(mesh: Mesh, owner: str) -> None:
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        sessions = sessions_pb2_grpc.SessionServiceStub(channel)
        session, call = sessions.CreateSession.with_call(
            sessions_pb2.CreateSessionRequest(email=owner, password=PASSWORD)
        )
        cookies = [v for k, v in call.initial_metadata() if k == "set-cookie"]
        assert len(cookies) == len(PATHS)
        assert all(str(c).startswith(f"{NAME}={session.refresh_token};") for c in cookies)
        refreshed = sessions.RefreshSession(
            sessions_pb2.RefreshSessionRequest(),
            metadata=(("cookie", f"other=1; {NAME}={session.refresh_token}"),),
        )
        assert refreshed.refresh_token != session.refresh_token


# What the page's scripts run: fetch on the page's own origin, answered status and JSON.
_POST = """async ([path, body]) => {
    const answer = await fetch(path, {
        method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body),
    });
    return {status: answer.status, body: await answer.json()};
}"""


def test_chromium_keeps_the_token_where_no_script_reads_it(
    mesh: Mesh, owner: str, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        # A page of the API's origin (where the dashboard is served): any JSON the API answers.
        assert page.goto(f"{mesh.api_url}/health") is not None
        signed = page.evaluate(_POST, ["/v1/sessions", {"email": owner, "password": PASSWORD}])
        assert signed["status"] == 200, signed
        stored = {c.get("path", ""): c for c in browser.cookies() if c.get("name") == NAME}
        assert sorted(stored) == sorted(PATHS)
        assert all(
            c.get("httpOnly") and c.get("secure") and c.get("sameSite") == "Strict"
            for c in stored.values()
        )
        assert page.evaluate("document.cookie") == ""
        # Sent to the two session calls only, never with the API's other calls.
        assert browser.cookies(f"{mesh.api_url}/v1/orders") == []
        assert browser.cookies(f"{mesh.api_url}/v1/sessions") == []

        refreshed = page.evaluate(_POST, ["/v1/sessions:refresh", {}])
        assert refreshed["status"] == 200, refreshed
        rotated = refreshed["body"]["refresh_token"]
        assert rotated != signed["body"]["refresh_token"]
        assert {c.get("value") for c in browser.cookies() if c.get("name") == NAME} == {rotated}

        logout = page.evaluate(_POST, ["/v1/sessions:logout", {}])
        assert logout["status"] == 200, logout
        assert [c for c in browser.cookies() if c.get("name") == NAME] == []
