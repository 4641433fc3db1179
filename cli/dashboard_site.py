"""The dashboard's built files as routes Envoy answers itself, on the API's origin.

`make dashboard` builds the SvelteKit app into dashboard/build: hashed scripts and styles under
/_app/immutable/, a few other static files, and index.html, the one page that starts the app
for every path of it (a single-page app: the browser renders each page). Envoy serves each file
as a direct response read at start-up, as it serves the hosted card fields and the API
reference, so the dashboard needs no server process of its own. The app's paths are those of
its page directories (dashboard/src/routes), so an unknown /v1/… path stays the API's JSON 404.

index.html runs one inline script, SvelteKit's bootstrap: the CSP allows it by its hash
(cli/page_scripts.py), never by 'unsafe-inline', and allows no script from anywhere else.
Style attributes written in the app's templates (SvelteKit's own screen-reader announcer has
one) are allowed by their hashes too, and no other: a style attribute injected into the page
does not apply.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cli import page_scripts

REPO_ROOT = Path(__file__).resolve().parent.parent
DASHBOARD_DIR = REPO_ROOT / "dashboard"
BUILD_DIR = DASHBOARD_DIR / "build"
ROUTES_DIR = DASHBOARD_DIR / "src" / "routes"
# Copied as they are to the build's top level.
STATIC_DIR = DASHBOARD_DIR / "static"
APP_PAGE = "index.html"
# The dashboard's own server (cli/dashboard_server.py), in the container deployment only:
# `payloops dev` has Envoy answer the built files itself.
SERVER_PORT = 8088

CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".ico": "image/x-icon",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
}

# Scripts: our own files and the bootstrap's hash only. Calls: this origin only (the API).
# Not framed by anyone (clickjacking a refund button), nothing loaded from another host.
CSP = (
    "default-src 'none'; script-src 'self' {hashes}; style-src 'self'; "
    "style-src-attr {style_attributes}; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# A static style attribute in a compiled template: `style="…"` inside the script's HTML string.
_STYLE_ATTRIBUTE = re.compile(r'\bstyle="([^"<>]*)"')
# SvelteKit names these files by their content's hash: a new build has new names.
IMMUTABLE_PREFIX = "/_app/immutable/"
# Everything SvelteKit writes itself (scripts, styles, its version file) is under this path.
ASSETS_PREFIX = "/_app/"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PayLoops dashboard not built</title></head>
<body><h1>The dashboard is not built</h1>
<p>Build it with <code>make dashboard</code> (which <code>make dev</code> runs), then restart
<code>payloops dev</code>: Envoy reads the built files when it starts.</p></body></html>
"""

_TRANSCODER_OFF = {
    "envoy.filters.http.grpc_json_transcoder": {
        "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig",
        "disabled": True,
    }
}


def is_built(build_dir: Path = BUILD_DIR) -> bool:
    return (build_dir / APP_PAGE).is_file()


def serves(path: str, build_dir: Path = BUILD_DIR, routes_dir: Path = ROUTES_DIR) -> bool:
    """Whether a GET of `path` is the dashboard's (a built file or one of the app's paths)."""
    if re.fullmatch(app_path_regex(routes_dir), path):
        return True
    relative = path.lstrip("/")
    return bool(relative) and (build_dir / relative).is_file() and ".." not in relative.split("/")


def app_path_regex(routes_dir: Path = ROUTES_DIR) -> str:
    """The paths the app answers: `/` and everything under each top-level page directory
    (a `(group)` directory's pages count as top level, as in SvelteKit)."""
    segments = sorted(set(_top_level_segments(routes_dir)))
    if not segments:
        return "^/$"
    names = "|".join(re.escape(segment) for segment in segments)
    return f"^/(?:(?:{names})(?:/.*)?)?$"


def _top_level_segments(directory: Path) -> Iterator[str]:
    for child in sorted(directory.iterdir()):
        if not child.is_dir():
            continue
        if child.name.startswith("(") and child.name.endswith(")"):
            yield from _top_level_segments(child)
        elif child.name.startswith("["):
            raise ValueError(
                f"{child}: a page directory at the top level taking any name would shadow "
                "the API's paths; give it a fixed name"
            )
        else:
            yield child.name


def routes(build_dir: Path = BUILD_DIR, routes_dir: Path = ROUTES_DIR) -> list[dict[str, Any]]:
    """Envoy routes for the dashboard: each built file at its path, then the app's page for
    the app's paths; without a build, a page saying how to make one."""
    app_match = {"safe_regex": {"regex": app_path_regex(routes_dir)}, **_get_only()}
    page = build_dir / APP_PAGE
    if not is_built(build_dir):
        return [
            {
                "name": "dashboard_not_built",
                "match": app_match,
                "direct_response": {"status": 503, "body": {"inline_string": NOT_BUILT_PAGE}},
                "response_headers_to_add": _headers(
                    "text/html; charset=utf-8",
                    "no-store",
                    CSP.format(hashes="'none'", style_attributes="'none'"),
                ),
                "typed_per_filter_config": _TRANSCODER_OFF,
            }
        ]
    files = [
        _file_route(path, "/" + path.relative_to(build_dir).as_posix())
        for path in sorted(build_dir.rglob("*"))
        if path.is_file() and path != page and not path.name.startswith(".")
    ]
    hashes = " ".join(page_scripts.inline_script_hashes(page.read_text(encoding="utf-8")))
    styles = style_attribute_hashes(build_dir)
    style_attributes = f"'unsafe-hashes' {' '.join(styles)}" if styles else "'none'"
    app_route = {
        "name": "dashboard_app",
        "match": app_match,
        "direct_response": {"status": 200, "body": {"filename": str(page)}},
        "response_headers_to_add": _headers(
            CONTENT_TYPES[".html"],
            "no-cache",
            CSP.format(hashes=hashes, style_attributes=style_attributes),
        ),
        "typed_per_filter_config": _TRANSCODER_OFF,
    }
    return [*files, app_route]


def proxied_routes(
    cluster: str, routes_dir: Path = ROUTES_DIR, static_dir: Path = STATIC_DIR
) -> list[dict[str, Any]]:
    """Envoy routes for a deployment where the dashboard's own server answers (containers,
    cli/dashboard_server.py): the paths routes() answers, named from the sources rather than a
    build (the build lives in the dashboard's image), sent to `cluster`, which answers them
    with routes()'s very files and headers."""
    matches: list[tuple[str, dict[str, Any]]] = [
        ("assets", {"prefix": ASSETS_PREFIX}),
        *(
            (url_path, {"path": url_path})
            for url_path in (
                "/" + path.relative_to(static_dir).as_posix()
                for path in sorted(static_dir.rglob("*"))
                if path.is_file()
            )
        ),
        ("app", {"safe_regex": {"regex": app_path_regex(routes_dir)}}),
    ]
    return [
        {
            "name": f"dashboard_proxy:{name}",
            "match": {**match, **_get_only()},
            "route": {"cluster": cluster, "timeout": "10s"},
            "typed_per_filter_config": _TRANSCODER_OFF,
        }
        for name, match in matches
    ]


def style_attribute_hashes(build_dir: Path = BUILD_DIR) -> list[str]:
    """`'sha256-…'` of each static style attribute in the built scripts' templates."""
    values: set[str] = set()
    for script in sorted(build_dir.rglob("*.js")):
        values.update(_STYLE_ATTRIBUTE.findall(script.read_text(encoding="utf-8")))
    return sorted(
        f"'sha256-{base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()}'"
        for value in values
    )


def _file_route(path: Path, url_path: str) -> dict[str, Any]:
    cache = (
        "public, max-age=31536000, immutable"
        if url_path.startswith(IMMUTABLE_PREFIX)
        else "no-cache"
    )
    content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    return {
        "name": f"dashboard_file:{url_path}",
        "match": {"path": url_path, **_get_only()},
        "direct_response": {"status": 200, "body": {"filename": str(path)}},
        "response_headers_to_add": _headers(content_type, cache, None),
        "typed_per_filter_config": _TRANSCODER_OFF,
    }


def _get_only() -> dict[str, Any]:
    return {"headers": [{"name": ":method", "string_match": {"exact": "GET"}}]}


def _headers(content_type: str, cache: str, csp: str | None) -> list[dict[str, Any]]:
    values = {
        "content-type": content_type,
        "cache-control": cache,
        "x-content-type-options": "nosniff",
        # The dashboard's URLs name payments; no other site needs to see them.
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
    }
    if csp is not None:
        values["content-security-policy"] = csp
    return [
        {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
        for key, value in values.items()
    ]
