"""What a failed delivery attempt records for the merchant: a class
(core/webhooks/delivery_errors.py), never the raw error, which would describe the platform's
network (its resolver's answers, the certificates of the addresses it reaches). Real sockets on
loopback play each failure: a closed port, a server that never answers, one that hangs up, TLS
with a certificate for another name, a plain-HTTP server behind an https URL, a name that does
not resolve, a 500, a redirect; the raw detail goes to the worker's log, without the URL."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from core.db import models
from core.secrets import SecretBox
from core.webhooks import delivery_errors
from core.webhooks import urls as webhook_urls
from core.webhooks.destinations import parse_allowlist
from orchestrator.activities.webhooks import WebhookActivities
from tests.conftest import free_port
from tests.orchestrator.test_webhook_delivery_pinning import TLSReceiver

LOCAL = webhook_urls.Destinations(parse_allowlist("127.0.0.1"))
SECRET_PATH = "/hooks/tok_merchant_secret_path"


def activities() -> WebhookActivities:
    return WebhookActivities(
        None,  # type: ignore[arg-type]
        SecretBox(()),
        Settings(database_url="postgresql+asyncpg://unused"),
        LOCAL,
    )


async def post(url: str, limit_seconds: float = 5) -> tuple[int, str]:
    endpoint = models.WebhookEndpoint(id="we_test", url=url, livemode=False, status="enabled")
    return await activities()._post(endpoint, b"{}", {}, limit_seconds)


class Answering:
    """An HTTP server on 127.0.0.1 answering every POST with `status` (and a Location)."""

    def __init__(self, status: int) -> None:
        self.requests: list[str] = []
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server_self.requests.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """Accepts connections (the kernel completes them) and never reads or answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


@pytest.fixture
def hanging_up() -> Iterator[int]:
    """Accepts each connection and closes it at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = sock.accept()
            except OSError:
                return
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
    sock.close()
    thread.join(5)


async def test_a_closed_port_is_connection_refused(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="payloops.webhooks"):
        assert await post(f"http://127.0.0.1:{free_port()}{SECRET_PATH}") == (
            0,
            "connection_refused",
        )
    # The operator's log has the raw detail; not the URL, whose path may be a secret.
    assert "connection_refused (ConnectError" in caplog.text
    assert SECRET_PATH not in caplog.text


async def test_a_server_that_never_answers_is_a_timeout(listening_socket: socket.socket) -> None:
    port = listening_socket.getsockname()[1]
    assert await post(f"http://127.0.0.1:{port}/hooks", limit_seconds=1) == (0, "timeout")


async def test_a_server_that_hangs_up_is_a_connection_error(hanging_up: int) -> None:
    assert await post(f"http://127.0.0.1:{hanging_up}/hooks") == (0, "connection_error")


async def test_a_certificate_nobody_vouches_for_is_a_tls_error(tmp_path: Path) -> None:
    receiver = TLSReceiver(tmp_path)  # self-signed, for another name than 127.0.0.1
    try:
        assert await post(f"https://127.0.0.1:{receiver.port}/hooks") == (0, "tls_error")
    finally:
        receiver.close()
    assert receiver.seen == []


async def test_plain_http_behind_an_https_url_is_a_tls_error() -> None:
    server = Answering(200)
    try:
        assert await post(f"https://127.0.0.1:{server.port}/hooks") == (0, "tls_error")
    finally:
        server.close()


async def test_a_name_that_does_not_resolve_is_a_dns_error() -> None:
    assert await post("https://no-such-host.invalid/hooks") == (0, "dns_error")


@pytest.mark.parametrize("status", [500, 404, 302])
async def test_an_answer_other_than_2xx_is_http_status(status: int) -> None:
    server = Answering(status)
    try:
        assert await post(f"http://127.0.0.1:{server.port}/hooks") == (status, "http_status")
    finally:
        server.close()
    assert server.requests == ["/hooks"]  # a redirect is not followed


async def test_a_refused_destination_is_destination_not_allowed() -> None:
    assert await post("http://169.254.169.254/latest/meta-data") == (
        0,
        "destination_not_allowed",
    )


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("", ""),
        ("connection_refused", "connection_refused"),
        ("connection refused", "connection_refused"),
        ("timeout after 10s", "timeout"),
        ("the attempt overran its timeout", "timeout"),
        ("TLS handshake failed: certificate is not valid for '169.254.169.254'", "tls_error"),
        ("the host does not resolve: [Errno -2] Name or service not known", "dns_error"),
        ("the host 'internal.example' does not resolve", "dns_error"),
        (
            "the host 'x.example' resolves to 10.0.0.7, which is not a public address",
            "destination_not_allowed",
        ),
        ("HTTP 503", "http_status"),
        ("HTTP 302 (redirects are not followed)", "http_status"),
        (
            "no answer from the worker making the attempt (restarted?); sent again later",
            "worker_lost",
        ),
        ("the attempt failed: KeyError('x')", "internal_error"),
        ("connection failed: [Errno 113] No route to host 10.1.2.3", "connection_error"),
        ("RemoteProtocolError: Server disconnected", "connection_error"),
    ],
)
def test_attempts_recorded_before_the_classes_are_shown_by_class(stored: str, shown: str) -> None:
    assert delivery_errors.shown(stored) == shown
    assert shown in delivery_errors.CLASSES | {""}
