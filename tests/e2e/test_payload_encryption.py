"""Temporal payloads are encrypted (core.payload_codec): read raw from the Temporal server, the
histories of a payment, its refund and its webhook delivery hold no order id, amount or merchant
metadata in clear, their headers (the ids the worker sends with each activity) included, while
the platform reads them; and a payment waiting for 3-D Secure finishes after its worker and edge
restart with a rotated key list."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import closing

import grpc
import httpx
import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import SearchAttributes
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from core.contracts import search_attributes
from core.contracts.payment import PaymentInput, refund_workflow_id, workflow_id
from core.payload_codec import (
    ENCODING,
    KEY_ID_METADATA,
    PayloadEncryption,
    data_converter,
    new_key,
)
from core.webhooks import deliveries
from orchestrator.workflows.payment import PaymentWorkflow
from payloops.v1 import orders_pb2, orders_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.failover_helpers import wait_for
from tests.e2e.second_edge import start_second_edge
from tests.e2e.second_worker import start_second_worker
from tests.e2e.test_webhooks import Receiver, create_endpoint, settled_delivery
from tests.temporal_payloads import (
    header_payloads,
    history_payloads,
    messages_named,
    payloads_in,
)

pytestmark = pytest.mark.e2e

AMOUNT = 73191


async def raw_history(mesh: Mesh, workflow: str) -> WorkflowHistory:
    """The history as the Temporal server hands it to anyone: a client without the keys."""
    client = await Client.connect(mesh.env["PAYLOOPS_TEMPORAL_ADDRESS"])
    return await client.get_workflow_handle(workflow).fetch_history()


# What the SDK itself writes, outside the codec, about its own bookkeeping: which patches a
# workflow took (a marker's "patch-data", and a search attribute the server indexes), and when
# and how a local activity ran (its marker's "data"; the activity's result is its "result").
SDK_MARKER_DETAILS = {"patch-data", "data"}
# The SDK's search attribute for the patches a workflow took.
SDK_SEARCH_ATTRIBUTES = {"TemporalChangeVersion"}
SEARCH_ATTRIBUTES = "temporal.api.common.v1.SearchAttributes"


def outside_the_index(event: HistoryEvent) -> HistoryEvent:
    """`event` without its search attributes: Temporal's index, in clear by design (what the
    platform puts there is checked by `indexed`)."""
    copy = HistoryEvent()
    copy.CopyFrom(event)
    kind = copy.WhichOneof("attributes")
    if kind is not None:
        attributes = getattr(copy, kind)
        for field, _ in attributes.ListFields():
            if field.message_type and field.message_type.full_name == SEARCH_ATTRIBUTES:
                attributes.ClearField(field.name)
    return copy


def indexed(history: WorkflowHistory) -> dict[str, list[object]]:
    """Every search attribute the history sets (at the start and by upserts), with its values."""
    found: dict[str, list[object]] = {}
    for event in history.events:
        for attributes in messages_named(event, SEARCH_ATTRIBUTES):
            assert isinstance(attributes, SearchAttributes)
            for name, payload in attributes.indexed_fields.items():
                found.setdefault(name, []).append(json.loads(payload.data))
    return found


def plain_payloads_outside_bookkeeping(history: WorkflowHistory) -> list[str]:
    found = []
    for event in history.events:
        kind = event.WhichOneof("attributes")
        if kind == "upsert_workflow_search_attributes_event_attributes":
            continue
        if kind == "marker_recorded_event_attributes":
            details = event.marker_recorded_event_attributes.details
            parts: list[tuple[str, Message]] = [
                (f"marker {name}", details[name])
                for name in details
                if name not in SDK_MARKER_DETAILS
            ]
        else:
            parts = [(str(kind), outside_the_index(event))]
        for place, message in parts:
            found += [place for p in payloads_in(message) if p.metadata["encoding"] != ENCODING]
    return found


def test_a_payments_history_holds_no_order_data_in_clear_and_the_platform_reads_it(
    mesh: Mesh,
) -> None:
    probe = f"cart-{uuid.uuid4().hex}"
    merchant_id, key = mesh.new_merchant("codec")
    with closing(Receiver()) as receiver, mesh.client(key) as api:
        endpoint = create_endpoint(api, receiver.url, ["order.succeeded"])
        created = api.post(
            "/v1/orders",
            json={"amount": AMOUNT, "currency": "USD", "metadata": {"cart": probe}},
        ).json()
        order_id = created["id"]
        paid = api.post(
            f"/v1/orders/{order_id}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
        )
        assert paid.json()["status"] == "SUCCEEDED", paid.text
        refunded = api.post(f"/v1/orders/{order_id}/refunds", json={"amount": AMOUNT - 1})
        assert refunded.status_code == 200, refunded.text
        refund_id = refunded.json()["id"]
        [event] = api.get("/v1/events?type=order.succeeded").json()["events"]
        delivery = settled_delivery(api, event["id"], endpoint["id"])
        assert delivery["status"] == "SUCCEEDED", delivery
    workflows = (
        workflow_id(order_id),
        refund_workflow_id(refund_id),
        deliveries.workflow_id(delivery["id"]),
    )

    async def read() -> None:
        for workflow in workflows:
            history = await raw_history(mesh, workflow)
            assert history_payloads(history), workflow
            assert plain_payloads_outside_bookkeeping(history) == [], workflow
            # The worker sends the correlation id (and the order id) with every activity.
            headers = header_payloads(history)
            assert headers, workflow
            assert {p.metadata["encoding"] for p in headers} == {ENCODING}, workflow
            stored = b"".join(event.SerializeToString() for event in history.events)
            for clear in (str(AMOUNT), str(AMOUNT - 1), probe):
                assert clear.encode() not in stored, (workflow, clear)
            for event in history.events:
                for payload in payloads_in(outside_the_index(event)):
                    assert order_id.encode() not in payload.data
        # What Temporal indexes in clear: the payment's ids and status, nothing else (the
        # refund and the delivery set none).
        payment_history = await raw_history(mesh, workflows[0])
        found = indexed(payment_history)
        assert set(found) - SDK_SEARCH_ATTRIBUTES == {key.name for key in search_attributes.ALL}
        assert found[search_attributes.ORDER_ID.name] == [order_id]
        assert found[search_attributes.MERCHANT_ID.name] == [merchant_id]
        assert found[search_attributes.STATUS.name] == ["PROCESSING", "SUCCEEDED"]
        for other in workflows[1:]:
            assert set(indexed(await raw_history(mesh, other))) <= SDK_SEARCH_ATTRIBUTES, other
        # The platform's own client reads what the server cannot.
        history = (
            await (await mesh.temporal()).get_workflow_handle(workflow_id(order_id)).fetch_history()
        )
        started = history.events[0].workflow_execution_started_event_attributes
        converter = data_converter(mesh.settings().temporal_codec_keys)
        [payment] = await converter.decode(started.input.payloads, [PaymentInput])
        assert (payment.order_id, payment.amount, payment.metadata) == (
            order_id,
            AMOUNT,
            {"cart": probe},
        )

    asyncio.run(read())


def test_a_waiting_payment_finishes_after_its_worker_and_edge_restart_with_a_rotated_key(
    mesh: Mesh,
) -> None:
    """On a task queue of the test's own, served by its own worker and edge: first with key A
    only, then, while the payment waits for its 3-D Secure challenge, with B first and A
    still there (the new key encrypts, the old one still decrypts what the history holds)."""
    old, new = new_key(), new_key()
    old_id, new_id = (key.partition(":")[0].encode() for key in (old, new))
    queue = f"codec-rotation-{uuid.uuid4().hex[:8]}"
    settings = {"PAYLOOPS_TASK_QUEUE": queue, "PAYLOOPS_THREE_DS_POLL_SECONDS": "0.5"}
    _, key = mesh.new_merchant("rotation")
    api = mesh.client(key)
    order_id = api.post("/v1/orders", json={"amount": 2100, "currency": "USD"}).json()["id"]

    with (
        start_second_worker(mesh, queue, PAYLOOPS_TEMPORAL_CODEC_KEYS=old),
        start_second_edge(mesh, **settings, PAYLOOPS_TEMPORAL_CODEC_KEYS=old) as edge,
        grpc.insecure_channel(edge.target) as channel,
    ):
        orders_pb2_grpc.OrderServiceStub(channel).PayOrder(
            orders_pb2.PayOrderRequest(
                order=order_id,
                payment_method=orders_pb2.PaymentMethod(type="card", token="pm_card_3ds_required"),
            ),
            metadata=(("authorization", f"Bearer {key}"),),
            timeout=30,
        )
        waiting = wait_for(api, order_id, lambda o: o["status"] == "REQUIRES_ACTION")
        assert waiting["status"] == "REQUIRES_ACTION", waiting

    rotated = f"{new},{old}"
    with (
        start_second_worker(mesh, queue, PAYLOOPS_TEMPORAL_CODEC_KEYS=rotated),
        start_second_edge(mesh, **settings, PAYLOOPS_TEMPORAL_CODEC_KEYS=rotated),
    ):
        httpx.post(waiting["next_action"]["redirect_url"], data={"outcome": "succeed"})
        done = wait_for(api, order_id, lambda o: o["status"] == "SUCCEEDED")
        assert done["status"] == "SUCCEEDED", done

    async def check() -> None:
        history = await raw_history(mesh, workflow_id(order_id))
        key_ids = [
            payload.metadata[KEY_ID_METADATA]
            for payload in history_payloads(history)
            if payload.metadata["encoding"] == ENCODING
        ]
        # Written with A until the restart, with B after it.
        assert key_ids[0] == old_id and key_ids[-1] == new_id, key_ids
        assert set(key_ids) == {old_id, new_id}
        # And it replays, as a worker holding both keys would after a cache eviction.
        await Replayer(
            workflows=[PaymentWorkflow], plugins=[PayloadEncryption([new, old])]
        ).replay_workflow(history)

    asyncio.run(check())
    api.close()
