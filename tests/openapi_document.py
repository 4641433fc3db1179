"""The published OpenAPI document (gen/openapi.json), as the test tools that read it need it."""

from __future__ import annotations

import copy
import json
from typing import Any

from cli.openapi import DEFAULT_OUT as DOCUMENT


def load() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text())
    return document


def with_plain_path_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """The document with `{customer.id}` written `{customer_id}`. Both openapi-core and
    schemathesis fill path templates with str.format, for which a dot is an attribute lookup;
    the URL a request goes to, and every schema, stay the document's own."""
    shaped = copy.deepcopy(document)
    paths = {}
    for template, item in shaped["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    parameter["name"] = parameter["name"].replace(".", "_")
        paths[_plain_template(template)] = item
    shaped["paths"] = paths
    return shaped


def _plain_template(template: str) -> str:
    head, *variables = template.split("{")
    return "{".join([head, *(_plain_variable(each) for each in variables)])


def _plain_variable(variable: str) -> str:
    name, _, rest = variable.partition("}")
    return name.replace(".", "_") + "}" + rest
