"""The API reference `payloops dev` serves: the page rendered from gen/openapi.json, at the
URL it prints, read in Debian's Chromium with no network beyond loopback: Redoc's script is
in the page, and nothing on it asks another host for anything."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Request, Route, expect

from tests.browser import chromium
from tests.conftest import REPO, Mesh

pytestmark = pytest.mark.e2e

DOCUMENT = REPO / "gen" / "openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The operation the browser opens: the one a merchant's integration starts with.
OPERATION = "CreateOrder"
# Waiting for Chromium to run Redoc's script, not a measure of speed.
RENDER_WAIT_MS = 30_000


def reference_url(mesh: Mesh) -> str:
    """The API reference's URL, as `payloops dev` printed it once ready."""
    ready = (mesh.state_dir / "dev.out").read_text().split("payloops dev ready")[-1]
    match = re.search(r"API reference (\S+)", ready)
    assert match, f"no API reference URL in the ready line: {ready[:300]}"
    return match.group(1)


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Each operation of an OpenAPI document by its operationId: method, path, operation."""
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def page_as_served_without_data(mesh: Mesh) -> str:
    """The page's markup as Envoy serves it, without its scripts (Redoc's and the document)."""
    with httpx.Client(timeout=10, trust_env=False) as client:
        page = client.get(reference_url(mesh)).text
    return re.sub(r"<script.*?</script>", "", page, flags=re.IGNORECASE | re.DOTALL)


def embedded_document(page: str) -> dict[str, Any]:
    """The OpenAPI document Redoc renders on the page (its hydration data)."""
    match = re.search(r"const __redoc_definition = (\{.*?\});\n", page)
    assert match, "the page holds no OpenAPI document"
    loaded: dict[str, Any] = json.loads(match.group(1))
    return loaded


def test_the_mesh_serves_the_reference_of_every_operation(mesh: Mesh) -> None:
    url = reference_url(mesh)
    assert url == f"{mesh.api_url}/docs/api"
    with httpx.Client(timeout=10, trust_env=False) as client:
        page = client.get(url)
    assert page.status_code == 200, page.text[:300]
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    document = json.loads(DOCUMENT.read_text())
    # The page is rendered from the committed document, not from an older one.
    assert embedded_document(page.text) == document
    served = operations(embedded_document(page.text))
    assert set(served) >= {"CreateOrder", "GetOrder", "ListOrders", "PayOrder"}
    assert served["PayOrder"][:2] == ("POST", "/v1/orders/{order}:pay")
    # Redoc's script is in the page, never fetched: no script element names a URL.
    assert not re.search(r"<script[^>]*\ssrc\s*=", page.text, re.IGNORECASE)


class Network:
    """What the browser asked for, and what reached the network off loopback (aborted)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.left_loopback: list[str] = []
        self.errors: list[str] = []

    def ask(self, request: Request) -> None:
        self.asked.append(request.url)

    def route(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.left_loopback.append(route.request.url)
            route.abort()

    def console(self, message: ConsoleMessage) -> None:
        # A script or image the CSP refused is reported here.
        if message.type == "error":
            self.errors.append(message.text)

    def off_loopback(self) -> list[str]:
        schemes_of_the_page = ("data:", "blob:", "about:")
        return [
            url
            for url in self.asked
            if not url.startswith(schemes_of_the_page) and urlsplit(url).hostname not in LOOPBACK
        ]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    with chromium(tmp_path / "profile") as context:
        yield context


def test_chromium_renders_the_reference_with_nothing_off_loopback(
    mesh: Mesh, browser: BrowserContext
) -> None:
    network = Network()
    browser.route("**/*", network.route)
    page = browser.new_page()
    page.on("request", network.ask)
    page.on("console", network.console)
    page.on("pageerror", lambda error: network.errors.append(str(error)))

    _, _, operation = operations(json.loads(DOCUMENT.read_text()))[OPERATION]
    tag = operation["tags"][0]
    # Redoc's own address of an operation: its tag and operationId, lower-cased.
    page.goto(f"{reference_url(mesh)}#/{tag.lower()}/{OPERATION.lower()}")
    heading = page.get_by_role("heading", name=operation.get("summary") or OPERATION)
    expect(heading.first).to_be_visible(timeout=RENDER_WAIT_MS)
    # Rendered by Redoc's script in the browser: the page as served holds the tags only.
    assert operation.get("summary", OPERATION) not in page_as_served_without_data(mesh)

    assert network.left_loopback == []
    assert network.off_loopback() == []
    assert network.errors == []
