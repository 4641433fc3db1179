"""The public API as the descriptor set Envoy loads describes it: every method of the payloops.v1
services, its google.api.http bindings, and the fields a caller can set in its request. Derived,
so a new method or field is covered by the tests that walk it without anyone listing it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from payloops.v1 import options_pb2

DESCRIPTOR_SET = Path(__file__).resolve().parents[2] / "gen" / "payloops.binpb"
PACKAGE = "payloops.v1"
HTTP_BODY = "google.api.HttpBody"
_TEMPLATE_VARIABLE = re.compile(r"\{([^}=]+)(?:=[^}]*)?\}")
# Deep enough for every input field of the API (routing rules are the deepest, at 4).
_MAX_DEPTH = 5


@dataclass(frozen=True)
class Binding:
    verb: str
    template: str
    # "" (no body: every other field is a query parameter), "*" or the field sent as the body.
    body: str

    @property
    def variables(self) -> tuple[str, ...]:
        """The request fields the path carries, dotted for nested ones (webhook_endpoint.id)."""
        return tuple(_TEMPLATE_VARIABLE.findall(self.template))

    def path(self, values: dict[str, str]) -> str:
        """The template with each variable replaced by its (already URL-encoded) value."""
        return _TEMPLATE_VARIABLE.sub(lambda match: values[match.group(1)], self.template)


@dataclass(frozen=True)
class Operation:
    method: MethodDescriptor
    bindings: tuple[Binding, ...]

    @property
    def grpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def request(self) -> Descriptor:
        return self.method.input_type

    @property
    def reads_only(self) -> bool:
        """Changes nothing, as the protos declare it: a GET binding, or `(read_only) = true`."""
        declared = self.method.GetOptions().Extensions[options_pb2.read_only]
        return declared or any(binding.verb == "GET" for binding in self.bindings)

    def new_request(self) -> Message:
        return message_factory.GetMessageClass(self.request)()

    def __str__(self) -> str:
        return self.method.full_name


@dataclass(frozen=True)
class Slot:
    """One field a caller can set, as the path of field names from the request message."""

    path: tuple[str, ...]
    field: FieldDescriptor

    @property
    def name(self) -> str:
        return ".".join(self.path)


@cache
def operations() -> tuple[Operation, ...]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file
    pool = descriptor_pool.DescriptorPool()
    for file in files:
        pool.Add(file)
    found = []
    for file in files:
        if file.package != PACKAGE:
            continue
        for service in file.service:
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                descriptor = pool.FindMethodByName(f"{PACKAGE}.{service.name}.{method.name}")
                bindings = tuple(
                    _binding(each) for each in (rule, *rule.additional_bindings) if _has_verb(each)
                )
                found.append(Operation(descriptor, bindings))
    return tuple(found)


def _has_verb(rule: http_pb2.HttpRule) -> bool:
    return rule.WhichOneof("pattern") not in (None, "custom")


def _binding(rule: http_pb2.HttpRule) -> Binding:
    verb = rule.WhichOneof("pattern")
    assert verb is not None
    return Binding(verb.upper(), getattr(rule, verb), rule.body)


def input_slots(message: Descriptor, prefix: tuple[str, ...] = ()) -> Iterator[Slot]:
    """Every field a caller may set, nested ones included; OUTPUT_ONLY fields are not input."""
    for field in message.fields:
        if _output_only(field):
            continue
        slot = Slot((*prefix, field.name), field)
        yield slot
        nested = field.message_type
        if (
            nested is not None
            and not is_map(field)
            and not nested.full_name.startswith("google.")
            and len(prefix) < _MAX_DEPTH
        ):
            yield from input_slots(nested, slot.path)


def _output_only(field: FieldDescriptor) -> bool:
    options = field.GetOptions()
    behaviors = options.Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.OUTPUT_ONLY in behaviors


def message_of(field: FieldDescriptor) -> Descriptor:
    """The type of a message field."""
    assert field.message_type is not None, field.full_name
    return field.message_type


def is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated and not is_map(field)


def slot_at(message: Descriptor, dotted: str) -> Slot:
    """The slot of a dotted field path (a path template variable)."""
    names = tuple(dotted.split("."))
    field = message.fields_by_name[names[0]]
    for name in names[1:]:
        field = message_of(field).fields_by_name[name]
    return Slot(names, field)


def with_value(
    document: dict[str, Any], slot: Slot, value: Any, root: Descriptor
) -> dict[str, Any]:
    """A copy of a request's JSON with `value` at `slot`; a repeated message on the way holds
    one element."""
    copy: dict[str, Any] = _deep_copy(document)
    node, message = copy, root
    for name in slot.path[:-1]:
        field = message.fields_by_name[name]
        _leave_oneof_to(node, field)
        if is_repeated(field):
            items = node.setdefault(name, [{}])
            node = items[0]
        else:
            node = node.setdefault(name, {})
        message = message_of(field)
    _leave_oneof_to(node, slot.field)
    node[slot.path[-1]] = value
    return copy


def _leave_oneof_to(node: dict[str, Any], field: FieldDescriptor) -> None:
    """Unsets the other members of the field's oneof, which a request may set only one of."""
    if field.containing_oneof is not None:
        for other in field.containing_oneof.fields:
            if other.name != field.name:
                node.pop(other.name, None)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value
