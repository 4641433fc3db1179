"""The Processors page's health and figures in Chromium against the live mesh: payments made
through the API (authorized, declined, and failed over from a gateway that stopped answering
until its circuit breaker opened) show as each processor's success rate and latency over the
chosen window, and the breaker as a badge; the live switch shows live figures (none) and the
same, platform-wide, breakers."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from orchestrator.routing_engine.breaker import THRESHOLD
from payloops.sandbox.v1 import control_pb2
from tests.conftest import Mesh
from tests.dashboard.conftest import Merchant, check_accessibility, screenshot
from tests.dashboard.test_account_pages import go_to, readable_on_a_phone
from tests.e2e.failover_helpers import SANDBOXES, clean_processors, pay
from tests.e2e.sandbox_control import set_fault

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]

LATENCY = r"\d+ ms"


def row_of(table: Locator, processor: str) -> Locator:
    """The processor's row: its name first, and not a longer name it starts ("sandbox-b"). A
    badge may follow the name with no space between them in the row's text ("sandboxtest
    only")."""
    return table.get_by_role("row").filter(has_text=re.compile(rf"^{re.escape(processor)}(?!-)"))


def test_the_processors_page_shows_each_breaker_and_the_figures_of_the_window(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    page = new_page(merchant.viewer)
    go_to(page, "Processors")
    health = page.get_by_role("table", name="Processors available in test mode")
    for name in SANDBOXES:
        expect(row_of(health, name)).to_contain_text("Healthy")
    expect(page.get_by_text("No test payments reached a processor in this window.")).to_be_visible()
    expect(page.get_by_text(re.compile("the same in test and live mode"))).to_be_visible()

    with mesh.client(merchant.test_key) as api:
        routing = {"rules": [{"name": "all", "failover": {"processors": list(SANDBOXES)}}]}
        assert api.put("/v1/routing", json=routing).status_code == 200
        assert pay(api)["status"] == "SUCCEEDED"
        assert pay(api, "pm_card_insufficient_funds")["status"] == "FAILED"
        # sandbox stops answering: each payment fails over to sandbox-b, until the breaker
        # opens after THRESHOLD failures in a row.
        set_fault(mesh, control_pb2.FAULT_MODE_UNAVAILABLE, name="sandbox")
        for _ in range(THRESHOLD):
            saved = pay(api, amount=2000)
            assert [a["processor"] for a in saved["attempts"]] == ["sandbox", "sandbox-b"]
        set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name="sandbox")

    page.get_by_role("button", name="Refresh").click()
    sandbox = row_of(health, "sandbox")
    expect(sandbox).to_contain_text(re.compile(r"Down\s*since"))
    expect(sandbox).to_contain_text(f"{THRESHOLD} failed calls in a row")
    # Cooling down, or (on a slow machine) already past its short cool-down.
    expect(sandbox).to_contain_text(
        re.compile(r"Skipped by routing until \w|The next payment routed to it tests it\.")
    )
    expect(sandbox.locator("time").first).to_have_attribute("title", re.compile(r"UTC$"))
    expect(row_of(health, "sandbox-b")).to_contain_text("Healthy")

    figures = page.get_by_role(
        "table", name="Success rate and latency per processor, test mode, last day"
    )
    # A payment counts for the processor of its last attempt: sandbox decided two (one
    # declined), sandbox-b the five it was failed over.
    expect(row_of(figures, "sandbox")).to_contain_text(
        re.compile(rf"^sandbox\s*2\s*50%\s*{LATENCY}\s*{LATENCY}\s*\$30\.00$")
    )
    expect(row_of(figures, "sandbox-b")).to_contain_text(
        re.compile(rf"^sandbox-b\s*{THRESHOLD}\s*100%\s*{LATENCY}\s*{LATENCY}\s*\$100\.00$")
    )
    check_accessibility(page)
    screenshot(page, "processors-health")
    readable_on_a_phone(page, "processors-health")

    # Another window: the payments just made are in the last hour too.
    page.get_by_label("Window", exact=True).select_option("hour")
    figures = page.get_by_role(
        "table", name="Success rate and latency per processor, test mode, last hour"
    )
    expect(row_of(figures, "sandbox-b")).to_contain_text("100%")

    # Live: none of the test payments, and sandbox (test only) is not offered; the breakers
    # shown are the same platform-wide ones.
    page.get_by_text("Live data", exact=True).click()
    expect(page.get_by_text("No live payments reached a processor in this window.")).to_be_visible()
    live = page.get_by_role("table", name="Processors available in live mode")
    expect(live).to_be_visible()
    expect(row_of(live, "sandbox")).to_have_count(0)
    check_accessibility(page)
