"""The sandbox's 3-D Secure challenge page, served over plain HTTP with the stdlib.

`GET /3ds/{processor_reference}` shows the payment and two buttons, "Complete" and "Fail",
each a form POST back to the same URL with `outcome=succeed` or `outcome=fail`. The POST
completes the challenge in the ledger and then redirects (303) to the payment's `return_url`,
or shows a result page when it has none. Status codes: 404 unknown reference, 400 bad outcome,
409 when no challenge is pending any more (completed, voided).

ThreadingHTTPServer runs in its own thread(s); the ledger's lock makes that safe.
"""

from __future__ import annotations

import html
import logging
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import grpc

from processors.kit.errors import ProcessorError
from processors.sandbox.ledger import Ledger, PaymentRecord

log = logging.getLogger(__name__)

_PATH = re.compile(r"/3ds/([A-Za-z0-9_]+)/?")
_MAX_BODY = 16 * 1024  # the form has one short field
_OUTCOMES = {"succeed": True, "fail": False}


class ChallengePageServer(ThreadingHTTPServer):
    daemon_threads = True  # a browser's keep-alive connection must not block shutdown

    def __init__(self, address: tuple[str, int], ledger: Ledger) -> None:
        self.ledger = ledger
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:28em;margin:3em auto}"
        "button{font-size:1.1em;margin-right:1em;padding:.4em 1.2em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


def _summary(p: PaymentRecord) -> str:
    return (
        f"<p>Payment <code>{html.escape(p.reference)}</code></p>"
        f"<p>Amount: <strong>{p.amount} {html.escape(p.currency)}</strong> (minor units)</p>"
    )


def _challenge_page(p: PaymentRecord) -> bytes:
    form = (
        "<form method='post'>"
        "<button type='submit' name='outcome' value='succeed'>Complete</button>"
        "<button type='submit' name='outcome' value='fail'>Fail</button>"
        "</form>"
    )
    return _page("3-D Secure test challenge", _summary(p) + form)


def _result_page(p: PaymentRecord) -> bytes:
    return _page(
        "3-D Secure challenge finished",
        _summary(p) + f"<p>Result: <strong>{html.escape(p.outcome.value)}</strong></p>",
    )


class _Handler(BaseHTTPRequestHandler):
    server: ChallengePageServer
    server_version = "PayLoopsSandbox3DS/1"

    def do_GET(self) -> None:
        payment = self._payment()
        if payment is None:
            return
        page = _challenge_page(payment) if payment.challenge_pending else _result_page(payment)
        self._send(HTTPStatus.OK, page)

    def do_POST(self) -> None:
        payment = self._payment()
        if payment is None:
            return
        succeed = self._read_outcome()
        if succeed is None:
            self._send(
                HTTPStatus.BAD_REQUEST,
                _page("Bad request", "<p>outcome must be succeed or fail</p>"),
            )
            return
        try:
            payment = self.server.ledger.complete_challenge(payment.reference, succeed)
        except ProcessorError as error:
            status = (
                HTTPStatus.NOT_FOUND
                if error.code is grpc.StatusCode.NOT_FOUND
                else HTTPStatus.CONFLICT
            )
            self._send(status, _page("Challenge not pending", f"<p>{html.escape(error.message)}"))
            return
        if payment.return_url:
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Location", payment.return_url)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(HTTPStatus.OK, _result_page(payment))

    def _payment(self) -> PaymentRecord | None:
        """The payment the URL names, or None after answering 404."""
        match = _PATH.fullmatch(urlsplit(self.path).path)
        if match is not None:
            try:
                return self.server.ledger.payment_by_reference(match.group(1))
            except ProcessorError:
                pass
        self._send(HTTPStatus.NOT_FOUND, _page("Not found", "<p>No such challenge.</p>"))
        return None

    def _read_outcome(self) -> bool | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not 0 < length <= _MAX_BODY:
            return None
        fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        values = fields.get("outcome", [])
        return _OUTCOMES.get(values[0]) if len(values) == 1 else None

    def _send(self, status: HTTPStatus, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # Default goes to stderr unstructured; keep it in logging at debug level.
        log.debug("3ds page: " + format, *args)
