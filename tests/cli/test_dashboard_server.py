"""`payloops serve dashboard` (cli/dashboard_server.py) answers exactly what Envoy's direct
responses answer under `payloops dev` (cli/dashboard_site.routes), and Envoy's container
config sends it exactly the dashboard's paths (dashboard_site.proxied_routes)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli import dashboard_server, dashboard_site
from tests.cli.test_dashboard_site import site

__all__ = ["site"]


@pytest.fixture
def served(site: tuple[Path, Path]) -> Iterator[str]:
    build, pages = site
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), dashboard_server.handler_for(dashboard_server.Site(build, pages))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def expected(route: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    body = route["direct_response"]["body"]
    return (
        route["direct_response"]["status"],
        Path(body["filename"]).read_bytes(),
        {i["header"]["key"]: i["header"]["value"] for i in route["response_headers_to_add"]},
    )


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/", "dashboard_app"),
        ("/payments/ord_1", "dashboard_app"),
        ("/team", "dashboard_app"),
        ("/favicon.svg", "dashboard_file:/favicon.svg"),
        ("/_app/immutable/entry/start.A1.js", "dashboard_file:/_app/immutable/entry/start.A1.js"),
        ("/_app/version.json", "dashboard_file:/_app/version.json"),
    ],
)
def test_each_path_gets_the_answer_envoy_gives_it_in_dev(
    site: tuple[Path, Path], served: str, path: str, route: str
) -> None:
    build, pages = site
    routes = {item["name"]: item for item in dashboard_site.routes(build, pages)}
    status, body, headers = expected(routes[route])
    answer = httpx.get(served + path, trust_env=False)
    assert (answer.status_code, answer.content) == (status, body)
    assert {key: answer.headers[key] for key in headers} == headers


@pytest.mark.parametrize("path", ["/v1/orders", "/_app/immutable/missing.js", "/../etc/passwd"])
def test_anything_else_is_not_found(served: str, path: str) -> None:
    assert httpx.get(served + path, trust_env=False).status_code == 404


def test_a_missing_build_is_the_page_saying_so(tmp_path: Path, site: tuple[Path, Path]) -> None:
    _, pages = site
    answer = dashboard_server.Site(tmp_path / "none", pages).answer("/")
    assert answer is not None and answer.status == 503
    assert b"make dashboard" in answer.body


def test_envoy_sends_the_dashboard_service_every_path_it_answers(site: tuple[Path, Path]) -> None:
    build, pages = site
    static = build.parent / "static"
    static.mkdir()
    (static / "favicon.svg").write_text("<svg/>")
    proxied = dashboard_site.proxied_routes("dashboard", pages, static)
    assert all(route["route"]["cluster"] == "dashboard" for route in proxied)

    def forwarded(path: str) -> bool:
        for route in proxied:
            match = route["match"]
            if (
                match.get("path") == path
                or ("prefix" in match and path.startswith(match["prefix"]))
                or ("safe_regex" in match and re.fullmatch(match["safe_regex"]["regex"], path))
            ):
                return True
        return False

    served = [
        path
        for path in ["/", "/payments/ord_1", "/favicon.svg", "/_app/version.json", "/v1/orders"]
        if dashboard_site.serves(path, build, pages)
    ]
    assert served and all(forwarded(path) for path in served)
    assert not forwarded("/v1/orders") and not forwarded("/health")
