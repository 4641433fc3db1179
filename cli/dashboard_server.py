"""`payloops serve dashboard`: the dashboard's built files over HTTP, for a deployment where
Envoy runs from its upstream image and the build ships in the PayLoops image (docker-compose.yml).

It answers exactly what Envoy answers itself under `payloops dev`: the routes of
cli.dashboard_site (each file at its path, the app's page for the app's paths, the same
content types, caching and Content-Security-Policy), interpreted here rather than written
again. Envoy forwards the dashboard's paths to it (dashboard_site.proxied_routes), so the
browser still sees one origin, the API's.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from cli import dashboard_site

log = logging.getLogger("payloops.dashboard")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class Site:
    """The dashboard's routes, read once at start-up as Envoy reads its config."""

    def __init__(self, build_dir: Path, routes_dir: Path) -> None:
        self._routes = [
            _answerable(route) for route in dashboard_site.routes(build_dir, routes_dir)
        ]

    def answer(self, path: str) -> Answer | None:
        """The answer to a GET of `path`, or None when no route of the dashboard matches."""
        for matches, answer in self._routes:
            if matches(path):
                return answer
        return None


def _answerable(route: dict[str, Any]) -> tuple[Callable[[str], bool], Answer]:
    match = route["match"]
    if "path" in match:
        exact = str(match["path"])

        def matches(path: str) -> bool:
            return path == exact
    else:
        # Envoy's safe_regex matches the whole path.
        pattern = re.compile(match["safe_regex"]["regex"])

        def matches(path: str) -> bool:
            return pattern.fullmatch(path) is not None

    response = route["direct_response"]
    body = response["body"]
    content = (
        Path(body["filename"]).read_bytes()
        if "filename" in body
        else body["inline_string"].encode()
    )
    headers = tuple(
        (item["header"]["key"], item["header"]["value"])
        for item in route["response_headers_to_add"]
    )
    return matches, Answer(int(response["status"]), content, headers)


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "payloops-dashboard"
        sys_version = ""

        def do_GET(self) -> None:
            answer = site.answer(urlsplit(self.path).path)
            if answer is None:
                self._send(Answer(404, b"not found\n", (("content-type", "text/plain"),)))
            else:
                self._send(answer)

        def do_HEAD(self) -> None:
            self.do_GET()

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            for key, value in answer.headers:
                self.send_header(key, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        def log_message(self, format: str, *args: object) -> None:
            # Envoy's access log has every request; a path may name a payment.
            return

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="payloops serve dashboard")
    parser.add_argument("--port", type=int, default=dashboard_site.SERVER_PORT)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--build", type=Path, default=dashboard_site.BUILD_DIR, help="the dashboard's build"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    site = Site(args.build, dashboard_site.ROUTES_DIR)
    server = ThreadingHTTPServer((args.host, args.port), handler_for(site))
    server.daemon_threads = True

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return: not from its own thread.
        threading.Thread(target=server.shutdown).start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    built = "" if dashboard_site.is_built(args.build) else " (not built: a page says so)"
    log.info("dashboard listening on %s:%d%s", args.host, server.server_port, built)
    server.serve_forever()
    server.server_close()
