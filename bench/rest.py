"""(c) A payment through the public API: create an order, then pay it with pm_card_visa, over
Envoy's REST listener. Two HTTP/1.1 calls on kept-alive connections, each with an
Idempotency-Key as the SDK sends it."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx

from bench.load import Operation


@contextlib.asynccontextmanager
async def create_and_pay(api_url: str, api_key: str, connections: int) -> AsyncIterator[Operation]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=api_url,
        http1=True,
        http2=False,
        limits=limits,
        timeout=35.0,
        headers={"Authorization": f"Bearer {api_key}"},
    ) as http:

        async def operation() -> None:
            created = await http.post(
                "/v1/orders",
                json={"amount": 4999, "currency": "USD"},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            _check(created)
            paid = await http.post(
                f"/v1/orders/{created.json()['id']}:pay",
                json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            _check(paid)
            if (status := paid.json()["status"]) != "SUCCEEDED":
                raise RuntimeError(f"order ended {status}")

        yield operation


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"HTTP {response.status_code} {response.text[:300]}"
        )
