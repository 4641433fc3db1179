"""Webhooks cannot be turned against the platform (SSRF), through the real mesh.

A mesh of its own whose operator admits ALL of loopback for test-mode receivers: even so,
every address the mesh listens on (Envoy's listeners, the edge, Temporal, the sandboxes' gRPC
and 3-D Secure pages, the gateway adapters) is refused as a destination, at creation and at
delivery, in both modes; metadata and link-local addresses are refused whatever the
allow-list; Envoy's admin API has no TCP port at all (a unix socket), so no delivery can reach
it. The shared mesh (`payloops dev`'s default allow-list) shows where a developer's receiver
may listen, and that no URL field of the API takes spaces or control characters.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cli import probes
from core.webhooks.destinations import parse_listeners
from payloops.v1 import webhooks_pb2, webhooks_pb2_grpc
from tests.conftest import (
    Mesh,
    fake_gateway_credentials,
    free_port,
    read_env_file,
    receiver_port,
    retire_mesh,
    start_mesh,
)
from tests.e2e.mesh_db import sql
from tests.e2e.test_webhooks import (
    Receiver,
    create_endpoint,
    delivery_to,
    emit,
    eventually,
    new_merchant,
    receivers,
    settled_delivery,
    violations,
)
from tests.fakes.razorpay_api import RazorpayFake
from tests.fakes.stripe_api import FakeStripe

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
__all__ = ["receivers"]  # the fixture

METADATA_URLS = (
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://[fe80::a9fe:a9fe]/latest/meta-data/",
)


def both_modes(mesh: Mesh) -> tuple[httpx.Client, httpx.Client]:
    """Clients of one merchant's test key and live key."""
    _, test_key, live_key = mesh.new_live_merchant("webhook destinations")
    return mesh.client(test_key), mesh.client(live_key)


@pytest.fixture(scope="module")
def wide_mesh() -> Iterator[Mesh]:
    """`payloops dev` with an allow-list admitting every loopback port."""
    with FakeStripe() as stripe, RazorpayFake() as razorpay:
        started = start_mesh(
            {
                "PAYLOOPS_WEBHOOK_TEST_ALLOWLIST": "127.0.0.1,[::1]",
                "PAYLOOPS_STRIPE_API_BASE": stripe.base_url,
                "PAYLOOPS_RAZORPAY_API_BASE": razorpay.url,
            }
        )
        try:
            yield started
        finally:
            retire_mesh(
                started.process, started.state_dir, fake_gateway_credentials(stripe, razorpay)
            )


def tcp_listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def mesh_ports(mesh: Mesh) -> dict[str, int]:
    """Every port the mesh listens on, by what listens there."""
    env = mesh.env
    found = {
        "envoy rest": port_of(mesh.api_url),
        "envoy grpc": port_of(mesh.grpc_target),
        "edge": port_of(env["PAYLOOPS_EDGE_TARGET"]),
        "temporal": port_of(env["PAYLOOPS_TEMPORAL_ADDRESS"]),
    }
    for key, value in env.items():
        if key.startswith("PAYLOOPS_PROCESSOR_") and key.endswith("_TARGET"):
            found[key] = port_of(value)
        if key.startswith("PAYLOOPS_SANDBOX_") and key.endswith("_HTTP"):
            found[key] = port_of(urlsplit(value).netloc)
    # Temporal's HTTP API and metrics, which `payloops dev` pins and declares.
    for listener in parse_listeners(env["PAYLOOPS_PLATFORM_LISTENERS"]):
        found.setdefault(f"declared {listener}", listener.port)
    # And whatever else the mesh's own processes listen on (Temporal's internal services
    # excepted: their ports are the server's own choice, see docs/api-safety.md).
    services = ["envoy", "edge", "worker", "stripe", "razorpay"]
    services += [path.stem for path in (mesh.state_dir / "run").glob("sandbox-*.pid")]
    for name in services:
        for port in tcp_listening_ports(mesh.pid_of(name)):
            found.setdefault(f"{name} listening", port)
    return found


def test_every_listener_of_the_mesh_is_refused_though_the_allowlist_admits_loopback(
    wide_mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    api, live = both_modes(wide_mesh)
    with live:
        for name, port in mesh_ports(wide_mesh).items():
            for host in ("127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"):
                for client, scheme in ((api, "http"), (api, "https"), (live, "https")):
                    url = f"{scheme}://{host}:{port}/logging?level=trace"
                    refused = client.post(
                        "/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}
                    )
                    assert refused.status_code == 400, (name, url, refused.text)
                    assert violations(refused) == {
                        "webhook_endpoint.url": "URL_ADDRESS_NOT_ALLOWED"
                    }, (name, url)
                    assert str(port) not in refused.json()["message"]

    # Anything else on loopback is the developer's receiver, as the operator allowed.
    receiver = receivers(port=free_port())
    endpoint = create_endpoint(api, receiver.url, ["order.succeeded"])
    event_id = emit(wide_mesh, api)
    assert settled_delivery(api, event_id, endpoint["id"])["status"] == "SUCCEEDED"
    assert [e["id"] for e in receiver.delivered(endpoint["secret"])] == [event_id]


def test_envoys_admin_api_has_no_tcp_port_only_an_owner_only_socket(wide_mesh: Mesh) -> None:
    """What the attacker did: a webhook to the admin port's /logging, or /quitquitquit. There
    is no such port: Envoy's only TCP ports are its two API listeners."""
    listening = tcp_listening_ports(wide_mesh.pid_of("envoy"))
    assert listening == {port_of(wide_mesh.api_url), port_of(wide_mesh.grpc_target)}
    with httpx.Client(base_url=wide_mesh.api_url, timeout=10) as rest:
        assert rest.post("/quitquitquit").status_code == 404
    socket_path = Path(wide_mesh.env["PAYLOOPS_ENVOY_ADMIN_SOCKET"])
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    assert probes.unix_http_ok(socket_path, "/ready", expect_body="LIVE")
    assert "PAYLOOPS_ENVOY_ADMIN_URL" not in read_env_file(wide_mesh.state_dir / "dev.env")


def test_metadata_and_link_local_addresses_are_refused_in_both_modes(wide_mesh: Mesh) -> None:
    api, live = both_modes(wide_mesh)
    with live:
        for url in METADATA_URLS:
            for client, scheme in ((api, "http"), (api, "https"), (live, "https")):
                wanted = {"url": url.replace("http:", f"{scheme}:"), "enabled_events": ["*"]}
                refused = client.post("/v1/webhook_endpoints", json=wanted)
                assert refused.status_code == 400, (wanted, refused.text)
                assert violations(refused) == {"webhook_endpoint.url": "URL_ADDRESS_NOT_ALLOWED"}, (
                    wanted
                )


def test_a_stored_url_that_now_points_at_the_platform_is_refused_at_delivery(
    wide_mesh: Mesh, receivers: Callable[..., Receiver]
) -> None:
    """The check is made again at every attempt: an endpoint whose URL now leads to one of the
    platform's listeners (stored before this check existed, or a name that resolves elsewhere
    now) is sent nothing, and its merchant sees a class, not where it leads."""
    api = new_merchant(wide_mesh)
    receiver = receivers(port=free_port())
    endpoint = create_endpoint(api, receiver.url, ["order.succeeded"])
    sandbox_pages = wide_mesh.env["PAYLOOPS_SANDBOX_SANDBOX_HTTP"]
    sql(
        wide_mesh,
        "update webhook_endpoints set url = :url where id = :id",
        url=f"{sandbox_pages}/payloops/hooks",
        id=endpoint["id"],
    )
    event_id = emit(wide_mesh, api)
    try:
        delivery = eventually(
            lambda: (d := delivery_to(api, event_id, endpoint["id"])) and d["attempts"] and d,
            timeout=30,
        )
    finally:
        api.delete(f"/v1/webhook_endpoints/{endpoint['id']}")  # no more retries
    assert [(a["http_status"], a["error"]) for a in delivery["attempts"][:1]] == [
        (0, "destination_not_allowed")
    ]
    assert receiver.requests == []


# -- on the shared mesh, with `payloops dev`'s default allow-list ---------------------------


def test_dev_admits_loopback_receivers_below_the_ephemeral_range_only(mesh: Mesh) -> None:
    api = new_merchant(mesh)
    assert create_endpoint(api, f"http://127.0.0.1:{receiver_port()}/hooks")["id"]
    assert create_endpoint(api, f"http://localhost:{receiver_port()}/hooks")["id"]
    for url, why in (
        # Where any process asking for "a free port" lands: the mesh's own, among others.
        (f"http://127.0.0.1:{free_port()}/hooks", "URL_ADDRESS_NOT_ALLOWED"),
        (f"http://127.0.0.1:{port_of(mesh.api_url)}/hooks", "URL_ADDRESS_NOT_ALLOWED"),
        ("http://127.0.0.1:22/hooks", "URL_ADDRESS_NOT_ALLOWED"),
        ("http://10.0.0.1:8000/hooks", "URL_ADDRESS_NOT_ALLOWED"),
        ("http://93.184.215.14/hooks", "URL_NOT_HTTPS"),
    ):
        refused = api.post("/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]})
        assert violations(refused) == {"webhook_endpoint.url": why}, url


HOSTILE_URLS = (
    "https://93.184.215.14/hooks\r\nX-Injected: 1",
    "https://93.184.215.14/hooks\n",
    "https://93.184.215.14/ho oks",
    "https://93.184.215.14/hooks\t",
    " https://93.184.215.14/hooks",
    "https://93.184.215.14/hooks\x7f",
    "https://93.184.215.14/hooks\u2028",
)


def test_no_url_field_takes_spaces_or_control_characters(mesh: Mesh) -> None:
    api, live = both_modes(mesh)
    existing = create_endpoint(api, "https://93.184.215.14/hooks")
    with live:
        for url in HOSTILE_URLS:
            for client in (api, live):
                created = client.post(
                    "/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}
                )
                assert violations(created) == {"webhook_endpoint.url": "URL_CONTROL_CHARACTER"}, url
            updated = api.patch(f"/v1/webhook_endpoints/{existing['id']}", json={"url": url})
            assert violations(updated) == {"webhook_endpoint.url": "URL_CONTROL_CHARACTER"}, url
            order = api.post(
                "/v1/orders", json={"amount": 100, "currency": "USD", "return_url": url}
            )
            assert violations(order) == {"return_url": "URL_CONTROL_CHARACTER"}, url
        for url in ("https://93.184.215.14/a\x00b",):
            # NUL: refused too (by this check or by the edge's check of every string field).
            for response in (
                api.post("/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}),
                api.post("/v1/orders", json={"amount": 100, "currency": "USD", "return_url": url}),
            ):
                assert response.status_code == 400, response.text
    stored = sql(mesh, "select url from webhook_endpoints where id = :id", id=existing["id"])
    assert stored == [("https://93.184.215.14/hooks",)]


def test_control_characters_are_refused_over_native_grpc_too(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("grpc webhooks")
    stub = webhooks_pb2_grpc.WebhookEndpointServiceStub(grpc.insecure_channel(mesh.grpc_target))
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateWebhookEndpoint(
            webhooks_pb2.CreateWebhookEndpointRequest(
                webhook_endpoint=webhooks_pb2.WebhookEndpoint(
                    url="https://93.184.215.14/hooks\r\nX-Injected: 1", enabled_events=["*"]
                )
            ),
            metadata=(("authorization", f"Bearer {key}"),),
            timeout=10,
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert any(detail.Unpack(bad_request) for detail in status.details)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [
        ("webhook_endpoint.url", "URL_CONTROL_CHARACTER")
    ]
