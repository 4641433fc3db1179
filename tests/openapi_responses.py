"""Every answer of a test mesh's REST listener checked against the published document
(gen/openapi.json), so the document cannot drift from what the server says.

`watch(api_url)` (start_mesh calls it) makes every httpx request to that listener, from any
test or helper, check its response once it is read: the operation the method and path resolve
to must list the status, and the body must match that status's schema. A mismatch fails the
request with an AssertionError naming the operation, the status and what differs.

A path the document does not list cannot be described by it (a hostile test's unknown route):
there the answer must be an error in the document's google.rpc.Status shape, since a success
would be a route the document is missing. The pages Envoy serves itself (the hosted card
fields' files under /js/v1/, the API reference at /docs/api, the dashboard's files and pages)
are not API operations and are not checked.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import httpx
from jsonschema.exceptions import ValidationError as SchemaViolation
from jsonschema_path import SchemaPath
from openapi_core import OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_schema_validator import OAS31Validator

from cli import dashboard_site
from tests import openapi_document

# Not API operations: pages Envoy serves itself, the hosted card fields' files and the API
# reference rendered from the document.
UNDOCUMENTED_PREFIXES = ("/js/v1/", "/docs/api")


class DocumentMismatch(AssertionError):
    """A response of the REST listener that the OpenAPI document does not describe."""


class ResponseChecker:
    def __init__(self, document: dict[str, Any]) -> None:
        shaped = openapi_document.with_plain_path_parameters(document)
        self._server = str(document["servers"][0]["url"])
        self._spec = SchemaPath.from_dict(shaped)
        self._api = OpenAPI(self._spec)
        self._status_schema = OAS31Validator(
            {**document, "$ref": "#/components/schemas/google.rpc.Status"}
        )

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        """Raises DocumentMismatch unless the document describes this answer."""
        request = MockRequest(self._server, method, path)
        operation = self._operation_id(request)
        if operation is None:
            self._check_unlisted_route(method, path, status, body)
            return
        response = MockResponse(
            body, status_code=status, content_type=content_type.split(";")[0].strip()
        )
        problems = [_describe(error) for error in self._api.iter_response_errors(request, response)]
        if problems:
            raise DocumentMismatch(
                f"{operation} ({method} {path}) answered {status}, which the OpenAPI document "
                f"does not describe: {'; '.join(problems)}\nbody: {body[:2000]!r}"
            )

    def _operation_id(self, request: MockRequest) -> str | None:
        finder = APICallPathFinder(self._spec)
        try:
            _, operation, *_ = finder.find(request.method, self._server + request.path)
        except PathError:
            return None
        return str(operation["operationId"])

    def _check_unlisted_route(self, method: str, path: str, status: int, body: bytes) -> None:
        if path.startswith(UNDOCUMENTED_PREFIXES):
            return
        if method == "GET" and dashboard_site.serves(path):
            return
        where = f"{method} {path} (no operation of the OpenAPI document)"
        if status < 400:
            raise DocumentMismatch(f"{where} answered {status}: a route the document lacks")
        try:
            self._status_schema.validate(json.loads(body))
        except (ValueError, SchemaViolation) as error:
            raise DocumentMismatch(
                f"{where} answered {status} without a google.rpc.Status body: "
                f"{_first_line(error)}\nbody: {body[:2000]!r}"
            ) from None


def _describe(error: Exception) -> str:
    cause = error.__cause__
    if isinstance(cause, InvalidSchemaValue):
        return f"{error} ({_violations(cause)})"
    return str(error) + (f" ({cause})" if cause else "")


def _violations(invalid: InvalidSchemaValue) -> str:
    found = [each for each in invalid.schema_errors if isinstance(each, SchemaViolation)]
    return "; ".join(f"at {_where(each)}: {each.message}" for each in found)


def _where(violation: SchemaViolation) -> str:
    return "/".join(str(part) for part in violation.absolute_path) or "the top"


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0]


@cache
def checker() -> ResponseChecker:
    return ResponseChecker(openapi_document.load())


# -- the hook in httpx ------------------------------------------------------------------------

_watched: set[tuple[str, int]] = set()


def watch(api_url: str) -> None:
    """Checks every response of the REST listener at `api_url` from now on."""
    _watched.add(_origin(httpx.URL(api_url)))
    _install()


def unwatch(api_url: str) -> None:
    _watched.discard(_origin(httpx.URL(api_url)))


def _origin(url: httpx.URL) -> tuple[str, int]:
    return url.host, url.port or 80


def check_response(response: httpx.Response) -> None:
    request = response.request
    if _origin(request.url) not in _watched:
        return
    checker().check(
        request.method,
        request.url.path,
        response.status_code,
        response.headers.get("content-type", ""),
        response.content,
    )


_installed: list[bool] = []


def _install() -> None:
    """Wraps httpx.Client.send and AsyncClient.send, which every request goes through
    (httpx.get and friends make a Client): one hook covers every test."""
    if _installed:
        return
    _installed.append(True)
    send, send_async = httpx.Client.send, httpx.AsyncClient.send

    def checked_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = send(self, request, **kwargs)
        if not kwargs.get("stream"):
            check_response(response)
        return response

    async def checked_send_async(
        self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
    ) -> httpx.Response:
        response = await send_async(self, request, **kwargs)
        if not kwargs.get("stream"):
            check_response(response)
        return response

    httpx.Client.send = checked_send  # type: ignore[method-assign]
    httpx.AsyncClient.send = checked_send_async  # type: ignore[method-assign]
