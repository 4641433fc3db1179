"""The Webhooks, Developers, Team and Processors pages in Chromium against the live mesh: an
endpoint's secret shown once, a test event's delivery, a key rolled with overlap, a role
changed, processor credentials saved and never shown, and a viewer who sees no actions and
whose forged requests are refused."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Mesh, receiver_port
from tests.dashboard.conftest import Merchant, check_accessibility, screenshot
from tests.e2e.people import PASSWORD, create_user

pytestmark = pytest.mark.e2e

SECRET = re.compile(r"(whsec|sk_test)_\w+")


def go_to(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", name=label, exact=True)).to_be_visible()


def sign_in_if_asked(page: Page, email: str) -> None:
    """A reload drops the session held in the tab's memory: the sign-in page brings the user
    back to where they were."""
    signing_in = page.get_by_role("heading", name="Sign in to PayLoops")
    expect(signing_in.or_(page.get_by_role("navigation", name="Main"))).to_be_visible()
    if signing_in.count():
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()


def readable_on_a_phone(page: Page, name: str) -> None:
    """At a phone's width the page scrolls down, never sideways (wide tables scroll in their
    own box and hide secondary columns); its screenshot is saved."""
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: {overflow}px wider than the phone"
        check_accessibility(page)
        screenshot(page, f"{name}-phone")
    finally:
        if size is not None:
            page.set_viewport_size(size)


def test_a_new_endpoint_shows_its_secret_once_and_a_test_event_is_delivered(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    url = f"http://127.0.0.1:{receiver_port()}/hooks"
    page = new_page(merchant.owner)
    go_to(page, "Webhooks")
    form = page.get_by_role("form", name="New endpoint")
    form.get_by_label("Endpoint URL").fill(url)
    form.get_by_label("All events, including future ones").uncheck()
    form.get_by_label("order.succeeded").check()
    form.get_by_label("refund.succeeded").check()
    form.get_by_role("button", name="Create endpoint").click()

    shown = page.get_by_role("region", name=f"Signing secret of {url}")
    expect(shown).to_contain_text(re.compile(r"whsec_\w+"))
    secret = SECRET.search(shown.inner_text())
    assert secret is not None
    row = page.get_by_role("row").filter(has_text=url)
    expect(row).to_contain_text("order.succeeded, refund.succeeded")
    check_accessibility(page)
    screenshot(page, "webhooks-secret")
    readable_on_a_phone(page, "webhooks-secret")

    # Nowhere again: not after a reload, nor in what the API lists.
    page.reload()
    sign_in_if_asked(page, merchant.owner)
    expect(page.get_by_role("row").filter(has_text=url)).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("Signing secret"))).to_have_count(0)
    assert secret.group(0) not in page.content()
    with mesh.client(merchant.test_key) as api:
        listed = api.get("/v1/webhook_endpoints").json()["webhook_endpoints"]
    assert [e["secret"] for e in listed if e["url"] == url] == [""]

    page.get_by_role("link", name=url).click()
    expect(page.get_by_role("heading", name="Deliveries")).to_be_visible()
    expect(page.get_by_text("Nothing was delivered to this endpoint yet.")).to_be_visible()
    page.get_by_role("button", name="Send test event").click()
    page.get_by_role("dialog", name="Send a test event").get_by_role("button", name="Send").click()
    delivery = page.get_by_role("listitem").filter(has_text="webhook_endpoint.test")
    expect(delivery).to_be_visible()
    # Nothing listens at the URL: the attempt is recorded without an HTTP answer.
    attempts = delivery.get_by_role("table", name=re.compile("Attempts of delivery"))
    while not attempts.count():
        page.get_by_role("button", name="Refresh").click()
        expect(page.get_by_role("heading", name="Deliveries")).to_be_visible()
    expect(attempts).to_contain_text("no answer")
    expect(attempts).to_contain_text(re.compile(r"\d+ ms"))
    check_accessibility(page)
    screenshot(page, "webhook-endpoint")
    readable_on_a_phone(page, "webhook-endpoint")

    page.get_by_role("button", name="Disable").click()
    page.get_by_role("dialog", name="Disable this endpoint").get_by_role(
        "button", name="Disable"
    ).click()
    expect(page.get_by_role("button", name="Enable")).to_be_visible()
    with mesh.client(merchant.test_key) as api:
        listed = api.get("/v1/webhook_endpoints").json()["webhook_endpoints"]
    assert [e["status"] for e in listed if e["url"] == url] == ["DISABLED"]


def test_a_key_created_then_rolled_with_overlap_shows_each_secret_once(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    page = new_page(merchant.owner)
    go_to(page, "Developers")
    page.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog", name="New test API key")
    dialog.get_by_label("Name").fill("Reporting")
    dialog.get_by_label("Read-only: reads, never changes").check()
    dialog.get_by_role("button", name="Create").click()
    first = page.get_by_role("region", name="Secret of key Reporting")
    expect(first).to_contain_text(re.compile(r"sk_test_\w+"))
    old = SECRET.search(first.inner_text())
    assert old is not None
    row = page.get_by_role("row").filter(has_text="Reporting")
    expect(row).to_contain_text("Secret, read-only")
    first.get_by_role("button", name="I have saved it").click()
    expect(first).to_have_count(0)

    page.get_by_role("button", name="Roll Reporting").click()
    dialog = page.get_by_role("dialog", name="Roll this key")
    dialog.get_by_label("Old secret keeps working for").select_option(label="1 hour")
    check_accessibility(page)
    screenshot(page, "api-key-roll")
    dialog.get_by_role("button", name="Roll").click()
    rolled = page.get_by_role("region", name=re.compile("Secret of key"))
    expect(rolled).to_contain_text(re.compile(r"sk_test_\w+"))
    new = SECRET.search(rolled.inner_text())
    assert new is not None and new.group(0) != old.group(0)
    # Both secrets work during the overlap; the new one stays read-only.
    for secret in (old.group(0), new.group(0)):
        with mesh.client(secret) as api:
            assert api.get("/v1/orders").status_code == 200
    with mesh.client(new.group(0)) as api:
        refused = api.post("/v1/orders", json={"amount": 100, "currency": "USD"})
    assert refused.status_code == 403, refused.text

    expect(page.get_by_role("row").filter(has_text="Expiring")).not_to_have_count(0)
    page.get_by_label("Action").fill("api_key.rolled")
    page.get_by_role("button", name="Filter log").click()
    log = page.get_by_role("table", name="Audit log, newest first")
    expect(log).to_contain_text("api_key.rolled")
    expect(log).not_to_contain_text("api_key.created")
    check_accessibility(page)
    screenshot(page, "developers")
    readable_on_a_phone(page, "developers")


def test_the_team_page_changes_a_role(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    colleague = create_user(mesh, merchant.id, "developer")
    page = new_page(merchant.owner)
    go_to(page, "Team")
    row = page.get_by_role("row").filter(has_text=colleague)
    expect(row).to_contain_text("developer")
    page.get_by_role("button", name=f"Change role of {colleague}").click()
    dialog = page.get_by_role("dialog", name="Change role")
    dialog.get_by_label("Role").select_option("viewer")
    check_accessibility(page)
    dialog.get_by_role("button", name="Save role").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("viewer")
    check_accessibility(page)
    screenshot(page, "team")
    readable_on_a_phone(page, "team")

    # The colleague's own session says so.
    with httpx.Client(base_url=mesh.api_url, timeout=30) as api:
        signed_in = api.post("/v1/sessions", json={"email": colleague, "password": PASSWORD})
    assert signed_in.json()["user"]["role"] == "VIEWER", signed_in.text


def test_processor_credentials_are_saved_by_name_and_never_shown(
    new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    page = new_page(merchant.owner)
    go_to(page, "Processors")
    available = page.get_by_role("table", name="Processors available in test mode")
    sandbox = available.get_by_role("row", name=re.compile(r"^sandbox\s*test only"))
    expect(sandbox).to_contain_text("No credentials needed")
    stripe = available.get_by_role("row").filter(has_text="stripe")
    expect(stripe).to_contain_text("secret_key, webhook_secret")
    expect(page.get_by_text("No test processor accounts of your own")).to_be_visible()

    page.get_by_role("button", name="Add account").click()
    dialog = page.get_by_role("dialog", name="New test processor account")
    dialog.get_by_label("Processor").select_option("stripe")
    dialog.get_by_label("secret_key").fill("sk_test_stripe_value_123")
    dialog.get_by_label("webhook_secret").fill("whsec_stripe_value_456")
    check_accessibility(page)
    dialog.get_by_role("button", name="Save account").click()
    expect(dialog).to_be_hidden()
    expect(stripe).to_contain_text("Your account")
    row = page.get_by_role("table", name="Processor accounts, test mode").get_by_role("row")
    expect(row.filter(has_text="stripe")).to_contain_text("secret_key")
    content = page.content()
    assert "sk_test_stripe_value_123" not in content and "whsec_stripe_value_456" not in content
    check_accessibility(page)
    screenshot(page, "processors")
    readable_on_a_phone(page, "processors")

    page.get_by_role("button", name=re.compile("^Rotate credentials of stripe")).click()
    dialog = page.get_by_role("dialog", name="Rotate credentials")
    expect(dialog.get_by_label("secret_key")).to_have_value("")
    dialog.get_by_label("secret_key").fill("sk_test_stripe_value_789")
    dialog.get_by_label("webhook_secret").fill("whsec_stripe_value_000")
    dialog.get_by_role("button", name="Rotate").click()
    expect(dialog).to_be_hidden()

    page.get_by_role("button", name=re.compile("^Disable stripe")).click()
    page.get_by_role("dialog", name="Disable this account").get_by_role(
        "button", name="Disable"
    ).click()
    expect(row.filter(has_text="stripe")).to_contain_text("Disabled")
    expect(stripe).not_to_contain_text("Your account")


def test_a_viewer_sees_no_actions_on_these_pages_and_its_forged_requests_are_refused(
    mesh: Mesh, new_page: Callable[[str], Page], merchant: Merchant
) -> None:
    url = f"http://127.0.0.1:{receiver_port()}/viewer-hooks"
    with mesh.client(merchant.test_key) as api:
        endpoint = api.post(
            "/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}
        ).json()
        api.post("/v1/api_keys", json={"name": "Viewer sees me"}).raise_for_status()
    page = new_page(merchant.viewer)
    tokens: list[str] = []
    page.on(
        "request",
        lambda request: (
            tokens.append(request.headers["authorization"])
            if "/v1/" in request.url and "authorization" in request.headers
            else None
        ),
    )
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Team")
    ).to_have_count(0)

    go_to(page, "Webhooks")
    expect(page.get_by_role("link", name=url)).to_be_visible()
    expect(page.get_by_role("form", name="New endpoint")).to_have_count(0)
    page.get_by_role("link", name=url).click()
    expect(page.get_by_role("heading", name="Deliveries")).to_be_visible()
    for action in ("Send test event", "Rotate secret", "Disable", "Delete endpoint"):
        expect(page.get_by_role("button", name=action)).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "webhook-endpoint-viewer")

    go_to(page, "Developers")
    expect(page.get_by_role("row").filter(has_text="Viewer sees me")).to_be_visible()
    for action in ("Create key", "Roll Viewer sees me", "Revoke Viewer sees me"):
        expect(page.get_by_role("button", name=action)).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "developers-viewer")

    go_to(page, "Processors")
    expect(page.get_by_role("button", name="Add account")).to_have_count(0)
    check_accessibility(page)

    # What the viewer's page could send if it showed the buttons: the API refuses each.
    assert tokens
    forged = {
        "rotate secret": ("POST", f"/v1/webhook_endpoints/{endpoint['id']}:rotate_secret", {}),
        "create key": ("POST", "/v1/api_keys", {"name": "forged"}),
        "delete endpoint": ("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}", None),
    }
    with httpx.Client(base_url=mesh.api_url, timeout=30) as api:
        for what, (method, path, body) in forged.items():
            answer = api.request(method, path, headers={"Authorization": tokens[-1]}, json=body)
            assert answer.status_code == 403, (what, answer.text)
            assert answer.json()["details"][0]["reason"] == "ROLE_FORBIDDEN", what
        users = api.get("/v1/users", headers={"Authorization": tokens[-1]}).json()["users"]
        owner = next(user for user in users if user["email"] == merchant.owner)
        demoted = api.post(
            f"/v1/users/{owner['id']}:set_role",
            headers={"Authorization": tokens[-1]},
            json={"role": "VIEWER"},
        )
    assert demoted.status_code == 403, demoted.text
