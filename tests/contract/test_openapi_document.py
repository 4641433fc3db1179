"""The OpenAPI document (gen/openapi.json) is what `python -m cli.openapi` makes of the protos
today, it is valid OpenAPI 3.1, and it says what Envoy's transcoder really does: every binding,
the JSON mapping of our print options, the protos' field behaviours and comments."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from cli import openapi
from cli import openapi_examples as examples
from tests import openapi_document
from tests.e2e.api_surface import operations

REPO = Path(__file__).resolve().parents[2]


@cache
def document() -> dict[str, Any]:
    return openapi_document.load()


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = document()["components"]["schemas"][name]
    return found


def operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, methods in document()["paths"].items():
        for verb, found in methods.items():
            if found["operationId"] == operation_id:
                return path, verb, found
    raise AssertionError(f"no operation {operation_id}")


def test_the_committed_document_is_what_the_protos_make_today() -> None:
    assert openapi.generate() == openapi.DEFAULT_OUT.read_text(), "run `make gen`"


def test_it_is_valid_openapi_3_1() -> None:
    assert document()["openapi"] == "3.1.0"
    validate(document())


def test_every_rest_binding_is_an_operation_and_nothing_else_is() -> None:
    bound = {
        (binding.template, binding.verb.lower()) for op in operations() for binding in op.bindings
    }
    documented = {(path, verb) for path, methods in document()["paths"].items() for verb in methods}
    assert documented == bound
    ids = [op["operationId"] for methods in document()["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))


def test_its_services_are_the_ones_envoy_transcodes() -> None:
    config = yaml.safe_load((REPO / "envoy" / "envoy.yaml").read_text())
    transcoded = next(
        each["typed_config"]["services"]
        for listener in config["static_resources"]["listeners"]
        for chain in listener["filter_chains"]
        for network in chain["filters"]
        for each in network["typed_config"].get("http_filters", [])
        if each["name"] == "envoy.filters.http.grpc_json_transcoder"
    )
    tags = {tag["name"] for tag in document()["tags"]}
    assert {name.removeprefix("payloops.v1.") for name in transcoded} == tags


def test_path_query_and_body_split_the_request_as_the_binding_says() -> None:
    path, verb, pay = operation("PayOrder")
    assert (path, verb) == ("/v1/orders/{order}:pay", "post")
    assert [p.get("name") for p in pay["parameters"] if "name" in p] == ["order"]
    body = schema("PayOrderBody")
    assert "order" not in body["properties"]  # in the path, never in the body
    assert "payment_method" in body["properties"]

    _, _, create = operation("CreateOrder")  # body: "order"
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Order"
    }

    _, _, listing = operation("ListOrders")  # no body: every field is in the query
    query = {p["name"]: p for p in listing["parameters"] if p.get("in") == "query"}
    assert {"page_size", "page_token", "status", "created_after"} <= set(query)
    assert query["created_after"]["schema"] == {"type": "string", "format": "date-time"}

    path, _, update = operation("UpdateCustomer")  # a nested field in the path
    assert path == "/v1/customers/{customer.id}"
    assert update["parameters"][0]["name"] == "customer.id"


def test_the_json_mapping_is_the_transcoders() -> None:
    order = schema("Order")["properties"]
    # int64 as JSON strings, enums as their names, Timestamps as RFC 3339, snake_case names.
    assert order["amount"]["type"] == "string" and order["amount"]["format"] == "int64"
    assert order["status"]["$ref"] == "#/components/schemas/Order.Status"
    assert "SUCCEEDED" in schema("Order.Status")["enum"]
    assert order["create_time"]["format"] == "date-time"
    assert "amount_refunded" in order and "amountRefunded" not in order
    assert order["metadata"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": order["metadata"]["description"],
    }


def test_field_behaviours_and_comments_become_the_schemas_words() -> None:
    order = schema("Order")
    assert order["properties"]["id"]["readOnly"] is True  # OUTPUT_ONLY
    assert set(order["required"]) >= {"amount", "currency"}  # REQUIRED
    assert "minor units" in order["properties"]["amount"]["description"]
    _, _, pay = operation("PayOrder")
    assert "never starts a second payment" in pay["description"]


def test_every_operation_lists_its_errors_in_the_status_shape() -> None:
    for methods in document()["paths"].values():
        for found in methods.values():
            statuses = set(found["responses"])
            assert {"200", "400", "500", "503"} <= statuses, found["operationId"]
            if found["security"]:
                assert {"401", "403"} <= statuses, found["operationId"]
    error = document()["components"]["responses"]["400"]["content"]["application/json"]
    assert error["schema"] == {"$ref": "#/components/schemas/google.rpc.Status"}
    details = schema("google.rpc.Status")["properties"]["details"]["items"]["anyOf"]
    assert {"$ref": "#/components/schemas/google.rpc.ErrorInfo.Detail"} in details
    assert {"$ref": "#/components/schemas/google.rpc.BadRequest.Detail"} in details


@pytest.mark.parametrize(
    ("operation_id", "security"),
    [
        ("CreateOrder", [{"ApiKey": []}, {"DashboardSession": []}]),
        ("ListUsers", [{"DashboardSession": []}]),
        ("CreateMerchant", [{"AdminKey": []}]),
        ("CreateToken", [{"PublishableKey": []}]),
        ("CreateSession", []),
        ("GetHealth", []),
        ("ReceiveProcessorWebhook", []),
    ],
)
def test_security_says_which_credential_each_operation_takes(
    operation_id: str, security: list[dict[str, list[str]]]
) -> None:
    assert operation(operation_id)[2]["security"] == security


def test_the_idempotency_key_header_is_on_the_operations_that_honour_it() -> None:
    key = {"$ref": "#/components/parameters/IdempotencyKey"}
    with_key = {
        found["operationId"]
        for methods in document()["paths"].values()
        for found in methods.values()
        if key in found.get("parameters", [])
    }
    assert with_key == openapi.IDEMPOTENT


def schema_of(media: dict[str, Any]) -> Draft202012Validator:
    """A validator of one media type's schema, resolving $refs in the whole document."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:payloops", DRAFT202012.create_resource(document())
    )
    ref = media["schema"]["$ref"].replace("#", "urn:payloops#", 1)
    return Draft202012Validator({"$ref": ref}, registry=registry)


def test_every_example_is_valid_for_its_schema() -> None:
    checked = 0
    medias = [
        media
        for methods in document()["paths"].values()
        for found in methods.values()
        for media in [
            *found.get("requestBody", {}).get("content", {}).values(),
            *found["responses"].get("200", {}).get("content", {}).values(),
        ]
    ]
    medias += document()["components"]["responses"]["400"]["content"].values()
    for media in medias:
        for example in media.get("examples", {}).values():
            errors = [e.message for e in schema_of(media).iter_errors(example["value"])]
            assert not errors, errors
            checked += 1
    assert checked >= len(examples.REQUESTS) + len(examples.RESPONSES) + 1
