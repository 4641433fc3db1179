"""A worker killed in the middle of a webhook delivery: while the receiver holds the request
open, the worker gets SIGKILL; `payloops dev` restarts it, the lost attempt is recorded, and
the event is delivered by the next one. Nothing is lost; the receiver may see the event twice
(deliveries are at least once), always with the same event id."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pytest

from tests.conftest import Mesh
from tests.e2e.test_webhooks import (
    Receiver,
    create_endpoint,
    emit,
    eventually,
    new_merchant,
    receivers,
    settled_delivery,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
__all__ = ["receivers"]  # the fixture


def _restarted(mesh: Mesh, old_pid: int) -> bool:
    try:
        return mesh.pid_of("worker") != old_pid
    except (FileNotFoundError, ValueError):
        return False


def test_a_worker_killed_mid_delivery_loses_nothing(
    mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api = new_merchant(mesh)
    # The first request is held open for 8 s (the worker dies meanwhile); the next ones are
    # answered at once.
    receiver = receivers(script=[("hang", 8, 200)])
    endpoint = create_endpoint(api, receiver.url)
    worker = mesh.pid_of("worker")
    event_id = emit(mesh, api)

    eventually(lambda: receiver.requests, timeout=30, every=0.05)
    os.kill(worker, signal.SIGKILL)
    eventually(lambda: _restarted(mesh, worker), timeout=30)
    done = settled_delivery(api, event_id, endpoint["id"], timeout=60)

    assert done["status"] == "SUCCEEDED"
    lost, *_, delivered = done["attempts"]
    assert (lost["attempt_number"], lost["http_status"]) == (1, 0)
    assert "worker" in lost["error"]
    assert (delivered["http_status"], delivered["error"]) == (200, "")
    answered = receiver.delivered(endpoint["secret"])
    assert answered and {event["id"] for event in answered} == {event_id}
    assert {r.headers["PayLoops-Event-Id"] for r in receiver.requests} == {event_id}
