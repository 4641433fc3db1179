"""Hostile input to every public operation, through Envoy's REST listener and over native gRPC:
NUL characters, CR/LF, card numbers, unknown enum numbers, bytes that are not UTF-8, JSON of the
wrong shape, malformed protobuf, over-long URLs and headers, header names gRPC forbids.

The operations come from the descriptor set Envoy loads (tests/e2e/api_surface.py), so a new
method or field is attacked without being listed here. One request per field and class, not a
fuzz loop. Whatever the input: no 5xx (over gRPC, no INTERNAL, UNKNOWN, DATA_LOSS or
UNAVAILABLE), every REST error is google.rpc.Status JSON with an ErrorInfo reason, and no card
number or key is in any answer, nor afterwards in any log file of the stack."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from tests import raw_http
from tests.conftest import Mesh, receiver_port
from tests.e2e.api_surface import (
    HTTP_BODY,
    Binding,
    Operation,
    Slot,
    input_slots,
    is_map,
    is_repeated,
    message_of,
    operations,
    slot_at,
    with_value,
)
from tests.e2e.vault_helpers import publishable_key
from tests.log_secrets import Secrets, log_files, scan, wait_for_access_log

pytestmark = pytest.mark.e2e

PANS = ("4242424242424242", "4000 0566 5566 5556")
HOSTILE_STRINGS = {"nul": "a\x00b", "crlf": "a\r\nb", "pan": PANS[0], "spaced pan": PANS[1]}
# Raw (already percent-encoded) path segments and query values.
HOSTILE_ENCODED = {
    "nul": "a%00b",
    "not utf-8": "a%FFb",
    "crlf": "a%0D%0Ab",
    "pan": PANS[0],
    "spaced pan": quote(PANS[1]),
    "long": "x" * 45_000,
}
UNKNOWN_ENUM_NUMBERS = (99, -1)
SQL_PARAMETERS = "[parameters:"
# Legal in an HTTP/1.1 token, illegal in gRPC metadata; plus an upper-case name.
ILLEGAL_HEADER_NAMES = [b"x-bang!", b"x~tilde", b"x|pipe", b"x#hash", b"x$d", b"x'q", b"X-Upper"]
# Never a 5xx nor these over gRPC when the caller is at fault.
SERVER_FAULTS = {
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.UNAVAILABLE,
}
# Values that get a request past the edge's first checks, so that hostile input in another
# field reaches storage and queries; a field not named here stays empty (the webhook URL is
# the test's own).
EXAMPLES: dict[str, Any] = {
    "amount": 100,
    "currency": "USD",
    "payment_method": {"type": "card", "token": "pm_card_visa"},
    "enabled_events": ["*"],
    "name": "hostile",
    # Processor registration dials this: nothing listens there, so nothing is registered.
    "target": "127.0.0.1:1",
    "processor": "sandbox",
    "rules": [{"name": "all", "failover": {"processors": ["sandbox"]}}],
}


@dataclass
class Findings:
    """Everything that went wrong, reported at once rather than at the first failure."""

    problems: list[str] = field(default_factory=list)
    requests: int = 0

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")


@dataclass(frozen=True)
class Target:
    """Who calls, the values that get a request past the first checks, and the real objects a
    path can name."""

    mesh: Mesh
    merchant_key: str
    admin_key: str
    # Card tokenization takes nothing else (it is the vault's).
    publishable_key: str
    examples: dict[str, Any]
    ids: dict[str, str]

    @property
    def rest_port(self) -> int:
        return urlsplit(self.mesh.api_url).port or 80

    @property
    def grpc_port(self) -> int:
        return int(self.mesh.grpc_target.rpartition(":")[2])


def test_hostile_input_to_every_operation_is_refused_cleanly_and_never_echoed(
    mesh: Mesh,
) -> None:
    _, merchant_key = mesh.new_merchant("hostile inputs")
    with refusing_receiver() as url:
        examples = EXAMPLES | {"url": url}
        target = Target(
            mesh,
            merchant_key,
            mesh.env["PAYLOOPS_ADMIN_API_KEY"],
            publishable_key(mesh, merchant_key),
            examples,
            real_ids(mesh, merchant_key, examples),
        )
        attack_every_operation(target)


@contextlib.contextmanager
def refusing_receiver() -> Iterator[str]:
    """A webhook URL test mode may deliver to, where connections are refused: the port is held
    (bound, never listening), so no other test's receiver gets this merchant's events."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", receiver_port()))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/hooks"


def attack_every_operation(target: Target) -> None:
    mesh = target.mesh
    secrets = Secrets(
        (target.merchant_key, target.admin_key, target.publishable_key, mesh.api_key), PANS
    )
    findings = Findings()
    channel = grpc.insecure_channel(mesh.grpc_target)
    # Deleting comes last: the real webhook endpoint is the baseline of the other calls.
    ordered = sorted(operations(), key=lambda op: op.bindings[0].verb == "DELETE")
    try:
        for operation in ordered:
            key = caller_key(channel, operation, target)
            for binding in operation.bindings:
                attack_rest(target, operation, binding, key, secrets, findings)
            attack_grpc(target, channel, operation, key, secrets, findings)
    finally:
        channel.close()
    scan_logs(target, secrets, findings)
    assert findings.requests > 1000
    assert not findings.problems, "\n".join(findings.problems)


def real_ids(mesh: Mesh, key: str, examples: dict[str, Any]) -> dict[str, str]:
    """An order, a webhook endpoint and an event of the merchant: with them the hostile input
    in a body reaches the code behind the lookup. Other path variables name nothing."""
    with mesh.client(key) as api:
        order = api.post("/v1/orders", json={"amount": 100, "currency": "USD"})
        endpoint = api.post(
            "/v1/webhook_endpoints", json={"url": examples["url"], "enabled_events": ["*"]}
        )
        assert order.status_code == endpoint.status_code == 200, (order.text, endpoint.text)
        events = api.get("/v1/events").json()["events"]
        customer = api.post("/v1/customers", json={"name": "hostile"})
        assert customer.status_code == 200, customer.text
    return {
        "order": order.json()["id"],
        "webhook_endpoint": endpoint.json()["id"],
        "webhook_endpoint.id": endpoint.json()["id"],
        "event": events[0]["id"] if events else "evt_none",
        "processor": "sandbox",
        "customer": customer.json()["id"],
        "customer.id": customer.json()["id"],
        # A routing configuration version is a number; 0, the built-in default, every merchant has.
        "version": "0",
    }


def caller_key(channel: grpc.Channel, operation: Operation, target: Target) -> str:
    """The admin key for the operator's methods (those that refuse a merchant's key), the
    publishable key for card tokenization."""
    call = raw_call(channel, operation.grpc_path)
    try:
        call(b"", metadata=(("authorization", f"Bearer {target.merchant_key}"),), timeout=30)
    except grpc.RpcError as error:
        if _reason(error) == "ADMIN_KEY_INVALID":
            return target.admin_key
        if _reason(error) == "PUBLISHABLE_KEY_REQUIRED":
            return target.publishable_key
    return target.merchant_key


# ------------------------------------------------------------------------------------- REST


@dataclass(frozen=True)
class RestCall:
    """One REST request: the JSON document of the whole request message (path variables and
    query parameters included), or raw parts where JSON cannot say it."""

    label: str
    document: dict[str, Any]
    raw_path: dict[str, str] = field(default_factory=dict)
    raw_query: tuple[tuple[str, str], ...] = ()
    raw_body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


def attack_rest(
    target: Target,
    operation: Operation,
    binding: Binding,
    key: str,
    secrets: Secrets,
    findings: Findings,
) -> None:
    base = baseline(operation.request, binding, target)
    with httpx.Client(base_url=target.mesh.api_url, timeout=60, trust_env=False) as api:
        for call in rest_calls(operation, binding, base):
            request = rest_request(operation, binding, call)
            response = api.request(
                binding.verb,
                request.url,
                content=request.body,
                headers={"authorization": f"Bearer {key}", **request.headers},
            )
            findings.requests += 1
            check_rest(
                f"{binding.verb} {binding.template} [{call.label}]", response, secrets, findings
            )
    # Names HTTP/1.1 allows and gRPC metadata does not, written byte for byte.
    plain = rest_request(operation, binding, RestCall("header names", base))
    answer = raw_http.http1(
        target.rest_port,
        binding.verb,
        plain.url.encode(),
        [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/json")]
        + [(name, b"1") for name in ILLEGAL_HEADER_NAMES],
        plain.body or b"",
    )
    findings.requests += 1
    check_raw_rest(
        f"{binding.verb} {binding.template} [illegal header names]", answer, secrets, findings
    )


def baseline(message: Descriptor, binding: Binding | None, target: Target) -> dict[str, Any]:
    """The request as JSON, from the examples and the real ids of its path variables."""
    document: dict[str, Any] = {}
    for each in message.fields:
        example = target.examples.get(each.name)
        # By name, where the kinds agree: `processor` is a name, or a whole Processor.
        if example is not None and isinstance(example, dict) == is_api_message(each):
            document[each.name] = example
        elif is_api_message(each) and (nested := baseline(message_of(each), None, target)):
            document[each.name] = nested
    for variable in binding.variables if binding else ():
        value = target.ids.get(variable, "none")
        document = with_value(document, slot_at(message, variable), value, message)
    return document


def is_api_message(kind: FieldDescriptor) -> bool:
    """A single message of the API's own (not a map, a list or a well-known type)."""
    nested = kind.message_type
    return (
        nested is not None
        and not is_map(kind)
        and not is_repeated(kind)
        and not nested.full_name.startswith("google.")
    )


def rest_calls(operation: Operation, binding: Binding, base: dict[str, Any]) -> Iterator[RestCall]:
    message = operation.request
    for slot in input_slots(message):
        if slot.name in binding.variables:
            for label, value in HOSTILE_ENCODED.items():
                yield RestCall(f"path {slot.name}: {label}", base, raw_path={slot.name: value})
        elif in_query(binding, slot):
            for label, value in query_values(slot.field):
                yield RestCall(f"query {slot.name}: {label}", base, raw_query=((slot.name, value),))
        elif slot.field.message_type is not None and slot.field.message_type.full_name == HTTP_BODY:
            for label, value in HOSTILE_STRINGS.items():
                yield RestCall(f"raw body: {label}", base, raw_body=value.encode())
            yield RestCall("raw body: not utf-8", base, raw_body=b"\xff\xfe{")
        elif in_body(binding, slot):
            for label, value in json_values(slot.field):
                yield RestCall(f"body {slot.name}: {label}", with_value(base, slot, value, message))
            if slot.field.type == FieldDescriptor.TYPE_STRING and not is_map(slot.field):
                yield RestCall(
                    f"body {slot.name}: not utf-8",
                    base,
                    raw_body=not_utf8_body(base, slot, message),
                )
    for label, value in HOSTILE_STRINGS.items():
        if "pan" in label:
            yield RestCall(
                f"Idempotency-Key: {label}", base, headers=(("idempotency-key", f"k-{value}"),)
            )
            yield RestCall(
                f"X-Correlation-ID: {label}", base, headers=(("x-correlation-id", f"c-{value}"),)
            )
            yield RestCall(
                f"unknown query parameter: {label}", base, raw_query=((quote(value), "1"),)
            )
    yield RestCall("long header", base, headers=(("x-long", "x" * 45_000),))
    yield RestCall("long query", base, raw_query=(("x", "x" * 45_000),))


def not_utf8_body(base: dict[str, Any], slot: Slot, message: Descriptor) -> bytes:
    """The JSON body with bytes that are not UTF-8 inside the string at `slot`."""
    marker = "MARKER-NOT-UTF-8"
    value = [marker] if is_repeated(slot.field) else marker
    return (
        json.dumps(with_value(base, slot, value, message))
        .encode()
        .replace(marker.encode(), b"a\xffb")
    )


def in_query(binding: Binding, slot: Slot) -> bool:
    """A top-level field neither in the path nor in the body is a query parameter."""
    top = slot.path[0]
    if len(slot.path) > 1 or binding.body == "*" or top == binding.body:
        return False
    kind = slot.field.message_type
    return kind is None or kind.full_name.startswith("google.protobuf.")


def in_body(binding: Binding, slot: Slot) -> bool:
    return binding.body == "*" or slot.path[0] == binding.body


def query_values(kind: FieldDescriptor) -> Iterator[tuple[str, str]]:
    yield from HOSTILE_ENCODED.items()
    if kind.enum_type is not None:
        for number in UNKNOWN_ENUM_NUMBERS:
            yield f"enum {number}", str(number)


def json_values(kind: FieldDescriptor) -> Iterator[tuple[str, Any]]:
    """Hostile JSON for one field: strings where a string goes, numbers no enum has, and
    shapes the field cannot hold."""
    scalars: dict[str, Any] = dict(HOSTILE_STRINGS)
    if kind.enum_type is not None:
        scalars = {f"enum {n}": n for n in UNKNOWN_ENUM_NUMBERS}
    elif kind.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
        scalars = {
            "pan as a number": int(PANS[0]) if kind.type == FieldDescriptor.TYPE_INT64 else 7
        }
    elif kind.type == FieldDescriptor.TYPE_BOOL:
        scalars = {}
    elif kind.message_type is not None and not is_map(kind):
        scalars = {label: value for label, value in HOSTILE_STRINGS.items()}
    if is_map(kind):
        for label, value in HOSTILE_STRINGS.items():
            yield f"map value: {label}", {"k": value}
            yield f"map key: {label}", {value: "v"}
        yield "map value: object", {"k": {"a": 1}}
        yield "map value: array", {"k": ["a"]}
        yield "map: string", "x"
        return
    for label, value in scalars.items():
        yield label, [value] if is_repeated(kind) else value
    yield "object", {"a": {"b": 1}}
    yield "array", [[1]] if is_repeated(kind) else [1]
    if is_repeated(kind):
        yield "scalar for a list", {"a": 1}


@dataclass(frozen=True)
class RestRequest:
    url: str
    body: bytes | None
    headers: dict[str, str]


def rest_request(operation: Operation, binding: Binding, call: RestCall) -> RestRequest:
    message = operation.request
    document = copy.deepcopy(call.document)
    segments = {}
    for variable in binding.variables:
        value = _pop(document, variable.split("."))
        segments[variable] = call.raw_path.get(variable, quote(str(value), safe=""))
    query = list(call.raw_query)
    if binding.body == "":
        query += [(name, quote(str(value), safe="")) for name, value in _flat(document)]
        body = None
    elif binding.body == "*":
        body = json.dumps(document).encode()
    else:
        part = document.pop(binding.body, {})
        query += [(name, quote(str(value), safe="")) for name, value in _flat(document)]
        kind = message_of(message.fields_by_name[binding.body])
        body = b"{}" if kind.full_name == HTTP_BODY else json.dumps(part).encode()
    if call.raw_body is not None:
        body = call.raw_body
    url = binding.path(segments) + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
    headers = dict(call.headers)
    if body is not None:
        headers.setdefault("content-type", "application/json")
    return RestRequest(url, body, headers)


def _pop(document: dict[str, Any], names: list[str]) -> Any:
    """Takes a path variable's value out of the request (nothing when a hostile value has
    replaced the message that held it)."""
    node: Any = document
    for name in names[:-1]:
        node = node.get(name, {}) if isinstance(node, dict) else {}
    return node.pop(names[-1], "") if isinstance(node, dict) else ""


def _flat(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, value in document.items():
        if not isinstance(value, dict | list):
            yield name, value


def check_rest(where: str, response: httpx.Response, secrets: Secrets, findings: Findings) -> None:
    text = "\n".join(f"{k}: {v}" for k, v in response.headers.items()) + "\n" + response.text
    check_answer(
        where,
        response.status_code,
        response.headers.get("content-type", ""),
        response.content,
        text,
        secrets,
        findings,
    )


def check_raw_rest(
    where: str, response: raw_http.RawResponse, secrets: Secrets, findings: Findings
) -> None:
    if response.status is None:
        findings.add(where, f"no HTTP answer ({response.reset})")
        return
    check_answer(
        where,
        response.status,
        response.headers.get("content-type", ""),
        response.body,
        response.text,
        secrets,
        findings,
    )


def check_answer(
    where: str,
    status: int,
    content_type: str,
    body: bytes,
    text: str,
    secrets: Secrets,
    findings: Findings,
) -> None:
    if leaked := secrets.found_in(text):
        findings.add(where, f"answer holds {leaked}")
    if status >= 500:
        findings.add(where, f"{status} {body[:300]!r}")
    elif status >= 400:
        if not content_type.startswith("application/json"):
            findings.add(where, f"{status} is not JSON: {content_type} {body[:200]!r}")
            return
        try:
            parsed = json_format.Parse(body, status_pb2.Status())
        except json_format.ParseError as error:
            findings.add(where, f"{status} is not google.rpc.Status: {error} {body[:200]!r}")
            return
        info = error_details_pb2.ErrorInfo()
        if not any(detail.Unpack(info) and info.reason for detail in parsed.details):
            findings.add(where, f"{status} has no ErrorInfo reason: {body[:200]!r}")


# ------------------------------------------------------------------------------------- gRPC


def attack_grpc(
    target: Target,
    channel: grpc.Channel,
    operation: Operation,
    key: str,
    secrets: Secrets,
    findings: Findings,
) -> None:
    binding = operation.bindings[0] if operation.bindings else None
    base = baseline(operation.request, binding, target)
    base_bytes = json_format.ParseDict(base, operation.new_request()).SerializeToString()
    call = raw_call(channel, operation.grpc_path)
    auth = ("authorization", f"Bearer {key}")
    for label, payload, metadata in grpc_calls(operation, base, base_bytes):
        where = f"{operation.grpc_path} [{label}]"
        findings.requests += 1
        try:
            answer = call(payload, metadata=(auth, *metadata), timeout=60)
        except grpc.RpcError as error:
            check_grpc_error(where, error, secrets, findings)
        else:
            if leaked := secrets.found_in(bytes(answer).decode("latin-1")):
                findings.add(where, f"answer holds {leaked}")
    names = [(name.lower(), b"1") for name in ILLEGAL_HEADER_NAMES]
    raw = raw_http.http2(
        target.grpc_port, grpc_headers(operation, key) + names, grpc_frame(base_bytes)
    )
    findings.requests += 1
    if raw.grpc_status is None or status_code(raw.grpc_status) in SERVER_FAULTS:
        findings.add(
            f"{operation.grpc_path} [illegal metadata names]",
            f"{raw.grpc_status} {raw.reset} {raw.text[:200]}",
        )
    if leaked := secrets.found_in(raw.text):
        findings.add(f"{operation.grpc_path} [illegal metadata names]", f"answer holds {leaked}")


def grpc_calls(
    operation: Operation, base: dict[str, Any], base_bytes: bytes
) -> Iterator[tuple[str, bytes, tuple[tuple[str, str], ...]]]:
    message = operation.request
    for slot in input_slots(message):
        if slot.field.type == FieldDescriptor.TYPE_STRING or is_map(slot.field):
            for label, value in HOSTILE_STRINGS.items():
                hostile: Any = {"k": value} if is_map(slot.field) else value
                hostile = [hostile] if is_repeated(slot.field) else hostile
                document = with_value(base, slot, hostile, message)
                yield f"{slot.name}: {label}", serialize(operation, document), ()
            yield f"{slot.name}: not utf-8", base_bytes + bad_utf8(message, slot), ()
        elif slot.field.enum_type is not None:
            for number in UNKNOWN_ENUM_NUMBERS:
                document = with_value(
                    base, slot, [number] if is_repeated(slot.field) else number, message
                )
                yield f"{slot.name}: enum {number}", serialize(operation, document), ()
    yield "malformed protobuf", b"\xff\xff\xff\xff\x0f", ()
    yield "truncated protobuf", b"\x0a\x05ab", ()
    for pan in PANS:
        yield f"idempotency-key {pan}", base_bytes, (("idempotency-key", f"k-{pan}"),)
        yield f"x-correlation-id {pan}", base_bytes, (("x-correlation-id", f"c-{pan}"),)
    yield "long metadata", base_bytes, (("x-long", "x" * 45_000),)


def serialize(operation: Operation, document: dict[str, Any]) -> bytes:
    return json_format.ParseDict(document, operation.new_request()).SerializeToString()


def bad_utf8(message: Descriptor, slot: Slot) -> bytes:
    """Wire bytes that set `slot` (a map's key, for a map) to bytes that are not UTF-8; appended
    to a serialized message they merge into it, as protobuf merges a repeated field."""
    fields = []
    kind = message
    for name in slot.path:
        each = kind.fields_by_name[name]
        fields.append(each.number)
        if each.message_type is not None:
            kind = each.message_type
    inner = _length_delimited(1, b"\xff\xfe") if is_map(slot.field) else b"\xff\xfe"
    for number in reversed(fields):
        inner = _length_delimited(number, inner)
    return inner


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = b""
    while value > 0x7F:
        out += bytes([value & 0x7F | 0x80])
        value >>= 7
    return out + bytes([value])


def grpc_frame(payload: bytes) -> bytes:
    return b"\x00" + len(payload).to_bytes(4, "big") + payload


def grpc_headers(operation: Operation, key: str) -> list[tuple[bytes, bytes]]:
    return [
        (b":method", b"POST"),
        (b":scheme", b"http"),
        (b":path", operation.grpc_path.encode()),
        (b":authority", b"127.0.0.1"),
        (b"content-type", b"application/grpc"),
        (b"te", b"trailers"),
        (b"authorization", f"Bearer {key}".encode()),
    ]


def check_grpc_error(
    where: str, error: grpc.RpcError, secrets: Secrets, findings: Findings
) -> None:
    code = error.code()
    if code in SERVER_FAULTS:
        findings.add(where, f"{code.name} {error.details()}")
    said = f"{error.details()}\n{error.trailing_metadata()}"
    status = rpc_status.from_call(error)
    if status is not None:
        said += "\n" + str(status)
    if leaked := secrets.found_in(said):
        findings.add(where, f"answer holds {leaked}")


def _reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    info = error_details_pb2.ErrorInfo()
    if status is not None and status.details and status.details[0].Unpack(info):
        return str(info.reason)
    return ""


def raw_call(channel: grpc.Channel, path: str) -> grpc.UnaryUnaryMultiCallable[bytes, bytes]:
    """A call that sends and returns bytes as they are (any method, any payload)."""
    return channel.unary_unary(path, request_serializer=_as_is, response_deserializer=_as_is)


def _as_is(data: bytes) -> bytes:
    return data


def status_code(number: int) -> grpc.StatusCode:
    return next(code for code in grpc.StatusCode if code.value[0] == number)


# ------------------------------------------------------------------------------------- logs


def scan_logs(target: Target, secrets: Secrets, findings: Findings) -> None:
    """Every log of the stack, once Envoy has written its access log up to our last request."""
    wait_for_access_log(target.mesh.api_url, target.mesh.state_dir)
    paths = log_files(target.mesh.state_dir)
    for leak in scan(paths, secrets):
        findings.add(str(leak.path.relative_to(target.mesh.state_dir)), str(leak))
    for path in paths:
        text = path.read_text(errors="replace")
        # SQLAlchemy's rendering of a failed statement's values: a request's, here.
        if SQL_PARAMETERS in text:
            line = next(line for line in text.splitlines() if SQL_PARAMETERS in line)
            findings.add(str(path), f"holds SQL parameters: {line[:300]}")
