"""A payment's events on its page with their webhook deliveries (the receiver's answers), and
an event delivered again from the page."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Mesh
from tests.dashboard.conftest import check_accessibility, screenshot
from tests.dashboard.test_payments import open_payment, paid_order
from tests.e2e.people import create_user
from tests.e2e.test_webhooks import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(default=200)
    yield made
    made.close()


def test_an_events_deliveries_show_and_it_can_be_delivered_again(
    mesh: Mesh, new_page: Callable[[str], Page], receiver: Receiver
) -> None:
    # A merchant of its own: its endpoint receives only this test's events.
    merchant_id, key = mesh.new_merchant("dashboard webhooks")
    owner = create_user(mesh, merchant_id, "owner")
    with mesh.client(key) as api:
        made = api.post(
            "/v1/webhook_endpoints", json={"url": receiver.url, "enabled_events": ["*"]}
        )
        assert made.status_code == 200, made.text
        endpoint = made.json()["id"]
        order = paid_order(api, {})
    deadline = time.monotonic() + 60
    while not receiver.requests:
        assert time.monotonic() < deadline, "the event never reached the receiver"
        time.sleep(0.2)

    page = new_page(owner)
    open_payment(page, order["id"])
    event = page.get_by_role("listitem").filter(has_text="Event order.succeeded").first
    expect(event).to_contain_text(f"Delivery to {endpoint}")
    expect(event).to_contain_text(re.compile(r"try 1: HTTP 200 in \d+ ms"))
    check_accessibility(page)
    screenshot(page, "payment-detail-deliveries")

    sent = len(receiver.requests)
    page.get_by_role("button", name="Redeliver event").click()
    dialog = page.get_by_role("dialog", name="Deliver this event again")
    dialog.get_by_role("button", name="Redeliver").click()
    expect(dialog).to_be_hidden()
    deadline = time.monotonic() + 60
    while len(receiver.requests) <= sent:
        assert time.monotonic() < deadline, "the event was not delivered again"
        time.sleep(0.2)
    # The same event again, not a new one.
    ids = [
        {name.lower(): value for name, value in r.headers.items()}["payloops-event-id"]
        for r in receiver.requests
    ]
    assert ids[0].startswith("evt_")
    assert set(ids[sent:]) <= set(ids[:sent])
