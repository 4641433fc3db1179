"""The Overview page in Chromium against the live mesh: payments made through the API (one
authorized, one declined, one saved by failover, one in another currency) move its figures,
charts and tables; a custom window is checked before it is asked for; the live switch shows the
other mode's (empty) figures."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from payloops.sandbox.v1 import control_pb2
from tests.conftest import Mesh
from tests.dashboard.conftest import Merchant, check_accessibility, screenshot
from tests.e2e.failover_helpers import SANDBOXES, clean_processors, pay
from tests.e2e.sandbox_control import set_fault

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]


def test_payments_made_through_the_api_move_the_overview(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    page = new_page(merchant.owner)
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_text("No payments were made in this window.")).to_be_visible()
    check_accessibility(page)

    with mesh.client(merchant.test_key) as api:
        routing = {"rules": [{"name": "all", "failover": {"processors": list(SANDBOXES)}}]}
        assert api.put("/v1/routing", json=routing).status_code == 200
        assert pay(api)["status"] == "SUCCEEDED"
        assert pay(api, "pm_card_insufficient_funds")["status"] == "FAILED"
        set_fault(mesh, control_pb2.FAULT_MODE_UNAVAILABLE, name="sandbox")
        saved = pay(api, amount=2000)
        set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name="sandbox")
        assert [attempt["processor"] for attempt in saved["attempts"]] == ["sandbox", "sandbox-b"]
        order = api.post("/v1/orders", json={"amount": 700, "currency": "JPY"}).json()
        paid = api.post(
            f"/v1/orders/{order['id']}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
        )
        assert paid.json()["status"] == "SUCCEEDED", paid.text

    # The same window, asked again: the four payments are in it.
    page.get_by_role("button", name="Show").click()
    totals = page.get_by_label("Totals")
    expect(totals).to_contain_text(re.compile(r"Payments\s*4\b"))
    expect(totals).to_contain_text(re.compile(r"Success rate\s*75%"))
    expect(totals).to_contain_text(re.compile(r"Saved by failover\s*1\b"))
    expect(totals).to_contain_text(re.compile(r"Latency p50\s*\d+ ms"))

    # Amounts by each currency's exponent: dollars with cents, yen without.
    volumes = page.get_by_role("table", name="Volume by currency")
    expect(volumes.get_by_role("row").filter(has_text="USD")).to_contain_text("$50.00")
    expect(volumes.get_by_role("row").filter(has_text="USD")).to_contain_text("$35.00")
    expect(volumes.get_by_role("row").filter(has_text="JPY")).to_contain_text("¥700")
    processors = page.get_by_role("table", name="Success rate by processor")
    # sandbox decided three (two authorized, one declined), sandbox-b the one it failed over.
    for figures in (r"^sandbox 3 2 1 66\.7%$", r"^sandbox-b 1 1 0 100%$"):
        expect(processors.get_by_role("row", name=re.compile(figures))).to_be_visible()
    codes = page.get_by_role("table", name="Decline and failure codes")
    expect(codes).to_contain_text("insufficient_funds")
    latency = page.get_by_role("table", name="Payment latency")
    expect(latency.get_by_role("row").filter(has_text="All")).to_contain_text("ms")
    failover = page.get_by_role("table", name="What failover saved, per currency")
    expect(failover).to_contain_text("$20.00")
    # Each chart is named for a screen reader, and drawn.
    expect(page.get_by_role("img", name="Success rate per processor")).to_be_visible()
    assert page.locator("canvas").count() == 5
    page.get_by_role("img", name="Success rate per processor").hover()
    check_accessibility(page)
    screenshot(page, "overview")

    # A custom window: refused by the page before the API when it is back to front.
    page.get_by_label("Window", exact=True).select_option("custom")
    page.get_by_label("From", exact=True).fill("2026-03-02T10:00")
    page.get_by_label("To", exact=True).fill("2026-03-01T10:00")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_have_text("The end must be after the start.")
    expect(totals).to_contain_text(re.compile(r"Payments\s*4\b"))

    # Live data: none of the test payments.
    page.get_by_text("Live data", exact=True).click()
    expect(page.get_by_text("No payments were made in this window.")).to_be_visible()


def test_the_overview_is_readable_on_a_phone(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    # With figures to show (the widest the page gets): measured once they are drawn, not while
    # they load.
    with mesh.client(merchant.test_key) as api:
        assert pay(api)["status"] == "SUCCEEDED"
    page = new_page(merchant.viewer)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_label("Window", exact=True)).to_be_visible()
    expect(page.get_by_role("table", name="Success rate by processor")).to_be_attached()
    expect(page.get_by_text("Updating")).to_have_count(0)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    check_accessibility(page)
    screenshot(page, "overview-phone")
