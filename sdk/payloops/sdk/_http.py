"""The REST transport: one HTTP exchange with the API through httpx, sync or async.

It sends exactly what the Request says (path parameters into the operation's URL template,
query, JSON body) and turns every failure into the SDK's errors: an error response into its
class (from the google.rpc.Status body), no response into APIConnectionError.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

import httpx

from payloops.sdk._errors import APIConnectionError, APIError, error_from_response
from payloops.sdk._operation import Operation, Request
from payloops.sdk._version import VERSION
from payloops.sdk._wire import encode

USER_AGENT = f"payloops-python/{VERSION}"
_BODY_EXCERPT = 200
_HEADERS = {"Accept": "application/json", "User-Agent": USER_AGENT}


class HttpTransport:
    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float) -> None:
        self._client = httpx.Client(
            base_url=base_url, headers={**_HEADERS, **headers}, timeout=timeout
        )

    def send(self, operation: Operation[Any], request: Request, headers: Mapping[str, str]) -> Any:
        built = _build(self._client, operation, request, headers)
        try:
            reply = self._client.send(built)
        except httpx.TransportError as failure:
            raise _unreachable(built, failure) from failure
        return _answer(reply)

    def close(self) -> None:
        self._client.close()


class AsyncHttpTransport:
    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url, headers={**_HEADERS, **headers}, timeout=timeout
        )

    async def send(
        self, operation: Operation[Any], request: Request, headers: Mapping[str, str]
    ) -> Any:
        built = _build(self._client, operation, request, headers)
        try:
            reply = await self._client.send(built)
        except httpx.TransportError as failure:
            raise _unreachable(built, failure) from failure
        return _answer(reply)

    async def close(self) -> None:
        await self._client.aclose()


def _build(
    client: httpx.Client | httpx.AsyncClient,
    operation: Operation[Any],
    request: Request,
    headers: Mapping[str, str],
) -> httpx.Request:
    path = operation.path
    for name, value in request.path.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
    content = None
    if request.body is not None:
        content = json.dumps(encode(request.body)).encode()
        headers = {**headers, "Content-Type": "application/json"}
    return client.build_request(
        operation.method,
        path,
        params=_query(request.query),
        content=content,
        headers=headers,
    )


def _query(query: Mapping[str, object]) -> list[tuple[str, str | int | float | bool | None]]:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in query.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is None:
                continue
            wire = encode(item)
            pairs.append((name, str(wire).lower() if isinstance(wire, bool) else str(wire)))
    return pairs


def _answer(reply: httpx.Response) -> Any:
    headers = {name.lower(): value for name, value in reply.headers.items()}
    if reply.status_code >= 300:
        raise error_from_response(reply.status_code, reply.content, headers)
    try:
        parsed = json.loads(reply.content) if reply.content else {}
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise APIError(
            f"HTTP {reply.status_code} with a body that is not a JSON object: "
            f"{reply.content[:_BODY_EXCERPT].decode('utf-8', 'replace')!r}",
            http_status=reply.status_code,
            correlation_id=headers.get("x-correlation-id"),
            request_id=headers.get("x-request-id"),
        )
    return parsed


def _unreachable(request: httpx.Request, failure: httpx.TransportError) -> APIConnectionError:
    # A timeout says so in its name; the others (refused, reset) in their message.
    what = "timed out" if isinstance(failure, httpx.TimeoutException) else str(failure)
    url = request.url.copy_with(query=None)
    return APIConnectionError(f"Could not reach the PayLoops API at {url}: {what}")
