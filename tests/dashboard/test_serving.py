"""Envoy serves the built dashboard on the API's origin, with its security headers, and the
API's own paths keep their JSON answers."""

from __future__ import annotations

import re

import httpx
import pytest

from cli import dashboard_site, page_scripts
from tests.conftest import Mesh

pytestmark = pytest.mark.e2e


def policy(response: httpx.Response) -> dict[str, str]:
    text = response.headers["content-security-policy"]
    return dict(part.strip().split(" ", 1) for part in text.split(";"))


@pytest.mark.parametrize("path", ["/", "/payments", "/payments/ord_not_a_real_one", "/signin"])
def test_the_apps_paths_get_its_page_with_the_security_headers(mesh: Mesh, path: str) -> None:
    assert dashboard_site.is_built(), "the dashboard is not built: run `make dashboard`"
    with httpx.Client(base_url=mesh.api_url, timeout=30) as client:
        page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text == (dashboard_site.BUILD_DIR / "index.html").read_text(encoding="utf-8")
    csp = policy(page)
    assert csp["script-src"].split() == ["'self'", *page_scripts.inline_script_hashes(page.text)]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert csp["frame-ancestors"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_the_apps_scripts_are_served_with_their_type_and_cached_for_good(mesh: Mesh) -> None:
    with httpx.Client(base_url=mesh.api_url, timeout=30) as client:
        page = client.get("/")
        scripts = re.findall(r'href="(/_app/immutable/[^"]+\.js)"', page.text)
        assert scripts
        for path in scripts:
            script = client.get(path)
            assert script.status_code == 200, path
            assert script.headers["content-type"] == "text/javascript; charset=utf-8"
            assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert script.headers["x-content-type-options"] == "nosniff"


def test_the_apis_paths_keep_their_own_answers(mesh: Mesh) -> None:
    with httpx.Client(base_url=mesh.api_url, timeout=30) as client:
        unknown = client.get("/v1/not_a_resource")
        listed = client.get("/v1/orders", headers={"Authorization": f"Bearer {mesh.api_key}"})
        posted = client.post("/payments")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/json")
    assert listed.status_code == 200
    assert "content-security-policy" not in listed.headers
    assert posted.status_code == 404
    assert "text/html" not in posted.headers.get("content-type", "")


def test_payloops_dev_prints_the_dashboard_and_where_its_sign_in_is(mesh: Mesh) -> None:
    ready = (mesh.state_dir / "dev.out").read_text().split("payloops dev ready")[-1]
    match = re.search(r"dashboard (\S+) \(sign in as (\w+) with (\w+), in dev\.env\)", ready)
    assert match, ready[:400]
    assert match.group(1) == f"{mesh.api_url}/"
    assert {match.group(2), match.group(3)} <= set(mesh.env)
    with httpx.Client(timeout=30) as client:
        assert client.get(match.group(1)).headers["content-type"].startswith("text/html")
