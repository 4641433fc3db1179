"""(c) A payment through the public API: create an order, then pay it with pm_card_visa, over
Envoy's REST listener. Two HTTP/1.1 calls on kept-alive connections, each with an
Idempotency-Key as the SDK sends it.

PayOrder answers after a bounded wait even when the payment is still in flight (under
saturation it is). Such a payment is not done yet, so it is followed with GET until it is:
a closed-loop client must not start its next payment while the last one still runs, or the
load would no longer be N concurrent payments. How many needed that is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from bench.load import Operation

# What an order can still be in when PayOrder's wait ends before the workflow settles it.
IN_FLIGHT = frozenset({"PROCESSING", "REQUIRES_PAYMENT_METHOD"})
_POLL_S = 0.2


@contextlib.asynccontextmanager
async def create_and_pay(api_url: str, api_key: str, connections: int) -> AsyncIterator[Operation]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    counts = {"payments": 0, "late": 0}
    create_ms: list[float] = []
    pay_ms: list[float] = []
    async with httpx.AsyncClient(
        base_url=api_url,
        http1=True,
        http2=False,
        limits=limits,
        timeout=35.0,
        headers={"Authorization": f"Bearer {api_key}"},
    ) as http:

        async def operation() -> None:
            began = time.perf_counter()
            order = response_body(
                await http.post(
                    "/v1/orders",
                    json={"amount": 4999, "currency": "USD"},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
            )
            created = time.perf_counter()
            create_ms.append((created - began) * 1000)
            paid = response_body(
                await http.post(
                    f"/v1/orders/{order['id']}:pay",
                    json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
            )
            pay_ms.append((time.perf_counter() - created) * 1000)
            counts["payments"] += 1
            status = paid["status"]
            if status in IN_FLIGHT:
                counts["late"] += 1
                # Bounded by the load generator's per-operation timeout.
                while status in IN_FLIGHT:
                    await asyncio.sleep(_POLL_S)
                    status = response_body(await http.get(f"/v1/orders/{order['id']}"))["status"]
            if status != "SUCCEEDED":
                raise RuntimeError(f"order {order['id']} ended {status}")

        yield operation
    if create_ms and pay_ms:
        print(
            f"    of which CreateOrder p50 {statistics.median(create_ms):.1f} ms, PayOrder p50 "
            f"{statistics.median(pay_ms):.1f} ms (warm-up included)",
            flush=True,
        )
    if counts["late"]:
        print(
            f"    {counts['late']} of {counts['payments']} payments were still in flight when "
            "PayOrder answered; followed with GET until done",
            flush=True,
        )


def response_body(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"HTTP {response.status_code} {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body
