"""The Routing page in Chromium against the live mesh: an edit the API refuses shows its field
violation by the field, a valid one becomes the active version, the simulator says where a
payment would go, the what-if replays this merchant's payments through a draft, two versions are
diffed and a rollback restores the earlier one; a viewer simulates and replays but sees no
activation or rollback."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Mesh
from tests.dashboard.conftest import Merchant, check_accessibility, screenshot
from tests.e2e.failover_helpers import clean_processors, pay

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]

FIRST = {"rules": [{"name": "all", "failover": {"processors": ["sandbox", "sandbox-b"]}}]}
PROCESSORS = "Processors, in order (* for every other)"


def open_routing(page: Page) -> None:
    page.get_by_role("link", name="Routing").click()
    expect(page.get_by_role("heading", name=re.compile("^Active configuration"))).to_be_visible()


def activate(page: Page) -> None:
    page.get_by_role("button", name="Save and activate").click()
    dialog = page.get_by_role("dialog", name="Activate this configuration?")
    dialog.get_by_role("button", name="Activate").click()
    expect(dialog).to_be_hidden()


def test_edit_simulate_what_if_diff_and_roll_back(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    with mesh.client(merchant.test_key) as api:
        first = api.put("/v1/routing", json=FIRST).json()
        version = int(first["version"])
        # History for the what-if: two payments routed by the first version.
        assert pay(api)["status"] == "SUCCEEDED"
        assert pay(api, amount=2500)["status"] == "SUCCEEDED"

    page = new_page(merchant.owner)
    open_routing(page)
    active = page.get_by_role("region", name=re.compile("^Active configuration"))
    expect(active).to_contain_text(f"Version {version}")
    expect(active).to_contain_text("any payment: failover sandbox → sandbox-b")
    check_accessibility(page)

    # A processor the API does not know: the violation shows by the processors' field, which
    # points to it; nothing is saved.
    processors = page.get_by_label(PROCESSORS)
    processors.fill("sandbox-b, nowhere")
    activate(page)
    expect(page.get_by_role("alert")).to_contain_text("1 problem, shown by its field")
    expect(processors).to_have_attribute("aria-invalid", "true")
    expect(processors).to_have_accessible_description(re.compile("PROCESSOR_UNKNOWN"))
    expect(active).to_contain_text(f"Version {version}")
    check_accessibility(page)
    screenshot(page, "routing-violation")

    # A valid change becomes the active version.
    processors.fill("sandbox-b, sandbox")
    activate(page)
    second = version + 1
    expect(page.get_by_role("status").filter(has_text="is active")).to_have_text(
        f"Version {second} is active."
    )
    expect(active).to_contain_text(f"Version {second}")
    expect(active).to_contain_text("any payment: failover sandbox-b → sandbox")
    expect(page.get_by_label(PROCESSORS)).not_to_have_attribute("aria-invalid", "true")

    # The simulator, by the active configuration: the brief's own example payment.
    page.get_by_role("button", name="Simulate").click()
    answer = page.get_by_text(re.compile("^A €25.00 visa payment from DE with metadata plan=pro"))
    expect(answer).to_have_text(
        "A €25.00 visa payment from DE with metadata plan=pro would go to sandbox-b, then "
        f"sandbox, because rule “all” of version {second} matches it; at most 3 attempts."
    )

    # A draft sending everything to sandbox-c first: simulated, then replayed over history.
    page.get_by_label(PROCESSORS).fill("sandbox-c, sandbox")
    page.get_by_label("Route by").select_option("draft")
    page.get_by_role("button", name="Simulate").click()
    by_draft = "would go to sandbox-c, then sandbox, because rule “all” of the draft"
    expect(page.get_by_text(re.compile(by_draft))).to_be_visible()
    page.get_by_role("button", name="Replay history through the draft").click()
    replayed = page.get_by_role("table", name=re.compile("^Where the payments went first"))
    expect(replayed.get_by_role("row", name=re.compile(r"^sandbox USD 2 0 "))).to_be_visible()
    expect(replayed.get_by_role("row", name=re.compile(r"^sandbox-c USD 0 2 "))).to_be_visible()
    expect(page.get_by_text("Payments replayed")).to_be_visible()
    # sandbox-c took no payment in the window: its expected rate is not known, not 0%.
    draft_rate = page.get_by_role("definition").filter(has_text="no record of its processors")
    expect(draft_rate).to_have_text("unknown: no record of its processors in the window")
    check_accessibility(page)
    screenshot(page, "routing")

    # The diff of the two saved versions, rule by rule.
    page.get_by_label("From version").select_option(str(version))
    page.get_by_label("To version").select_option(str(second))
    changes = page.get_by_role("table", name=re.compile("^Changes from version"))
    expect(changes.get_by_role("row", name=re.compile("^Rule “all”"))).to_contain_text(
        "any payment: failover sandbox → sandbox-b"
    )
    expect(changes.get_by_role("row", name=re.compile("^Rule “all”"))).to_contain_text(
        "any payment: failover sandbox-b → sandbox"
    )

    # One click, confirmed: a new version, a copy of the first, is active.
    page.get_by_role("button", name=f"Roll back to version {version}").click()
    dialog = page.get_by_role("dialog", name=f"Roll back to version {version}?")
    dialog.get_by_role("button", name="Roll back").click()
    expect(page.get_by_role("status").filter(has_text="is active")).to_have_text(
        f"Version {second + 1} is active: a copy of version {version}."
    )
    expect(active).to_contain_text("any payment: failover sandbox → sandbox-b")
    with mesh.client(merchant.test_key) as api:
        restored = api.get("/v1/routing").json()
    assert (restored["version"], restored["rules"]) == (str(second + 1), first["rules"])


def test_a_viewer_simulates_and_replays_but_cannot_activate_or_roll_back(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    """Simulating and replaying change nothing: the API lets a viewer run them, and the page
    offers them; activating and rolling back it offers to developers and owners only."""
    with mesh.client(merchant.test_key) as api:
        api.put("/v1/routing", json=FIRST).raise_for_status()
        second = api.put("/v1/routing", json=FIRST).json()
        assert pay(api)["status"] == "SUCCEEDED"  # history to replay
    page = new_page(merchant.viewer)
    open_routing(page)
    expect(page.get_by_role("heading", name="Version history")).to_be_visible()
    expect(page.get_by_text("Activating it is for developers and owners")).to_be_visible()
    expect(page.get_by_role("button", name="Save and activate")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Roll back"))).to_have_count(0)

    page.get_by_role("button", name="Simulate").click()
    expect(page.get_by_text(re.compile("^A €25.00 visa payment from DE"))).to_contain_text(
        f"would go to sandbox, then sandbox-b, because rule “all” of version {second['version']}"
    )
    page.get_by_label(PROCESSORS).fill("sandbox-c, sandbox")
    page.get_by_role("button", name="Replay history through the draft").click()
    expect(
        page.get_by_role("table", name=re.compile("^Where the payments went first"))
    ).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "routing-viewer")
    with mesh.client(merchant.test_key) as api:
        assert api.get("/v1/routing").json()["version"] == second["version"]
