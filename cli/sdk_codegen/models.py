"""The Python SDK's models and operation table, written from the OpenAPI document.

Each schema a response can reach becomes a frozen dataclass whose fields carry their wire kind in
the field metadata (`payloops.sdk._wire` reads it: one decoder for every model). Wire kinds:
string, int (int32 and the int64 the transcoder prints as a string), float, bool, enum (upper-case
names on the wire, lower-case in Python), timestamp (RFC 3339 -> aware datetime), duration
("0.034s" -> timedelta), json (Struct and free-form objects), message:<schema>, list:<kind> and
map:<kind>.
"""

from __future__ import annotations

import keyword
import re
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA_REF = "#/components/schemas/"
PACKAGE = "payloops.v1"
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_INT_FORMATS = {"int64", "uint64", "int32", "uint32", "sint64", "fixed64", "sfixed64"}
# A google.protobuf.Duration is a string of seconds ("0.034s"): its pattern is what tells it apart.
DURATION_PATTERN = r"^-?[0-9]+(\.[0-9]{1,9})?s$"
_LINE = 96


@dataclass(frozen=True)
class Kind:
    """A field's wire kind and the Python type that holds it."""

    wire: str
    python: str
    default: str  # the dataclass default: a literal, or "list"/"dict" for a default_factory


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    service: str
    response: str | None  # the schema of a 200 answer; None for an empty one


class Document:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.schemas: Mapping[str, Any] = document["components"]["schemas"]
        self.paths: Mapping[str, Any] = document["paths"]

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """The schema itself, or the component it refers to; `allOf` of one (a $ref with its
        own description) counts as that one."""
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            return self.resolve({**all_of[0], **{k: v for k, v in schema.items() if k != "allOf"}})
        ref = schema.get("$ref")
        return self.schemas[_ref_name(ref)] if isinstance(ref, str) else schema

    def ref_name(self, schema: Mapping[str, Any]) -> str | None:
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            return self.ref_name(all_of[0])
        ref = schema.get("$ref")
        return _ref_name(ref) if isinstance(ref, str) else None

    def is_model(self, schema: Mapping[str, Any]) -> bool:
        return "properties" in self.resolve(schema)

    def operations(self) -> list[Operation]:
        found = []
        for path, item in self.paths.items():
            for method in _HTTP_METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                (tag,) = operation["tags"]
                found.append(
                    Operation(
                        name=operation["operationId"],
                        method=method.upper(),
                        path=path,
                        service=tag if "." in tag else f"{PACKAGE}.{tag}",
                        response=self._response_model(operation),
                    )
                )
        return sorted(found, key=lambda op: op.name)

    def _response_model(self, operation: Mapping[str, Any]) -> str | None:
        ok = operation["responses"].get("200", {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or not self.is_model(schema):
            return None
        return self.ref_name(schema)

    def reachable(self, roots: list[str]) -> list[str]:
        """The schemas `roots` reach through their properties, in a stable order."""
        seen: dict[str, None] = {}
        pending = list(roots)
        while pending:
            name = pending.pop(0)
            if name in seen:
                continue
            seen[name] = None
            for prop in self.resolve(self.schemas[name]).get("properties", {}).values():
                pending.extend(self._models_in(prop))
        return sorted(seen)

    def _models_in(self, schema: Mapping[str, Any]) -> Iterator[str]:
        name = self.ref_name(schema)
        if name is not None and self.is_model(schema):
            yield name
        resolved = self.resolve(schema)
        for nested in (resolved.get("items"), resolved.get("additionalProperties")):
            if isinstance(nested, Mapping):
                yield from self._models_in(nested)

    def kind(self, schema: Mapping[str, Any]) -> Kind:
        name = self.ref_name(schema)
        if name is not None and self.is_model(schema):
            return Kind(f"message:{name}", f"{class_name(name)} | None", "None")
        resolved = self.resolve(schema)
        types = _types(resolved)
        if "enum" in resolved and all(isinstance(v, str) for v in resolved["enum"]):
            return Kind("enum", "str", '""')
        if "array" in types:
            item = self.kind(resolved.get("items", {}))
            return Kind(f"list:{item.wire}", f"list[{_element(item)}]", "list")
        if "object" in types:
            values = resolved.get("additionalProperties")
            if isinstance(values, Mapping) and values:
                value = self.kind(values)
                return Kind(f"map:{value.wire}", f"dict[str, {_element(value)}]", "dict")
            return Kind("json", "dict[str, Any]", "dict")
        fmt = resolved.get("format")
        if fmt in _INT_FORMATS or "integer" in types:
            return Kind("int", "int", "0")
        if "number" in types:
            return Kind("float", "float", "0.0")
        if "boolean" in types:
            return Kind("bool", "bool", "False")
        if fmt == "date-time":
            return Kind("timestamp", "datetime | None", "None")
        if resolved.get("pattern") == DURATION_PATTERN:
            return Kind("duration", "timedelta | None", "None")
        if "string" in types:
            return Kind("string", "str", '""')
        return Kind("json", "Any", "None")


def class_name(schema: str) -> str:
    """`Order.Attempt` -> `OrderAttempt`."""
    return "".join(part[:1].upper() + part[1:] for part in schema.split("."))


def models_module(document: Document) -> str:
    operations = document.operations()
    names = document.reachable(sorted({op.response for op in operations if op.response}))
    _check_unique(names)
    out = [
        '"""What the PayLoops API returns, as frozen dataclasses. GENERATED from gen/openapi.json',
        "by `python -m cli.sdk_codegen` (`make gen`): do not edit.",
        "",
        "Amounts and other int64 values are `int`; enum values are lower-case strings (an unset",
        'one is ""); timestamps are timezone-aware `datetime`s; durations are `timedelta`s.',
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass, field",
        "from datetime import datetime, timedelta",
        "from typing import Any",
        "",
        "from payloops.sdk._wire import OUTPUT_ONLY, WIRE, WIRE_NAME",
        "",
    ]
    for name in names:
        out += ["", *_dataclass(document, name)]
    if not any("WIRE_NAME:" in line for line in out):
        out[out.index("from payloops.sdk._wire import OUTPUT_ONLY, WIRE, WIRE_NAME")] = (
            "from payloops.sdk._wire import OUTPUT_ONLY, WIRE"
        )
    out += [
        "",
        "",
        "# Every model by its schema name, for the decoder's message:<schema> kinds.",
        "MODELS: dict[str, type[Any]] = {",
        *(f'    "{name}": {class_name(name)},' for name in names),
        "}",
        "",
        "__all__ = [",
        *(f'    "{class_name(name)}",' for name in sorted(names, key=class_name)),
        "]",
    ]
    return "\n".join(out) + "\n"


def operations_module(document: Document) -> str:
    out = [
        '"""Every operation of the API: the RPC, its REST binding and what it returns. GENERATED',
        'from gen/openapi.json by `python -m cli.sdk_codegen` (`make gen`): do not edit."""',
        "",
        "from __future__ import annotations",
        "",
        "from payloops.sdk import models",
        "from payloops.sdk._operation import Operation",
        "",
    ]
    for op in document.operations():
        response = f"models.{class_name(op.response)}" if op.response else "None"
        returns = f"models.{class_name(op.response)}" if op.response else "None"
        out.append(
            f"{_constant(op.name)}: Operation[{returns}] = Operation("
            f'"{op.name}", "{op.method}", "{op.path}", "{op.service}", {response})'
        )
    return "\n".join(out) + "\n"


def _dataclass(document: Document, name: str) -> list[str]:
    schema = document.resolve(document.schemas[name])
    lines = ["@dataclass(frozen=True)", f"class {class_name(name)}:"]
    lines += _docstring(schema.get("description") or f"The {name} schema.", "    ")
    for wire_name, prop in schema.get("properties", {}).items():
        kind = document.kind(prop)
        attribute = wire_name + "_" if keyword.iskeyword(wire_name) else wire_name
        metadata = [f'WIRE: "{kind.wire}"']
        if attribute != wire_name:
            metadata.append(f'WIRE_NAME: "{wire_name}"')
        if prop.get("readOnly") or document.resolve(prop).get("readOnly"):
            metadata.append("OUTPUT_ONLY: True")
        default = (
            f"default_factory={kind.default}"
            if kind.default in ("list", "dict")
            else f"default={kind.default}"
        )
        lines.append("")
        lines.append(
            f"    {attribute}: {kind.python} = field({default}, metadata={{{', '.join(metadata)}}})"
        )
        description = _field_description(document, prop)
        if description:
            lines += _docstring(description, "    ")
    return lines


def _field_description(document: Document, prop: Mapping[str, Any]) -> str:
    text = str(prop.get("description") or document.resolve(prop).get("description") or "")
    values = _enum_values(document.resolve(prop))
    if values:
        text = (text + "\n\n" if text else "") + "One of: " + ", ".join(values) + "."
    return text


def _enum_values(schema: Mapping[str, Any]) -> list[str]:
    if "array" in _types(schema):
        return []
    return [
        v.lower()
        for v in schema.get("enum", [])
        if isinstance(v, str) and not v.endswith("_UNSPECIFIED")
    ]


def _docstring(text: str, indent: str) -> list[str]:
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    body: list[str] = []
    for paragraph in paragraphs:
        if body:
            body.append("")
        safe = paragraph.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        body += textwrap.wrap(safe, _LINE - len(indent)) or [""]
    if len(body) == 1 and len(body[0]) + len(indent) + 6 <= _LINE:
        return [f'{indent}"""{body[0]}"""']
    lines = [f'{indent}"""{body[0]}', *(f"{indent}{line}" if line else "" for line in body[1:])]
    return [*lines, f'{indent}"""']


def _element(kind: Kind) -> str:
    """The type of a list's or map's element: never optional."""
    return kind.python.removesuffix(" | None")


def _types(schema: Mapping[str, Any]) -> set[str]:
    given = schema.get("type")
    if isinstance(given, list):
        return {str(t) for t in given}
    return {str(given)} if given else set()


def _ref_name(ref: str) -> str:
    if not ref.startswith(SCHEMA_REF):
        raise ValueError(f"not a component schema reference: {ref}")
    return ref[len(SCHEMA_REF) :]


def _constant(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).upper()


def _check_unique(names: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(class_name(name), name)
        if other != name:
            raise ValueError(f"schemas {other} and {name} would both be class {class_name(name)}")
