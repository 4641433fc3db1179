"""The gRPC transport (`transport="grpc"`, the `grpc` extra): the same calls over the mesh's native
gRPC listener, with the same models and errors as REST.

A Request is REST-shaped; the RPC's own google.api.http rule (read from the generated message
modules of payloops.v1) says how it becomes the request message, exactly as Envoy's transcoder
does it: path and query parameters set fields by their path, the body fills the field the rule
names (or the whole message for `*`). The answer is rendered in the transcoder's JSON (field
names as in the protos, zero values printed), so one decoder reads both transports, and a
google.rpc.Status with its details becomes the same error class as its HTTP twin.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

try:
    import grpc
    import grpc.aio
    from google.api import annotations_pb2
    from google.protobuf import descriptor, descriptor_pool, json_format, message_factory

    # error_details_pb2 for its side effect: MessageToDict unpacks a Status's details (ErrorInfo,
    # BadRequest) only when their types are in the default pool.
    from google.rpc import error_details_pb2, status_pb2  # noqa: F401
except ImportError as missing:
    raise ImportError(
        "transport='grpc' needs the SDK's grpc extra: pip install 'payloops[grpc]'"
    ) from missing

from payloops.sdk._errors import APIConnectionError, PayLoopsError, error_from_status
from payloops.sdk._http import USER_AGENT
from payloops.sdk._operation import Operation, Request
from payloops.sdk._wire import encode

_PROTO_PACKAGE = "payloops.v1"
_STATUS_DETAILS = "grpc-status-details-bin"
# No answer came back: the same as a refused or dropped HTTP connection.
_UNREACHED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
# The HTTP status Envoy's transcoder answers for each gRPC code (google.rpc.Code's mapping).
HTTP_STATUS = {
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
_OPTIONS = [("grpc.primary_user_agent", USER_AGENT)]
_TLS_SCHEME = "grpcs://"
_PLAIN_SCHEME = "grpc://"


@dataclass(frozen=True)
class _Method:
    path: str
    request: Any  # the request message class
    response: Any
    body: str  # the http rule's body: "" (none), "*" or a field name


class GrpcTransport:
    def __init__(self, target: str, headers: Mapping[str, str], timeout: float) -> None:
        address, credentials = _address(target)
        self._channel = (
            grpc.secure_channel(address, credentials, options=_OPTIONS)
            if credentials
            else grpc.insecure_channel(address, options=_OPTIONS)
        )
        self._metadata = _metadata(headers)
        self._timeout = timeout

    def send(self, operation: Operation[Any], request: Request, headers: Mapping[str, str]) -> Any:
        method = _method(operation.service, operation.name)
        call = self._channel.unary_unary(
            method.path,
            request_serializer=method.request.SerializeToString,
            response_deserializer=method.response.FromString,
        )
        try:
            answer = call(
                request_message(method, request),
                metadata=self._metadata + _metadata(headers),
                timeout=self._timeout,
            )
        except grpc.RpcError as failure:
            raise _error(failure, operation) from None
        return _wire_json(answer)

    def close(self) -> None:
        self._channel.close()


class AsyncGrpcTransport:
    def __init__(self, target: str, headers: Mapping[str, str], timeout: float) -> None:
        address, credentials = _address(target)
        self._channel = (
            grpc.aio.secure_channel(address, credentials, options=_OPTIONS)
            if credentials
            else grpc.aio.insecure_channel(address, options=_OPTIONS)
        )
        self._metadata = _metadata(headers)
        self._timeout = timeout

    async def send(
        self, operation: Operation[Any], request: Request, headers: Mapping[str, str]
    ) -> Any:
        method = _method(operation.service, operation.name)
        call = self._channel.unary_unary(
            method.path,
            request_serializer=method.request.SerializeToString,
            response_deserializer=method.response.FromString,
        )
        try:
            answer = await call(
                request_message(method, request),
                metadata=self._metadata + _metadata(headers),
                timeout=self._timeout,
            )
        except grpc.RpcError as failure:
            raise _error(failure, operation) from None
        return _wire_json(answer)

    async def close(self) -> None:
        await self._channel.close()


def request_message(method: _Method, request: Request) -> Any:
    """The request message the transcoder would make of this REST request."""
    fields: dict[str, Any] = {}
    for name, value in request.query.items():
        if value is not None:
            _set(fields, name, encode(value))
    for name, value in request.path.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        _set(fields, name, value)
    if request.body is not None:
        body = encode(request.body)
        if method.body == "*":
            fields.update(body)
        elif method.body:
            _set(fields, method.body, body)
    message = method.request()
    _upper_enums(fields, message.DESCRIPTOR)
    json_format.ParseDict(fields, message)
    return message


@functools.cache
def _method(service_name: str, method_name: str) -> _Method:
    _load_protos()
    service = descriptor_pool.Default().FindServiceByName(service_name)
    found = service.methods_by_name[method_name]
    rule = found.GetOptions().Extensions[annotations_pb2.http]
    return _Method(
        path=f"/{service.full_name}/{found.name}",
        request=message_factory.GetMessageClass(found.input_type),
        response=message_factory.GetMessageClass(found.output_type),
        body=rule.body,
    )


@functools.cache
def _load_protos() -> None:
    """Imports every message module of payloops.v1, so that the default pool knows them."""
    try:
        package = importlib.import_module(_PROTO_PACKAGE)
    except ImportError as missing:
        raise ImportError(
            f"transport='grpc' needs the generated message modules of {_PROTO_PACKAGE} "
            "(the repo's gen/payloops/v1) on the path"
        ) from missing
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.endswith("_pb2"):
            importlib.import_module(f"{_PROTO_PACKAGE}.{module.name}")


def _set(fields: MutableMapping[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for parent in parents:
        fields = fields.setdefault(parent, {})
    existing = fields.get(last)
    if isinstance(existing, dict) and isinstance(value, Mapping):
        existing.update(value)
    else:
        fields[last] = value


def _upper_enums(fields: MutableMapping[str, Any], message: descriptor.Descriptor) -> None:
    """Enum names in any case, as the REST listener takes them (case_insensitive_enum_parsing)."""
    for name, value in fields.items():
        field = message.fields_by_name.get(name)
        if field is None:
            continue
        if field.enum_type is not None:
            if isinstance(value, str):
                fields[name] = value.upper()
            elif isinstance(value, list):
                fields[name] = [v.upper() if isinstance(v, str) else v for v in value]
        elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    _upper_enums(item, field.message_type)


def _wire_json(answer: Any) -> dict[str, Any]:
    # Envoy's print options: proto field names, zero values printed, enums by name.
    rendered: dict[str, Any] = json_format.MessageToDict(
        answer, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return rendered


def _error(failure: grpc.RpcError, operation: Operation[Any]) -> PayLoopsError:
    call: Any = failure  # a grpc.Call (sync) or an AioRpcError: both have these
    code: grpc.StatusCode = call.code()
    headers = _headers(call.initial_metadata(), call.trailing_metadata())
    details = headers.pop(_STATUS_DETAILS, None)
    if details is None and code in _UNREACHED:
        return APIConnectionError(
            f"Could not reach the PayLoops API for {operation.name} over gRPC: "
            f"{code.name}: {call.details()}"
        )
    status: dict[str, Any] = {"code": code.value[0], "message": call.details() or ""}
    if isinstance(details, bytes):
        parsed = status_pb2.Status.FromString(details)
        status = json_format.MessageToDict(parsed, preserving_proto_field_name=True)
    return error_from_status(HTTP_STATUS.get(code, 500), status, headers)


def _headers(*metadata: Any) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    for pairs in metadata:
        for key, value in pairs or ():
            headers[str(key).lower()] = value
    return headers


def _metadata(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((name.lower(), value) for name, value in headers.items())


def _address(target: str) -> tuple[str, grpc.ChannelCredentials | None]:
    if target.startswith(_TLS_SCHEME):
        return target[len(_TLS_SCHEME) :], grpc.ssl_channel_credentials()
    return target.removeprefix(_PLAIN_SCHEME), None
