"""The REST diff (cli/openapi_diff.py) on small documents shaped like gen/openapi.json: every rule
catches its breaking change at the right location, and additions pass."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cli.openapi_diff import UnreadableDocument, breaking_changes, main

JsonObject = dict[str, Any]


def ref(name: str) -> JsonObject:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: JsonObject) -> JsonObject:
    return {"content": {"application/json": {"schema": schema}}}


ERRORS = {"400": {"description": "bad request", **json_body(ref("google.rpc.Status"))}}


def base_document() -> JsonObject:
    """Orders as the generator publishes them: a shared Order schema (read-only fields among
    its properties), a nested message, an enum, a map, a recursive message, query and header
    parameters, a `<Rpc>Body` request body and the error shape."""
    order = ref("Order")
    return {
        "openapi": "3.1.0",
        "info": {"title": "PayLoops", "version": "v1"},
        "paths": {
            "/v1/orders": {
                "post": {
                    "operationId": "CreateOrder",
                    "parameters": [
                        {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
                    ],
                    "requestBody": {"required": True, **json_body(order)},
                    "responses": {
                        "200": {"description": "the order", **json_body(order)},
                        **ERRORS,
                    },
                },
                "get": {
                    "operationId": "ListOrders",
                    "parameters": [
                        {
                            "name": "page_size",
                            "in": "query",
                            "schema": {"type": "integer", "format": "int32"},
                        },
                        {"name": "status", "in": "query", "schema": ref("Order.Status")},
                    ],
                    "responses": {
                        "200": {"description": "a page", **json_body(ref("ListOrdersResponse"))},
                        **ERRORS,
                    },
                },
            },
            "/v1/orders/{order}": {
                "parameters": [
                    {"name": "order", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "get": {
                    "operationId": "GetOrder",
                    "responses": {
                        "200": {"description": "the order", **json_body(order)},
                        **ERRORS,
                    },
                },
            },
            "/v1/orders/{order}:pay": {
                "post": {
                    "operationId": "PayOrder",
                    "parameters": [
                        {
                            "name": "order",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {"required": True, **json_body(ref("PayOrderBody"))},
                    "responses": {
                        "200": {"description": "the order", **json_body(order)},
                        **ERRORS,
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "Order": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "readOnly": True},
                        "amount": {"type": "string", "format": "int64"},
                        "currency": {"type": "string"},
                        "description": {"type": "string"},
                        "amount_received": {"type": "string", "format": "int64", "readOnly": True},
                        "status": {**ref("Order.Status"), "readOnly": True},
                        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                        "attempts": {
                            "type": "array",
                            "items": ref("Order.Attempt"),
                            "readOnly": True,
                        },
                        "created": {"type": "string", "format": "date-time", "readOnly": True},
                    },
                    "required": ["amount", "currency"],
                },
                "Order.Status": {
                    "type": "string",
                    "enum": ["REQUIRES_PAYMENT", "PROCESSING", "SUCCEEDED", "FAILED"],
                },
                "Order.Attempt": {
                    "type": "object",
                    "properties": {
                        "processor": {"type": "string"},
                        "latency": {"type": "string"},
                        # A message that holds itself: the comparison must end.
                        "retried_from": ref("Order.Attempt"),
                    },
                },
                "ListOrdersResponse": {
                    "type": "object",
                    "properties": {
                        "orders": {"type": "array", "items": ref("Order")},
                        "next_page_token": {"type": "string"},
                    },
                },
                "PayOrderBody": {
                    "type": "object",
                    "properties": {
                        "payment_method": {"type": "string"},
                        "off_session": {"type": "boolean"},
                        "return_url": {"type": "string"},
                        "browser": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                    },
                    "required": ["payment_method"],
                },
                "google.rpc.Status": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "integer", "format": "int32"},
                        "message": {"type": "string"},
                        "details": {
                            "type": "array",
                            "items": {"anyOf": [ref("google.rpc.ErrorInfo.Detail")]},
                        },
                    },
                },
                "google.rpc.ErrorInfo": {
                    "type": "object",
                    "properties": {"reason": {"type": "string"}, "domain": {"type": "string"}},
                },
                "google.rpc.ErrorInfo.Detail": {
                    "allOf": [
                        ref("google.rpc.ErrorInfo"),
                        {
                            "type": "object",
                            "properties": {
                                "@type": {"const": "type.googleapis.com/google.rpc.ErrorInfo"}
                            },
                        },
                    ]
                },
            }
        },
    }


def schemas(doc: JsonObject) -> JsonObject:
    result: JsonObject = doc["components"]["schemas"]
    return result


def operation(doc: JsonObject, path: str, method: str) -> JsonObject:
    result: JsonObject = doc["paths"][path][method]
    return result


def breaks_after(change: Callable[[JsonObject], None]) -> list[str]:
    old = base_document()
    new = copy.deepcopy(old)
    change(new)
    return [str(found) for found in breaking_changes(old, new)]


@dataclass(frozen=True)
class Case:
    name: str
    change: Callable[[JsonObject], None]
    expected: list[str]


def _remove_path(doc: JsonObject) -> None:
    del doc["paths"]["/v1/orders/{order}"]


def _remove_method(doc: JsonObject) -> None:
    del doc["paths"]["/v1/orders"]["get"]


def _rename_path_parameter(doc: JsonObject) -> None:
    doc["paths"]["/v1/orders/{id}:pay"] = doc["paths"].pop("/v1/orders/{order}:pay")


def _remove_output_field(doc: JsonObject) -> None:
    del schemas(doc)["Order"]["properties"]["amount_received"]


def _remove_input_output_field(doc: JsonObject) -> None:
    del schemas(doc)["Order"]["properties"]["description"]


def _retype_field(doc: JsonObject) -> None:
    schemas(doc)["Order"]["properties"]["amount"] = {"type": "integer", "format": "int64"}


def _reformat_field(doc: JsonObject) -> None:
    schemas(doc)["Order"]["properties"]["amount_received"]["format"] = "int32"


def _retype_nested_field(doc: JsonObject) -> None:
    schemas(doc)["Order.Attempt"]["properties"]["latency"] = {"type": "number"}


def _retype_array_items(doc: JsonObject) -> None:
    schemas(doc)["ListOrdersResponse"]["properties"]["orders"]["items"] = {"type": "string"}


def _retype_map_values(doc: JsonObject) -> None:
    schemas(doc)["Order"]["properties"]["metadata"]["additionalProperties"] = {"type": "integer"}


def _message_to_scalar(doc: JsonObject) -> None:
    schemas(doc)["Order"]["properties"]["attempts"]["items"] = {"type": "string"}


def _remove_enum_value(doc: JsonObject) -> None:
    schemas(doc)["Order.Status"]["enum"].remove("PROCESSING")


def _new_required_field(doc: JsonObject) -> None:
    body = schemas(doc)["PayOrderBody"]
    body["properties"]["cvc"] = {"type": "string"}
    body["required"].append("cvc")


def _optional_field_required(doc: JsonObject) -> None:
    schemas(doc)["PayOrderBody"]["required"].append("return_url")


def _new_required_parameter(doc: JsonObject) -> None:
    operation(doc, "/v1/orders", "get")["parameters"].append(
        {"name": "customer", "in": "query", "required": True, "schema": {"type": "string"}}
    )


def _optional_parameter_required(doc: JsonObject) -> None:
    operation(doc, "/v1/orders", "post")["parameters"][0]["required"] = True


def _remove_parameter(doc: JsonObject) -> None:
    operation(doc, "/v1/orders", "get")["parameters"].pop(0)


def _retype_parameter(doc: JsonObject) -> None:
    operation(doc, "/v1/orders", "get")["parameters"][0]["schema"] = {"type": "string"}


def _request_body_required(doc: JsonObject) -> None:
    operation(doc, "/v1/orders/{order}", "get")["requestBody"] = {
        "required": True,
        **json_body({"type": "object"}),
    }


def _remove_request_body(doc: JsonObject) -> None:
    del operation(doc, "/v1/orders/{order}:pay", "post")["requestBody"]


def _remove_success_response(doc: JsonObject) -> None:
    responses = operation(doc, "/v1/orders/{order}", "get")["responses"]
    responses["201"] = responses.pop("200")


def _remove_media_type(doc: JsonObject) -> None:
    response = operation(doc, "/v1/orders/{order}", "get")["responses"]["200"]
    response["content"] = {"application/x-protobuf": response["content"].pop("application/json")}


def _field_made_read_only(doc: JsonObject) -> None:
    schemas(doc)["Order"]["properties"]["description"]["readOnly"] = True


def _response_may_be_null(doc: JsonObject) -> None:
    schemas(doc)["Order"]["properties"]["currency"]["type"] = ["string", "null"]


def _response_integer_to_number(doc: JsonObject) -> None:
    schemas(doc)["google.rpc.Status"]["properties"]["code"] = {"type": "number", "format": "int32"}


def _remove_error_detail_field(doc: JsonObject) -> None:
    del schemas(doc)["google.rpc.ErrorInfo"]["properties"]["domain"]


def _change_constant(doc: JsonObject) -> None:
    detail = schemas(doc)["google.rpc.ErrorInfo.Detail"]["allOf"][1]
    detail["properties"]["@type"]["const"] = "type.googleapis.com/payloops.ErrorInfo"


def _remove_request_alternative(doc: JsonObject) -> None:
    schemas(doc)["PayOrderBody"]["properties"]["browser"]["oneOf"].pop()


def _change_inside_recursion(doc: JsonObject) -> None:
    schemas(doc)["Order.Attempt"]["properties"]["retried_from"] = {"type": "string"}


BREAKING = [
    Case("a removed path", _remove_path, ["GET /v1/orders/{order}: operation removed"]),
    Case("a removed method", _remove_method, ["GET /v1/orders: operation removed"]),
    Case(
        "a renamed path parameter",
        _rename_path_parameter,
        ["POST /v1/orders/{order}:pay: operation removed"],
    ),
    Case(
        "a removed response field",
        _remove_output_field,
        ["response schema Order.amount_received: field removed"],
    ),
    Case(
        "a removed field clients send and read",
        _remove_input_output_field,
        [
            "request schema Order.description: field removed",
            "response schema Order.description: field removed",
        ],
    ),
    Case(
        "a retyped field",
        _retype_field,
        [
            "request schema Order.amount: type changed from string (int64) to integer (int64)",
            "response schema Order.amount: type changed from string (int64) to integer (int64)",
        ],
    ),
    Case(
        "a changed format",
        _reformat_field,
        [
            "response schema Order.amount_received: "
            "type changed from string (int64) to string (int32)"
        ],
    ),
    Case(
        "a retyped field of a nested message",
        _retype_nested_field,
        ["response schema Order.Attempt.latency: type changed from string to number"],
    ),
    Case(
        "retyped array items",
        _retype_array_items,
        ["response schema ListOrdersResponse.orders[]: type changed from object to string"],
    ),
    Case(
        "retyped map values",
        _retype_map_values,
        [
            "request schema Order.metadata{}: type changed from string to integer",
            "response schema Order.metadata{}: type changed from string to integer",
        ],
    ),
    Case(
        "a message that became a scalar",
        _message_to_scalar,
        ["response schema Order.attempts[]: type changed from object to string"],
    ),
    Case(
        "a removed enum value",
        _remove_enum_value,
        [
            'request schema Order.Status: enum value "PROCESSING" removed',
            'response schema Order.Status: enum value "PROCESSING" removed',
        ],
    ),
    Case(
        "a new required request field",
        _new_required_field,
        ["request schema PayOrderBody.cvc: new required field"],
    ),
    Case(
        "an optional request field now required",
        _optional_field_required,
        ["request schema PayOrderBody.return_url: field now required"],
    ),
    Case(
        "a new required parameter",
        _new_required_parameter,
        ["GET /v1/orders query parameter customer: new required parameter"],
    ),
    Case(
        "an optional parameter now required",
        _optional_parameter_required,
        ["POST /v1/orders header parameter Idempotency-Key: parameter now required"],
    ),
    Case(
        "a removed parameter",
        _remove_parameter,
        ["GET /v1/orders query parameter page_size: parameter removed"],
    ),
    Case(
        "a retyped parameter",
        _retype_parameter,
        ["GET /v1/orders query parameter page_size: type changed from integer (int32) to string"],
    ),
    Case(
        "a request body now required",
        _request_body_required,
        ["GET /v1/orders/{order} request body: new required request body"],
    ),
    Case(
        "a removed request body",
        _remove_request_body,
        ["POST /v1/orders/{order}:pay request body: request body removed"],
    ),
    Case(
        "a removed success response",
        _remove_success_response,
        ["GET /v1/orders/{order} response 200: success response removed"],
    ),
    Case(
        "a removed media type",
        _remove_media_type,
        ["GET /v1/orders/{order} response 200: media type application/json removed"],
    ),
    Case(
        "a request field made read-only",
        _field_made_read_only,
        ["request schema Order.description: field removed (now read-only)"],
    ),
    Case(
        "a response field that may now be null",
        _response_may_be_null,
        ["response schema Order.currency: type changed from string to null|string"],
    ),
    Case(
        "a response integer that may now be fractional",
        _response_integer_to_number,
        [
            "response schema google.rpc.Status.code: "
            "type changed from integer (int32) to number (int32)"
        ],
    ),
    Case(
        "a removed field of an error detail (an anyOf alternative)",
        _remove_error_detail_field,
        ["response schema google.rpc.ErrorInfo.Detail.domain: field removed"],
    ),
    Case(
        "a changed constant",
        _change_constant,
        [
            "response schema google.rpc.ErrorInfo.Detail.@type: "
            'constant "type.googleapis.com/google.rpc.ErrorInfo" removed'
        ],
    ),
    Case(
        "a removed alternative of a request field",
        _remove_request_alternative,
        ["request schema PayOrderBody.browser: alternative oneOf[1] removed"],
    ),
    Case(
        "a change inside a recursive message",
        _change_inside_recursion,
        ["response schema Order.Attempt.retried_from: type changed from object to string"],
    ),
]


@pytest.mark.parametrize("case", BREAKING, ids=[case.name for case in BREAKING])
def test_each_breaking_change_is_reported_once_at_its_location(case: Case) -> None:
    # Order is reached from four operations; each change is one line at the schema, not four.
    assert sorted(breaks_after(case.change)) == sorted(case.expected)


def _additions(doc: JsonObject) -> None:
    doc["paths"]["/v1/refunds"] = {
        "get": {"operationId": "ListRefunds", "responses": {"200": {"description": "a page"}}}
    }
    doc["paths"]["/v1/orders/{order}"]["delete"] = {
        "operationId": "DeleteOrder",
        "responses": {"200": {"description": "deleted"}},
    }
    order = schemas(doc)["Order"]["properties"]
    order["customer"] = {"type": "string"}
    order["amount_refunded"] = {"type": "string", "format": "int64", "readOnly": True}
    schemas(doc)["Order.Status"]["enum"].append("REFUNDED")
    schemas(doc)["Order.Attempt"]["properties"]["network"] = ref("Order.Status")
    operation(doc, "/v1/orders", "get")["parameters"].append(
        {"name": "customer", "in": "query", "schema": {"type": "string"}}
    )
    schemas(doc)["PayOrderBody"]["properties"]["cvc"] = {"type": "string"}
    operation(doc, "/v1/orders/{order}", "get")["responses"]["404"] = ERRORS["400"]
    schemas(doc)["Refund"] = {"type": "object", "properties": {"id": {"type": "string"}}}


def _compatible_changes(doc: JsonObject) -> None:
    # A request that may now carry null or a fraction; a header name in another case; a
    # response that gets narrower; an error status or a kind of error detail no longer
    # returned; a read-only field that is now also writable; descriptions.
    schemas(doc)["PayOrderBody"]["properties"]["return_url"]["type"] = ["string", "null"]
    operation(doc, "/v1/orders", "get")["parameters"][0]["schema"]["type"] = "number"
    operation(doc, "/v1/orders", "post")["parameters"][0]["name"] = "idempotency-key"
    schemas(doc)["Order.Attempt"]["properties"]["processor"]["enum"] = ["sandbox", "stripe"]
    del operation(doc, "/v1/orders/{order}", "get")["responses"]["400"]
    schemas(doc)["google.rpc.Status"]["properties"]["details"]["items"]["anyOf"].pop()
    del schemas(doc)["Order"]["properties"]["created"]["readOnly"]
    schemas(doc)["Order"]["description"] = "An order: an amount the merchant wants paid."


@pytest.mark.parametrize("change", [_additions, _compatible_changes])
def test_additions_and_compatible_changes_pass(change: Callable[[JsonObject], None]) -> None:
    assert breaks_after(change) == []


def test_an_identical_document_passes() -> None:
    assert breaks_after(lambda doc: None) == []


def test_references_are_followed_with_the_keywords_beside_them() -> None:
    # The generator may inline a schema it referenced before (or the reverse), and may write
    # readOnly beside a $ref: what a client sees is the same, so nothing breaks...
    def inline_and_refer(doc: JsonObject) -> None:
        schemas(doc)["Order"]["properties"]["status"] = {
            **schemas(doc)["Order.Status"],
            "readOnly": True,
        }
        schemas(doc)["Currency"] = {"type": "string"}
        schemas(doc)["Order"]["properties"]["currency"] = ref("Currency")

    assert breaks_after(inline_and_refer) == []

    # ...and a change behind a reference is found through it.
    def retype_behind_reference(doc: JsonObject) -> None:
        schemas(doc)["Currency"] = {"type": "integer"}
        schemas(doc)["Order"]["properties"]["currency"] = ref("Currency")

    assert sorted(breaks_after(retype_behind_reference)) == [
        "request schema Order.currency: type changed from string to integer",
        "response schema Order.currency: type changed from string to integer",
    ]


def test_all_of_parts_are_merged() -> None:
    def split_into_parts(doc: JsonObject) -> None:
        order = schemas(doc)["Order"]
        properties = order.pop("properties")
        amounts = {name: properties.pop(name) for name in ("amount", "amount_received")}
        schemas(doc)["Amounts"] = {"type": "object", "properties": amounts}
        order["allOf"] = [ref("Amounts"), {"type": "object", "properties": properties}]

    assert breaks_after(split_into_parts) == []

    def split_and_drop(doc: JsonObject) -> None:
        split_into_parts(doc)
        del schemas(doc)["Amounts"]["properties"]["amount_received"]

    assert breaks_after(split_and_drop) == ["response schema Order.amount_received: field removed"]


def test_a_reference_that_leads_nowhere_is_an_error_not_a_pass() -> None:
    old = base_document()
    new = copy.deepcopy(old)
    del schemas(new)["Order.Attempt"]
    with pytest.raises(UnreadableDocument, match=r"#/components/schemas/Order\.Attempt"):
        breaking_changes(old, new)


def write(path: Path, doc: JsonObject) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_the_command_prints_one_line_per_break_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = base_document()
    new = copy.deepcopy(old)
    _remove_method(new)
    _remove_enum_value(new)
    status = main([str(write(tmp_path / "old.json", old)), str(write(tmp_path / "new.json", new))])
    assert status == 1
    assert capsys.readouterr().out.splitlines() == [
        "GET /v1/orders: operation removed",
        'response schema Order.Status: enum value "PROCESSING" removed',
        "2 breaking changes in the REST surface",
    ]


def test_the_command_passes_on_additions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = base_document()
    _additions(new)
    old_path, new_path = write(tmp_path / "old.json", base_document()), write(tmp_path / "n", new)
    assert main([str(old_path), str(new_path)]) == 0
    assert capsys.readouterr().out == "0 breaking changes in the REST surface\n"


def test_the_command_refuses_a_file_that_is_not_a_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert main([str(write(tmp_path / "old.json", base_document())), str(broken)]) == 2
    assert str(broken) in capsys.readouterr().err


PUBLISHED = Path(__file__).resolve().parents[2] / "gen" / "openapi.json"


def test_the_published_document_is_read_whole_and_its_breaks_are_found() -> None:
    # The document `make gen` writes, as CI compares it: unchanged it passes (every reference
    # resolves, the recursion ends), and one break of each kind in it is found.
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert breaking_changes(published, published) == []

    changed = copy.deepcopy(published)
    del changed["paths"]["/v1/orders/{order}:cancel"]
    del schemas(changed)["Order"]["properties"]["amount_received"]
    schemas(changed)["Order.Status"]["enum"].remove("REQUIRES_CAPTURE")
    operation(changed, "/v1/orders", "get")["parameters"][0]["required"] = True
    del schemas(changed)["google.rpc.ErrorInfo"]["properties"]["domain"]
    found = {str(change) for change in breaking_changes(published, changed)}
    assert {
        "POST /v1/orders/{order}:cancel: operation removed",
        "response schema Order.amount_received: field removed",
        'request schema Order.Status: enum value "REQUIRES_CAPTURE" removed',
        'response schema Order.Status: enum value "REQUIRES_CAPTURE" removed',
        "GET /v1/orders query parameter page_size: parameter now required",
        "response schema google.rpc.ErrorInfo.Detail.domain: field removed",
    } == found
