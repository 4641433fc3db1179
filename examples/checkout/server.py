"""The example shop's server: its checkout page, and the one endpoint that pays with a token.

    set -a; . .payloops/dev.env; set +a
    python -m examples.checkout.server --port 4242     # then open http://127.0.0.1:4242/

The page (static/) mounts PayLoops' card field, an iframe from the API's origin; the browser
tokenizes the card there and sends this server the token only. `POST /pay` creates an order
with the secret key, pays it with the token and answers the order's status, or the 3-D Secure
page to send the customer to; the bank's page sends the customer back to `/return`, which shows
the result. Keys come from the environment (PAYLOOPS_API_KEY, the secret one, and
PAYLOOPS_PUBLISHABLE_KEY, as `payloops dev` writes them), never from the command line.

`--request-log` appends every request this server receives, bodies included, to a file: what a
merchant that logs everything would hold. It never holds a card number.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATIC = Path(__file__).resolve().parent / "static"
AMOUNT, CURRENCY = 2500, "USD"
TOKEN = re.compile(r"pm_[A-Za-z0-9_]{1,100}")
MAX_BODY = 4096
# The order leaves PROCESSING within PayOrder's own wait in all but slow cases.
SETTLE_SECONDS = 25.0
UNSETTLED = frozenset({"PROCESSING", "REQUIRES_ACTION"})


class PayLoopsError(Exception):
    """PayLoops refused a call: its ErrorInfo reason, for the customer's page."""


@dataclass
class Shop:
    api_url: str
    secret_key: str
    publishable_key: str
    # Where customers reach this shop: 3-D Secure sends them back here.
    public_url: str
    request_log: Path | None = None
    # Which order a 3-D Secure return is about, by the nonce in its return URL.
    _returns: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.api_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.secret_key}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=35) as answer:
                payload: dict[str, Any] = json.load(answer)
                return payload
        except urllib.error.HTTPError as error:
            raise PayLoopsError(_reason(error.read())) from None

    def pay(self, token: str) -> dict[str, Any]:
        nonce = secrets.token_urlsafe(16)
        return_url = f"{self.public_url}/return?c={nonce}"
        order = self.call(
            "POST", "/v1/orders", {"amount": AMOUNT, "currency": CURRENCY, "return_url": return_url}
        )
        with self._lock:
            self._returns[nonce] = order["id"]
        self.call(
            "POST",
            f"/v1/orders/{order['id']}:pay",
            {"payment_method": {"type": "card", "token": token}},
        )
        return self.settled(order["id"], stop_at=frozenset({"REQUIRES_ACTION"}))

    def settled(self, order_id: str, stop_at: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The order once out of UNSETTLED (or in one of `stop_at`), or as it is after
        SETTLE_SECONDS."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            order = self.call("GET", f"/v1/orders/{order_id}")
            if order["status"] not in UNSETTLED - stop_at or time.monotonic() > deadline:
                return order
            time.sleep(0.25)

    def returned(self, nonce: str) -> dict[str, Any] | None:
        with self._lock:
            order_id = self._returns.get(nonce)
        return None if order_id is None else self.settled(order_id)

    def log(self, line: str) -> None:
        if self.request_log is not None:
            with self._lock, self.request_log.open("a") as log:
                log.write(line + "\n")


def _reason(body: bytes) -> str:
    """The ErrorInfo reason of PayLoops' google.rpc.Status answer."""
    try:
        details = json.loads(body).get("details", [])
    except (ValueError, AttributeError):
        return "API_ERROR"
    return next((str(d["reason"]) for d in details if "reason" in d), "API_ERROR")


def summary(order: dict[str, Any]) -> dict[str, Any]:
    """What the checkout page needs of an order."""
    answer = {"order_id": order["id"], "status": order["status"]}
    if order.get("failure_code"):
        answer["failure_code"] = order["failure_code"]
    redirect = (order.get("next_action") or {}).get("redirect_url")
    if order["status"] == "REQUIRES_ACTION" and redirect:
        answer["redirect_url"] = redirect
    return answer


def result_page(order: dict[str, Any] | None) -> bytes:
    if order is None:
        status, text = "error", "This checkout is unknown."
    elif order["status"] == "SUCCEEDED":
        status, text = "SUCCEEDED", "Payment succeeded."
    else:
        status = order["status"]
        text = f"Payment failed: {order.get('failure_code') or order['status'].lower()}."
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Example shop</title>"
        "<link rel='stylesheet' href='/checkout.css'></head><body><main><h1>Your payment</h1>"
        f"<p id='result' role='status' data-status='{html.escape(status)}'>{html.escape(text)}"
        "</p><p><a href='/'>Back to the shop</a></p></main></body></html>"
    ).encode()


class CheckoutServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], shop: Shop) -> None:
        self.shop = shop
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: CheckoutServer

    def do_GET(self) -> None:
        self.server.shop.log(f"GET {self.path}")
        url = urlsplit(self.path)
        if url.path == "/":
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", self._index())
        elif url.path in ("/checkout.js", "/checkout.css"):
            kind = "text/javascript" if url.path.endswith(".js") else "text/css"
            body = (STATIC / url.path.lstrip("/")).read_bytes()
            self._send(HTTPStatus.OK, f"{kind}; charset=utf-8", body)
        elif url.path == "/return":
            nonce = parse_qs(url.query).get("c", [""])[0]
            page = result_page(self.server.shop.returned(nonce))
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", page)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY))
        self.server.shop.log(f"POST {self.path} {body.decode(errors='replace')}")
        if urlsplit(self.path).path != "/pay":
            self._json(HTTPStatus.NOT_FOUND, {"error": "not_found"})
            return
        try:
            token = json.loads(body).get("token", "")
        except (ValueError, AttributeError):
            token = ""
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "token_invalid"})
            return
        try:
            order = self.server.shop.pay(token)
        except PayLoopsError as error:
            self._json(HTTPStatus.BAD_GATEWAY, {"status": "FAILED", "error": str(error)})
            return
        self._json(HTTPStatus.OK, summary(order))

    def _index(self) -> bytes:
        shop = self.server.shop
        page = (STATIC / "index.html").read_text()
        page = page.replace("{{API_URL}}", html.escape(shop.api_url))
        return page.replace("{{PUBLISHABLE_KEY}}", html.escape(shop.publishable_key)).encode()

    def _json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(payload).encode())

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        # The shop's own policy: its scripts, PayLoops' script and PayLoops' iframe only.
        api = self.server.shop.api_url
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' {api}; frame-src {api}; "
            "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'",
        )
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: --request-log is the log."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.checkout.server")
    parser.add_argument("--port", type=int, default=4242)
    parser.add_argument("--api-url", default=os.environ.get("PAYLOOPS_API_URL", ""))
    parser.add_argument("--request-log", type=Path)
    args = parser.parse_args(argv)
    secret, publishable = (
        os.environ.get("PAYLOOPS_API_KEY", ""),
        os.environ.get("PAYLOOPS_PUBLISHABLE_KEY", ""),
    )
    if not (args.api_url and secret and publishable):
        sys.stderr.write(
            "error: needs PAYLOOPS_API_URL (or --api-url), PAYLOOPS_API_KEY and "
            "PAYLOOPS_PUBLISHABLE_KEY (`payloops dev` writes them to .payloops/dev.env)\n"
        )
        return 2
    public_url = f"http://127.0.0.1:{args.port}"
    shop = Shop(args.api_url.rstrip("/"), secret, publishable, public_url, args.request_log)
    server = CheckoutServer(("127.0.0.1", args.port), shop)
    sys.stdout.write(f"example shop on http://127.0.0.1:{args.port}/\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
