"""envoy/envoy.yaml as rendered by cli.envoy_config: valid for the real Envoy, and every reply
Envoy makes up itself is google.rpc.Status JSON."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
import yaml
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

from cli import envoy_config, probes
from cli.binaries import find_binary
from payloops.v1 import orders_pb2, orders_pb2_grpc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listeners(config: dict) -> dict[str, dict]:
    return {item["name"]: item for item in config["static_resources"]["listeners"]}


def _hcm(listener: dict) -> dict:
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def _http_filter(listener: dict, name: str) -> dict:
    return next(f["typed_config"] for f in _hcm(listener)["http_filters"] if f["name"] == name)


def test_render_fills_in_ports_addresses_and_paths(tmp_path: Path) -> None:
    descriptor = tmp_path / "api.binpb"
    config = yaml.safe_load(
        envoy_config.render(
            http_port=18080,
            grpc_port=18081,
            admin_socket=tmp_path / "admin.sock",
            edge_address="127.0.0.1:50999",
            descriptor_path=descriptor,
            access_log_path=tmp_path / "access.log",
        )
    )

    # No TCP port: anything on the host that makes HTTP requests for others (a merchant's
    # webhook) could reach one.
    assert config["admin"]["address"] == {
        "pipe": {"path": str(tmp_path / "admin.sock"), "mode": 0o600}
    }
    listeners = _listeners(config)
    assert listeners["rest"]["address"]["socket_address"]["port_value"] == 18080
    assert listeners["grpc"]["address"]["socket_address"]["port_value"] == 18081
    for listener in listeners.values():
        assert listener["address"]["socket_address"]["address"] == "127.0.0.1"
        assert _hcm(listener)["access_log"][0]["typed_config"]["path"] == str(
            tmp_path / "access.log"
        )
    edge = config["static_resources"]["clusters"][0]
    endpoint = edge["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 50999}

    transcoder = _http_filter(listeners["rest"], "envoy.filters.http.grpc_json_transcoder")
    assert transcoder["proto_descriptor"] == str(descriptor)
    assert transcoder["services"] == [
        "payloops.v1.OrderService",
        "payloops.v1.RoutingService",
        "payloops.v1.HealthService",
        "payloops.v1.ProcessorService",
        "payloops.v1.ProcessorAccountService",
        "payloops.v1.ProcessorWebhookService",
        "payloops.v1.RefundService",
        "payloops.v1.WebhookEndpointService",
        "payloops.v1.EventService",
    ]
    assert transcoder["convert_grpc_status"] is True
    assert transcoder["match_incoming_request_route"] is True
    assert transcoder["auto_mapping"] is False
    assert transcoder["case_insensitive_enum_parsing"] is True
    assert transcoder["request_validation_options"] == {
        "reject_unknown_method": True,
        "reject_unknown_query_parameters": True,
        "reject_binding_body_field_collisions": True,
    }


def test_rest_routes_have_payment_safe_timeouts_and_retries() -> None:
    config = yaml.safe_load(envoy_config.render())
    vhost = _hcm(_listeners(config)["rest"])["route_config"]["virtual_hosts"][0]
    routes = {route["name"]: route for route in vhost["routes"]}
    assert routes["pay_order"]["route"]["timeout"] == "30s"
    for name in ("pay_order", "create_order"):
        assert routes[name]["route"]["retry_policy"]["retry_on"] == (
            "connect-failure,refused-stream,reset-before-request"
        )
        assert "per_try_timeout" not in routes[name]["route"]["retry_policy"]
    # The header_mutation filter that strips grpc-status must come before the transcoder.
    names = [f["name"] for f in _hcm(_listeners(config)["rest"])["http_filters"]]
    assert names.index("envoy.filters.http.header_mutation") < names.index(
        "envoy.filters.http.grpc_json_transcoder"
    )
    assert names[-1] == "envoy.filters.http.router"


@pytest.mark.parametrize(
    "tracing", [None, envoy_config.Tracing("127.0.0.1", 4317, 200)], ids=["plain", "traced"]
)
def test_rendered_config_passes_envoy_validate(
    tmp_path: Path, tracing: envoy_config.Tracing | None
) -> None:
    path = tmp_path / "envoy.yaml"
    path.write_text(
        envoy_config.render(
            http_port=free_port(),
            grpc_port=free_port(),
            admin_socket=tmp_path / "admin.sock",
            edge_address="127.0.0.1:50051",
            descriptor_path=envoy_config.DEFAULT_DESCRIPTOR,
            access_log_path=tmp_path / "access.log",
            tracing=tracing,
        )
    )
    result = envoy_config.validate(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_envoy_traces_only_when_the_services_export_otlp() -> None:
    otlp = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert envoy_config.Tracing.from_env({}) is None
    assert envoy_config.Tracing.from_env({"OTEL_TRACES_EXPORTER": "console"}) is None
    assert envoy_config.Tracing.from_env(otlp | {"OTEL_SDK_DISABLED": "true"}) is None
    assert envoy_config.Tracing.from_env(otlp) == envoy_config.Tracing("collector", 4318, 5000)
    assert envoy_config.Tracing.from_env(
        otlp
        | {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://10.0.0.7:4317",
            "OTEL_BSP_SCHEDULE_DELAY": "250",
        }
    ) == envoy_config.Tracing("10.0.0.7", 4317, 250)


def test_validate_command_exits_with_envoys_code() -> None:
    assert envoy_config.main(["--validate"]) == 0


@contextlib.contextmanager
def running_envoy(tmp_path: Path) -> Iterator[str]:
    """Real Envoy in front of an edge address where nothing listens."""
    http_port, admin_socket = free_port(), tmp_path / "admin.sock"
    config = tmp_path / "envoy.yaml"
    config.write_text(
        envoy_config.render(
            http_port=http_port,
            grpc_port=free_port(),
            admin_socket=admin_socket,
            edge_address=f"127.0.0.1:{free_port()}",
            descriptor_path=envoy_config.DEFAULT_DESCRIPTOR,
            access_log_path=tmp_path / "access.log",
        )
    )
    log = (tmp_path / "envoy.log").open("wb")
    process = subprocess.Popen(
        [
            str(find_binary("envoy")),
            "-c",
            str(config),
            "--disable-hot-restart",
            "--log-level",
            "warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, (tmp_path / "envoy.log").read_text()
            if probes.unix_http_ok(admin_socket, "/ready", expect_body="LIVE"):
                break
            assert time.monotonic() < deadline, "envoy not ready"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{http_port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _status(response: httpx.Response) -> tuple[status_pb2.Status, error_details_pb2.ErrorInfo]:
    assert response.headers["content-type"] == "application/json"
    assert "grpc-status" not in response.headers
    status = json_format.Parse(response.text, status_pb2.Status())  # strict: no unknown fields
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.domain == "payloops.dev"
    return status, info


def test_envoys_own_errors_are_rpc_status_json(tmp_path: Path) -> None:
    with (
        running_envoy(tmp_path) as base,
        httpx.Client(base_url=base, timeout=10, trust_env=False) as api,
    ):
        cases = {
            "unknown path": (api.get("/v1/nothing"), 404, 5, "ROUTE_NOT_FOUND"),
            "wrong verb": (api.delete("/v1/orders/ord_1"), 404, 5, "ROUTE_NOT_FOUND"),
            "bad JSON": (api.post("/v1/orders", content=b'{"amount": '), 400, 3, "INVALID_REQUEST"),
            "wrong type": (
                api.post("/v1/orders", json={"amount": "lots"}),
                400,
                3,
                "INVALID_REQUEST",
            ),
            "unknown query parameter": (api.get("/v1/orders?bogus=1"), 400, 3, "INVALID_REQUEST"),
            "too large": (
                api.post("/v1/orders", json={"description": "x" * 70_000}),
                413,
                3,
                "REQUEST_TOO_LARGE",
            ),
            "escaped slash": (api.get("/v1/orders/a%2Fb"), 400, 3, "INVALID_REQUEST"),
            "edge down": (api.get("/health"), 503, 14, "SERVICE_UNAVAILABLE"),
        }
        for case, (response, http_status, code, reason) in cases.items():
            assert response.status_code == http_status, (case, response.text)
            status, info = _status(response)
            assert (status.code, info.reason) == (code, reason), case
            assert status.message, case


def test_a_grpc_client_on_the_rest_listener_gets_a_grpc_error(tmp_path: Path) -> None:
    """Not an empty 200: the REST listener strips grpc-status from its replies, except here."""
    with running_envoy(tmp_path) as base:
        stub = orders_pb2_grpc.OrderServiceStub(grpc.insecure_channel(base.removeprefix("http://")))
        with pytest.raises(grpc.RpcError) as raised:
            stub.GetOrder(orders_pb2.GetOrderRequest(order="ord_1"), timeout=10)
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert raised.value.details() == "native gRPC is served on the gRPC listener"


def test_bin_headers_never_reach_the_edge_but_business_headers_do() -> None:
    """Static check of the header rules (the e2e tests see the edge's side)."""
    config = yaml.safe_load(envoy_config.render())
    hcm = _hcm(_listeners(config)["rest"])
    mutation = hcm["early_header_mutation_extensions"][0]["typed_config"]["mutations"]
    assert {"remove_on_match": {"key_matcher": {"suffix": "-bin"}}} in mutation
    text = yaml.safe_dump(hcm)
    for header in ("authorization", "idempotency-key", "x-correlation-id"):
        assert f"remove: {header}" not in text.lower()


def test_render_rejects_an_admin_socket_path_too_long_for_a_unix_socket() -> None:
    with pytest.raises(ValueError, match="admin socket"):
        envoy_config.render(admin_socket="/tmp/" + "x" * 110)


@pytest.mark.parametrize("edge_address", ["50051", "localhost:", ":50051"])
def test_render_rejects_bad_edge_address(edge_address: str) -> None:
    with pytest.raises(ValueError):
        envoy_config.render(edge_address=edge_address)
