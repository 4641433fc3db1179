"""Merchant webhooks through the real mesh (Envoy, edge, Temporal, worker, PostgreSQL): endpoint
management and its validation, tenant and mode isolation, and deliveries to real HTTP receivers
on loopback that check PayLoops-Signature with the SDK's own `webhooks.verify`: retried until a
receiver that was down comes back, recorded attempt by attempt, redelivered on request, never
held up by another endpoint that hangs, and signed with both secrets while a rotation's grace
period lasts.

Events come from core.contracts.events.record plus the worker's dispatch_event activity (as the
payment workflows call it), except in the test that pays an order and expects `order.succeeded`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.testing import ActivityEnvironment

from core import ids
from core.contracts import events
from core.db.session import session_factory
from core.secrets import SecretBox
from orchestrator.activities.webhooks import WebhookActivities
from payloops.sdk import SignatureVerificationError, webhooks
from tests.conftest import WEBHOOK_RETRY_FIRST_SECONDS, Mesh, receiver_port
from tests.e2e.mesh_db import sql

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


# -- a merchant's receiver -----------------------------------------------------------------


@dataclasses.dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    answered: int = 0  # the status the receiver managed to send back; 0 while in flight


class Receiver:
    """An HTTP endpoint of a merchant on 127.0.0.1. Each POST gets the next answer of
    `script` (a status, or ("hang", seconds, status)), then `default`. It need not listen yet:
    `port` can be reserved first and `start()` called later (connection refused until then)."""

    def __init__(
        self,
        script: list[Any] | None = None,
        default: Any = 200,
        port: int | None = None,
        start: bool = True,
    ) -> None:
        self.script = list(script or [])
        self.default = default
        self.requests: list[Request] = []
        self.port = port or receiver_port()
        self.url = f"http://127.0.0.1:{self.port}/payloops/hooks"
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        if start:
            self.start()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = Request(dict(self.headers.items()), body)
                with receiver._lock:
                    receiver.requests.append(request)
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                if isinstance(answer, tuple):
                    _, seconds, answer = answer
                    time.sleep(seconds)
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.wfile.flush()
                request.answered = answer

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a sender that went away mid-answer (a killed worker): not our problem

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def delivered(self, secret: str) -> list[dict[str, Any]]:
        """The events this receiver answered 2xx, each verified with `secret`."""
        return [
            webhooks.verify(r.body, r.headers.get("PayLoops-Signature"), secret)
            for r in list(self.requests)
            if 200 <= r.answered < 300
        ]


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(*args: Any, **kwargs: Any) -> Receiver:
        made.append(Receiver(*args, **kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


# -- helpers -------------------------------------------------------------------------------


def eventually(check: Callable[[], Any], timeout: float = 60, every: float = 0.2) -> Any:
    """The first truthy result of `check`, polling; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(every)


def merchant_of(mesh: Mesh, api: httpx.Client) -> str:
    key = api.headers["Authorization"].split()[1]
    return str(
        sql(mesh, "select merchant_id from api_keys where key_hash = :h", h=ids.hash_api_key(key))[
            0
        ][0]
    )


def new_merchant(mesh: Mesh) -> httpx.Client:
    _, key = mesh.new_merchant("webhooks")
    return mesh.client(key)


def new_merchant_with_live_key(mesh: Mesh) -> tuple[httpx.Client, str]:
    """A merchant's test-mode client, and its live key (`payloops merchants create --live`)."""
    _, test_key, live_key = mesh.new_live_merchant("webhooks")
    return mesh.client(test_key), live_key


def emit(
    mesh: Mesh,
    api: httpx.Client,
    type: str = events.ORDER_SUCCEEDED,
    obj: dict[str, Any] | None = None,
    livemode: bool = False,
) -> str:
    """Records an event for the merchant behind `api` and runs the worker's dispatch_event
    activity for it, as a payment workflow does after recording one. Returns its id."""
    merchant_id = merchant_of(mesh, api)
    obj = obj or {"id": f"ord_{uuid.uuid4().hex[:20]}", "amount": "4999", "status": "SUCCEEDED"}

    async def run() -> str:
        # As the mesh's worker reads its settings (dev.env does not list the test's
        # shortened retry).
        settings = dataclasses.replace(
            mesh.settings(), webhook_retry_first_seconds=WEBHOOK_RETRY_FIRST_SECONDS
        )
        engine = create_async_engine(settings.database_url)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            event_id = await events.record(
                session,
                merchant_id=merchant_id,
                livemode=livemode,
                type=type,
                obj=obj,
                key=f"test:{uuid.uuid4()}",
                order_id=str(obj.get("id", "")),
            )
        client = await mesh.temporal()
        activity_env = ActivityEnvironment(client=client)
        activity_env.info = dataclasses.replace(activity_env.info, task_queue=settings.task_queue)
        await activity_env.run(
            WebhookActivities(sessions, SecretBox(()), settings).dispatch_event, event_id
        )
        await engine.dispose()
        return event_id

    return asyncio.run(run())


def create_endpoint(
    api: httpx.Client,
    url: str,
    enabled_events: list[str] | None = None,
) -> dict[str, Any]:
    response = api.post(
        "/v1/webhook_endpoints", json={"url": url, "enabled_events": enabled_events or ["*"]}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def deliveries(api: httpx.Client, event_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/events/{event_id}/deliveries")
    assert response.status_code == 200, response.text
    return list(response.json()["deliveries"])


def delivery_to(api: httpx.Client, event_id: str, endpoint_id: str) -> dict[str, Any] | None:
    return next(
        (d for d in deliveries(api, event_id) if d["webhook_endpoint"] == endpoint_id), None
    )


def settled_delivery(
    api: httpx.Client, event_id: str, endpoint_id: str, timeout: float = 60
) -> dict[str, Any]:
    return dict(
        eventually(
            lambda: (
                (d := delivery_to(api, event_id, endpoint_id)) and d["status"] != "PENDING" and d
            ),
            timeout=timeout,
        )
    )


def violations(response: httpx.Response) -> dict[str, str]:
    details = response.json()["details"]
    bad = next(d for d in details if d["@type"].endswith("BadRequest"))
    return {v["field"]: v["reason"] for v in bad["field_violations"]}


def reason(response: httpx.Response) -> str:
    details = response.json()["details"]
    return str(next(d for d in details if d["@type"].endswith("ErrorInfo"))["reason"])


# -- endpoints -----------------------------------------------------------------------------


def test_an_endpoint_created_with_an_idempotency_key_is_created_once(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    """Five concurrent creations with one key (a merchant retrying a timed-out request): one
    endpoint, every answer its id and secret; the stored answer holds no secret."""
    api = new_merchant(mesh)
    receiver = receivers()
    key = str(uuid.uuid4())
    body = {"url": receiver.url, "enabled_events": ["order.succeeded"]}

    def create(_: int) -> httpx.Response:
        return api.post("/v1/webhook_endpoints", json=body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(create, range(5)))
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({(a.json()["id"], a.json()["secret"]) for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 4
    listed = api.get("/v1/webhook_endpoints").json()["webhook_endpoints"]
    assert [e["id"] for e in listed] == [answers[0].json()["id"]]
    secret = answers[0].json()["secret"]
    [(stored,)] = sql(mesh, "select response from idempotency_keys where key = :key", key=key)
    assert secret.encode() not in bytes(stored)

    other = api.post(
        "/v1/webhook_endpoints",
        json=body | {"enabled_events": ["*"]},
        headers={"Idempotency-Key": key},
    )
    assert (other.status_code, reason(other)) == (400, "IDEMPOTENCY_KEY_REUSED")


def test_endpoints_are_validated_show_their_secret_once_and_stay_with_their_merchant(
    mesh: Mesh,
) -> None:
    api, live_key = new_merchant_with_live_key(mesh)
    bad = {
        "not a url": (
            {"url": "not-a-url", "enabled_events": ["*"]},
            {"webhook_endpoint.url": "URL_INVALID"},
        ),
        "unknown type": (
            {"url": "https://93.184.215.14/h", "enabled_events": ["order.paid"]},
            {"webhook_endpoint.enabled_events[0]": "EVENT_TYPE_UNKNOWN"},
        ),
        "http elsewhere": (
            {"url": "http://93.184.215.14/h", "enabled_events": ["*"]},
            {"webhook_endpoint.url": "URL_NOT_HTTPS"},
        ),
        "no events": (
            {"url": "https://93.184.215.14/h", "enabled_events": []},
            {"webhook_endpoint.enabled_events": "ENABLED_EVENTS_REQUIRED"},
        ),
    }
    for name, (body, expected) in bad.items():
        response = api.post("/v1/webhook_endpoints", json=body)
        assert response.status_code == 400, name
        assert violations(response) == expected, name

    with mesh.client(live_key) as live:
        for url, why in (
            ("https://10.0.0.1/h", "URL_ADDRESS_NOT_ALLOWED"),
            ("https://localhost:8443/h", "URL_ADDRESS_NOT_ALLOWED"),
            ("https://169.254.169.254/latest/meta-data", "URL_ADDRESS_NOT_ALLOWED"),
            ("http://127.0.0.1:9/h", "URL_NOT_HTTPS"),
        ):
            refused = live.post("/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]})
            assert refused.status_code == 400, url
            assert violations(refused) == {"webhook_endpoint.url": why}, url
        live_endpoint = create_endpoint(live, "https://93.184.215.14/hooks")
        assert live_endpoint["livemode"] is True

        created = create_endpoint(
            api,
            f"http://127.0.0.1:{receiver_port()}/hooks",
            ["order.succeeded", "order.succeeded", "refund.failed"],
        )
        assert created["id"].startswith("we_")
        assert created["secret"].startswith("whsec_") and len(created["secret"]) == 6 + 43
        assert created["enabled_events"] == ["order.succeeded", "refund.failed"]
        assert (created["status"], created["livemode"]) == ("ENABLED", False)
        stored = bytes(
            sql(mesh, "select secrets from webhook_endpoints where id = :id", id=created["id"])[0][
                0
            ]
        )
        assert created["secret"].encode() not in stored  # sealed at rest

        # Each key sees its own mode only, and never a secret again.
        assert [e["id"] for e in api.get("/v1/webhook_endpoints").json()["webhook_endpoints"]] == [
            created["id"]
        ]
        assert [e["id"] for e in live.get("/v1/webhook_endpoints").json()["webhook_endpoints"]] == [
            live_endpoint["id"]
        ]
        assert all(
            e["secret"] == "" for e in api.get("/v1/webhook_endpoints").json()["webhook_endpoints"]
        )
        assert (
            live.patch(
                f"/v1/webhook_endpoints/{created['id']}", json={"url": "https://93.184.215.14/x"}
            ).status_code
            == 404
        )

    # Another merchant: NOT_FOUND for everything, nothing listed.
    other = new_merchant(mesh)
    assert other.get("/v1/webhook_endpoints").json()["webhook_endpoints"] == []
    for response in (
        other.patch(
            f"/v1/webhook_endpoints/{created['id']}", json={"url": "https://example.com/mine"}
        ),
        other.delete(f"/v1/webhook_endpoints/{created['id']}"),
        other.post(f"/v1/webhook_endpoints/{created['id']}:rotate_secret", json={}),
    ):
        assert response.status_code == 404
        assert reason(response) == "WEBHOOK_ENDPOINT_NOT_FOUND"

    # Update: only the fields in the mask; URLs checked again.
    updated = api.patch(
        f"/v1/webhook_endpoints/{created['id']}?update_mask=enabledEvents",
        json={"url": "https://ignored.example/", "enabled_events": ["*"]},
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["url"], updated.json()["enabled_events"]) == (created["url"], ["*"])
    assert updated.json()["secret"] == ""
    refused = api.patch(
        f"/v1/webhook_endpoints/{created['id']}", json={"url": "http://93.184.215.14/"}
    )
    assert violations(refused) == {"webhook_endpoint.url": "URL_NOT_HTTPS"}
    assert (
        api.patch(
            f"/v1/webhook_endpoints/{created['id']}?update_mask=secret",
            json={"secret": "whsec_mine"},
        ).status_code
        == 400
    )

    # Re-enabling an endpoint PayLoops disabled clears the reason.
    sql(
        mesh,
        "update webhook_endpoints set status = 'disabled', disabled_reason = "
        "'failing_since:2026-11-30T10:00:00Z' where id = :id",
        id=created["id"],
    )
    shown = api.get("/v1/webhook_endpoints").json()["webhook_endpoints"][0]
    assert (shown["status"], shown["disabled_reason"]) == (
        "DISABLED",
        "failing_since:2026-11-30T10:00:00Z",
    )
    enabled = api.patch(f"/v1/webhook_endpoints/{created['id']}", json={"status": "ENABLED"})
    assert (enabled.json()["status"], enabled.json()["disabled_reason"]) == ("ENABLED", "")

    # Rotation: a new secret, shown once; the grace period is bounded.
    rotated = api.post(f"/v1/webhook_endpoints/{created['id']}:rotate_secret", json={})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]
    too_long = api.post(
        f"/v1/webhook_endpoints/{created['id']}:rotate_secret",
        json={"grace_period": f"{8 * 86400}s"},
    )
    assert violations(too_long) == {"grace_period": "GRACE_PERIOD_OUT_OF_RANGE"}

    # Delete: gone for every call.
    assert api.delete(f"/v1/webhook_endpoints/{created['id']}").json() == {}
    assert api.get("/v1/webhook_endpoints").json()["webhook_endpoints"] == []
    assert api.delete(f"/v1/webhook_endpoints/{created['id']}").status_code == 404
    assert (
        api.patch(f"/v1/webhook_endpoints/{created['id']}", json={"status": "ENABLED"}).status_code
        == 404
    )


# -- deliveries ----------------------------------------------------------------------------


def test_a_receiver_that_was_down_gets_the_event_once_it_is_back_and_again_on_redelivery(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api = new_merchant(mesh)
    # Not listening at first (connection refused), then answering 503 once, then 200.
    receiver = receivers(script=[503], start=False)
    endpoint = create_endpoint(api, receiver.url, ["order.succeeded"])
    event_id = emit(mesh, api)

    first = eventually(
        lambda: (d := delivery_to(api, event_id, endpoint["id"])) and d["attempts"] and d
    )
    assert first["attempts"][0]["error"] == "connection_refused"
    assert first["status"] == "PENDING" and first["next_attempt_time"]
    receiver.start()
    done = settled_delivery(api, event_id, endpoint["id"])

    assert done["status"] == "SUCCEEDED"
    attempts = done["attempts"]
    assert [a["attempt_number"] for a in attempts] == list(range(1, len(attempts) + 1))
    assert all(a["http_status"] == 0 and a["error"] == "connection_refused" for a in attempts[:-2])
    assert (attempts[-2]["http_status"], attempts[-2]["error"]) == (503, "http_status")
    assert (attempts[-1]["http_status"], attempts[-1]["error"]) == (200, "")
    assert "next_attempt_time" not in done

    # Delivered once, signed, and exactly the event as GET /v1/events/{id} shows it.
    [delivered] = receiver.delivered(endpoint["secret"])
    assert delivered == api.get(f"/v1/events/{event_id}").json()
    assert (delivered["id"], delivered["type"]) == (event_id, "order.succeeded")
    last = receiver.requests[-1]
    assert last.headers["PayLoops-Event-Id"] == event_id
    assert last.headers["PayLoops-Delivery-Attempt"] == str(len(attempts))
    assert last.headers["Content-Type"] == "application/json"
    assert last.headers["User-Agent"].startswith("PayLoops-Webhooks/")
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(last.body, last.headers["PayLoops-Signature"], "whsec_someone_else")

    # Redelivery: a second successful delivery of the same event, numbered on.
    redelivered = api.post(f"/v1/events/{event_id}:redeliver", json={})
    assert redelivered.status_code == 200, redelivered.text
    [again] = redelivered.json()["deliveries"]
    assert (again["id"], again["status"]) == (done["id"], "PENDING")
    eventually(lambda: len(receiver.delivered(endpoint["secret"])) == 2)
    assert [e["id"] for e in receiver.delivered(endpoint["secret"])] == [event_id, event_id]
    final = settled_delivery(api, event_id, endpoint["id"])
    assert final["status"] == "SUCCEEDED"
    assert [(a["attempt_number"], a["http_status"]) for a in final["attempts"][-2:]] == [
        (len(attempts), 200),
        (len(attempts) + 1, 200),
    ]


def test_paying_an_order_sends_order_succeeded(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    """Needs the payment workflow to record `order.succeeded` and call dispatch_event."""
    api = new_merchant(mesh)
    receiver = receivers()
    endpoint = create_endpoint(api, receiver.url, ["order.succeeded"])
    order = api.post("/v1/orders", json={"amount": 4999, "currency": "USD"}).json()
    paid = api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
    )
    assert paid.json()["status"] == "SUCCEEDED", paid.text

    [event] = eventually(lambda: receiver.delivered(endpoint["secret"]), timeout=30)
    assert event["type"] == "order.succeeded"
    assert (event["object"]["id"], event["object"]["status"]) == (order["id"], "SUCCEEDED")
    assert event == api.get(f"/v1/events/{event['id']}").json()
    listed = api.get("/v1/events?type=order.succeeded").json()["events"]
    assert [e["id"] for e in listed] == [event["id"]]
    assert settled_delivery(api, event["id"], endpoint["id"])["status"] == "SUCCEEDED"


def test_a_hanging_receiver_never_holds_up_deliveries_to_another_endpoint(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api = new_merchant(mesh)
    hanging = receivers(default=("hang", 20, 200))
    fast = receivers()
    stuck = create_endpoint(api, hanging.url)
    quick = create_endpoint(api, fast.url)
    try:
        sent = [emit(mesh, api) for _ in range(3)]
        # Every event reaches the quick endpoint while the hanging one still holds its
        # requests open, before any of its attempts has even timed out (10 s).
        eventually(lambda: len(fast.delivered(quick["secret"])) == 3, timeout=8)
        assert sorted(e["id"] for e in fast.delivered(quick["secret"])) == sorted(sent)
        # Each endpoint's deliveries run on their own: the hanging one's third request may
        # start a moment after the quick one has all three (a loaded machine), never blocked.
        eventually(lambda: len(hanging.requests) == 3, timeout=8)
        assert all(not r.answered for r in hanging.requests)
        assert all(
            delivery_to(api, event_id, stuck["id"])["attempts"] == []  # type: ignore[index]
            for event_id in sent
        )
        # The hanging attempt gives up at the timeout and is recorded as such.
        timed_out = eventually(
            lambda: (d := delivery_to(api, sent[0], stuck["id"])) and d["attempts"] and d,
            timeout=30,
        )
        assert (timed_out["attempts"][0]["http_status"], timed_out["attempts"][0]["error"]) == (
            0,
            "timeout",
        )
        assert timed_out["status"] == "PENDING"
    finally:
        # Deleted: each delivery still retrying stops at its next attempt.
        api.delete(f"/v1/webhook_endpoints/{stuck['id']}")


def test_during_a_rotation_both_secrets_sign_and_after_it_only_the_new_one(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api = new_merchant(mesh)
    receiver = receivers()
    endpoint = create_endpoint(api, receiver.url)
    old = endpoint["secret"]
    rotated = api.post(
        f"/v1/webhook_endpoints/{endpoint['id']}:rotate_secret", json={"grace_period": "3600s"}
    ).json()
    new = rotated["secret"]

    during = emit(mesh, api)
    eventually(lambda: len(receiver.delivered(new)) == 1)
    request = receiver.requests[-1]
    header = request.headers["PayLoops-Signature"]
    assert header.count("v1=") == 2
    assert webhooks.verify(request.body, header, old)["id"] == during
    assert webhooks.verify(request.body, header, new)["id"] == during

    # Rotated again without grace: only the newest secret signs.
    newest = api.post(
        f"/v1/webhook_endpoints/{endpoint['id']}:rotate_secret", json={"grace_period": "0s"}
    ).json()["secret"]
    after = emit(mesh, api)
    eventually(lambda: sum(1 for r in receiver.requests if r.answered) == 2)
    request = receiver.requests[-1]
    header = request.headers["PayLoops-Signature"]
    assert header.count("v1=") == 1
    assert webhooks.verify(request.body, header, newest)["id"] == after
    for stale in (old, new):
        with pytest.raises(SignatureVerificationError):
            webhooks.verify(request.body, header, stale)


def test_redelivery_to_one_endpoint_and_what_it_refuses(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api, live_key = new_merchant_with_live_key(mesh)
    receiver = receivers()
    event_id = emit(mesh, api)  # nobody listens yet: an event with no deliveries
    assert deliveries(api, event_id) == []
    endpoint = create_endpoint(api, receiver.url, ["refund.failed"])

    # Sent to the endpoint named, even though it does not take the event's type.
    response = api.post(
        f"/v1/events/{event_id}:redeliver", json={"webhook_endpoint": endpoint["id"]}
    )
    assert response.status_code == 200, response.text
    assert [d["webhook_endpoint"] for d in response.json()["deliveries"]] == [endpoint["id"]]
    assert settled_delivery(api, event_id, endpoint["id"])["status"] == "SUCCEEDED"
    assert [e["id"] for e in receiver.delivered(endpoint["secret"])] == [event_id]
    # Without one: every enabled endpoint that takes the type, which is none here.
    assert api.post(f"/v1/events/{event_id}:redeliver", json={}).json()["deliveries"] == []

    api.patch(f"/v1/webhook_endpoints/{endpoint['id']}", json={"status": "DISABLED"})
    refused = api.post(
        f"/v1/events/{event_id}:redeliver", json={"webhook_endpoint": endpoint["id"]}
    )
    assert (refused.status_code, reason(refused)) == (400, "WEBHOOK_ENDPOINT_DISABLED")

    other = new_merchant(mesh)
    for response in (
        other.get(f"/v1/events/{event_id}"),
        other.get(f"/v1/events/{event_id}/deliveries"),
        other.post(f"/v1/events/{event_id}:redeliver", json={}),
    ):
        assert (response.status_code, reason(response)) == (404, "EVENT_NOT_FOUND")
    with mesh.client(live_key) as live:
        assert live.get(f"/v1/events/{event_id}").status_code == 404
        assert live.get("/v1/events").json()["events"] == []
    assert (
        api.post(
            f"/v1/events/{event_id}:redeliver", json={"webhook_endpoint": "we_nope"}
        ).status_code
        == 404
    )


def test_events_are_listed_newest_first_by_page_and_type(mesh: Mesh) -> None:
    api = new_merchant(mesh)
    made = [
        emit(mesh, api, type=t)
        for t in (events.ORDER_SUCCEEDED, events.ORDER_FAILED, events.ORDER_SUCCEEDED)
    ]
    page = api.get("/v1/events?page_size=2").json()
    assert [e["id"] for e in page["events"]] == [made[2], made[1]]
    rest = api.get(f"/v1/events?page_size=2&page_token={page['next_page_token']}").json()
    assert [e["id"] for e in rest["events"]] == [made[0]]
    assert rest["next_page_token"] == ""
    typed = api.get("/v1/events?type=order.succeeded").json()["events"]
    assert [e["id"] for e in typed] == [made[2], made[0]]
    swapped = api.get(f"/v1/events?type=order.failed&page_token={page['next_page_token']}")
    assert (swapped.status_code, reason(swapped)) == (400, "PAGE_TOKEN_INVALID")
    unknown = api.get("/v1/events?type=order.paid")
    assert violations(unknown) == {"type": "EVENT_TYPE_UNKNOWN"}
    event = api.get(f"/v1/events/{made[1]}").json()
    assert (event["type"], event["livemode"]) == ("order.failed", False)
    assert event["object"]["amount"] == "4999" and event["create_time"].endswith("Z")


def paid_order(api: httpx.Client) -> str:
    order = api.post("/v1/orders", json={"amount": 4999, "currency": "USD"}).json()
    paid = api.post(
        f"/v1/orders/{order['id']}:pay",
        json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
    )
    assert paid.json()["status"] == "SUCCEEDED", paid.text
    return str(order["id"])


def test_an_orders_events_are_listed_by_order_with_its_refunds_and_no_one_elses(
    mesh: Mesh,
) -> None:
    """The worker names each event's order as it records it (an order's change, a refund's),
    so ListEvents?order= finds them however many newer events the merchant has."""
    api, live_key = new_merchant_with_live_key(mesh)
    order = paid_order(api)
    refunded = api.post(f"/v1/orders/{order}/refunds", json={"amount": 1000})
    assert refunded.status_code == 200, refunded.text
    other = paid_order(api)
    eventually(lambda: api.get(f"/v1/events?order={other}").json()["events"])
    newer = [emit(mesh, api) for _ in range(2)]  # other orders' events, after all of these

    def of_order(page_size: int, token: str = "") -> dict[str, Any]:
        answer = api.get(
            "/v1/events", params={"order": order, "page_size": page_size, "page_token": token}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def both_recorded() -> list[str] | None:
        found = [e["type"] for e in of_order(10)["events"]]
        return found if len(found) == 2 else None

    types = eventually(both_recorded)
    assert types == ["refund.succeeded", "order.succeeded"]
    first = of_order(1)
    rest = of_order(1, first["next_page_token"])
    listed = first["events"] + rest["events"]
    assert rest["next_page_token"] == ""
    assert [e["type"] for e in listed] == types
    assert listed[0]["object"]["order"] == order and listed[1]["object"]["id"] == order
    assert not {e["id"] for e in listed} & set(newer)
    # Newest first across the merchant, this order's are not on the first page.
    everything = api.get("/v1/events?page_size=2").json()["events"]
    assert [e["id"] for e in everything] == newer[::-1]

    # The token stays with its filter; an order of no one here, or of another merchant or mode,
    # lists nothing; an id that is no order's shape is refused.
    swapped = api.get(f"/v1/events?order={other}&page_token={first['next_page_token']}")
    assert (swapped.status_code, reason(swapped)) == (400, "PAGE_TOKEN_INVALID")
    assert api.get(f"/v1/events?order={ids.new_id('ord')}").json()["events"] == []
    with new_merchant(mesh) as stranger, mesh.client(live_key) as live:
        for outsider in (stranger, live):
            answer = outsider.get(f"/v1/events?order={order}")
            assert (answer.status_code, answer.json()["events"]) == (200, [])
    for malformed in ("evt_1", "ord_", "ord_a-b", "ord_" + "a" * 29, order + "'"):
        refused = api.get("/v1/events", params={"order": malformed})
        assert refused.status_code == 400, refused.text
        assert violations(refused) == {"order": "ORDER_ID_MALFORMED"}
