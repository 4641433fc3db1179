"""Signing in and out of the dashboard, and a session kept alive while the user works."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.conftest import Mesh
from tests.dashboard.conftest import Merchant, check_accessibility, screenshot
from tests.e2e.people import PASSWORD, claims_of, forged, mesh_signing_key

pytestmark = pytest.mark.e2e


def sign_in(page: Page, mesh: Mesh, email: str, path: str = "/payments") -> None:
    page.goto(f"{mesh.api_url}{path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_wrong_password_is_refused_on_the_page(mesh: Mesh, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(f"{mesh.api_url}/")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2F$"))
    check_accessibility(page)
    screenshot(page, "signin")
    page.get_by_label("E-mail").fill("nobody@example.com")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("SIGN_IN_FAILED")
    expect(page).to_have_url(re.compile(r"/signin"))


def refresh_cookies(browser: BrowserContext) -> list[str]:
    return [c["value"] for c in browser.cookies() if c["name"] == "payloops_refresh_token"]


def test_a_reload_keeps_the_user_signed_in_and_on_its_page(
    mesh: Mesh, browser: BrowserContext, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    page = new_page(merchant.owner)
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/payments\?status=failed$"))
    # The refresh token is in an httpOnly cookie: no script of the page can read it.
    assert refresh_cookies(browser)
    assert all(c["httpOnly"] for c in browser.cookies() if c["name"] == "payloops_refresh_token")
    assert "payloops_refresh_token" not in page.evaluate("() => document.cookie")
    page.reload()
    expect(page).to_have_url(re.compile(r"/payments\?status=failed$"))
    expect(page.get_by_label("Status")).to_have_value("failed")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_sign_out_ends_the_session_at_the_api(
    mesh: Mesh, browser: BrowserContext, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    page = new_page(merchant.owner)
    [refresh_token] = set(refresh_cookies(browser))
    with page.expect_request_finished(lambda request: request.url.endswith(":logout")):
        page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    assert not any(refresh_cookies(browser))
    with httpx.Client(base_url=mesh.api_url, timeout=30) as api:
        again = api.post("/v1/sessions:refresh", json={"refresh_token": refresh_token})
    assert again.status_code == 401, again.text
    # Nothing of the session is left in the tab: a reload asks to sign in again, and no
    # storage a script reads ever held a token (SvelteKit keeps scroll positions there).
    page.goto(f"{mesh.api_url}/payments")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    stored = page.evaluate(
        "() => JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie])"
    )
    assert refresh_token not in stored
    assert "eyJ" not in stored  # a JWT's header


def expire_access_token(mesh: Mesh, lifetime: timedelta) -> Callable[[Route], None]:
    """Answers the page's sign-in with the API's real answer, its access token swapped for one
    of the same session, signed by the mesh's key, that lives `lifetime` from now (negative:
    already expired): as if the user had signed in that long ago."""
    key = mesh_signing_key(mesh)

    def handle(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        now = datetime.now(UTC)
        body["access_token"] = forged(
            key,
            claims_of(body["access_token"]),
            iat=now + lifetime - timedelta(minutes=10),
            exp=now + lifetime,
        )
        body["expire_time"] = (now + lifetime).isoformat().replace("+00:00", "Z")
        route.fulfill(response=response, json=body)

    return handle


def test_an_expired_access_token_is_refreshed_and_the_page_goes_on(
    mesh: Mesh, browser: BrowserContext, merchant: Merchant
) -> None:
    page = browser.new_page()
    page.route(f"{mesh.api_url}/v1/sessions", expire_access_token(mesh, timedelta(minutes=-1)))
    refused: list[str] = []
    page.on(
        "response",
        lambda response: refused.append(response.url) if response.status == 401 else None,
    )
    with page.expect_request_finished(lambda request: request.url.endswith(":refresh")):
        sign_in(page, mesh, merchant.owner, "/payments?status=succeeded")
    # The list was refused once (ACCESS_TOKEN_EXPIRED), refreshed, and sent again: the user
    # stays on the filtered page.
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/payments\?status=succeeded$"))
    expect(page.get_by_label("Status")).to_have_value("succeeded")
    expect(page.get_by_role("status")).to_have_count(0)
    assert [url for url in refused if "/v1/orders" in url]


def test_the_access_token_is_refreshed_before_it_expires(
    mesh: Mesh, browser: BrowserContext, merchant: Merchant
) -> None:
    page = browser.new_page()
    # A token with a minute left: the page refreshes it at once rather than let a call fail.
    page.route(f"{mesh.api_url}/v1/sessions", expire_access_token(mesh, timedelta(seconds=61)))
    sign_in(page, mesh, merchant.owner)
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    with page.expect_request_finished(
        lambda request: request.url.endswith(":refresh"), timeout=30_000
    ) as refreshed:
        pass
    assert refreshed.value.response() is not None
    assert refreshed.value.response().status == 200  # type: ignore[union-attr]
    expect(page).to_have_url(re.compile(r"/payments$"))
