"""The Webhooks page's calls, through the real mesh: an endpoint's deliveries page by page,
newest first, each with its event's type and every attempt (HTTP status, latency), and a test
event sent on request to one endpoint only, signed and recorded like any other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest

from core.contracts import events
from payloops.v1 import webhooks_pb2, webhooks_pb2_grpc
from tests.conftest import Mesh
from tests.e2e.test_webhooks import (
    Receiver,
    create_endpoint,
    emit,
    eventually,
    new_merchant,
    reason,
    receivers,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
__all__ = ["receivers"]  # the fixture


def endpoint_deliveries(api: httpx.Client, endpoint_id: str, **params: Any) -> httpx.Response:
    return api.get(f"/v1/webhook_endpoints/{endpoint_id}/deliveries", params=params)


def every_delivery(api: httpx.Client, endpoint_id: str) -> list[dict[str, Any]]:
    """All of them, a page of 2 at a time."""
    found: list[dict[str, Any]] = []
    token = ""
    while True:
        page = endpoint_deliveries(api, endpoint_id, page_size=2, page_token=token)
        assert page.status_code == 200, page.text
        found += page.json()["deliveries"]
        token = page.json()["next_page_token"]
        if not token:
            return found


def send_test_event(api: httpx.Client, endpoint_id: str) -> httpx.Response:
    return api.post(f"/v1/webhook_endpoints/{endpoint_id}:send_test_event", json={})


def test_a_test_event_goes_to_that_endpoint_only_signed_like_any_other(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api = new_merchant(mesh)
    tested, bystander = receivers(), receivers()
    # Subscribed to nothing a test is: sent all the same, because it was asked for.
    endpoint = create_endpoint(api, tested.url, [events.REFUND_FAILED])
    other = create_endpoint(api, bystander.url, ["*"])

    sent = send_test_event(api, endpoint["id"])
    assert sent.status_code == 200, sent.text
    delivery = sent.json()
    assert (delivery["webhook_endpoint"], delivery["event_type"]) == (
        endpoint["id"],
        events.WEBHOOK_ENDPOINT_TEST,
    )
    assert delivery["status"] == "PENDING"

    (received,) = eventually(lambda: tested.delivered(endpoint["secret"]))
    assert received["id"] == delivery["event"]
    assert received["type"] == events.WEBHOOK_ENDPOINT_TEST
    assert received["object"]["id"] == endpoint["id"]
    assert received["object"]["secret"] == ""
    (listed,) = eventually(
        lambda: [d for d in every_delivery(api, endpoint["id"]) if d["status"] == "SUCCEEDED"]
    )
    assert listed["id"] == delivery["id"]
    (attempt,) = listed["attempts"]
    assert attempt["http_status"] == 200
    assert attempt["latency"].endswith("s")
    # A new event each time; none to the other endpoint, though it takes every type.
    again = send_test_event(api, endpoint["id"]).json()
    assert again["event"] != delivery["event"]
    eventually(lambda: len(tested.delivered(endpoint["secret"])) == 2)
    assert every_delivery(api, other["id"]) == []
    assert bystander.requests == []
    typed = api.get("/v1/events", params={"type": events.WEBHOOK_ENDPOINT_TEST}).json()
    assert [e["id"] for e in typed["events"]] == [again["event"], delivery["event"]]


def test_an_endpoints_deliveries_are_paged_newest_first(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api = new_merchant(mesh)
    receiver = receivers()
    endpoint = create_endpoint(api, receiver.url, ["*"])
    made = [emit(mesh, api) for _ in range(5)]

    listed = eventually(
        lambda: (
            (found := every_delivery(api, endpoint["id"]))
            and all(d["status"] == "SUCCEEDED" for d in found)
            and len(found) == len(made)
            and found
        )
    )
    assert [d["event"] for d in listed] == list(reversed(made))
    assert {d["event_type"] for d in listed} == {events.ORDER_SUCCEEDED}
    assert all(d["create_time"] and len(d["attempts"]) == 1 for d in listed)

    first = endpoint_deliveries(api, endpoint["id"], page_size=2).json()
    token = first["next_page_token"]
    assert len(first["deliveries"]) == 2 and token
    # A token is this endpoint's.
    second = create_endpoint(api, receiver.url, ["*"])
    replayed = endpoint_deliveries(api, second["id"], page_size=2, page_token=token)
    assert (replayed.status_code, reason(replayed)) == (400, "PAGE_TOKEN_INVALID")
    negative = endpoint_deliveries(api, endpoint["id"], page_size=-1)
    assert (negative.status_code, reason(negative)) == (400, "INVALID_REQUEST")


def test_what_the_webhooks_page_calls_refuse(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api = new_merchant(mesh)
    receiver = receivers()
    endpoint = create_endpoint(api, receiver.url, ["*"])
    stranger = new_merchant(mesh)
    for response in (
        endpoint_deliveries(stranger, endpoint["id"]),
        send_test_event(stranger, endpoint["id"]),
        endpoint_deliveries(api, "we_nope"),
        send_test_event(api, "we_nope"),
    ):
        assert (response.status_code, reason(response)) == (404, "WEBHOOK_ENDPOINT_NOT_FOUND")
    api.patch(f"/v1/webhook_endpoints/{endpoint['id']}", json={"status": "DISABLED"})
    disabled = send_test_event(api, endpoint["id"])
    assert (disabled.status_code, reason(disabled)) == (400, "WEBHOOK_ENDPOINT_DISABLED")
    assert api.delete(f"/v1/webhook_endpoints/{endpoint['id']}").status_code == 200
    gone = endpoint_deliveries(api, endpoint["id"])
    assert (gone.status_code, reason(gone)) == (404, "WEBHOOK_ENDPOINT_NOT_FOUND")
    assert receiver.requests == []


def test_the_webhooks_page_calls_over_native_grpc(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api = new_merchant(mesh)
    receiver = receivers()
    endpoint = create_endpoint(api, receiver.url, ["order.succeeded"])
    key = api.headers["Authorization"].split()[1]
    with grpc.insecure_channel(mesh.grpc_target) as channel:
        stub = webhooks_pb2_grpc.WebhookEndpointServiceStub(channel)
        bearer = (("authorization", f"Bearer {key}"),)
        sent = stub.SendTestEvent(
            webhooks_pb2.SendTestEventRequest(webhook_endpoint=endpoint["id"]), metadata=bearer
        )
        assert sent.event_type == events.WEBHOOK_ENDPOINT_TEST

        def settled() -> list[webhooks_pb2.EventDelivery]:
            listed = stub.ListWebhookEndpointDeliveries(
                webhooks_pb2.ListWebhookEndpointDeliveriesRequest(webhook_endpoint=endpoint["id"]),
                metadata=bearer,
            )
            return [
                d for d in listed.deliveries if d.status == webhooks_pb2.EventDelivery.SUCCEEDED
            ]

        (delivered,) = eventually(settled)
        assert delivered.id == sent.id
        assert [a.http_status for a in delivered.attempts] == [200]
