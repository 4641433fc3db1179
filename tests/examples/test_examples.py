"""The merchant's first integrations (examples/python-checkout and examples/node-checkout), each
run as its README says against the real mesh: the checkout page creates and pays an order, the
customer goes through the sandbox's 3-D Secure page and back to the shop, and only the webhook
PayLoops signs, verified by the SDK, marks the shop's order paid; forged, altered and replayed
deliveries are refused and change nothing."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import chromium
from tests.conftest import REPO, Mesh, receiver_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLES = REPO / "examples"
TS_SDK = REPO / "sdk" / "typescript"
WEBHOOK_PATH = "/webhooks/payloops"
# Waiting for the mesh (a payment, a webhook delivery), not a measure of speed.
SETTLE_SECONDS = 60
SETTLE_MS = SETTLE_SECONDS * 1000


@dataclass(frozen=True)
class Example:
    name: str
    # Its command, run in its own directory (the README runs the same from the root).
    program: tuple[str, ...]

    def command(self, port: int) -> list[str]:
        return [*self.program, "--port", str(port)]


PYTHON = Example("python-checkout", (sys.executable, "shop.py"))
NODE = Example("node-checkout", ("node", "server.mjs"))


def npm(*args: str, cwd: Path) -> None:
    subprocess.run(["npm", *args], cwd=cwd, check=True, timeout=600, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def node_example_installed() -> None:
    """The Node example's dependencies as its README installs them: the TypeScript SDK built
    from this checkout, then the example's own lockfile."""
    if not (TS_SDK / "node_modules").is_dir():
        pytest.fail("sdk/typescript has no node_modules: run `make test` (it runs npm ci)")
    npm("run", "build", cwd=TS_SDK)
    npm("ci", "--no-audit", "--no-fund", cwd=EXAMPLES / "node-checkout")


@pytest.fixture(params=[PYTHON, NODE], ids=lambda example: example.name)
def example(request: pytest.FixtureRequest) -> Example:
    chosen: Example = request.param
    if chosen is NODE:
        request.getfixturevalue("node_example_installed")
    return chosen


@dataclass
class Merchant:
    api: httpx.Client
    # Kept out of the repr, which a failing assertion prints.
    webhook_secret: str = field(repr=False)


@dataclass
class Shop:
    url: str
    merchant: Merchant

    def order_ref(self) -> tuple[str, str]:
        """The shop's reference and PayLoops' id of the merchant's only order."""
        [order] = self.merchant.api.get("/v1/orders").json()["orders"]
        return order["metadata"]["shop_order"], order["id"]

    def record(self, ref: str) -> dict[str, Any]:
        """The shop's view of its order: PayLoops' status and whether a webhook marked it paid."""
        answer = httpx.get(f"{self.url}/orders/{ref}.json", timeout=30)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def deliver(self, body: bytes, signature: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["PayLoops-Signature"] = signature
        return httpx.post(f"{self.url}{WEBHOOK_PATH}", content=body, headers=headers, timeout=30)


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        assert process.poll() is None, f"the example exited with {process.returncode}"
        assert time.monotonic() < deadline, "the example did not start listening"
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        time.sleep(0.1)


@contextlib.contextmanager
def running(example: Example, mesh: Mesh) -> Iterator[Shop]:
    """The example for a new merchant, with a webhook endpoint of the merchant pointing at it
    (a test-mode endpoint on loopback, which `payloops dev` allows)."""
    _, key = mesh.new_merchant(f"example {example.name}")
    port = receiver_port()
    with mesh.client(key) as api:
        endpoint = api.post(
            "/v1/webhook_endpoints",
            json={
                "url": f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                "enabled_events": ["order.succeeded", "order.failed"],
            },
        )
        assert endpoint.status_code == 200, endpoint.text
        process = subprocess.Popen(
            example.command(port),
            cwd=EXAMPLES / example.name,
            env={
                **os.environ,
                "PAYLOOPS_API_URL": mesh.api_url,
                "PAYLOOPS_API_KEY": key,
                "PAYLOOPS_WEBHOOK_SECRET": endpoint.json()["secret"],
            },
        )
        try:
            wait_for_port(port, process)
            yield Shop(f"http://127.0.0.1:{port}", Merchant(api, endpoint.json()["secret"]))
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def checkout(shop: Shop, card: str) -> str:
    """Pays at the shop's checkout page as the customer's form does; where the shop sends the
    customer next."""
    page = httpx.get(shop.url, timeout=30)
    assert page.status_code == 200 and f"value='{card}'" in page.text
    paid = httpx.post(f"{shop.url}/checkout", data={"card": card}, timeout=60)
    assert paid.status_code == 303, paid.text
    return paid.headers["location"]


def eventually(check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + SETTLE_SECONDS
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)
    return result


def signed(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """A PayLoops-Signature header for `body`, as PayLoops signs deliveries."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def test_a_customer_pays_through_3d_secure_and_sees_the_webhook_confirm_it(
    example: Example, mesh: Mesh, tmp_path: Path
) -> None:
    """In Debian's Chromium, as a customer: the shop's page, the bank's page, back to the shop,
    whose order page keeps reloading until the verified webhook has marked the order paid."""
    with running(example, mesh) as shop, chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(shop.url)
        page.get_by_label("asks for 3-D Secure").check()
        page.locator("#pay").click()
        page.wait_for_url(re.compile(r".*/3ds/.*"), timeout=SETTLE_MS)
        page.get_by_role("button", name="Complete").click()
        page.wait_for_url(f"{shop.url}/orders/*", timeout=SETTLE_MS)
        expect(page.locator("#result")).to_have_attribute("data-status", "paid", timeout=SETTLE_MS)
        ref, _ = shop.order_ref()
        assert page.url == f"{shop.url}/orders/{ref}"
        record = shop.record(ref)
    assert (record["status"], record["paid"]) == ("succeeded", True)


def test_a_3d_secure_checkout_is_marked_paid_by_the_verified_webhook_only(
    example: Example, mesh: Mesh
) -> None:
    with running(example, mesh) as shop:
        challenge = checkout(shop, "pm_card_3ds_required")
        assert "/3ds/" in challenge and not challenge.startswith(shop.url)
        ref, order_id = shop.order_ref()
        assert shop.record(ref) == {
            "ref": ref,
            "payloops_order": order_id,
            "status": "requires_action",
            "paid": False,
            "failure": "",
        }

        # Anyone can POST to the receiver: what PayLoops did not sign for this endpoint, now,
        # marks nothing paid.
        forged = json.dumps(
            {"id": "evt_forged", "type": "order.succeeded", "object": {"id": order_id}}
        ).encode()
        wrong_secret = "whsec_" + "A" * 43
        for body, signature in [
            (forged, None),
            (forged, "t=1,v1=00"),
            (forged, signed(wrong_secret, forged)),
            (forged, signed(shop.merchant.webhook_secret, forged, int(time.time()) - 3600)),
            (forged + b" ", signed(shop.merchant.webhook_secret, forged)),
        ]:
            assert shop.deliver(body, signature).status_code == 400
        assert shop.record(ref)["paid"] is False

        # The customer completes the bank's challenge and comes back to the shop.
        page = httpx.get(challenge, timeout=30)
        assert page.status_code == 200 and "Complete" in page.text
        completed = httpx.post(challenge, data={"outcome": "succeed"}, timeout=30)
        assert completed.status_code == 303
        assert completed.headers["location"] == f"{shop.url}/orders/{ref}"
        returned = httpx.get(completed.headers["location"], timeout=30)
        assert returned.status_code == 200 and f"<code>{ref}</code>" in returned.text

        paid = eventually(lambda: (record := shop.record(ref))["paid"] and record)
        assert paid["status"] == "succeeded"
        settled = httpx.get(completed.headers["location"], timeout=30).text
        assert "data-status='paid'" in settled and "http-equiv='refresh'" not in settled


def test_a_declined_card_comes_back_to_the_shop_failed_and_unpaid(
    example: Example, mesh: Mesh
) -> None:
    with running(example, mesh) as shop:
        back = checkout(shop, "pm_card_declined")
        ref, _ = shop.order_ref()
        assert back == f"/orders/{ref}"
        page = httpx.get(f"{shop.url}{back}", timeout=30).text
        assert "data-status='failed'" in page and "generic_decline" in page

        failed = eventually(lambda: (record := shop.record(ref))["failure"] and record)
        for unknown in ("0123456789abcdef", f"{ref}.xml", f"{ref}.json.x", f"{ref}/x"):
            assert httpx.get(f"{shop.url}/orders/{unknown}", timeout=30).status_code == 404
    assert failed["failure"] == "generic_decline"
    assert (failed["status"], failed["paid"]) == ("failed", False)


def test_a_checkout_page_without_its_keys_says_which_are_missing(example: Example) -> None:
    ran = subprocess.run(
        example.command(receiver_port()),
        cwd=EXAMPLES / example.name,
        env={k: v for k, v in os.environ.items() if not k.startswith("PAYLOOPS_")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2
    assert "PAYLOOPS_API_URL, PAYLOOPS_API_KEY, PAYLOOPS_WEBHOOK_SECRET" in ran.stderr
