"""The dashboard in Debian's Chromium against the live mesh: a merchant of the module's own
with users of each role, a signed-in page, the axe-core check and the screenshots."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from cli import dashboard_site
from tests.browser import chromium
from tests.conftest import REPO, Mesh
from tests.e2e.people import PASSWORD, create_user

AXE = REPO / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"
# Where the tests leave a picture of every page (docs/dashboard.md shows a few of them).
SCREENSHOTS = REPO / ".payloops" / "screenshots" / "dashboard"


@dataclass(frozen=True)
class Merchant:
    id: str
    test_key: str
    live_key: str
    owner: str
    viewer: str


@pytest.fixture(scope="module")
def merchant(mesh: Mesh) -> Merchant:
    assert dashboard_site.is_built(), "the dashboard is not built: run `make dashboard`"
    merchant_id, test_key, live_key = mesh.new_live_merchant("dashboard shop")
    return Merchant(
        merchant_id,
        test_key,
        live_key,
        owner=create_user(mesh, merchant_id, "owner"),
        viewer=create_user(mesh, merchant_id, "viewer"),
    )


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    with chromium(tmp_path / "profile") as context:
        yield context


@pytest.fixture
def new_page(mesh: Mesh, browser: BrowserContext) -> Iterator[Callable[[str], Page]]:
    """Signs a user in on a fresh page of the dashboard; fails the test on any script error or
    CSP violation the page reports."""
    problems: list[str] = []

    def open_as(email: str) -> Page:
        page = browser.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        page.goto(f"{mesh.api_url}/payments")
        expect(page).to_have_url(re.compile(r"/signin\?next=%2Fpayments$"))
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Payments")).to_be_visible()
        return page

    yield open_as
    assert problems == []


def check_accessibility(page: Page) -> None:
    """axe-core's WCAG A/AA rules over the page as it is now: no violation."""
    # Evaluated rather than added as a <script>: the page's CSP rightly refuses inline scripts.
    page.evaluate(f"() => {{ {AXE.read_text(encoding='utf-8')}\n }}")
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']}))"
        ".violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}))"
    )
    assert result == [], json.dumps(result, indent=2)


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
