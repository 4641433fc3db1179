"""The Payments pages in Chromium against the live mesh: a payment made through the API, its
detail, filters, a partial refund, CSV export, the test/live switch and a viewer's session."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Mesh
from tests.dashboard.conftest import Merchant, check_accessibility, screenshot
from tests.e2e.mesh_db import sql
from tests.e2e.people import create_user

pytestmark = pytest.mark.e2e

# More than a page of the merchant's events, and more than the page ever scanned for an order's.
NEWER_EVENTS = 600


def paid_order(
    api: httpx.Client,
    metadata: dict[str, str],
    amount: int = 1500,
    token: str = "pm_card_visa",
    status: str = "SUCCEEDED",
    capture_method: str = "AUTOMATIC",
) -> dict[str, Any]:
    order = api.post(
        "/v1/orders",
        json={
            "amount": amount,
            "currency": "USD",
            "metadata": metadata,
            "capture_method": capture_method,
        },
    ).json()
    paid = api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": token}},
    )
    assert paid.status_code == 200, paid.text
    deadline = time.monotonic() + 60
    while (current := api.get(f"/v1/orders/{order['id']}").json())["status"] == "PROCESSING":
        assert time.monotonic() < deadline, current
        time.sleep(0.2)
    assert current["status"] == status, current
    return current


@pytest.fixture(scope="module")
def payment(mesh: Mesh, merchant: Merchant) -> dict[str, Any]:
    with mesh.client(merchant.test_key) as api:
        return paid_order(api, {"plan": "pro", "batch": uuid.uuid4().hex[:8]})


def open_payment(page: Page, order_id: str) -> None:
    """Finds the payment by its id (other tests' payments may push it off the first page)."""
    page.get_by_role("searchbox", name="Search").fill(order_id)
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=order_id).click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()


def test_a_payment_made_through_the_api_shows_with_its_attempts_and_routing(
    new_page: Callable[[str], Page], merchant: Merchant, payment: dict[str, Any]
) -> None:
    page = new_page(merchant.owner)
    row = page.get_by_role("row").filter(has_text=payment["id"])
    expect(row).to_contain_text("$15.00")
    expect(row).to_contain_text("succeeded")
    expect(row).to_contain_text("sandbox")
    check_accessibility(page)
    screenshot(page, "payments")

    open_payment(page, payment["id"])
    expect(page).to_have_url(re.compile(f"/payments/{payment['id']}$"))
    attempt = page.get_by_role("listitem").filter(has_text="Attempt 1 at sandbox")
    expect(attempt).to_contain_text("succeeded")
    expect(attempt).to_contain_text(payment["attempts"][0]["attempt_key"])
    expect(attempt).to_contain_text(re.compile(r"\d+ ms"))
    routed = page.get_by_role("listitem").filter(has_text="Routed by rule")
    candidates = routed.get_by_role("table", name="Processors considered, in order")
    for candidate in payment["routing"]["candidates"]:
        expect(candidates).to_contain_text(candidate["processor"])
        expect(candidates).to_contain_text(candidate["reason"].replace("_", " "))
    captured = page.get_by_role("definition").filter(has_text="$15.00")
    expect(captured.first).to_be_visible()
    # Times are the user's, with UTC on hover.
    created = page.locator("time").first
    expect(created).to_have_attribute("title", re.compile(r"UTC$"))
    check_accessibility(page)
    screenshot(page, "payment-detail")


def test_filters_find_the_payment_and_leave_out_others(
    new_page: Callable[[str], Page], merchant: Merchant, payment: dict[str, Any]
) -> None:
    page = new_page(merchant.owner)
    page.get_by_label("Status").select_option("succeeded")
    page.get_by_label("Metadata key").fill("batch")
    page.get_by_label("Metadata value").fill(payment["metadata"]["batch"])
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=succeeded.*metadata_key=batch"))
    expect(page.get_by_role("link", name=payment["id"])).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)  # the header and the payment

    page.get_by_label("Currency").fill("JPY")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No payments match these filters.")).to_be_visible()
    check_accessibility(page)

    # An amount range, in the currency's own units.
    page.get_by_role("button", name="Clear").click()
    page.get_by_label("Currency").fill("USD")
    page.get_by_label("Amount from").fill("14.99")
    page.get_by_label("Amount to").fill("15.00")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"amount_min=14.99&amount_max=15.00"))
    expect(page.get_by_role("link", name=payment["id"])).to_be_visible()
    page.get_by_label("Amount from").fill("15.01")
    page.get_by_label("Amount to").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No payments match these filters.")).to_be_visible()


@pytest.mark.parametrize("finder", ["id", "processor_reference"])
def test_search_finds_the_payment_by_its_id_or_processor_reference(
    new_page: Callable[[str], Page], merchant: Merchant, payment: dict[str, Any], finder: str
) -> None:
    text = payment["id"] if finder == "id" else payment["attempts"][0]["processor_reference"]
    page = new_page(merchant.owner)
    page.get_by_role("searchbox", name="Search").fill(text)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=payment["id"])).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)


def test_the_failure_code_filter_finds_a_declined_payment(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant, payment: dict[str, Any]
) -> None:
    with mesh.client(merchant.test_key) as api:
        declined = paid_order(api, {}, token="pm_card_declined", status="FAILED")
    page = new_page(merchant.owner)
    page.get_by_label("Failure code").fill(declined["failure_code"])
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=declined["id"])).to_be_visible()
    expect(page.get_by_role("link", name=payment["id"])).to_have_count(0)
    row = page.get_by_role("row").filter(has_text=declined["id"])
    expect(row).to_contain_text(declined["failure_code"])
    page.get_by_role("link", name=declined["id"]).click()
    attempt = page.get_by_role("listitem").filter(has_text="Attempt 1 at")
    expect(attempt).to_contain_text(declined["attempts"][0]["decline_code"])
    screenshot(page, "payment-detail-declined")


def test_a_partial_refund_from_the_page_then_the_refund_and_its_event(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    with mesh.client(merchant.test_key) as api:
        order = paid_order(api, {"case": "refund"})
    page = new_page(merchant.owner)
    open_payment(page, order["id"])
    page.get_by_role("button", name="Refund").click()
    dialog = page.get_by_role("dialog", name="Refund this payment")
    expect(dialog.get_by_label("Amount (USD)")).to_have_value("15.00")
    dialog.get_by_label("Amount (USD)").fill("20.00")
    dialog.get_by_role("button", name="Refund").click()
    expect(dialog.get_by_role("alert")).to_contain_text("at most 15.00")
    dialog.get_by_label("Amount (USD)").fill("4.50")
    dialog.get_by_label("Reason").select_option("duplicate")
    check_accessibility(page)
    screenshot(page, "refund-dialog")
    dialog.get_by_role("button", name="Refund").click()
    expect(dialog).to_be_hidden()

    refund = page.get_by_role("listitem").filter(has_text="Refund $4.50")
    expect(refund).to_contain_text("duplicate")
    with mesh.client(merchant.test_key) as api:
        refunds = api.get(f"/v1/orders/{order['id']}/refunds").json()["refunds"]
    assert [(r["amount"], r["reason"]) for r in refunds] == [("450", "duplicate")]
    # The refund's event is written as the refund settles: it shows on a later look.
    event = page.get_by_role("listitem").filter(has_text="Event refund.succeeded")
    deadline = time.monotonic() + 60
    while not event.count():
        assert time.monotonic() < deadline, "no refund.succeeded event on the page"
        page.reload()
        expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="$4.50").first).to_be_visible()


@pytest.fixture(scope="module")
def busy_merchant(mesh: Mesh) -> tuple[str, dict[str, Any]]:
    """A merchant's owner and a payment of its, followed by hundreds of newer events of the
    merchant's other orders. Made before the browser starts (the database helpers run an event
    loop of their own, which Playwright's would refuse)."""
    merchant_id, key = mesh.new_merchant("busy shop")
    owner = create_user(mesh, merchant_id, "owner")
    with mesh.client(key) as api:
        order = paid_order(api, {"case": "busy"})
    sql(
        mesh,
        "insert into events (id, merchant_id, livemode, type, object) "
        "select 'evt_newer_' || g, :m, false, 'order.succeeded', "
        "jsonb_build_object('id', 'ord_newer' || g) from generate_series(1, :n) g",
        m=merchant_id,
        n=NEWER_EVENTS,
    )
    return owner, order


def test_a_payments_events_show_however_many_events_came_after_it(
    new_page: Callable[[str], Page], busy_merchant: tuple[str, dict[str, Any]]
) -> None:
    """The page asks the API for this order's events (GET /v1/events?order=…, page by page),
    so hundreds of newer events of the merchant's other orders never hide them."""
    owner, order = busy_merchant
    page = new_page(owner)
    listed: list[str] = []
    page.on(
        "request",
        lambda request: (
            listed.append(request.url) if urlparse(request.url).path == "/v1/events" else None
        ),
    )
    open_payment(page, order["id"])
    event = page.get_by_role("listitem").filter(has_text="Event order.succeeded")
    expect(event).to_have_count(1)
    assert listed and all(
        parse_qs(urlparse(url).query).get("order") == [order["id"]] for url in listed
    ), listed


def test_a_partial_capture_and_a_cancel_from_the_page(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    with mesh.client(merchant.test_key) as api:
        to_capture, to_cancel = (
            paid_order(api, {}, status="REQUIRES_CAPTURE", capture_method="MANUAL")
            for _ in range(2)
        )
    page = new_page(merchant.owner)
    open_payment(page, to_capture["id"])
    page.get_by_role("button", name="Capture").click()
    dialog = page.get_by_role("dialog", name="Capture this payment")
    dialog.get_by_label("Amount (USD)").fill("10.00")
    dialog.get_by_role("button", name="Capture").click()
    expect(dialog).to_be_hidden()
    captured = page.get_by_role("definition").filter(has_text="$10.00")
    expect(captured.first).to_be_visible()
    with mesh.client(merchant.test_key) as api:
        assert api.get(f"/v1/orders/{to_capture['id']}").json()["amount_received"] == "1000"

    page.get_by_role("link", name="← Payments").click()
    open_payment(page, to_cancel["id"])
    page.get_by_role("button", name="Cancel payment").click()
    dialog = page.get_by_role("dialog", name="Cancel this payment")
    dialog.get_by_role("button", name="Cancel payment").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("canceled", exact=True).first).to_be_visible()
    with mesh.client(merchant.test_key) as api:
        assert api.get(f"/v1/orders/{to_cancel['id']}").json()["status"] == "CANCELED"


def test_csv_export_holds_every_filtered_payment_across_pages(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    batch = uuid.uuid4().hex[:8]
    with mesh.client(merchant.test_key) as api:
        made = {
            api.post(
                "/v1/orders",
                json={"amount": 100 + i, "currency": "JPY", "metadata": {"export": batch}},
            ).json()["id"]
            for i in range(101)  # more than one page of the export's 100
        }
    page = new_page(merchant.owner)
    page.get_by_label("Metadata key").fill("export")
    page.get_by_label("Metadata value").fill(batch)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row")).to_have_count(26)  # the header and a page of 25
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export CSV").click()
    text = downloading.value.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["id"] for row in rows} == made
    # JPY has no minor unit: 100 yen is "100", not "1.00".
    assert {row["amount"] for row in rows if row["id"] in made} >= {"100", "200"}


def test_the_switch_shows_live_data_apart_from_test_data(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant, payment: dict[str, Any]
) -> None:
    with mesh.client(merchant.live_key) as live:
        live_order = live.post(
            "/v1/orders",
            json={"amount": 1250, "currency": "KWD", "metadata": payment["metadata"]},
        ).json()
    page = new_page(merchant.owner)
    # The same metadata in both modes: only the mode tells them apart.
    page.get_by_label("Metadata key").fill("batch")
    page.get_by_label("Metadata value").fill(payment["metadata"]["batch"])
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=payment["id"])).to_be_visible()
    expect(page.get_by_role("link", name=live_order["id"])).to_have_count(0)

    page.get_by_text("Live data", exact=True).click()
    expect(page.get_by_role("link", name=live_order["id"])).to_be_visible()
    expect(page.get_by_role("link", name=payment["id"])).to_have_count(0)
    # KWD has three decimals: 1250 fils are 1.250 dinars.
    expect(page.get_by_role("row").filter(has_text=live_order["id"])).to_contain_text("1.250")
    check_accessibility(page)
    screenshot(page, "payments-live")


def test_a_viewer_sees_no_actions_and_its_forged_request_is_refused(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant, payment: dict[str, Any]
) -> None:
    page = new_page(merchant.viewer)
    tokens: list[str] = []
    page.on(
        "request",
        lambda request: (
            tokens.append(request.headers["authorization"])
            if "/v1/orders/" in request.url and "authorization" in request.headers
            else None
        ),
    )
    open_payment(page, payment["id"])
    expect(page.get_by_role("listitem").filter(has_text="Attempt 1 at sandbox")).to_be_visible()
    for action in ("Refund", "Capture", "Cancel payment", "Redeliver event"):
        expect(page.get_by_role("button", name=action)).to_have_count(0)
    screenshot(page, "payment-detail-viewer")

    # What a viewer's page could send if it showed the button: the API refuses it.
    assert tokens
    with httpx.Client(base_url=mesh.api_url, timeout=30) as api:
        forged = api.post(
            f"/v1/orders/{payment['id']}/refunds",
            headers={"Authorization": tokens[-1]},
            json={"amount": "100"},
        )
    assert forged.status_code == 403, forged.text
    assert forged.json()["details"][0]["reason"] == "ROLE_FORBIDDEN"


def test_the_pages_read_on_a_phone_and_work_by_keyboard(
    new_page: Callable[[str], Page], merchant: Merchant, payment: dict[str, Any]
) -> None:
    page = new_page(merchant.owner)
    page.set_viewport_size({"width": 390, "height": 844})
    fits = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(fits)
    # The search by keyboard alone: focus, type, Enter; then the payment's link.
    page.get_by_role("searchbox", name="Search").focus()
    page.keyboard.type(payment["id"])
    page.keyboard.press("Enter")
    link = page.get_by_role("link", name=payment["id"])
    expect(link).to_be_visible()
    screenshot(page, "payments-phone")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    assert page.evaluate(fits)
    check_accessibility(page)
    screenshot(page, "payment-detail-phone")
    # The navigation folds into a menu button.
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.press("Enter")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments")
    ).to_be_visible()
