"""ListOrders' filters, and pages that stay stable while orders are being created."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Mesh

pytestmark = pytest.mark.e2e


def create(api: httpx.Client, currency: str = "USD", **fields: object) -> str:
    response = api.post("/v1/orders", json={"amount": 1200, "currency": currency, **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def listed(api: httpx.Client, pause: float = 0, **params: Any) -> list[str]:
    found: list[str] = []
    token = ""
    while True:
        time.sleep(pause)
        page = api.get("/v1/orders", params={**params, "page_size": 3, "page_token": token})
        assert page.status_code == 200, page.text
        found += [o["id"] for o in page.json()["orders"]]
        token = page.json()["next_page_token"]
        if not token:
            return found


def test_filters_combine_and_page(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("filters")
    with mesh.client(key) as api:
        assert (
            api.put(
                "/v1/routing",
                json={
                    "rules": [
                        {
                            "name": "eur",
                            "conditions": {"currencies": ["EUR"]},
                            "failover": {"processors": ["sandbox-b"]},
                        },
                        {"name": "rest", "failover": {"processors": ["sandbox"]}},
                    ]
                },
            ).status_code
            == 200
        )
        usd = [create(api, metadata={"shop": "north"}) for _ in range(4)]
        eur = [create(api, "EUR", metadata={"shop": "south"}) for _ in range(3)]
        middle = datetime.now(UTC).isoformat()
        later = [create(api, "GBP", metadata={"campaign": "x"}) for _ in range(2)]
        for order_id in (usd[0], eur[0], eur[1]):
            assert (
                api.post(
                    f"/v1/orders/{order_id}:pay",
                    json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
                ).json()["status"]
                == "SUCCEEDED"
            )
        newest_first = list(reversed(usd + eur + later))
        assert listed(api) == newest_first
        assert listed(api, currency="eur") == list(reversed(eur))
        assert listed(api, metadata_key="shop", metadata_value="north") == list(reversed(usd))
        assert listed(api, metadata_key="campaign") == list(reversed(later))
        assert listed(api, processor="sandbox-b") == [eur[1], eur[0]]
        assert listed(api, processor="sandbox", status="SUCCEEDED") == [usd[0]]
        assert listed(api, created_after=middle) == list(reversed(later))
        assert listed(api, created_before=middle) == list(reversed(usd + eur))
        value_only = api.get("/v1/orders", params={"metadata_value": "north"})
        first = api.get("/v1/orders", params={"page_size": 2, "currency": "USD"}).json()
        swapped = api.get(
            "/v1/orders",
            params={"page_size": 2, "currency": "EUR", "page_token": first["next_page_token"]},
        )
    assert value_only.status_code == 400
    # A page token is bound to its filters: it cannot be replayed with others.
    assert swapped.status_code == 400
    assert swapped.json()["details"][0]["reason"] == "PAGE_TOKEN_INVALID"


def test_pages_stay_stable_while_orders_are_created(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("busy pages")
    with mesh.client(key) as api:
        existing = [create(api) for _ in range(15)]
        stop = threading.Event()
        made_meanwhile: list[str] = []

        def keep_creating() -> None:
            with mesh.client(key) as writer:
                while not stop.is_set():
                    made_meanwhile.append(create(writer))

        writer = threading.Thread(target=keep_creating)
        writer.start()
        try:
            while not made_meanwhile:
                time.sleep(0.01)
            seen = listed(api, pause=0.1)  # slow enough that orders are created between pages
            created_while_paging = len(made_meanwhile)
        finally:
            stop.set()
            writer.join()
    assert created_while_paging > 1, "nothing was created while paging"
    # Every order that existed is seen exactly once, newest first; new ones never shift pages.
    assert [o for o in seen if o in existing] == list(reversed(existing))
    assert len(seen) == len(set(seen))
