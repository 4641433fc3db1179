"""The OpenAPI 3.1 document of the REST API, generated from the protos.

    python -m cli.openapi [OUT]        (default gen/openapi.json; `make gen` runs it)

The document describes what Envoy's JSON transcoder really serves (envoy/envoy.yaml): every
google.api.http binding of the public services, with the request fields the path, the query and
the body carry; schemas as protobuf's JSON mapping prints them with our print options
(proto field names, int64 as strings, enums as names, zero values printed); the google.rpc.Status
error shape on every operation; the security schemes and the Idempotency-Key header. Doc
comments of the protos become descriptions, so the protos stay the one place the API is written.

Nothing here is a second copy of a rule the edge enforces, except two small tables below that
say who may call a service (SECURITY) and which RPCs honour an Idempotency-Key (IDEMPOTENT);
tests/contract checks both against the edge's code and the live mesh.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)

from cli import openapi_examples as examples
from edge.access import reads_only
from edge.refresh_cookie import NAME as REFRESH_COOKIE

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "gen" / "openapi.json"
PACKAGE = "payloops.v1"
VERSION = "1.0.0"

Schema = dict[str, Any]

# Who may call each service. Every service not named here takes a merchant's secret API key or
# a dashboard user's session token (edge/auth.py).
Requirement = list[dict[str, list[str]]]
_MERCHANT: Requirement = [{"ApiKey": []}, {"DashboardSession": []}]
SECURITY: dict[str, Requirement] = {
    "HealthService": [],
    # The platform operator's: merchants, and the gateways every merchant may route to.
    "MerchantService": [{"AdminKey": []}],
    "ProcessorService": [{"AdminKey": []}],
    "TokenService": [{"PublishableKey": []}],
    "UserService": [{"DashboardSession": []}],  # a user's own (CreateUser: below)
    # A gateway's notification is checked by the gateway's own signature, not by a PayLoops key.
    "ProcessorWebhookService": [],
}
# Methods that take another credential than their service's: CreateUser with a `merchant` is
# the platform operator making a merchant's first owner (`payloops users create`), with the
# admin key.
METHOD_SECURITY: dict[str, Requirement] = {
    "CreateUser": [{"DashboardSession": []}, {"AdminKey": []}],
}
# Methods of a secured service that come before any credential: signing in, and the keys that
# verify a session token.
UNAUTHENTICATED_METHODS = frozenset({"CreateSession", "RefreshSession", "LogoutSession", "GetJwks"})

# The session calls whose answer sets the dashboard's refresh token cookie (LogoutSession's
# clears it), and those that read it when the body has no token (edge/refresh_cookie.py).
SETS_REFRESH_COOKIE = frozenset({"CreateSession", "RefreshSession", "LogoutSession"})
READS_REFRESH_COOKIE = frozenset({"RefreshSession", "LogoutSession"})

# The RPCs whose edge implementation claims the Idempotency-Key header (a retry with the same
# key replays the first answer). Others accept the header and ignore it.
IDEMPOTENT = frozenset(
    {
        "CreateOrder",
        "PayOrder",
        "CaptureOrder",
        "CancelOrder",
        "CreateRefund",
        "CreateCustomer",
        "CreateApiKey",
        "RollApiKey",
        "CreateWebhookEndpoint",
        "RollbackRoutingConfig",
    }
)

# Where gRPC codes land in HTTP (Envoy's mapping), for what each status means on an operation.
_ERROR_MEANINGS = {
    "400": "The request is invalid: a malformed body or query, a field violation "
    "(google.rpc.BadRequest lists them), or the resource is not in a state that allows it.",
    "401": "No credential, or one that is unknown, expired or revoked.",
    "403": "The credential may not do this (its role, its mode, or the resource's merchant), "
    "or it is a publishable key, which only tokenizes cards.",
    "404": "The resource does not exist (or belongs to another merchant or mode).",
    "408": "The request was not received in time.",
    "409": "A conflict: the Idempotency-Key is in use by a request still running or was used "
    "with another request, or the resource already exists.",
    "413": "The request body is too large.",
    "429": "Too many requests: retry after the number of seconds in Retry-After.",
    "431": "The request headers are too large.",
    "500": "An internal error; the correlation id in the error lets support find it.",
    "503": "A service PayLoops depends on is unavailable: safe to retry with the same "
    "Idempotency-Key.",
    "504": "The request took too long; with an Idempotency-Key a retry is safe.",
}

# Well-known types, as protobuf's JSON mapping prints them.
_WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$",
        "description": 'Seconds with an "s" suffix, such as "0.034s".',
    },
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Comma-separated field paths in lowerCamelCase, such as "
        '"url,enabledEvents".',
    },
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.Int32Value": {"type": ["integer", "null"], "format": "int32"},
    "google.protobuf.UInt32Value": {"type": ["integer", "null"], "format": "int64"},
    "google.protobuf.Int64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.UInt64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.DoubleValue": {"type": ["number", "null"]},
    "google.protobuf.FloatValue": {"type": ["number", "null"]},
    "google.protobuf.BytesValue": {"type": ["string", "null"], "contentEncoding": "base64"},
}
_HTTP_BODY = "google.api.HttpBody"
_ANY = "google.protobuf.Any"

_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
_UINT64 = {"type": "string", "format": "int64", "pattern": "^[0-9]+$"}
_SCALARS: dict[int, Schema] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT64: _INT64,
    FieldDescriptor.TYPE_SINT64: _INT64,
    FieldDescriptor.TYPE_SFIXED64: _INT64,
    FieldDescriptor.TYPE_UINT64: _UINT64,
    FieldDescriptor.TYPE_FIXED64: _UINT64,
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "minimum": 0, "maximum": 4294967295},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "minimum": 0, "maximum": 4294967295},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}


# -- reading the protos ----------------------------------------------------------------------


def descriptor_set_with_comments() -> descriptor_pb2.FileDescriptorSet:
    """The protos compiled by buf WITH source info (gen/payloops.binpb has none: Envoy does not
    need comments), so the doc comments can become descriptions."""
    buf = Path(sys.executable).parent / "buf"
    built = subprocess.run(
        [str(buf), "build", "-o", "-#format=binpb"], cwd=ROOT, capture_output=True, check=True
    )
    return descriptor_pb2.FileDescriptorSet.FromString(built.stdout)


class Comments:
    """Leading comments of messages, fields, enums, enum values, services and methods, by full
    name. Source info addresses them by paths of field numbers into FileDescriptorProto."""

    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self._by_name: dict[str, str] = {}
        for file in files.file:
            located = {
                tuple(each.path): each.leading_comments for each in file.source_code_info.location
            }
            self._file(file, located)

    def __getitem__(self, full_name: str) -> str:
        return self._by_name.get(full_name, "")

    def _file(
        self, file: descriptor_pb2.FileDescriptorProto, located: dict[tuple[int, ...], str]
    ) -> None:
        prefix = f"{file.package}." if file.package else ""
        for i, message in enumerate(file.message_type):
            self._message(prefix + message.name, message, (4, i), located)
        for i, enum in enumerate(file.enum_type):
            self._enum(prefix + enum.name, enum, (5, i), located)
        for i, service in enumerate(file.service):
            name = prefix + service.name
            self._set(name, located, (6, i))
            for j, method in enumerate(service.method):
                self._set(f"{name}.{method.name}", located, (6, i, 2, j))

    def _message(
        self,
        name: str,
        message: descriptor_pb2.DescriptorProto,
        path: tuple[int, ...],
        located: dict[tuple[int, ...], str],
    ) -> None:
        self._set(name, located, path)
        for i, field in enumerate(message.field):
            self._set(f"{name}.{field.name}", located, (*path, 2, i))
        for i, nested in enumerate(message.nested_type):
            self._message(f"{name}.{nested.name}", nested, (*path, 3, i), located)
        for i, enum in enumerate(message.enum_type):
            self._enum(f"{name}.{enum.name}", enum, (*path, 4, i), located)

    def _enum(
        self,
        name: str,
        enum: descriptor_pb2.EnumDescriptorProto,
        path: tuple[int, ...],
        located: dict[tuple[int, ...], str],
    ) -> None:
        self._set(name, located, path)
        for i, value in enumerate(enum.value):
            self._set(f"{name}.{value.name}", located, (*path, 2, i))

    def _set(self, name: str, located: dict[tuple[int, ...], str], path: tuple[int, ...]) -> None:
        text = " ".join(line.strip() for line in located.get(path, "").strip().splitlines())
        if text:
            self._by_name[name] = text


# -- the document ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    method: MethodDescriptor
    verb: str
    template: str
    body: str  # "", "*" or the request field sent as the body
    operation_id: str

    @property
    def path_fields(self) -> tuple[str, ...]:
        return tuple(_path_variables(self.template))


def _path_variables(template: str) -> Iterator[str]:
    rest = template
    while "{" in rest:
        start = rest.index("{")
        end = rest.index("}", start)
        yield rest[start + 1 : end].split("=")[0]
        rest = rest[end + 1 :]


def _bindings(service: ServiceDescriptor) -> Iterator[Binding]:
    for method in service.methods:
        rule: http_pb2.HttpRule = method.GetOptions().Extensions[annotations_pb2.http]
        for index, each in enumerate((rule, *rule.additional_bindings)):
            verb = each.WhichOneof("pattern")
            if verb in (None, "custom"):
                continue
            # A second binding of the same RPC names what its path adds (…/accounts/{x} →
            # ForAccount), so operation ids stay readable and stable.
            suffix = "" if index == 0 else _suffix_for(each, verb)
            yield Binding(
                method, verb.upper(), getattr(each, verb), each.body, method.name + suffix
            )


def _suffix_for(rule: http_pb2.HttpRule, verb: str) -> str:
    last = list(_path_variables(getattr(rule, verb)))[-1]
    words = last.split(".")[-1].split("_")
    return "For" + "".join(word.capitalize() for word in words[-1:])


class Document:
    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self._pool = descriptor_pool.DescriptorPool()
        for file in files.file:
            self._pool.Add(file)
        self._comments = Comments(files)
        self._schemas: dict[str, Schema] = {}
        self._files = files

    # -- services and operations

    def services(self) -> list[ServiceDescriptor]:
        """Every payloops.v1 service with at least one REST binding, in file order."""
        found = []
        for file in self._files.file:
            if file.package != PACKAGE:
                continue
            for service in file.service:
                descriptor = self._pool.FindServiceByName(f"{PACKAGE}.{service.name}")
                if any(True for _ in _bindings(descriptor)):
                    found.append(descriptor)
        return found

    def render(self) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        tags = []
        for service in self.services():
            tags.append({"name": service.name, "description": self._comments[service.full_name]})
            for binding in _bindings(service):
                operation = self._operation(service, binding)
                paths.setdefault(binding.template, {})[binding.verb.lower()] = operation
        self._add_error_schemas()
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "PayLoops API",
                "version": VERSION,
                "summary": "Payment orchestration: one API, every processor.",
                "description": _INFO,
            },
            "servers": [{"url": "http://127.0.0.1:8080", "description": "payloops dev"}],
            "tags": tags,
            "paths": dict(sorted(paths.items())),
            "components": {
                "schemas": dict(sorted(self._schemas.items())),
                "securitySchemes": _SECURITY_SCHEMES,
                "parameters": {
                    "IdempotencyKey": _IDEMPOTENCY_KEY,
                    "PayLoopsMode": _MODE,
                    "RefreshTokenCookie": _REFRESH_COOKIE,
                },
                "responses": {
                    status: {
                        "description": meaning,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/google.rpc.Status"},
                                **(
                                    {"examples": {"invalid": {"value": examples.ERROR}}}
                                    if status == "400"
                                    else {}
                                ),
                            }
                        },
                    }
                    for status, meaning in _ERROR_MEANINGS.items()
                },
            },
        }

    def _operation(self, service: ServiceDescriptor, binding: Binding) -> dict[str, Any]:
        method = binding.method
        request = method.input_type
        description = self._comments[method.full_name]
        operation: dict[str, Any] = {
            "operationId": binding.operation_id,
            "tags": [service.name],
            "summary": _first_sentence(description) or method.name,
            "description": description,
        }
        security = self._security(service, method)
        parameters = [self._path_parameter(request, name) for name in binding.path_fields]
        parameters += self._query_parameters(binding)
        if method.name in IDEMPOTENT:
            parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
        if {"DashboardSession": []} in security:
            parameters.append({"$ref": "#/components/parameters/PayLoopsMode"})
        if method.name in READS_REFRESH_COOKIE:
            parameters.append({"$ref": "#/components/parameters/RefreshTokenCookie"})
        if parameters:
            operation["parameters"] = parameters
        if binding.body:
            operation["requestBody"] = self._request_body(binding)
            _add_example(operation["requestBody"], examples.REQUESTS.get(binding.operation_id))
        operation["security"] = security
        # Who may call it: a viewer and a read-only API key call exactly these (edge.access).
        operation["x-payloops-read-only"] = reads_only(method)
        success = self._success(method)
        _add_example(success, examples.RESPONSES.get(binding.operation_id))
        if method.name in SETS_REFRESH_COOKIE:
            success["headers"] = {"Set-Cookie": _REFRESH_COOKIE_SET}
        operation["responses"] = {
            "200": success,
            **{
                status: {"$ref": f"#/components/responses/{status}"}
                for status in _error_statuses(binding, secured=bool(security))
            },
        }
        return operation

    def _security(self, service: ServiceDescriptor, method: MethodDescriptor) -> Requirement:
        if method.name in UNAUTHENTICATED_METHODS:
            return []
        if method.name in METHOD_SECURITY:
            return METHOD_SECURITY[method.name]
        return SECURITY.get(service.name, _MERCHANT)

    def _path_parameter(self, request: Descriptor, dotted: str) -> dict[str, Any]:
        field = _field_at(request, dotted)
        return {
            "name": dotted,
            "in": "path",
            "required": True,
            "description": self._comments[field.full_name],
            "schema": self._field_schema(field),
        }

    def _query_parameters(self, binding: Binding) -> list[dict[str, Any]]:
        """A body of "*" leaves nothing for the query; otherwise every request field that is
        neither in the path nor the body is a query parameter, nested ones dotted."""
        if binding.body == "*":
            return []
        taken = set(binding.path_fields) | ({binding.body} if binding.body else set())
        return [
            self._query_parameter(name, field)
            for name, field in _query_fields(binding.method.input_type)
            if name not in taken and not any(name.startswith(each + ".") for each in taken)
        ]

    def _query_parameter(self, name: str, field: FieldDescriptor) -> dict[str, Any]:
        schema = self._field_schema(field)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "description": self._comments[field.full_name],
            "schema": schema,
        }
        if field.is_repeated:
            parameter.update(style="form", explode=True)
        return parameter

    def _request_body(self, binding: Binding) -> dict[str, Any]:
        request = binding.method.input_type
        if binding.body == "*":
            schema = self._body_without_path_fields(binding)
        else:
            field = request.fields_by_name[binding.body]
            if field.message_type is not None and field.message_type.full_name == _HTTP_BODY:
                return {
                    "required": True,
                    "description": "The gateway's notification, exactly as it sent it.",
                    "content": {"*/*": {"schema": {}}},
                }
            if binding.verb == "PATCH" and field.message_type is not None:
                schema = self._partial_resource(binding, field.message_type)
            else:
                schema = self._field_schema(field)
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def _partial_resource(self, binding: Binding, resource: Descriptor) -> Schema:
        """A PATCH body: only the fields to change, so none is required, and not the ones the
        path carries (the resource's id)."""
        in_path = {name.split(".", 1)[1] for name in binding.path_fields if "." in name}
        name = f"{binding.method.name}Body"
        self._schemas[name] = self._object(
            resource,
            [field for field in resource.fields if field.name not in in_path],
            description=f"The fields of the {resource.name} to change; the others stay.",
        )
        self._schemas[name].pop("required", None)
        return {"$ref": f"#/components/schemas/{name}"}

    def _body_without_path_fields(self, binding: Binding) -> Schema:
        request = binding.method.input_type
        in_path = {name.split(".")[0] for name in binding.path_fields}
        if not in_path:
            return self._ref(request)
        name = f"{binding.method.name}Body"
        if name not in self._schemas:
            self._schemas[name] = {}  # claimed first: a field may refer back
            self._schemas[name] = self._object(
                request,
                [field for field in request.fields if field.name not in in_path],
                description=f"The body of {binding.method.name}: "
                + (self._comments[request.full_name] or request.name),
            )
        return {"$ref": f"#/components/schemas/{name}"}

    def _success(self, method: MethodDescriptor) -> dict[str, Any]:
        output = method.output_type
        description = self._comments[output.full_name] or output.name
        return {
            "description": _first_sentence(description) or "OK",
            "content": {"application/json": {"schema": self._ref(output)}},
        }

    # -- schemas

    def _ref(self, message: Descriptor) -> Schema:
        if message.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[message.full_name])
        name = schema_name(message.full_name)
        if name not in self._schemas:
            self._schemas[name] = {}  # claimed first: recursive messages refer to themselves
            self._schemas[name] = self._message_schema(message)
        return {"$ref": f"#/components/schemas/{name}"}

    def _message_schema(self, message: Descriptor) -> Schema:
        if message.full_name == _ANY:
            return {
                "type": "object",
                "required": ["@type"],
                "properties": {"@type": {"type": "string"}},
                "additionalProperties": True,
                "description": self._comments[message.full_name],
            }
        return self._object(message, list(message.fields), self._comments[message.full_name])

    def _object(
        self, message: Descriptor, fields: list[FieldDescriptor], description: str
    ) -> Schema:
        properties = {field.name: self._property(field) for field in fields}
        required = [
            field.name for field in fields if _has_behavior(field, field_behavior_pb2.REQUIRED)
        ]
        schema: Schema = {"type": "object", "properties": properties}
        if message.full_name.startswith(PACKAGE + "."):
            # The transcoder refuses a field it does not know, and prints only its own.
            schema["additionalProperties"] = False
        if required:
            schema["required"] = required
        if description:
            schema["description"] = description
        return schema

    def _property(self, field: FieldDescriptor) -> Schema:
        schema = self._field_schema(field)
        if description := self._comments[field.full_name]:
            schema["description"] = description
        if _has_behavior(field, field_behavior_pb2.OUTPUT_ONLY):
            schema["readOnly"] = True
        if _has_behavior(field, field_behavior_pb2.INPUT_ONLY):
            schema["writeOnly"] = True
        return schema

    def _field_schema(self, field: FieldDescriptor) -> Schema:
        if _is_map(field):
            value = _message_of(field).fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._single(value)}
        if field.is_repeated:
            return {"type": "array", "items": self._single(field)}
        return self._single(field)

    def _single(self, field: FieldDescriptor) -> Schema:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return self._ref(_message_of(field))
        if field.type == FieldDescriptor.TYPE_ENUM:
            assert field.enum_type is not None
            return self._enum(field.enum_type)
        return dict(_SCALARS[field.type])

    def _enum(self, enum: EnumDescriptor) -> Schema:
        name = schema_name(enum.full_name)
        if name not in self._schemas:
            lines = [self._comments[enum.full_name]] if self._comments[enum.full_name] else []
            lines += [
                f"- `{value.name}`: {self._comments[enum.full_name + '.' + value.name]}".rstrip(
                    ": "
                )
                for value in enum.values
            ]
            lines.append("Case-insensitive on input.")
            self._schemas[name] = {
                "type": "string",
                "enum": [value.name for value in enum.values],
                "description": "\n".join(lines),
            }
        return {"$ref": f"#/components/schemas/{name}"}

    def _add_error_schemas(self) -> None:
        """google.rpc.Status with the details the edge and Envoy send (ErrorInfo, BadRequest,
        RetryInfo), each an Any with its @type."""
        status = self._pool.FindMessageTypeByName("google.rpc.Status")
        self._ref(status)
        detail_refs = []
        for detail in ("google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.RetryInfo"):
            message = self._pool.FindMessageTypeByName(detail)
            self._ref(message)
            name = f"{detail}.Detail"
            self._schemas[name] = {
                "allOf": [
                    {"$ref": f"#/components/schemas/{detail}"},
                    {
                        "type": "object",
                        "required": ["@type"],
                        "properties": {"@type": {"const": f"type.googleapis.com/{detail}"}},
                    },
                ],
            }
            detail_refs.append({"$ref": f"#/components/schemas/{name}"})
        other = {"$ref": f"#/components/schemas/{schema_name(_ANY)}"}
        schema = self._schemas["google.rpc.Status"]
        schema["properties"]["details"]["items"] = {"anyOf": [*detail_refs, other]}
        schema["required"] = ["code", "message"]
        # In our words: googleapis' comments speak of gRPC and link with their own syntax.
        schema["description"] = (
            "An error. `details` holds a google.rpc.ErrorInfo whose `reason` is stable (branch "
            "on it; an internal error's metadata has the `correlationId` to quote), and for "
            "invalid fields a google.rpc.BadRequest naming each field and its own reason."
        )
        schema["properties"]["code"]["description"] = (
            "The gRPC status code (3 = INVALID_ARGUMENT…)."
        )
        schema["properties"]["message"]["description"] = "What went wrong, in English."
        schema["properties"]["details"]["description"] = "ErrorInfo, BadRequest, RetryInfo."


def _add_example(target: dict[str, Any], value: dict[str, Any] | None) -> None:
    if value is not None:
        media = next(iter(target["content"].values()))
        media["examples"] = {"example": {"value": examples.without_nulls(value)}}


def schema_name(full_name: str) -> str:
    """Order for payloops.v1.Order; other packages keep their name (google.rpc.Status)."""
    return full_name.removeprefix(PACKAGE + ".")


def _query_fields(message: Descriptor, prefix: str = "") -> Iterator[tuple[str, FieldDescriptor]]:
    """The fields a query string can set: scalars, enums, repeated scalars, well-known string
    types, and (dotted) the fields of non-repeated nested messages."""
    for field in message.fields:
        name = prefix + field.name
        if _is_map(field):
            continue
        nested = field.message_type
        if nested is None or nested.full_name in _WELL_KNOWN:
            yield name, field
        elif not field.is_repeated:
            yield from _query_fields(nested, name + ".")


def _error_statuses(binding: Binding, *, secured: bool) -> list[str]:
    # 403 on every operation: the edge refuses a publishable key on every call, those that
    # take no credential included (a browser's key must never reach them).
    statuses = {"400", "403", "404", "408", "429", "431", "500", "503", "504"}
    if secured or binding.method.name in UNAUTHENTICATED_METHODS:
        statuses |= {"401"}
    if binding.verb != "GET":
        statuses |= {"409"}
    if binding.body:
        statuses |= {"413"}
    return sorted(statuses)


def _field_at(message: Descriptor, dotted: str) -> FieldDescriptor:
    names = dotted.split(".")
    field = message.fields_by_name[names[0]]
    for name in names[1:]:
        field = _message_of(field).fields_by_name[name]
    return field


def _message_of(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None, field.full_name
    return field.message_type


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _has_behavior(field: FieldDescriptor, behavior: int) -> bool:
    return behavior in field.GetOptions().Extensions[field_behavior_pb2.field_behavior]


def _first_sentence(text: str) -> str:
    sentence = text.split(". ")[0].split(": ")[0].rstrip(".")
    return sentence if len(sentence) <= 100 else ""


_INFO = """\
PayLoops takes a payment once, through one API, and routes it to the best processor, failing
over when one is slow or down, never charging twice.

**Wire format.** Field names are snake_case. 64-bit integers (amounts) are JSON strings
(`"4999"`); both strings and numbers are accepted on input. Enums are upper-case names
(`"SUCCEEDED"`), case-insensitive on input. Timestamps are RFC 3339. Every field is printed,
zero values included. Unknown fields and query parameters are rejected.

**Errors** are `google.rpc.Status` JSON: `code`, `message`, and `details` holding a
`google.rpc.ErrorInfo` whose `reason` is stable (branch on it, not on the message) and, for
invalid fields, a `google.rpc.BadRequest` listing each field and its own reason.

**Retries.** Send an `Idempotency-Key` with every POST that creates or moves money: a retry with
the same key gets the first answer, and the payment happens once.

**Reads.** An operation with `x-payloops-read-only: true` changes nothing (every GET, and a
simulation that takes a body): a read-only API key and a dashboard viewer may call exactly
these."""

_SECURITY_SCHEMES = {
    "ApiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A merchant's secret API key, `sk_test_…` or `sk_live_…`: its prefix is "
        "its mode. Keep it on your server.",
    },
    "DashboardSession": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A dashboard user's access token from `POST /v1/sessions`, valid for "
        "minutes; the `PayLoops-Mode` header chooses test (default) or live data.",
    },
    "AdminKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "The platform operator's admin key: creating merchants and their first "
        "owner, registering the gateways (processors) merchants route to.",
    },
    "PublishableKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A merchant's publishable key, `pk_test_…` or `pk_live_…`: it can only "
        "tokenize cards, so it may be in a web page.",
    },
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string up to 255 characters. A retry with the same key and the "
    "same request gets the first answer instead of doing the work again; the same key with a "
    "different request is refused (409).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_REFRESH_COOKIE = {
    "name": REFRESH_COOKIE,
    "in": "cookie",
    "required": False,
    "description": "The refresh token, as CreateSession and RefreshSession set it for a "
    "browser; used when the body has no `refresh_token`. Refused (403 "
    "REFRESH_COOKIE_CROSS_ORIGIN) when the browser says another origin's page sent it.",
    "schema": {"type": "string"},
}
_REFRESH_COOKIE_SET = {
    "description": f"`{REFRESH_COOKIE}=…; Path=…; Max-Age=…; HttpOnly; Secure; "
    "SameSite=Strict`, once for each of the paths of RefreshSession and LogoutSession: the "
    "new refresh token, for a browser that must not hold it in script (Max-Age=0 from "
    "LogoutSession, which clears it).",
    "schema": {"type": "string"},
}
_MODE = {
    "name": "PayLoops-Mode",
    "in": "header",
    "required": False,
    "description": "For a dashboard session only: `test` (default) or `live` data. An API key's "
    "mode is its prefix.",
    "schema": {"type": "string", "enum": ["test", "live"]},
}


def generate() -> str:
    document = Document(descriptor_set_with_comments()).render()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_OUT
    out.write_text(generate())


if __name__ == "__main__":
    main()
