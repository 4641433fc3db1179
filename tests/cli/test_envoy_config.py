"""envoy/envoy.yaml as rendered by cli.envoy_config: valid for the real Envoy, and every reply
Envoy makes up itself is google.rpc.Status JSON."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import re
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
import yaml
from google.protobuf import descriptor_pb2, json_format
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from cli import dev_services, envoy_config, page_scripts, probes
from cli.binaries import find_binary
from cli.state import StatePaths
from edge.server import MAX_METADATA_BYTES, SERVER_OPTIONS
from payloops.v1 import orders_pb2, orders_pb2_grpc
from tests import raw_http
from tests.cli.broken_processor import self_signed_for_127_0_0_1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listeners(config: dict) -> dict[str, dict]:
    return {item["name"]: item for item in config["static_resources"]["listeners"]}


def _hcm(listener: dict) -> dict:
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def _early_mutations(hcm: dict) -> list[dict]:
    return [
        mutation
        for extension in hcm["early_header_mutation_extensions"]
        for mutation in extension["typed_config"]["mutations"]
    ]


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
        for logger in _hcm(listener)["access_log"]:
            assert logger["typed_config"]["path"] == str(tmp_path / "access.log")
    edge = config["static_resources"]["clusters"][0]
    endpoint = edge["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 50999}

    transcoder = _http_filter(listeners["rest"], "envoy.filters.http.grpc_json_transcoder")
    assert transcoder["proto_descriptor"] == str(descriptor)
    # Every public service (every service of payloops.v1 in the descriptor set), in REST too.
    assert sorted(transcoder["services"]) == public_services()
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
    "tracing",
    [
        None,
        envoy_config.Tracing("127.0.0.1", 4317, 200),
        envoy_config.Tracing("127.0.0.1", 4318, 200, http_path="/v1/traces"),
        envoy_config.Tracing("127.0.0.1", 4318, 200, http_path="/v1/traces", ca_file="ca.pem"),
        envoy_config.Tracing("collector.example", 4317, 200, ca_file="ca.pem"),
    ],
    ids=["plain", "traced", "traced-over-http", "traced-over-https", "traced-over-grpc-tls"],
)
def test_rendered_config_passes_envoy_validate(
    tmp_path: Path, tracing: envoy_config.Tracing | None
) -> None:
    if tracing and tracing.ca_file:
        (tmp_path / "ca.pem").write_bytes(self_signed_for_127_0_0_1()[1])
        tracing = dataclasses.replace(tracing, ca_file=str(tmp_path / "ca.pem"))
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


def test_envoy_traces_over_http_when_the_services_do() -> None:
    """As the OTLP specification reads the variables: the common endpoint with /v1/traces
    after its path, the traces endpoint as given; the traces' own protocol wins."""
    http = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    assert envoy_config.Tracing.from_env(http) == envoy_config.Tracing(
        "localhost", 4318, 5000, http_path="/v1/traces"
    )
    assert envoy_config.Tracing.from_env(
        http | {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/otlp/"}
    ) == envoy_config.Tracing("collector", 4318, 5000, http_path="/otlp/v1/traces")
    assert envoy_config.Tracing.from_env(
        http | {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://10.0.0.7:9000/traces"}
    ) == envoy_config.Tracing("10.0.0.7", 9000, 5000, http_path="/traces")
    assert envoy_config.Tracing.from_env(
        http | {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}
    ) == envoy_config.Tracing("localhost", 4317, 5000)


def test_envoy_traces_over_tls_to_an_https_collector() -> None:
    """An https endpoint is TLS to the collector, trusting the certificate file the services'
    exporters are told to trust (the traces' own first), else the system's certificates."""
    tls = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example"}
    assert envoy_config.Tracing.from_env(tls) == envoy_config.Tracing(
        "otel.example", 4317, 5000, ca_file=envoy_config.SYSTEM_CA_BUNDLE
    )
    assert envoy_config.Tracing.from_env(
        tls | {"OTEL_EXPORTER_OTLP_CERTIFICATE": "/etc/otel/ca.pem"}
    ) == envoy_config.Tracing("otel.example", 4317, 5000, ca_file="/etc/otel/ca.pem")
    assert envoy_config.Tracing.from_env(
        tls
        | {
            "OTEL_EXPORTER_OTLP_CERTIFICATE": "/etc/otel/ca.pem",
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "/etc/otel/traces-ca.pem",
        }
    ) == envoy_config.Tracing("otel.example", 4317, 5000, ca_file="/etc/otel/traces-ca.pem")
    plain = tls | {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel.example"}
    assert envoy_config.Tracing.from_env(
        plain | {"OTEL_EXPORTER_OTLP_CERTIFICATE": "/etc/otel/ca.pem"}
    ) == envoy_config.Tracing("otel.example", 4317, 5000)
    # A certificate for a name is checked for that name, and Envoy says it (SNI).
    [collector] = [
        cluster
        for cluster in yaml.safe_load(
            envoy_config.render(tracing=envoy_config.Tracing.from_env(tls))
        )["static_resources"]["clusters"]
        if cluster["name"] == "opentelemetry_collector"
    ]
    context = collector["transport_socket"]["typed_config"]
    assert context["sni"] == "otel.example"
    assert context["common_tls_context"]["alpn_protocols"] == ["h2"]
    assert context["common_tls_context"]["validation_context"] == {
        "trusted_ca": {"filename": envoy_config.SYSTEM_CA_BUNDLE},
        "match_typed_subject_alt_names": [
            {"san_type": "DNS", "matcher": {"exact": "otel.example"}}
        ],
    }


def _spans_exported(
    tmp_path: Path, tracing: envoy_config.Tracing, tls: ssl.SSLContext | None, wait_s: float
) -> list[tuple[str, str, bytes]]:
    """What a receiver of OTLP/HTTP (over TLS with `tls`) is POSTed within `wait_s` of a request
    through Envoy (to an edge that is not there)."""
    received: list[tuple[str, str, bytes]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.path, self.headers["Content-Type"], self._body()))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _body(self) -> bytes:
            if self.headers["Content-Length"] is not None:
                return self.rfile.read(int(self.headers["Content-Length"]))
            # Envoy streams some exports chunked.
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver) as receiver:
        if tls is not None:
            receiver.socket = tls.wrap_socket(receiver.socket, server_side=True)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        tracing = dataclasses.replace(tracing, collector_port=receiver.server_port)
        try:
            with running_envoy(tmp_path, tracing=tracing) as envoy:
                httpx.get(f"{envoy.rest_url}/v1/orders/ord_traced", timeout=10)
                deadline = time.monotonic() + wait_s
                while not received and time.monotonic() < deadline:
                    time.sleep(0.1)
        finally:
            receiver.shutdown()
    return received


def _tls_receiver(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A receiver's TLS with a self-signed certificate for 127.0.0.1, and that certificate."""
    key, cert = self_signed_for_127_0_0_1()
    (tmp_path / "receiver.key").write_bytes(key)
    (tmp_path / "receiver.pem").write_bytes(cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "receiver.pem", tmp_path / "receiver.key")
    return context, tmp_path / "receiver.pem"


@pytest.mark.parametrize("over_tls", [False, True], ids=["http", "https"])
def test_envoy_sends_its_spans_to_a_real_otlp_http_receiver(tmp_path: Path, over_tls: bool) -> None:
    """OTLP/HTTP, in clear or over TLS: a request through Envoy becomes a span that reaches a
    receiver as a protobuf ExportTraceServiceRequest POSTed to its traces path."""
    tracing = envoy_config.Tracing("127.0.0.1", 0, 100, http_path="/v1/traces")
    tls = None
    if over_tls:
        tls, cert = _tls_receiver(tmp_path)
        tracing = dataclasses.replace(tracing, ca_file=str(cert))
    received = _spans_exported(tmp_path, tracing, tls, wait_s=20)
    assert received, "no OTLP/HTTP export from Envoy"
    path, content_type, body = received[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    [spans] = trace_service_pb2.ExportTraceServiceRequest.FromString(body).resource_spans
    service = {a.key: a.value.string_value for a in spans.resource.attributes}
    assert service["service.name"] == "payloops-envoy"
    assert [span for scope in spans.scope_spans for span in scope.spans]


def test_envoy_sends_no_span_to_a_collector_its_certificates_do_not_vouch_for(
    tmp_path: Path,
) -> None:
    """Envoy verifies the collector: a receiver whose certificate is not the trusted one gets
    nothing, though its address is right (with the trusted one it gets spans, above)."""
    tls, _ = _tls_receiver(tmp_path)
    (tmp_path / "other-ca.pem").write_bytes(self_signed_for_127_0_0_1()[1])
    tracing = envoy_config.Tracing(
        "127.0.0.1", 0, 100, http_path="/v1/traces", ca_file=str(tmp_path / "other-ca.pem")
    )
    assert _spans_exported(tmp_path, tracing, tls, wait_s=3) == []


def test_validate_command_exits_with_envoys_code() -> None:
    assert envoy_config.main(["--validate"]) == 0


@dataclass(frozen=True)
class RunningEnvoy:
    rest_port: int
    grpc_port: int
    access_log: Path

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"


@contextlib.contextmanager
def running_envoy(
    tmp_path: Path,
    rate_limit: envoy_config.RateLimit | None = None,
    tracing: envoy_config.Tracing | None = None,
) -> Iterator[RunningEnvoy]:
    """Real Envoy in front of an edge address where nothing listens. Its access log is
    complete once the block is left (Envoy flushes it as it stops); so is its stats dump,
    written to stats.txt from the admin socket just before it stops."""
    http_port, grpc_port, admin_socket = free_port(), free_port(), tmp_path / "admin.sock"
    config = tmp_path / "envoy.yaml"
    config.write_text(
        envoy_config.render(
            http_port=http_port,
            grpc_port=grpc_port,
            admin_socket=admin_socket,
            edge_address=f"127.0.0.1:{free_port()}",
            descriptor_path=envoy_config.DEFAULT_DESCRIPTOR,
            access_log_path=tmp_path / "access.log",
            rate_limit=rate_limit,
            tracing=tracing,
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
        yield RunningEnvoy(http_port, grpc_port, tmp_path / "access.log")
        with httpx.Client(
            transport=httpx.HTTPTransport(uds=str(admin_socket)), timeout=10, trust_env=False
        ) as admin:
            (tmp_path / "stats.txt").write_text(admin.get("http://localhost/stats").text)
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
        running_envoy(tmp_path) as envoy,
        httpx.Client(base_url=envoy.rest_url, timeout=10, trust_env=False) as api,
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


TINY_RATE_LIMIT = envoy_config.RateLimit(per_second=1, burst=2)


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_a_key_over_its_rate_limit_gets_429_in_the_status_shape(tmp_path: Path) -> None:
    busy, other = "sk_test_ratelimitbusy0123456789", "sk_test_ratelimitother0123456789"
    with (
        running_envoy(tmp_path, TINY_RATE_LIMIT) as envoy,
        httpx.Client(base_url=envoy.rest_url, timeout=10, trust_env=False) as api,
    ):
        # The edge is down: requests within the limit get through Envoy to the 503.
        within = [
            api.get("/v1/orders", headers=_bearer(busy)) for _ in range(TINY_RATE_LIMIT.burst)
        ]
        over = api.get("/v1/orders", headers=_bearer(busy))
        # Another key has its own bucket; a request without a key is not limited per key.
        others = [api.get("/v1/orders", headers=_bearer(other)) for _ in range(2)]
        keyless = [api.get("/health") for _ in range(TINY_RATE_LIMIT.burst + 1)]

    assert [response.status_code for response in within] == [503] * TINY_RATE_LIMIT.burst
    assert over.status_code == 429, over.text
    assert over.headers["retry-after"] == "1"
    status, info = _status(over)
    assert (status.code, info.reason) == (8, "RATE_LIMITED")
    assert info.metadata["request_id"] == over.headers["x-request-id"]
    assert [response.status_code for response in others] == [503, 503]
    assert [response.status_code for response in keyless] == [503] * len(keyless)
    # The key is a secret: no stat name, log line or reply holds it.
    for output in ("envoy.log", "access.log", "stats.txt"):
        text = (tmp_path / output).read_text()
        assert "ratelimitbusy" not in text and "ratelimitother" not in text, output
    assert "ratelimit" not in over.text
    assert (
        "per_api_key.http_local_rate_limit.rate_limited: 1" in (tmp_path / "stats.txt").read_text()
    )


def test_a_grpc_caller_over_its_rate_limit_gets_resource_exhausted(tmp_path: Path) -> None:
    key = "sk_test_ratelimitgrpc0123456789"
    with running_envoy(tmp_path, TINY_RATE_LIMIT) as envoy:
        stub = orders_pb2_grpc.OrderServiceStub(
            grpc.insecure_channel(f"127.0.0.1:{envoy.grpc_port}")
        )
        codes = []
        for _ in range(TINY_RATE_LIMIT.burst + 1):
            with pytest.raises(grpc.RpcError) as raised:
                stub.GetOrder(
                    orders_pb2.GetOrderRequest(order="ord_1"),
                    metadata=tuple(_bearer(key).items()),
                    timeout=10,
                )
            codes.append(raised.value.code())
    assert codes == [grpc.StatusCode.UNAVAILABLE] * TINY_RATE_LIMIT.burst + [
        grpc.StatusCode.RESOURCE_EXHAUSTED
    ]
    assert "ratelimitgrpc" not in (tmp_path / "envoy.log").read_text()


def test_a_grpc_client_on_the_rest_listener_gets_a_grpc_error(tmp_path: Path) -> None:
    """Not an empty 200: the REST listener strips grpc-status from its replies, except here."""
    with running_envoy(tmp_path) as envoy:
        stub = orders_pb2_grpc.OrderServiceStub(
            grpc.insecure_channel(f"127.0.0.1:{envoy.rest_port}")
        )
        with pytest.raises(grpc.RpcError) as raised:
            stub.GetOrder(orders_pb2.GetOrderRequest(order="ord_1"), timeout=10)
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert raised.value.details() == "native gRPC is served on the gRPC listener"


def test_bin_headers_never_reach_the_edge_but_business_headers_do() -> None:
    """Static check of the header rules (the e2e tests see the edge's side)."""
    config = yaml.safe_load(envoy_config.render())
    hcm = _hcm(_listeners(config)["rest"])
    assert {"remove_on_match": {"key_matcher": {"suffix": "-bin"}}} in _early_mutations(hcm)
    grpc_listener = _hcm(_listeners(config)["grpc"])
    assert {"remove_on_match": {"key_matcher": {"suffix": "-bin"}}} not in _early_mutations(
        grpc_listener
    )
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


PAN = "4242424242424242"


def test_envoys_own_errors_never_quote_the_request(tmp_path: Path) -> None:
    """The transcoder's messages quote the JSON, path or query value they refused, which may
    be a card number: Envoy answers in fixed words instead."""
    with (
        running_envoy(tmp_path) as envoy,
        httpx.Client(base_url=envoy.rest_url, timeout=10, trust_env=False) as api,
    ):
        json_body = {"content-type": "application/json"}
        cases = {
            "bad JSON": api.post(
                "/v1/orders", content=f'{{"amount": 1, "currency": {PAN}x}}', headers=json_body
            ),
            "enum value": api.post("/v1/orders", json={"amount": 1, "capture_method": PAN}),
            "object for a string": api.post("/v1/orders", json={"currency": {PAN: 1}}),
            "unknown query parameter": api.get(f"/v1/orders?{PAN}=1"),
            "query value": api.get(f"/v1/orders?status={PAN}"),
            "query timestamp": api.get(f"/v1/orders?created_after={PAN}"),
            "path and body disagree": api.post(f"/v1/orders/{PAN}:pay", json={"order": "x"}),
            "unknown path": api.get(f"/v1/nothing/{PAN}"),
            "wrong verb": api.put(f"/v1/orders/{PAN}"),
        }
    for case, response in cases.items():
        assert response.status_code in (400, 404), (case, response.text)
        status, info = _status(response)
        assert info.reason in ("INVALID_REQUEST", "ROUTE_NOT_FOUND"), case
        assert PAN not in response.text, (case, response.text)
        assert status.message, case


def test_access_logs_hold_no_path_query_or_client_text(tmp_path: Path) -> None:
    """Route names, methods, codes and ids; nothing a client chose, which may hold a card
    number (the path and query, its headers, an HTTP/2 method of its own)."""
    with running_envoy(tmp_path) as envoy:
        with httpx.Client(base_url=envoy.rest_url, timeout=10, trust_env=False) as api:
            api.get(f"/v1/orders/{PAN}", headers={"x-request-id": PAN, "user-agent": PAN})
            api.get(f"/v1/orders?metadata_value={PAN}", headers={"x-envoy-original-path": PAN})
            api.get(f"/v1/nothing/{PAN}")
            api.post("/v1/orders", json={"description": PAN}, headers={"idempotency-key": PAN})
            api.get(f"/v1/orders/a%2F{PAN}")
        raw_http.http2(envoy.rest_port, _h2_request(f"/v1/orders/{PAN}", method=f"X{PAN}"))
        channel = grpc.insecure_channel(f"127.0.0.1:{envoy.grpc_port}")
        for path in (f"/payloops.v1.OrderService/{PAN}", f"/{PAN}", "/payloops.v1.OrderService/X"):
            with contextlib.suppress(grpc.RpcError):
                channel.unary_unary(path, request_serializer=bytes, response_deserializer=bytes)(
                    b"", metadata=(("x-correlation-id", PAN),), timeout=10
                )
        channel.close()
    lines = [json.loads(line) for line in envoy.access_log.read_text().splitlines()]
    assert len(lines) == 9
    assert not [line for line in lines if PAN in json.dumps(line)]
    assert not [line for line in lines if "path" in line]
    transcoded = [line for line in lines if line.get("grpc_method")]
    assert {(line["listener"], line["grpc_method"], line["route"]) for line in transcoded} == {
        ("rest", "/payloops.v1.OrderService/GetOrder", "read_orders"),
        ("rest", "/payloops.v1.OrderService/ListOrders", "read_orders"),
        ("rest", "/payloops.v1.OrderService/CreateOrder", "create_order"),
        ("grpc", "/payloops.v1.OrderService/X", "public_api"),
    }
    # Envoy has no request id yet for what it refuses before routing (the escaped slash).
    assert [line["details"] for line in lines if not line["request_id"]] == [
        "path_normalization_failed"
    ]


def _h2_request(path: str, method: str = "GET") -> list[tuple[bytes, bytes]]:
    return [
        (b":method", method.encode()),
        (b":scheme", b"http"),
        (b":path", path.encode()),
        (b":authority", b"127.0.0.1"),
    ]


def test_over_long_url_or_headers_are_refused_by_envoy_in_the_status_shape(
    tmp_path: Path,
) -> None:
    """A permanent 431 (INVALID_ARGUMENT over gRPC) that names no internal limit, over HTTP/1.1
    and HTTP/2, before the edge (which is not even running here)."""
    long = "x" * 45_000
    with running_envoy(tmp_path) as envoy:
        with httpx.Client(base_url=envoy.rest_url, timeout=10, trust_env=False) as api:
            http1 = [
                api.get(f"/v1/orders?currency={long}"),
                api.get(f"/v1/orders/{long}"),
                api.get("/v1/orders", headers={"x-correlation-id": long}),
                api.get("/v1/orders", headers={f"x-h{i}": "x" * 1000 for i in range(20)}),
            ]
        http2 = raw_http.http2(envoy.rest_port, _h2_request(f"/v1/orders?page_token={long}"))
        stub = orders_pb2_grpc.OrderServiceStub(
            grpc.insecure_channel(f"127.0.0.1:{envoy.grpc_port}")
        )
        with pytest.raises(grpc.RpcError) as over_grpc:
            stub.ListOrders(
                orders_pb2.ListOrdersRequest(), metadata=(("x-long", long),), timeout=10
            )
    for response in http1:
        assert response.status_code == 431, response.text
        status, info = _status(response)
        assert (status.code, info.reason) == (3, "HEADERS_TOO_LARGE")
        assert not any(char.isdigit() for char in status.message), status.message
    assert http2.status == 431, http2
    assert json.loads(http2.body)["details"][0]["reason"] == "HEADERS_TOO_LARGE"
    assert over_grpc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert over_grpc.value.details() == "The URL and headers of the request are too large."


def test_any_other_refusal_of_the_client_is_a_4xx_status(tmp_path: Path) -> None:
    """Even a refusal no mapper names (HTTP/1.0 gets a 426 from Envoy's codec)."""
    with running_envoy(tmp_path) as envoy:
        answer = raw_http.http1(envoy.rest_port, "GET", b"/v1/orders", [], version=b"HTTP/1.0")
    assert answer.status == 426
    assert answer.headers["content-type"] == "application/json"
    body = json.loads(answer.body)
    assert (body["code"], body["details"][0]["reason"]) == (3, "INVALID_REQUEST")


def test_client_text_is_never_a_local_reply_body() -> None:
    """Static: only the gRPC-on-REST reply (the route's own text) may use the reply body."""
    config = yaml.safe_load(envoy_config.render())
    mappers = _hcm(_listeners(config)["rest"])["local_reply_config"]["mappers"]
    quoting = [m for m in mappers if "%LOCAL_REPLY_BODY%" in json.dumps(m["body_format_override"])]
    assert len(quoting) == 1
    assert "text_format_source" in quoting[0]["body_format_override"]
    for mapper in mappers:
        assert "%REQ(:PATH)%" not in json.dumps(mapper)


def test_both_listeners_drop_the_header_names_grpc_forbids() -> None:
    config = yaml.safe_load(envoy_config.render())
    for name in ("rest", "grpc"):
        hcm = _hcm(_listeners(config)[name])
        mutations = _early_mutations(hcm)
        for dropped in ({"prefix": "x-envoy-"}, {"exact": "x-request-id"}):
            assert {"remove_on_match": {"key_matcher": dropped}} in mutations
        [regex] = [
            m["remove_on_match"]["key_matcher"]["safe_regex"]["regex"]
            for m in mutations
            if "safe_regex" in m["remove_on_match"]["key_matcher"]
        ]
        # Envoy's RE2 matches the whole name, as fullmatch does.
        for forbidden in ("x-bang!", "x~y", "x|y", "x:y", "x{y}", "!x", "x y", "é"):
            assert re.fullmatch(regex, forbidden), forbidden
        for kept in ("authorization", "idempotency-key", "x_y.z-1", ":path", ":authority"):
            assert not re.fullmatch(regex, kept), kept


def test_the_edge_takes_all_the_metadata_envoy_lets_through() -> None:
    """Envoy's limit on the URL and headers (its Lua filter), counted twice (the REST path is
    also x-envoy-original-path) with room for Envoy's own headers, stays under the edge's
    gRPC metadata limit; and the codec's own bound is above Envoy's limit, so that the limit,
    not a stream reset, answers over HTTP/2."""
    config = yaml.safe_load(envoy_config.render())
    for name in ("rest", "grpc"):
        hcm = _hcm(_listeners(config)[name])
        lua = _http_filter(_listeners(config)[name], "headers_size_limit")
        match = re.search(r"LIMIT_BYTES = (\d+)", lua["default_source_code"]["inline_string"])
        assert match is not None
        limit = int(match.group(1))
        assert hcm["http_filters"][0]["name"] == "headers_size_limit"
        assert hcm["max_request_headers_kb"] * 1024 > 2 * limit
        assert 2 * limit + 8 * 1024 <= MAX_METADATA_BYTES
    assert ("grpc.max_metadata_size", MAX_METADATA_BYTES) in SERVER_OPTIONS
    assert ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES) in SERVER_OPTIONS


def test_traces_carry_no_request_path() -> None:
    """Envoy's spans would otherwise record the URL, query included, as http.url."""
    config = yaml.safe_load(envoy_config.render(tracing=envoy_config.Tracing("collector", 4317)))
    for listener in _listeners(config).values():
        assert _hcm(listener)["tracing"]["max_path_tag_length"] == 0


def test_envoys_refusals_of_a_grpc_call_are_the_clients_fault_not_internal(
    tmp_path: Path,
) -> None:
    with running_envoy(tmp_path) as envoy:
        channel = grpc.insecure_channel(f"127.0.0.1:{envoy.grpc_port}")
        escaped = channel.unary_unary(
            "/payloops.v1.OrderService/a%2Fb", request_serializer=bytes, response_deserializer=bytes
        )
        with pytest.raises(grpc.RpcError) as raised:
            escaped(b"", timeout=10)
        channel.close()
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == "Request rejected before routing: path_normalization_failed"


def test_rate_limit_comes_from_configuration() -> None:
    assert envoy_config.RateLimit.from_env({}) == envoy_config.RateLimit(100, 200)
    assert envoy_config.RateLimit.from_env(
        {"PAYLOOPS_RATE_LIMIT_PER_SECOND": "5"}
    ) == envoy_config.RateLimit(5, 10)
    assert envoy_config.RateLimit.from_env(
        {"PAYLOOPS_RATE_LIMIT_PER_SECOND": "5", "PAYLOOPS_RATE_LIMIT_BURST": "7"}
    ) == envoy_config.RateLimit(5, 7)
    generous = envoy_config.RateLimit(1000, 5000)
    assert envoy_config.RateLimit.from_env({}, default=generous) == generous
    for bad in ({"PAYLOOPS_RATE_LIMIT_PER_SECOND": "0"}, {"PAYLOOPS_RATE_LIMIT_BURST": "x"}):
        with pytest.raises(ValueError, match="PAYLOOPS_RATE_LIMIT"):
            envoy_config.RateLimit.from_env(bad)
    with pytest.raises(ValueError, match="burst"):
        envoy_config.RateLimit(per_second=10, burst=5)

    config = yaml.safe_load(envoy_config.render(rate_limit=envoy_config.RateLimit(3, 4)))
    for listener in _listeners(config).values():
        filters = _hcm(listener)["http_filters"]
        # Right after the header size limit: a refused request costs no buffering or
        # transcoding.
        assert filters[1]["name"] == "envoy.filters.http.local_ratelimit"
        limiter = filters[1]["typed_config"]
        assert limiter["rate_limited_as_resource_exhausted"] is True
        assert [d["token_bucket"] for d in limiter["descriptors"]] == [
            {"max_tokens": 4, "tokens_per_fill": 3, "fill_interval": "1s"}
        ]


def _dev_token_bucket(tmp_path: Path, env: dict[str, str]) -> dict:
    state = StatePaths.at(tmp_path)
    state.create()
    dev_services.envoy(
        state,
        Path("envoy"),
        dev_services.EnvoyPorts(http=18080, grpc=18081),
        envoy_config.Upstreams(),
        env,
    ).prepare()
    config = yaml.safe_load(state.envoy_config.read_text())
    limiter = _http_filter(_listeners(config)["rest"], "envoy.filters.http.local_ratelimit")
    bucket: dict = limiter["descriptors"][0]["token_bucket"]
    return bucket


def test_payloops_dev_sets_a_generous_rate_limit_unless_told_otherwise(tmp_path: Path) -> None:
    """The e2e suite and the bench send everything with one key and must never meet it."""
    generous = dev_services.DEV_RATE_LIMIT
    assert generous.per_second >= 10 * envoy_config.RateLimit().per_second
    assert _dev_token_bucket(tmp_path / "a", {}) == {
        "max_tokens": generous.burst,
        "tokens_per_fill": generous.per_second,
        "fill_interval": "1s",
    }
    assert _dev_token_bucket(tmp_path / "b", {"PAYLOOPS_RATE_LIMIT_PER_SECOND": "3"}) == {
        "max_tokens": 6,
        "tokens_per_fill": 3,
        "fill_interval": "1s",
    }


def public_services() -> list[str]:
    """The full names of the services of payloops.v1, read from the descriptor set Envoy loads."""
    descriptor_set = envoy_config.DEFAULT_DESCRIPTOR.read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set)
    return sorted(
        f"{file.package}.{service.name}"
        for file in files.file
        if file.package == "payloops.v1"
        for service in file.service
    )


def test_card_tokenization_goes_to_the_vault_and_its_internal_api_nowhere() -> None:
    config = yaml.safe_load(envoy_config.render(vault_address="127.0.0.1:50999"))
    [vault] = [c for c in config["static_resources"]["clusters"] if c["name"] == "vault"]
    [endpoint] = vault["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert endpoint["endpoint"]["address"]["socket_address"]["port_value"] == 50999
    routes = {name: _hcm(listener)["route_config"] for name, listener in _listeners(config).items()}
    to_vault = {
        name: [
            route["match"]
            for host in route_config["virtual_hosts"]
            for route in host["routes"]
            if route.get("route", {}).get("cluster") == "vault"
        ]
        for name, route_config in routes.items()
    }
    assert to_vault == {
        "rest": [
            {
                "path": "/v1/tokens",
                "headers": [{"name": ":method", "string_match": {"exact": "POST"}}],
            }
        ],
        "grpc": [{"safe_regex": {"regex": "/payloops\\.v1\\.TokenService/[A-Za-z]+"}}],
    }
    assert "vault.v1" not in yaml.safe_dump(routes)
    services = _http_filter(_listeners(config)["rest"], "envoy.filters.http.grpc_json_transcoder")[
        "services"
    ]
    assert "payloops.v1.TokenService" in services
    assert not [service for service in services if "vault" in service]


HOSTED_FILES = {
    "payloops.js": "text/javascript; charset=utf-8",
    "card-field.html": "text/html; charset=utf-8",
    "card-field.js": "text/javascript; charset=utf-8",
    "card-field.css": "text/css; charset=utf-8",
}


def _routes(config: dict) -> dict[str, dict]:
    rest = _hcm(_listeners(config)["rest"])["route_config"]
    return {route["name"]: route for route in rest["virtual_hosts"][0]["routes"]}


def _served_files(config: dict) -> dict[str, Path]:
    """Each path the REST listener answers from a file, and that file."""
    return {
        route["match"].get("path") or route["match"]["safe_regex"]["regex"]: Path(
            route["direct_response"]["body"]["filename"]
        )
        for route in _routes(config).values()
        if "filename" in route.get("direct_response", {}).get("body", {})
    }


def _csp(headers: list[dict]) -> dict[str, str]:
    (value,) = [
        item["header"]["value"]
        for item in headers
        if item["header"]["key"] == "content-security-policy"
    ]
    return dict(directive.strip().split(" ", 1) for directive in value.split(";"))


def test_render_points_the_static_files_at_their_files_in_the_repository(tmp_path: Path) -> None:
    # The dashboard's files are tests/cli/test_dashboard_site.py's: none here.
    config = yaml.safe_load(envoy_config.render(dashboard_build=tmp_path))
    assert _served_files(config) == {
        **{f"/js/v1/{name}": envoy_config.HOSTED_DIR / name for name in HOSTED_FILES},
        envoy_config.API_REFERENCE_PATH: envoy_config.API_REFERENCE_PAGE,
    }


def test_every_static_file_fits_under_the_direct_response_cap() -> None:
    # Envoy refuses to start when a file outgrows the cap; the API reference page grows with
    # the API (Redoc's script and the whole document).
    config = yaml.safe_load(envoy_config.render())
    cap = _hcm(_listeners(config)["rest"])["route_config"]["max_direct_response_body_size_bytes"]
    for path, file in _served_files(config).items():
        assert file.stat().st_size < cap, path
    # Room for the API to grow: the page is at most half the cap.
    assert 2 * envoy_config.API_REFERENCE_PAGE.stat().st_size < cap


def test_the_api_reference_runs_its_own_inline_scripts_only() -> None:
    config = yaml.safe_load(envoy_config.render())
    route = _routes(config)["api_reference"]
    policy = _csp(route["response_headers_to_add"])
    page = envoy_config.API_REFERENCE_PAGE.read_text(encoding="utf-8")
    assert policy["script-src"].split() == page_scripts.inline_script_hashes(page)
    assert all(source.startswith("'sha256-") for source in policy["script-src"].split())
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'none'"
    # No host, and no scheme that could reach one, anywhere in the policy.
    assert not [value for value in policy.values() if re.search(r"https?:|\*|'self'", value)]
    # The placeholder never reaches Envoy, on this route or any other.
    assert envoy_config.PAGE_INLINE_SCRIPTS not in envoy_config.render()


def test_inline_script_hashes_are_those_a_browser_computes() -> None:
    page = (
        '<html><script>alert("a")</script><p>text</p>'
        '<SCRIPT type="module">let s = "<\\/script>";</Script >'
        '<script>alert("a")</script></html>'
    )
    assert page_scripts.inline_script_hashes(page) == [
        # printf %s 'alert("a")' | openssl sha256 -binary | base64
        "'sha256-SKV/HgGYXzsfYpUSTmvujMt5ZntUpsb//PekhjFQoL0='",
        # printf %s 'let s = "<\/script>";' | openssl sha256 -binary | base64
        "'sha256-3R5KpZ9CE36OzziUHGATkdXWjvuP0eWSJTsvb1kOVR0='",
    ]


def test_a_page_that_loads_a_script_by_url_is_refused() -> None:
    with pytest.raises(page_scripts.ExternalScript):
        page_scripts.inline_script_hashes(
            '<script>1</script><script defer src="https://cdn.example/redoc.js"></script>'
        )


def test_envoy_serves_the_hosted_card_fields_with_their_security_headers(
    tmp_path: Path,
) -> None:
    with (
        running_envoy(tmp_path) as envoy,
        httpx.Client(base_url=envoy.rest_url, timeout=10, trust_env=False) as api,
    ):
        answers = {name: api.get(f"/js/v1/{name}") for name in HOSTED_FILES}
        unknown = api.get("/js/v1/other.js")
        posted = api.post("/js/v1/payloops.js", content=b"x")
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.text)
        assert answer.content == (envoy_config.HOSTED_DIR / name).read_bytes(), name
        assert answer.headers["content-type"] == HOSTED_FILES[name], name
        assert answer.headers["x-content-type-options"] == "nosniff", name
    assert answers["payloops.js"].headers["cross-origin-resource-policy"] == "cross-origin"
    page = answers["card-field.html"]
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    assert (
        policy["script-src"] == "'self'" and "unsafe" not in page.headers["content-security-policy"]
    )
    assert policy["connect-src"] == "'self'" and policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "https: http://localhost:* http://127.0.0.1:*"
    assert page.headers["referrer-policy"] == "no-referrer"
    # Every other path or verb is the usual refusal.
    for refused in (unknown, posted):
        assert refused.status_code == 404, refused.text
        assert _status(refused)[1].reason == "ROUTE_NOT_FOUND"


def test_envoy_serves_the_api_reference_with_its_own_policy_and_the_api_keeps_its_own(
    tmp_path: Path,
) -> None:
    with (
        running_envoy(tmp_path) as envoy,
        httpx.Client(base_url=envoy.rest_url, timeout=10, trust_env=False) as api,
    ):
        page = api.get(envoy_config.API_REFERENCE_PATH)
        posted = api.post(envoy_config.API_REFERENCE_PATH, content=b"x")
        below = api.get(f"{envoy_config.API_REFERENCE_PATH}/other")
        api_reply = api.get("/v1/orders")
    assert page.status_code == 200
    assert page.content == envoy_config.API_REFERENCE_PAGE.read_bytes()
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    policy = _csp([{"header": {"key": k, "value": v}} for k, v in page.headers.items()])
    assert policy["script-src"].split() == page_scripts.inline_script_hashes(page.text)
    assert policy["frame-ancestors"] == "'none'"
    for refused in (posted, below):
        assert refused.status_code == 404, refused.text
        assert _status(refused)[1].reason == "ROUTE_NOT_FOUND"
    # The API's replies keep their own headers: no page policy on them.
    assert _status(api_reply)[1].reason == "SERVICE_UNAVAILABLE"
    assert "content-security-policy" not in api_reply.headers
