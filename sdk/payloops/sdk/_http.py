"""One HTTP request to the API, with retries: stdlib urllib and json only.

A request is retried only when retrying cannot do harm: no response at all, 409
IDEMPOTENCY_KEY_IN_USE (the first try is still running), 429 and 503. Every POST carries an
Idempotency-Key, generated once per call and sent unchanged on every retry, so the server
replays the first result instead of paying twice.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from payloops.sdk._errors import APIConnectionError, APIError, PayLoopsError, error_from_response
from payloops.sdk._version import VERSION

USER_AGENT = f"payloops-python/{VERSION}"
_RETRY_STATUSES = frozenset({429, 503})
_INITIAL_DELAY_S = 0.5
_MAX_DELAY_S = 8.0
_sleep = time.sleep


@dataclass(frozen=True)
class Response:
    http_status: int
    body: dict[str, Any]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Transport:
    api_key: str = field(repr=False)  # never in logs or tracebacks
    base_url: str
    timeout: float
    max_retries: int

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
        idempotency_key: str | None = None,
    ) -> Response:
        url = self.base_url.rstrip("/") + path
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        data = None
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
            headers["Content-Type"] = "application/json"
            data = json.dumps(dict(body or {})).encode()

        attempt = 0
        while True:
            try:
                return self._send(
                    urllib.request.Request(url, data=data, headers=headers, method=method)
                )
            except PayLoopsError as error:
                if attempt >= self.max_retries or not _retryable(error):
                    raise
            _sleep(_delay(attempt))
            attempt += 1

    def _send(self, request: urllib.request.Request) -> Response:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                status, raw, headers = reply.status, reply.read(), _lower(reply.headers)
        except urllib.error.HTTPError as reply:
            with reply:
                raise error_from_response(
                    reply.code, _read_quietly(reply), _lower(reply.headers)
                ) from None
        except (OSError, http.client.HTTPException) as failure:
            # URLError (an OSError) wraps the socket error, e.g. ECONNREFUSED; a read timeout
            # (TimeoutError) or a dropped connection (RemoteDisconnected, IncompleteRead) is bare.
            cause = getattr(failure, "reason", failure)
            raise APIConnectionError(
                f"Could not reach the PayLoops API at {request.full_url}: {cause}"
            ) from failure
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise APIError(
                f"HTTP {status} with a body that is not a JSON object: "
                f"{raw[:200].decode('utf-8', 'replace')!r}",
                http_status=status,
                correlation_id=headers.get("x-correlation-id"),
            )
        return Response(http_status=status, body=parsed, headers=headers)


def _retryable(error: PayLoopsError) -> bool:
    if isinstance(error, APIConnectionError):
        return True
    if error.http_status == 409:
        return error.reason == "IDEMPOTENCY_KEY_IN_USE"
    return error.http_status in _RETRY_STATUSES


def _delay(attempt: int) -> float:
    """Exponential backoff with jitter: retrying clients do not come back in lockstep."""
    ceiling = min(_MAX_DELAY_S, _INITIAL_DELAY_S * 2.0**attempt)
    return ceiling * (0.5 + random.random() / 2)


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _read_quietly(reply: urllib.error.HTTPError) -> bytes:
    try:
        return reply.read()
    except (OSError, http.client.HTTPException):
        return b""
