"""AsyncPayLoops against the real mesh, over REST and over native gRPC: the same resources,
models and errors as PayLoops, each call awaited and every page reachable with `async for`."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from payloops.sdk import AsyncPage, AsyncPayLoops, InvalidRequestError, NotFoundError, Order
from tests.conftest import Mesh

pytestmark = pytest.mark.e2e

_IN_FLIGHT = ("processing", "requires_payment_method")


@pytest.fixture(params=["http", "grpc"])
async def client(mesh: Mesh, request: pytest.FixtureRequest) -> AsyncIterator[AsyncPayLoops]:
    _, api_key = mesh.new_merchant(f"sdk async {request.param}")
    async with AsyncPayLoops(
        api_key,
        base_url=mesh.api_url,
        grpc_target=mesh.grpc_target,
        transport="grpc" if request.param == "grpc" else "http",
    ) as made:
        yield made


async def settled(client: AsyncPayLoops, order: Order, timeout_s: float = 30.0) -> Order:
    deadline = time.monotonic() + timeout_s
    while order.status in _IN_FLIGHT and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        order = await client.orders.retrieve(order.id)
    return order


async def test_the_original_example_awaited(client: AsyncPayLoops) -> None:
    order = await client.orders.create(amount=4999, currency="USD", metadata={"order_ref": "A-1"})
    paid = await client.orders.pay(
        order.id, payment_method={"type": "card", "token": "pm_card_visa"}
    )

    paid = await settled(client, paid)
    assert (paid.status, paid.amount_received, paid.metadata) == (
        "succeeded",
        4999,
        {"order_ref": "A-1"},
    )
    assert [a.processor for a in paid.attempts] == ["sandbox"]
    assert await client.orders.retrieve(order.id) == paid


async def test_three_d_secure_gives_the_redirect(client: AsyncPayLoops) -> None:
    order = await client.orders.create(
        amount=3000, currency="USD", return_url="https://shop.example/back"
    )
    paid = await settled(
        client, await client.orders.pay(order.id, payment_method="pm_card_3ds_required")
    )

    assert paid.status == "requires_action"
    assert paid.next_action is not None and paid.next_action.redirect_url.startswith("http")


async def test_pages_iterate_with_async_for(client: AsyncPayLoops) -> None:
    created = [(await client.orders.create(amount=100 + i, currency="USD")).id for i in range(3)]

    first = await client.orders.list(page_size=2)
    every = [order.id async for order in first.auto_paging_iter()]
    listed = [order.id async for order in client.orders.list_all(page_size=1)]

    assert isinstance(first, AsyncPage) and first.has_more
    assert [o.id for o in first] == created[::-1][:2]
    assert every == listed == created[::-1]


async def test_errors_and_idempotency(client: AsyncPayLoops) -> None:
    with pytest.raises(NotFoundError) as missing:
        await client.refunds.retrieve("re_doesnotexist")
    assert missing.value.http_status == 404 and missing.value.correlation_id

    with pytest.raises(InvalidRequestError) as invalid:
        await client.customers.create(email="not an e-mail")
    assert invalid.value.field_violations

    key = f"sdk-async-{uuid.uuid4()}"
    orders = await asyncio.gather(
        *(client.orders.create(amount=500, currency="USD", idempotency_key=key) for _ in range(3))
    )
    assert len({order.id for order in orders}) == 1


async def test_routing_history_awaited(client: AsyncPayLoops) -> None:
    only_b = {"rules": [{"name": "b", "failover": {"processors": ["sandbox-b"]}}]}
    first = await client.routing.update(only_b)
    await client.routing.update({"rules": [{"name": "c", "failover": {"processors": ["sandbox"]}}]})
    versions = [v.version async for v in client.routing.versions.list_all(page_size=1)]
    assert versions == [first.version + 1, first.version]
    rolled = await client.routing.rollback(first.version)
    assert rolled.rules == (await client.routing.versions.retrieve(first.version)).rules
    simulated = await client.routing.simulate(payment={"amount": 100, "currency": "USD"})
    assert (simulated.rule, simulated.config_version) == ("b", rolled.version)
    what_if = await client.routing.what_if(routing_config=only_b)
    assert (what_if.payments, what_if.splits) == (0, [])
