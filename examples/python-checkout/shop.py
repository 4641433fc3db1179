"""A shop's first PayLoops integration in Python: a checkout page and a webhook receiver.

    set -a; . .payloops/dev.env; set +a
    PAYLOOPS_WEBHOOK_SECRET=whsec_… python examples/python-checkout/shop.py --port 4242

`POST /checkout` creates an order with the secret key and pays it with the sandbox test card
the customer picked; when the card asks for 3-D Secure, the customer goes to the bank's page,
which sends them back to the order's return URL, `/orders/{ref}`, where the result shows.
Only a verified webhook (`POST /webhooks/payloops`, `order.succeeded`) marks the shop's order
paid: the customer's return proves nothing, since anyone can open a URL.

Keys come from the environment, never from the command line: PAYLOOPS_API_URL and
PAYLOOPS_API_KEY (as `payloops dev` writes them to dev.env) and PAYLOOPS_WEBHOOK_SECRET (the
`whsec_…` of the webhook endpoint pointing here, shown once when it is created).
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
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from payloops.sdk import Order, PayLoops, PayLoopsError, SignatureVerificationError, webhooks

AMOUNT, CURRENCY, ITEM = 2500, "USD", "Two mugs"
# The sandbox's test cards this page offers; a real shop gets a token from PayLoops' hosted card
# fields instead (see examples/checkout).
TEST_CARDS = {
    "pm_card_visa": "Visa, succeeds",
    "pm_card_3ds_required": "Visa, asks for 3-D Secure",
    "pm_card_declined": "Visa, declined",
}
MAX_BODY = 64 * 1024
# `/orders/{ref}` for the customer, `/orders/{ref}.json` for scripts.
ORDER_PATH = re.compile(r"/orders/(?P<ref>[0-9a-f]+)(?P<json>\.json)?")
# An order that ends in one of these is never paid; until then, or until its webhook marks it
# paid, the order page reloads itself.
UNPAID_ENDS = frozenset({"failed", "canceled"})


@dataclass
class ShopOrder:
    """The shop's own record of a purchase; `paid` is set by a verified webhook only."""

    ref: str
    payloops_order: str = ""
    paid: bool = False
    failure: str = ""


@dataclass
class Shop:
    client: PayLoops
    webhook_secret: str
    # Where customers reach this shop: 3-D Secure sends them back here.
    public_url: str
    _orders: dict[str, ShopOrder] = field(default_factory=dict)
    _by_payloops_id: dict[str, ShopOrder] = field(default_factory=dict)
    # Deliveries are at least once: an event already handled is acknowledged and skipped.
    _handled_events: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def checkout(self, card: str) -> tuple[ShopOrder, Order]:
        """Creates and pays an order for the cart; the shop's order and PayLoops' answer."""
        shop_order = ShopOrder(ref=secrets.token_hex(8))
        with self._lock:
            self._orders[shop_order.ref] = shop_order
        # Keys of the shop's own: a retry after a lost answer (even from another process)
        # finds the first order and payment instead of making a second.
        order = self.client.orders.create(
            amount=AMOUNT,
            currency=CURRENCY,
            description=ITEM,
            metadata={"shop_order": shop_order.ref},
            return_url=f"{self.public_url}/orders/{shop_order.ref}",
            idempotency_key=f"{shop_order.ref}-create",
        )
        with self._lock:
            shop_order.payloops_order = order.id
            self._by_payloops_id[order.id] = shop_order
        paid = self.client.orders.pay(
            order.id,
            payment_method={"type": "card", "token": card},
            idempotency_key=f"{shop_order.ref}-pay",
        )
        return shop_order, paid

    def order(self, ref: str) -> ShopOrder | None:
        with self._lock:
            return self._orders.get(ref)

    def receive(self, body: bytes, signature: str | None) -> None:
        """Acts on one webhook delivery; raises SignatureVerificationError when it is not
        PayLoops' (forged, altered, for another endpoint or replayed)."""
        event = webhooks.verify(body, signature, self.webhook_secret)
        with self._lock:
            if event["id"] in self._handled_events:
                return
            self._handled_events.add(event["id"])
            shop_order = self._by_payloops_id.get(str(event["object"].get("id", "")))
            if shop_order is None:
                return  # another integration's order, or from before this process started
            if event["type"] == "order.succeeded":
                shop_order.paid = True  # ship the mugs here
            elif event["type"] == "order.failed":
                shop_order.failure = str(event["object"].get("failure_code") or "failed")


def checkout_page() -> bytes:
    cards = "".join(
        f"<label><input type='radio' name='card' value='{token}'{' checked' * (index == 0)}> "
        f"{html.escape(label)} <code>{token}</code></label><br>"
        for index, (token, label) in enumerate(TEST_CARDS.items())
    )
    return _page(
        "Checkout",
        f"<p>{ITEM}: <strong>{AMOUNT / 100:.2f} {CURRENCY}</strong></p>"
        f"<form method='post' action='/checkout'>{cards}"
        "<p><button type='submit' id='pay'>Pay</button></p></form>",
    )


def order_page(shop_order: ShopOrder, order: Order) -> bytes:
    """The result as the customer sees it; reloads until the payment and its webhook settle."""
    if shop_order.paid:
        status, text = "paid", "Thank you: your payment is confirmed."
    elif order.status in UNPAID_ENDS:
        status, text = order.status, f"Payment {order.status}: {order.failure_code or 'no charge'}."
    else:
        status, text = order.status, "Confirming your payment…"
    settled = shop_order.paid or order.status in UNPAID_ENDS
    return _page(
        "Your order",
        f"<p id='result' role='status' data-status='{html.escape(status)}'>{html.escape(text)}</p>"
        f"<p>Order <code>{html.escape(shop_order.ref)}</code></p><p><a href='/'>Back</a></p>",
        refresh=not settled,
    )


def _page(title: str, body: str, refresh: bool = False) -> bytes:
    reload = "<meta http-equiv='refresh' content='1'>" if refresh else ""
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{reload}"
        f"<title>{html.escape(title)} · Example shop</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    ).encode()


def order_summary(shop_order: ShopOrder, order: Order) -> dict[str, Any]:
    return {
        "ref": shop_order.ref,
        "payloops_order": order.id,
        "status": order.status,
        "paid": shop_order.paid,
        "failure": shop_order.failure,
    }


class ShopServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], shop: Shop) -> None:
        self.shop = shop
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: ShopServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/":
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", checkout_page())
            return
        match = ORDER_PATH.fullmatch(path)
        shop_order = self.server.shop.order(match.group("ref")) if match else None
        if match is None or shop_order is None:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n")
            return
        try:
            order = self.server.shop.client.orders.retrieve(shop_order.payloops_order)
        except PayLoopsError as error:
            self._failed(error)
            return
        if match.group("json"):
            body = json.dumps(order_summary(shop_order, order)).encode()
            self._send(HTTPStatus.OK, "application/json", body)
        else:
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", order_page(shop_order, order))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "text/plain", b"too large\n")
            return
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        if path == "/checkout":
            self._checkout(body)
        elif path == "/webhooks/payloops":
            self._webhook(body)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n")

    def _checkout(self, form: bytes) -> None:
        card = parse_qs(form.decode(errors="replace")).get("card", [""])[0]
        if card not in TEST_CARDS:
            self._send(HTTPStatus.BAD_REQUEST, "text/plain", b"pick a test card\n")
            return
        try:
            shop_order, order = self.server.shop.checkout(card)
        except PayLoopsError as error:
            self._failed(error)
            return
        if order.status == "requires_action" and order.next_action is not None:
            self._redirect(order.next_action.redirect_url)  # the bank's 3-D Secure page
        else:
            self._redirect(f"/orders/{shop_order.ref}")

    def _webhook(self, body: bytes) -> None:
        try:
            self.server.shop.receive(body, self.headers.get(webhooks.SIGNATURE_HEADER))
        except SignatureVerificationError:
            self._send(HTTPStatus.BAD_REQUEST, "text/plain", b"bad signature\n")
            return
        self._send(HTTPStatus.OK, "text/plain", b"ok\n")

    def _failed(self, error: PayLoopsError) -> None:
        # The reason and correlation id are what PayLoops' support asks for; never the key.
        page = _page("Payment error", f"<p>{html.escape(str(error))}</p>")
        self._send(HTTPStatus.BAD_GATEWAY, "text/html; charset=utf-8", page)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"shop: {format % args}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python examples/python-checkout/shop.py")
    parser.add_argument("--port", type=int, default=4242)
    args = parser.parse_args(argv)
    needed = ("PAYLOOPS_API_URL", "PAYLOOPS_API_KEY", "PAYLOOPS_WEBHOOK_SECRET")
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        sys.stderr.write(f"error: set {', '.join(missing)} (see the README beside this file)\n")
        return 2
    shop = Shop(
        client=PayLoops(os.environ["PAYLOOPS_API_KEY"], base_url=os.environ["PAYLOOPS_API_URL"]),
        webhook_secret=os.environ["PAYLOOPS_WEBHOOK_SECRET"],
        public_url=f"http://127.0.0.1:{args.port}",
    )
    server = ShopServer(("127.0.0.1", args.port), shop)
    sys.stderr.write(f"example shop on {shop.public_url}/\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
