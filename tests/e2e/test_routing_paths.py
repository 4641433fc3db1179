"""Routing paths through the real mesh: the default configuration with processors that are not
registered, a BIN hint, success-rate ordering from the attempts in the real database, and a
latency fault set with the real CLI on a gateway of the test's own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from cli.dev_services import env_name
from orchestrator.routing_engine.inputs import success_rates
from tests.conftest import PAYLOOPS, REPO, Mesh, start_sandbox
from tests.e2e.failover_helpers import SANDBOXES, clean_processors, merchant_with_routing, pay
from tests.e2e.scripted_gateway import registered

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("clean_processors")]
__all__ = ["clean_processors"]


@pytest.mark.parametrize(
    ("currency", "preferred", "absent"),
    [
        ("USD", "stripe", "razorpay"),
        ("INR", "razorpay", "stripe"),
    ],
)
def test_the_default_config_skips_gateways_without_an_account_and_pays_on_a_sandbox(
    mesh: Mesh, currency: str, preferred: str, absent: str
) -> None:
    _, key = mesh.new_merchant("default routing")
    with mesh.client(key) as api:
        assert api.get("/v1/routing").json()["version"] == "0"
        created = api.post("/v1/orders", json={"amount": 2500, "currency": currency}).json()
        order = api.post(
            f"/v1/orders/{created['id']}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
        ).json()
    assert order["status"] == "SUCCEEDED", order
    routing = order["routing"]
    assert (routing["config_version"], routing["rule"]) == (
        "0",
        "usd_eur" if currency == "USD" else "inr",
    )
    candidates = routing["candidates"]
    # `payloops dev` runs the stripe and razorpay adapters, but this merchant has no account
    # at either: both are skipped with that reason; "*" brings in the sandboxes.
    for gateway in (preferred, absent):
        assert {"processor": gateway, "decision": "skipped", "reason": "no_account"} in candidates
    assert candidates.index(
        {"processor": preferred, "decision": "skipped", "reason": "no_account"}
    ) < candidates.index({"processor": absent, "decision": "skipped", "reason": "no_account"})
    in_line = {c["processor"]: c["reason"] for c in candidates if c["decision"] == "candidate"}
    assert {name: in_line.get(name) for name in SANDBOXES} == dict.fromkeys(SANDBOXES, "rule_order")
    [attempt] = order["attempts"]
    assert attempt["processor"] in SANDBOXES and attempt["outcome"] == "SUCCEEDED"


def pay_with_card(api: httpx.Client, card: dict[str, str]) -> httpx.Response:
    order = api.post("/v1/orders", json={"amount": 1500, "currency": "USD"}).json()
    return api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": "pm_card_visa", "card": card}},
    )


def test_a_bin_hint_routes_by_the_network_it_belongs_to(mesh: Mesh) -> None:
    api = merchant_with_routing(
        mesh,
        rules=[
            {
                "name": "amex",
                "conditions": {"card_networks": ["amex"]},
                "failover": {"processors": ["sandbox-c"]},
            },
            {"name": "rest", "failover": {"processors": ["sandbox"]}},
        ],
    )
    # The sandbox token is a Visa; the merchant's BIN says Amex, and the merchant's word wins.
    by_bin = pay_with_card(api, {"bin": "378282"}).json()
    assert (by_bin["status"], by_bin["routing"]["rule"]) == ("SUCCEEDED", "amex")
    assert [a["processor"] for a in by_bin["attempts"]] == ["sandbox-c"]
    # An explicit network wins over the BIN.
    by_network = pay_with_card(api, {"bin": "378282", "network": "visa"}).json()
    assert by_network["routing"]["rule"] == "rest"
    # A whole card number, not a BIN: refused before anything is paid (and before the BIN's
    # own checks), and never echoed.
    refused = pay_with_card(api, {"bin": "4242424242424242"})
    assert refused.status_code == 400, refused.text
    violations = {
        (v["field"], v["reason"])
        for d in refused.json()["details"]
        for v in d.get("field_violations", [])
    }
    assert violations == {("payment_method.card.bin", "CARD_NUMBER_NOT_ALLOWED")}
    assert "4242424242" not in refused.text


# sandbox-c is the one other tests use least: the fewest past attempts to outweigh.
HEALTHY, FAILING = "sandbox-b", "sandbox-c"
# Declines the failing processor gets at least, so a few lucky explorations cannot outweigh them.
MIN_ROUNDS = 15


def rates(mesh: Mesh) -> dict[str, float | None]:
    """The success rates routing sees, from the mesh's database (every merchant's attempts)."""

    async def read() -> dict[str, float | None]:
        engine = create_async_engine(mesh.env["PAYLOOPS_DATABASE_URL"])
        try:
            async with AsyncSession(engine) as session:
                return await success_rates(session, [HEALTHY, FAILING])
        finally:
            await engine.dispose()

    return asyncio.run(read())


def pay_in_lane(api: httpx.Client, lane: str, token: str) -> dict:
    order = api.post(
        "/v1/orders", json={"amount": 1500, "currency": "USD", "metadata": {"lane": lane}}
    ).json()
    return api.post(
        f"/v1/orders/{order['id']}:pay", json={"payment_method": {"type": "card", "token": token}}
    ).json()


def test_success_rate_mode_puts_the_healthier_processor_first(mesh: Mesh) -> None:
    # Declines are answers, so the failing processor's breaker stays closed: what moves it
    # back is its success rate alone. A routing config sends every decline to it.
    history = merchant_with_routing(
        mesh,
        rules=[
            {
                "name": "failing",
                "conditions": {"metadata": {"lane": "failing"}},
                "failover": {"processors": [FAILING]},
            },
            {"name": "healthy", "failover": {"processors": [HEALTHY]}},
        ],
    )
    # Other tests' attempts of the last 15 minutes count too, and each processor needs
    # SUCCESS_RATE_MIN_ATTEMPTS to have a rate at all: keep going until the gap shows.
    # The gap must survive the measurement below, where every payment that explores the
    # failing processor succeeds and lifts its rate: with a gap of at least 0.5 over at least
    # MIN_ROUNDS declines, it would take more successful explorations than declines to flip.
    for round_ in range(200):
        now = rates(mesh)
        healthy, failing = now[HEALTHY], now[FAILING]
        if (
            round_ >= MIN_ROUNDS
            and healthy is not None
            and failing is not None
            and healthy - failing >= 0.5
        ):
            break
        assert pay_in_lane(history, "failing", "pm_card_declined")["status"] == "FAILED"
        assert pay_in_lane(history, "healthy", "pm_card_visa")["status"] == "SUCCEEDED"
    else:
        pytest.fail(f"success rates never drew apart: {rates(mesh)}")

    # The failing processor is listed first: priority order alone would try it first.
    api = merchant_with_routing(
        mesh,
        mode="SUCCESS_RATE",
        rules=[{"name": "all", "failover": {"processors": [FAILING, HEALTHY]}}],
    )
    firsts: Counter[str] = Counter()
    for _ in range(20):
        order = pay(api)
        assert order["status"] == "SUCCEEDED", order
        first = order["routing"]["candidates"][0]
        assert first["reason"] == "success_rate"
        firsts[first["processor"]] += 1
        assert order["attempts"][0]["processor"] == first["processor"]
    # One payment in ten explores the other processor (priority order alone would give 0 of
    # 20): 13 of 20 leaves room for that, failing by chance about once in 2 500 runs.
    assert firsts[HEALTHY] >= 13, firsts


def sandbox_cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLOOPS_")}
    return subprocess.run(
        [*PAYLOOPS, "sandbox", *args, "--state-dir", str(state_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def own_sandbox(mesh: Mesh, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A sandbox gateway no other test routes to, registered in the mesh, and a state dir
    whose dev.env names it for the CLI: a fault's count is used up by this test's calls
    alone, never by another test's payments or lookups still running on a shared sandbox."""
    name = f"latency-{uuid.uuid4().hex[:6]}"
    target, process = start_sandbox(name, tmp_path)
    (tmp_path / "dev.env").write_text(f"PAYLOOPS_PROCESSOR_{env_name(name)}_TARGET={target}\n")
    try:
        with registered(mesh, name, target):
            yield name, tmp_path
    finally:
        process.kill()
        process.wait()


def latency_seconds(order: dict) -> float:
    return float(order["attempts"][0]["latency"].removesuffix("s"))


def test_a_latency_fault_with_a_count_slows_exactly_the_next_calls(
    mesh: Mesh, own_sandbox: tuple[str, Path]
) -> None:
    name, state_dir = own_sandbox
    api = merchant_with_routing(mesh, rules=[{"name": "c", "failover": {"processors": [name]}}])
    pay(api)  # a warm connection, so the first timed call is not also the first dial
    result = sandbox_cli(state_dir, "fault", name, "latency", "--count", "2", "--latency-ms", "700")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{name}: fault latency for 2 calls"
    orders = [pay(api) for _ in range(3)]
    assert [o["status"] for o in orders] == ["SUCCEEDED"] * 3
    slow = [latency_seconds(o) >= 0.7 for o in orders]
    # Each payment is one Authorize call: the first two waited, the third did not.
    assert slow == [True, True, False], [o["attempts"][0]["latency"] for o in orders]
