"""The dashboard's routes on Envoy's REST listener (cli/dashboard_site.py), from a build
directory of the test's own: each file at its path, the app's page for the app's paths only,
a CSP that runs the bootstrap by its hash, and a page saying how to build when there is none."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import dashboard_site, envoy_config, page_scripts

BOOTSTRAP = "\n__sveltekit_x = {base: ''};\nimport('/_app/immutable/entry/start.A1.js');\n"
APP_PAGE = f"<!doctype html><html><body><div><script>{BOOTSTRAP}</script></div></body></html>"
STYLE = "position: absolute; left: 0"
APP_SCRIPT = f'const t = `<div id="announcer" style="{STYLE}">`;'


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    build, pages = tmp_path / "build", tmp_path / "routes"
    for name, text in {
        "index.html": APP_PAGE,
        "favicon.svg": "<svg/>",
        "_app/immutable/entry/start.A1.js": APP_SCRIPT,
        "_app/immutable/assets/0.B2.css": "body{}",
        "_app/version.json": "{}",
        ".built": "",
    }.items():
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_text(text)
    for page in ("signin", "payments/[id]", "(admin)/team"):
        (pages / page).mkdir(parents=True)
        (pages / page / "+page.svelte").write_text("")
    return build, pages


def by_name(routes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {route["name"]: route for route in routes}


def headers(route: dict[str, Any]) -> dict[str, str]:
    return {
        item["header"]["key"]: item["header"]["value"] for item in route["response_headers_to_add"]
    }


def csp(route: dict[str, Any]) -> dict[str, str]:
    return dict(
        part.strip().split(" ", 1) for part in headers(route)["content-security-policy"].split(";")
    )


def test_each_built_file_is_served_at_its_path_with_its_type(site: tuple[Path, Path]) -> None:
    build, pages = site
    routes = by_name(dashboard_site.routes(build, pages))
    files = {
        route["match"]["path"]: (route["direct_response"]["body"]["filename"], headers(route))
        for route in routes.values()
        if "path" in route["match"]
    }
    assert sorted(files) == [
        "/_app/immutable/assets/0.B2.css",
        "/_app/immutable/entry/start.A1.js",
        "/_app/version.json",
        "/favicon.svg",
    ]  # no dotfile (make's stamp), and index.html only as the app's page
    script_file, script = files["/_app/immutable/entry/start.A1.js"]
    assert script_file == str(build / "_app/immutable/entry/start.A1.js")
    assert script["content-type"] == "text/javascript; charset=utf-8"
    assert script["cache-control"] == "public, max-age=31536000, immutable"
    assert script["x-content-type-options"] == "nosniff"
    assert files["/_app/version.json"][1]["cache-control"] == "no-cache"
    for route in routes.values():
        assert route["match"]["headers"] == [{"name": ":method", "string_match": {"exact": "GET"}}]
        # The transcoder would refuse these paths as unknown methods.
        assert route["typed_per_filter_config"]["envoy.filters.http.grpc_json_transcoder"][
            "disabled"
        ]


@pytest.mark.parametrize(
    ("path", "is_app"),
    [
        ("/", True),
        ("/signin", True),
        ("/payments", True),
        ("/payments/ord_123", True),
        ("/team", True),  # a (group)'s page is at the top level
        ("/v1/orders", False),
        ("/v1/nope", False),
        ("/health", False),
        ("/docs/api", False),
        ("/js/v1/payloops.js", False),
        ("/.well-known/jwks.json", False),
        ("/paymentsx", False),
    ],
)
def test_the_app_page_answers_the_apps_paths_only(
    site: tuple[Path, Path], path: str, is_app: bool
) -> None:
    build, pages = site
    app = by_name(dashboard_site.routes(build, pages))["dashboard_app"]
    assert app["direct_response"]["body"]["filename"] == str(build / "index.html")
    assert bool(re.fullmatch(app["match"]["safe_regex"]["regex"], path)) is is_app


def test_the_app_page_runs_its_bootstrap_by_hash_and_is_never_framed(
    site: tuple[Path, Path],
) -> None:
    build, pages = site
    app = by_name(dashboard_site.routes(build, pages))["dashboard_app"]
    policy = csp(app)
    assert policy["script-src"].split() == ["'self'", *page_scripts.inline_script_hashes(APP_PAGE)]
    assert "unsafe-inline" not in headers(app)["content-security-policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    # The template's style attribute, by its hash, and no other.
    assert policy["style-src-attr"].split() == [
        "'unsafe-hashes'",
        f"'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'",
    ]
    assert headers(app)["x-content-type-options"] == "nosniff"
    assert headers(app)["referrer-policy"] == "no-referrer"
    assert headers(app)["cache-control"] == "no-cache"


def test_a_missing_build_is_a_page_saying_how_to_build_it(
    tmp_path: Path, site: tuple[Path, Path]
) -> None:
    _, pages = site
    [route] = dashboard_site.routes(tmp_path / "nothing", pages)
    assert route["name"] == "dashboard_not_built"
    assert route["direct_response"]["status"] == 503
    assert "make dashboard" in route["direct_response"]["body"]["inline_string"]
    assert re.fullmatch(route["match"]["safe_regex"]["regex"], "/payments")
    assert csp(route)["script-src"] == "'self' 'none'"


def test_a_top_level_page_of_any_name_is_refused(site: tuple[Path, Path]) -> None:
    build, pages = site
    (pages / "[anything]").mkdir()
    with pytest.raises(ValueError, match="shadow the API's paths"):
        dashboard_site.routes(build, pages)


def test_envoy_serves_the_dashboard_after_every_api_route(site: tuple[Path, Path]) -> None:
    build, _ = site
    config = yaml.safe_load(envoy_config.render(dashboard_build=build))
    rest = [item for item in config["static_resources"]["listeners"] if item["name"] == "rest"]
    hcm = rest[0]["filter_chains"][0]["filters"][0]["typed_config"]
    names = [route["name"] for route in hcm["route_config"]["virtual_hosts"][0]["routes"]]
    assert names[-1] == "dashboard_app"
    first = min(i for i, name in enumerate(names) if name.startswith("dashboard"))
    assert names.index("api_reference") < first


@pytest.mark.parametrize("built", [True, False])
def test_envoy_accepts_the_dashboards_routes(
    tmp_path: Path, site: tuple[Path, Path], built: bool
) -> None:
    build, _ = site
    path = tmp_path / "envoy.yaml"
    path.write_text(
        envoy_config.render(
            admin_socket=tmp_path / "admin.sock",
            access_log_path=tmp_path / "access.log",
            dashboard_build=build if built else tmp_path / "not-built",
        )
    )
    result = envoy_config.validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("/payments/ord_1", True),
        ("/favicon.svg", True),
        ("/_app/immutable/entry/start.A1.js", True),
        ("/_app/immutable/entry/missing.js", False),
        ("/_app/../index.html", False),
        ("/v1/orders", False),
    ],
)
def test_serves_tells_the_dashboards_paths_from_the_apis(
    site: tuple[Path, Path], path: str, served: bool
) -> None:
    build, pages = site
    assert dashboard_site.serves(path, build, pages) is served
