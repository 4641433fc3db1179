"""Merchants with their own routing, faults that are always cleared, and breaker resets, for
the failover and chaos tests (all three sandboxes of `payloops dev` act as processors)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from payloops.sandbox.v1 import control_pb2
from tests.conftest import Mesh
from tests.e2e.mesh_db import sql
from tests.e2e.sandbox_control import set_fault

SANDBOXES = ("sandbox", "sandbox-b", "sandbox-c")
DEADLINE_SECONDS = 5.0  # what `payloops dev` registers for each sandbox


def merchant_with_routing(mesh: Mesh, **config: object) -> httpx.Client:
    _, key = mesh.new_merchant("failover")
    api = mesh.client(key)
    body = {
        "rules": [{"name": "all", "failover": {"processors": list(SANDBOXES)}}],
        "resolution_budget": "2s",
        **config,
    }
    response = api.put("/v1/routing", json=body)
    assert response.status_code == 200, response.text
    return api


def reset_breakers(mesh: Mesh) -> None:
    sql(mesh, "delete from processor_health")


@pytest.fixture
def clean_processors(mesh: Mesh) -> Iterator[None]:
    """Faults and open breakers would leak into the next test: clear both, before and after."""
    for name in SANDBOXES:
        set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name=name)
    reset_breakers(mesh)
    yield
    for name in SANDBOXES:
        set_fault(mesh, control_pb2.FAULT_MODE_CLEAR, name=name)
    reset_breakers(mesh)


def pay(api: httpx.Client, token: str = "pm_card_visa", amount: int = 1500) -> dict:
    order = api.post("/v1/orders", json={"amount": amount, "currency": "USD"}).json()
    response = api.post(
        f"/v1/orders/{order['id']}:pay", json={"payment_method": {"type": "card", "token": token}}
    )
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(api: httpx.Client, order_id: str, done: object, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        order = api.get(f"/v1/orders/{order_id}").json()
        if done(order) or time.monotonic() > deadline:  # type: ignore[operator]
            return order
        time.sleep(0.2)


def settled(order: dict) -> bool:
    return order["status"] in ("SUCCEEDED", "FAILED", "REQUIRES_CAPTURE", "REQUIRES_ACTION")
