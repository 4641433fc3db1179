"""The breaking changes between two versions of an OpenAPI document, as a REST client sees them.

`python -m cli.openapi_diff OLD NEW` prints one line per breaking change, with its location, and
exits 1 when there is one. A change breaks a client that was written against OLD when it:

- removes an operation (a path, or a method of a path), or a success (2xx) response of one;
- removes a response field, or changes its type so that a reader meets values it did not expect;
- removes an enum value or changes a constant (a request sending it is refused, a reader's
  switch loses a case);
- asks for new input: a new required request field or parameter, an optional one now required,
  a request body now required;
- removes a request field or a parameter, or an alternative of a request's `anyOf`/`oneOf` (the
  transcoder refuses unknown fields and query parameters, so a client still sending one fails),
  or changes its type so that what the client sends is no longer accepted;
- removes a media type of a request or a response.

Additions (operations, optional fields and parameters, enum values, error statuses) pass, and so
does removing an error status: a client handles fewer errors without a change. `$ref`s are
followed (local ones: the generator writes no other kind), `allOf` parts are merged, each pair of
referenced schemas is compared once per direction, and its findings are located at the schema
(`response schema Order.amount`), so a schema shared by many operations yields one line per
change, not one per operation. Value constraints (pattern, lengths) are not compared: the
document derives them from the types (int64 strings, durations), which are.
"""

from __future__ import annotations

import argparse
import enum
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

JsonObject = dict[str, Any]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMAS_PREFIX = "#/components/schemas/"


class Direction(enum.Enum):
    """Which way a schema travels: what a client sends, or what it reads."""

    REQUEST = "request"
    RESPONSE = "response"


@dataclass(frozen=True)
class Break:
    location: str
    change: str

    def __str__(self) -> str:
        return f"{self.location}: {self.change}"


class UnreadableDocument(Exception):
    """The document cannot be compared (a reference that leads nowhere, a file that is not
    JSON); the message says where."""


class Document:
    """An OpenAPI document with its local `$ref`s resolved on demand."""

    def __init__(self, content: JsonObject) -> None:
        self.content = content

    def resolve(self, node: JsonObject) -> JsonObject:
        """The node a reference leads to, with the keywords written beside the `$ref` (OpenAPI
        3.1 allows `readOnly` or `description` there) laid over the target's."""
        followed: set[str] = set()
        while "$ref" in node:
            ref = node["$ref"]
            if ref in followed:
                raise UnreadableDocument(f"{ref}: the reference leads back to itself")
            followed.add(ref)
            beside = {key: value for key, value in node.items() if key != "$ref"}
            node = {**self._target(ref), **beside}
        return node

    def schema(self, node: JsonObject) -> JsonObject:
        """A schema as a reader meets it: references resolved, `allOf` parts merged."""
        resolved = self.resolve(node)
        if "allOf" not in resolved:
            return resolved
        merged: JsonObject = {key: value for key, value in resolved.items() if key != "allOf"}
        properties = dict(merged.get("properties", {}))
        required = list(merged.get("required", []))
        for part in resolved["allOf"]:
            part_schema = self.schema(part)
            properties.update(part_schema.get("properties", {}))
            required.extend(part_schema.get("required", []))
            for key, value in part_schema.items():
                merged.setdefault(key, value)
        merged["properties"], merged["required"] = properties, required
        return merged

    def _target(self, ref: str) -> JsonObject:
        if not ref.startswith("#/"):
            raise UnreadableDocument(f"{ref}: only references inside the document are followed")
        node: Any = self.content
        for token in ref[2:].split("/"):
            key = unquote(token).replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or key not in node:
                raise UnreadableDocument(f"{ref}: no such location in the document")
            node = node[key]
        if not isinstance(node, dict):
            raise UnreadableDocument(f"{ref}: does not lead to an object")
        return node


@dataclass
class Operation:
    parameters: dict[tuple[str, str], JsonObject]
    request_body: JsonObject | None
    responses: dict[str, JsonObject]


def operations(doc: Document) -> dict[str, Operation]:
    """Every operation, keyed by `METHOD /path` (the template as written: a renamed path
    parameter is a different path to a generated client)."""
    found: dict[str, Operation] = {}
    for path, raw_item in doc.content.get("paths", {}).items():
        item = doc.resolve(raw_item)
        shared = _parameters(doc, item.get("parameters", []))
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            body = operation.get("requestBody")
            found[f"{method.upper()} {path}"] = Operation(
                parameters={**shared, **_parameters(doc, operation.get("parameters", []))},
                request_body=None if body is None else doc.resolve(body),
                responses={
                    str(status): doc.resolve(response)
                    for status, response in operation.get("responses", {}).items()
                },
            )
    return found


def _parameters(doc: Document, raw: list[JsonObject]) -> dict[tuple[str, str], JsonObject]:
    parameters = {}
    for node in raw:
        parameter = doc.resolve(node)
        name = parameter["name"]
        # HTTP header names are case-insensitive: Idempotency-Key and idempotency-key are one.
        key = name.lower() if parameter["in"] == "header" else name
        parameters[(parameter["in"], key)] = parameter
    return parameters


@dataclass
class _Comparison:
    old: Document
    new: Document
    breaks: list[Break] = field(default_factory=list)
    # Pairs of referenced schemas already compared, per direction: the findings of a shared
    # schema are reported once, and recursive schemas terminate.
    compared: set[tuple[Direction, str, str]] = field(default_factory=set)

    def add(self, location: str, change: str) -> None:
        self.breaks.append(Break(location, change))

    def run(self) -> list[Break]:
        new_operations = operations(self.new)
        for name, old_operation in operations(self.old).items():
            new_operation = new_operations.get(name)
            if new_operation is None:
                self.add(name, "operation removed")
                continue
            self.parameters(name, old_operation.parameters, new_operation.parameters)
            self.request_body(name, old_operation.request_body, new_operation.request_body)
            self.responses(name, old_operation.responses, new_operation.responses)
        return self.breaks

    def parameters(
        self,
        operation: str,
        old: dict[tuple[str, str], JsonObject],
        new: dict[tuple[str, str], JsonObject],
    ) -> None:
        for key, old_parameter in old.items():
            where = f"{operation} {key[0]} parameter {old_parameter['name']}"
            new_parameter = new.get(key)
            if new_parameter is None:
                self.add(where, "parameter removed")
                continue
            if new_parameter.get("required") and not old_parameter.get("required"):
                self.add(where, "parameter now required")
            if "schema" in old_parameter and "schema" in new_parameter:
                self.schema(
                    where, old_parameter["schema"], new_parameter["schema"], Direction.REQUEST
                )
        for key, new_parameter in new.items():
            if key not in old and new_parameter.get("required"):
                where = f"{operation} {key[0]} parameter {new_parameter['name']}"
                self.add(where, "new required parameter")

    def request_body(self, operation: str, old: JsonObject | None, new: JsonObject | None) -> None:
        where = f"{operation} request body"
        if old is None:
            if new is not None and new.get("required"):
                self.add(where, "new required request body")
            return
        if new is None:
            self.add(where, "request body removed")
            return
        if new.get("required") and not old.get("required"):
            self.add(where, "request body now required")
        self.content(where, old, new, Direction.REQUEST)

    def responses(
        self, operation: str, old: dict[str, JsonObject], new: dict[str, JsonObject]
    ) -> None:
        for status, old_response in old.items():
            where = f"{operation} response {status}"
            new_response = new.get(status)
            if new_response is None:
                if status.startswith("2"):
                    self.add(where, "success response removed")
                continue
            self.content(where, old_response, new_response, Direction.RESPONSE)

    def content(self, where: str, old: JsonObject, new: JsonObject, direction: Direction) -> None:
        new_media = new.get("content", {})
        for media_type, old_media in old.get("content", {}).items():
            if media_type not in new_media:
                self.add(where, f"media type {media_type} removed")
                continue
            if "schema" in old_media and "schema" in new_media[media_type]:
                self.schema(where, old_media["schema"], new_media[media_type]["schema"], direction)

    def schema(self, where: str, old: JsonObject, new: JsonObject, direction: Direction) -> None:
        if "$ref" in old and "$ref" in new:
            pair = (direction, old["$ref"], new["$ref"])
            if pair in self.compared:
                return
            self.compared.add(pair)
            where = _schema_location(new["$ref"], direction) or where
        old_schema, new_schema = self.old.schema(old), self.new.schema(new)
        if not self.same_type(where, old_schema, new_schema, direction):
            return
        self.enum(where, old_schema, new_schema)
        self.properties(where, old_schema, new_schema, direction)
        self.alternatives(where, old_schema, new_schema, direction)
        if isinstance(old_schema.get("items"), dict) and isinstance(new_schema.get("items"), dict):
            self.schema(f"{where}[]", old_schema["items"], new_schema["items"], direction)
        old_values, new_values = (
            old_schema.get("additionalProperties"),
            new_schema.get("additionalProperties"),
        )
        if isinstance(old_values, dict) and isinstance(new_values, dict):
            self.schema(f"{where}{{}}", old_values, new_values, direction)

    def same_type(self, where: str, old: JsonObject, new: JsonObject, direction: Direction) -> bool:
        """False (and the change reported) when what travels is no longer of a type the other
        side takes: for a request, a type the client sends that the server no longer accepts;
        for a response, a type the server may now send that the client never saw. A format
        change (int64 to int32, date-time to plain string) always counts."""
        old_types, new_types = _types(old), _types(new)
        if old_types is None or new_types is None:
            return True
        sent, taken = (
            (old_types, new_types)
            if direction is Direction.REQUEST
            else (
                new_types,
                old_types,
            )
        )
        if all(_accepts(taken, kind) for kind in sent) and old.get("format") == new.get("format"):
            return True
        self.add(where, f"type changed from {_type_label(old)} to {_type_label(new)}")
        return False

    def enum(self, where: str, old: JsonObject, new: JsonObject) -> None:
        old_values, new_values = _allowed_values(old), _allowed_values(new)
        if old_values is None or new_values is None:
            return
        kind = "enum value" if "enum" in old else "constant"
        for value in old_values:
            if value not in new_values:
                self.add(where, f"{kind} {json.dumps(value)} removed")

    def alternatives(
        self, where: str, old: JsonObject, new: JsonObject, direction: Direction
    ) -> None:
        """`anyOf`/`oneOf` alternatives (the kinds of detail a google.rpc.Status carries): a
        referenced one is matched by its reference, an inline one by its position. A request
        that loses an alternative is refused what it sent; a response that loses one only sends
        less, but what it still sends is compared."""
        for keyword in ("anyOf", "oneOf"):
            old_choices, new_choices = old.get(keyword), new.get(keyword)
            if not isinstance(old_choices, list) or not isinstance(new_choices, list):
                continue
            referenced = {choice["$ref"]: choice for choice in new_choices if "$ref" in choice}
            for index, old_choice in enumerate(old_choices):
                if "$ref" in old_choice:
                    label, new_choice = old_choice["$ref"], referenced.get(old_choice["$ref"])
                else:
                    label = f"{keyword}[{index}]"
                    inline = new_choices[index] if index < len(new_choices) else None
                    new_choice = None if inline is None or "$ref" in inline else inline
                if new_choice is not None:
                    self.schema(f"{where} {label}", old_choice, new_choice, direction)
                elif direction is Direction.REQUEST:
                    self.add(where, f"alternative {label} removed")

    def properties(
        self, where: str, old: JsonObject, new: JsonObject, direction: Direction
    ) -> None:
        old_properties: JsonObject = old.get("properties", {})
        new_properties: JsonObject = new.get("properties", {})
        for name, old_property in old_properties.items():
            if not _travels(self.old.schema(old_property), direction):
                continue
            location = f"{where}.{name}"
            new_property = new_properties.get(name)
            if new_property is None:
                self.add(location, "field removed")
            elif not _travels(self.new.schema(new_property), direction):
                hidden = "read-only" if direction is Direction.REQUEST else "write-only"
                self.add(location, f"field removed (now {hidden})")
            else:
                self.schema(location, old_property, new_property, direction)
        if direction is Direction.REQUEST:
            self.newly_required(where, old, new)

    def newly_required(self, where: str, old: JsonObject, new: JsonObject) -> None:
        old_required = set(old.get("required", []))
        new_properties: JsonObject = new.get("properties", {})
        for name in new.get("required", []):
            if name in old_required:
                continue
            new_property = new_properties.get(name)
            if new_property is not None and not _travels(
                self.new.schema(new_property), Direction.REQUEST
            ):
                continue
            change = (
                "field now required"
                if name in old.get("properties", {})
                else ("new required field")
            )
            self.add(f"{where}.{name}", change)


def _schema_location(ref: str, direction: Direction) -> str | None:
    if not ref.startswith(SCHEMAS_PREFIX):
        return None
    return f"{direction.value} schema {unquote(ref[len(SCHEMAS_PREFIX) :])}"


def _allowed_values(schema: JsonObject) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _travels(schema: JsonObject, direction: Direction) -> bool:
    """Whether a property goes this way at all: a read-only one is never sent, a write-only
    one never read."""
    hidden = "readOnly" if direction is Direction.REQUEST else "writeOnly"
    return not schema.get(hidden, False)


def _types(schema: JsonObject) -> frozenset[str] | None:
    """The JSON types a schema allows, None when it does not say (any value)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(declared)
    if "properties" in schema or "additionalProperties" in schema:
        return frozenset({"object"})
    if "items" in schema:
        return frozenset({"array"})
    return None


def _accepts(types: frozenset[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _type_label(schema: JsonObject) -> str:
    types = _types(schema)
    label = "|".join(sorted(types)) if types else "any"
    return f"{label} ({schema['format']})" if "format" in schema else label


def breaking_changes(old: JsonObject, new: JsonObject) -> list[Break]:
    """Every change from `old` to `new` that breaks a client written against `old`, in the
    order of `old`'s paths."""
    return _Comparison(Document(old), Document(new)).run()


def load(path: Path) -> JsonObject:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UnreadableDocument(f"{path}: {error}") from error
    if not isinstance(content, dict):
        raise UnreadableDocument(f"{path}: not an OpenAPI document (a JSON object)")
    return content


def report(breaks: list[Break]) -> Iterator[str]:
    yield from (str(found) for found in breaks)
    count = len(breaks)
    yield f"{count} breaking change{'s' if count != 1 else ''} in the REST surface"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cli.openapi_diff",
        description="List the changes from OLD to NEW (OpenAPI documents) that break clients.",
    )
    parser.add_argument("old", type=Path, help="the document clients were written against")
    parser.add_argument("new", type=Path, help="the document about to be published")
    args = parser.parse_args(argv)
    try:
        breaks = breaking_changes(load(args.old), load(args.new))
    except UnreadableDocument as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in report(breaks):
        print(line)
    return 1 if breaks else 0


if __name__ == "__main__":
    sys.exit(main())
