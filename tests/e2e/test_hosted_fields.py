"""Hosted card fields in a real browser: Debian's Chromium opens the example shop
(examples/checkout, on its own origin), types a test card into PayLoops' iframe (served by
the mesh's Envoy, another origin), tokenizes, pays and follows 3-D Secure. The shop's page
never holds the card number: its script cannot reach into the iframe, and nothing it saw,
sent or logged has more of the number than the last four digits. A card typed there pays at
Stripe's fake and, with Stripe down, at Razorpay's, charged once."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Page, Request, expect

from processors.razorpay.keys import order_receipt
from tests.browser import chromium
from tests.conftest import REPO, Mesh, free_port
from tests.e2e.gateway_accounts import add_gateway_accounts, route_stripe_then_razorpay
from tests.e2e.vault_helpers import publishable_key

pytestmark = pytest.mark.e2e

THREE_D_SECURE_CARD = "4000002500003155"
# Each gateway fake's own test card that succeeds.
STRIPE_VISA = "4242424242424242"
RAZORPAY_VISA = "4111111111111111"
DECLINED_CARD = "4000000000000002"
# Waiting for the mesh (a payment, a 3-D Secure completion), not a measure of speed.
PAYMENT_WAIT_MS = 40_000

# Kept by the shop's own origin across its navigations (to the bank's page and back): every
# message its window received, and its DOM as it left for 3-D Secure. Playwright adds this
# script to every frame; the iframe's copy writes to PayLoops' origin's storage, not read here.
RECORD_THE_SHOP_PAGE = """
if (window === window.top) {
  const keep = (name, value) => {
    const kept = JSON.parse(sessionStorage.getItem(name) || "[]");
    kept.push(value);
    sessionStorage.setItem(name, JSON.stringify(kept));
  };
  window.addEventListener("message", (event) => keep("messages", JSON.stringify(event.data)));
  window.addEventListener("pagehide", () => keep("dom", document.documentElement.outerHTML));
}
"""


@dataclass
class Shop:
    url: str
    request_log: Path


@dataclass
class Traffic:
    """Every request the browser made, by where it went."""

    requests: list[Request] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.requests.append(request)

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.url.split("?")[0].endswith(path)]


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    while True:
        assert process.poll() is None, "the example shop exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass


@contextlib.contextmanager
def running_shop(mesh: Mesh, secret: str, workdir: Path) -> Iterator[Shop]:
    """The example shop, run as its README says, for the merchant of `secret`."""
    port, log = free_port(), workdir / "requests.log"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "examples.checkout.server", "--port", str(port)),
            *("--api-url", mesh.api_url, "--request-log", str(log)),
        ],
        cwd=REPO,
        env={
            **os.environ,
            "PAYLOOPS_API_KEY": secret,
            "PAYLOOPS_PUBLISHABLE_KEY": publishable_key(mesh, secret),
        },
    )
    try:
        wait_for_port(port, process)
        yield Shop(f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def shop(mesh: Mesh, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The example shop for a merchant of its own (the default routing: the sandbox)."""
    _, secret = mesh.new_merchant("hosted fields shop")
    with running_shop(mesh, secret, tmp_path_factory.mktemp("shop")) as running:
        yield running


@pytest.fixture(scope="module")
def gateway_shop(
    mesh: Mesh, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Shop, httpx.Client]]:
    """The example shop for a merchant with accounts at Stripe's and Razorpay's fakes, routing
    Stripe first and Razorpay on failover; and the merchant's API client."""
    _, secret = mesh.new_merchant("hosted fields gateways")
    with mesh.client(secret) as api:
        add_gateway_accounts(api)
        route_stripe_then_razorpay(api)
        with running_shop(mesh, secret, tmp_path_factory.mktemp("gateway-shop")) as running:
            yield running, api


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    with chromium(tmp_path / "profile") as context:
        yield context


def open_checkout(browser: BrowserContext, shop: Shop) -> tuple[Page, FrameLocator, Traffic]:
    page = browser.new_page()
    traffic = Traffic()
    page.on("request", traffic.record)
    page.add_init_script(RECORD_THE_SHOP_PAGE)
    page.goto(shop.url)
    return page, page.frame_locator("#card-element iframe"), traffic


def type_card(field: FrameLocator, number: str, expiry: str = "12 / 40", cvc: str = "123") -> None:
    """As a customer types: one key at a time (the field formats as it goes)."""
    field.locator("#number").press_sequentially(number)
    field.locator("#expiry").press_sequentially(expiry)
    field.locator("#cvc").press_sequentially(cvc)


def pan_pattern(pan: str) -> re.Pattern[str]:
    """More of the number than its last four digits, with or without separators."""
    return re.compile(r"[\s-]?".join(pan[:-4]))


def test_a_card_typed_into_the_iframe_pays_through_3d_secure_and_the_shop_never_holds_it(
    browser: BrowserContext, shop: Shop, mesh: Mesh
) -> None:
    page, card_field, traffic = open_checkout(browser, shop)
    type_card(card_field, THREE_D_SECURE_CARD)
    expect(card_field.locator("#brand")).to_have_text("Visa")
    expect(card_field.locator("#number")).to_have_value("4000 0025 0000 3155")

    # The shop's script cannot reach into PayLoops' iframe.
    reach = page.evaluate(
        """() => {
          const frame = document.querySelector("#card-element iframe");
          let error = null;
          try { frame.contentWindow.document.querySelector("#number"); }
          catch (e) { error = e.name; }
          return { contentDocument: frame.contentDocument === null, error: error };
        }"""
    )
    assert reach == {"contentDocument": True, "error": "SecurityError"}

    page.locator("#pay").click()
    page.wait_for_url(re.compile(r".*/3ds/.*"), timeout=PAYMENT_WAIT_MS)
    page.get_by_role("button", name="Complete").click()
    page.wait_for_url(re.compile(r".*/return\?.*"), timeout=PAYMENT_WAIT_MS)
    expect(page.locator("#result")).to_have_attribute(
        "data-status", "SUCCEEDED", timeout=PAYMENT_WAIT_MS
    )

    # The number went to PayLoops' origin only, once, from the iframe.
    [tokenized] = traffic.to("/v1/tokens")
    assert tokenized.url == f"{mesh.api_url}/v1/tokens"
    assert tokenized.frame != page.main_frame
    assert THREE_D_SECURE_CARD in (tokenized.post_data or "")

    messages = [json.loads(m) for m in json.loads(page.evaluate("sessionStorage.messages"))]
    [result] = [m["result"] for m in messages if m.get("type") == "payloops:tokenized"]
    assert result["token"]["id"].startswith("pm_vault_")
    assert result["token"]["card"] == {
        "brand": "visa",
        "last4": "3155",
        "exp_month": 12,
        "exp_year": 2040,
    }
    [dom] = json.loads(page.evaluate("sessionStorage.dom"))
    shop_requests = [
        f"{r.method} {r.url} {r.post_data or ''}"
        for r in traffic.requests
        if r.frame == page.main_frame
    ]
    held_by_the_shop = {
        "its page's DOM": dom,
        "the messages its window received": json.dumps(messages),
        "its requests": "\n".join(shop_requests),
        "its server's request log": shop.request_log.read_text(),
    }
    pan = pan_pattern(THREE_D_SECURE_CARD)
    for where, text in held_by_the_shop.items():
        assert not pan.search(text), where
    assert result["token"]["id"] in held_by_the_shop["its server's request log"]


def test_a_declined_card_shows_its_decline(browser: BrowserContext, shop: Shop) -> None:
    page, card_field, _ = open_checkout(browser, shop)
    type_card(card_field, DECLINED_CARD)
    page.locator("#pay").click()
    result = page.locator("#result")
    expect(result).to_have_attribute("data-status", "FAILED", timeout=PAYMENT_WAIT_MS)
    expect(result).to_contain_text("generic_decline")


def test_invalid_input_shows_field_errors_without_a_network_call(
    browser: BrowserContext, shop: Shop
) -> None:
    page, card_field, traffic = open_checkout(browser, shop)
    number, error = card_field.locator("#number"), card_field.locator("#error")
    # A Luhn typo, shown once the customer leaves the field.
    number.press_sequentially("4242424242424241")
    card_field.locator("#expiry").focus()
    expect(error).to_have_text("The card number is not valid.")
    expect(number).to_have_class(re.compile(r"\binvalid\b"))
    # An expiry in the past, shown as soon as it is complete.
    number.fill("")
    number.press_sequentially("378282246310005")
    expect(card_field.locator("#brand")).to_have_text("Amex")
    card_field.locator("#expiry").press_sequentially("0120")
    expect(error).to_have_text("The card has expired.")
    # Tokenizing refuses it in the field: the shop hears the reason, nothing is sent.
    page.locator("#pay").click()
    expect(page.locator("#result")).to_have_text("The card has expired.")
    expect(page.locator("#pay")).to_be_enabled()
    assert traffic.to("/v1/tokens") == [] and traffic.to("/pay") == []


def test_a_field_embedded_by_another_origin_than_it_was_told_stays_disabled(
    browser: BrowserContext, shop: Shop, mesh: Mesh
) -> None:
    """A page that declares someone else's origin (to have the field talk to a page it does
    not own) gets a field that takes no input and says nothing."""
    page, _, traffic = open_checkout(browser, shop)
    page.evaluate(
        """(src) => {
          const frame = document.createElement("iframe");
          frame.id = "spoofed";
          frame.src = src;
          document.body.appendChild(frame);
        }""",
        f"{mesh.api_url}/js/v1/card-field.html#origin=http%3A%2F%2F127.0.0.1%3A1&key=pk_test_x",
    )
    spoofed = page.frame_locator("#spoofed")
    expect(spoofed.locator("#error")).to_have_text(
        "This card field can only be used inside its merchant's checkout."
    )
    for name in ("#number", "#expiry", "#cvc"):
        expect(spoofed.locator(name)).to_be_disabled()
    assert traffic.to("/v1/tokens") == []


def pay_in_the_browser(browser: BrowserContext, shop: Shop, number: str) -> None:
    page, card_field, _ = open_checkout(browser, shop)
    type_card(card_field, number)
    page.locator("#pay").click()
    expect(page.locator("#result")).to_have_attribute(
        "data-status", "SUCCEEDED", timeout=PAYMENT_WAIT_MS
    )
    page.close()


def newest_order(api: httpx.Client) -> dict:
    [order] = api.get("/v1/orders", params={"page_size": 1}).json()["orders"]
    return dict(order)


def test_a_card_typed_in_the_browser_pays_at_stripe_and_fails_over_to_razorpay_once(
    browser: BrowserContext, gateway_shop: tuple[Shop, httpx.Client], mesh: Mesh
) -> None:
    shop, api = gateway_shop
    assert mesh.stripe is not None and mesh.razorpay is not None
    pay_in_the_browser(browser, shop, STRIPE_VISA)
    at_stripe = newest_order(api)
    assert [(a["processor"], a["outcome"]) for a in at_stripe["attempts"]] == [
        ("stripe", "SUCCEEDED")
    ]
    assert len(mesh.stripe.intents_with("payloops_order_id", at_stripe["id"])) == 1

    # Stripe down: the card the browser tokenized goes to Razorpay instead, charged once.
    with mesh.stripe.refusing():
        pay_in_the_browser(browser, shop, RAZORPAY_VISA)
    failed_over = newest_order(api)
    assert failed_over["id"] != at_stripe["id"]
    assert [(a["processor"], a["outcome"]) for a in failed_over["attempts"]] == [
        ("stripe", "FAILED"),
        ("razorpay", "SUCCEEDED"),
    ]
    assert mesh.stripe.intents_with("payloops_order_id", failed_over["id"]) == []
    [razorpay_order] = mesh.razorpay.orders_with_receipt(
        order_receipt(failed_over["attempts"][1]["attempt_key"])
    )
    charged = [
        p
        for p in mesh.razorpay.payments_for_order(razorpay_order["id"])
        if p["status"] == "captured"
    ]
    assert len(charged) == 1
