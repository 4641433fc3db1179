"""The clients: `PayLoops("sk_test_…")` and `AsyncPayLoops("sk_test_…")`, the same resources
over REST (httpx) or, with `transport="grpc"`, over the mesh's native gRPC listener.

The client owns what every call shares: the key, the transport, the Idempotency-Key of each POST
and the retries (which reuse that key, so that a retried payment is replayed, not charged twice).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar

from payloops.sdk import _retry
from payloops.sdk._async_resources import AsyncApiResources
from payloops.sdk._errors import PayLoopsError
from payloops.sdk._http import AsyncHttpTransport, HttpTransport
from payloops.sdk._operation import Operation, Request
from payloops.sdk._resources import ApiResources

T = TypeVar("T")
Transport = Literal["http", "grpc"]
DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_GRPC_TARGET = "127.0.0.1:8081"


class _Transport(Protocol):
    def send(
        self, operation: Operation[Any], request: Request, headers: Mapping[str, str]
    ) -> Any: ...

    def close(self) -> None: ...


class _AsyncTransport(Protocol):
    async def send(
        self, operation: Operation[Any], request: Request, headers: Mapping[str, str]
    ) -> Any: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class _Settings:
    api_key: str = field(repr=False)  # never in logs or tracebacks
    base_url: str
    grpc_target: str
    transport: Transport
    timeout: float
    max_retries: int
    mode: str | None

    @classmethod
    def of(
        cls,
        api_key: str | None,
        base_url: str | None,
        grpc_target: str | None,
        transport: str,
        timeout: float,
        max_retries: int,
        mode: str | None,
    ) -> _Settings:
        api_key = api_key or os.environ.get("PAYLOOPS_API_KEY")
        if not api_key:
            raise ValueError(
                "an API key is required: PayLoops('sk_test_…') "
                "or the PAYLOOPS_API_KEY environment variable"
            )
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        if transport not in ("http", "grpc"):
            raise ValueError(f"transport must be 'http' or 'grpc', not {transport!r}")
        return cls(
            api_key=api_key,
            base_url=base_url or os.environ.get("PAYLOOPS_API_URL") or DEFAULT_BASE_URL,
            grpc_target=grpc_target
            or os.environ.get("PAYLOOPS_GRPC_TARGET")
            or DEFAULT_GRPC_TARGET,
            transport="grpc" if transport == "grpc" else "http",
            timeout=timeout,
            max_retries=max_retries,
            mode=mode,
        )

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if self.mode:
            headers["PayLoops-Mode"] = self.mode
        return headers


def _call_headers(operation: Operation[Any], request: Request) -> dict[str, str]:
    """This call's own headers: every POST carries an Idempotency-Key (the caller's, or a fresh
    one), made once here so that every retry of the call sends the same."""
    if operation.method != "POST":
        return {}
    return {"Idempotency-Key": request.idempotency_key or str(uuid.uuid4())}


class PayLoops(ApiResources):
    """A client of the PayLoops API.

    `api_key`: a secret key (sk_test_…/sk_live_…; default $PAYLOOPS_API_KEY), a dashboard
    session's access token (with `mode` "test" or "live"), the operator's admin key (for
    merchants.create) or a publishable key (for tokens.create). `base_url` defaults to
    $PAYLOOPS_API_URL, then a local `payloops dev`; `transport="grpc"` (the grpc extra) talks to
    `grpc_target` ($PAYLOOPS_GRPC_TARGET; "grpcs://host:port" for TLS) instead. `timeout` is
    per request, in seconds; failed calls are retried up to `max_retries` times where that is
    safe.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        transport: Transport = "http",
        grpc_target: str | None = None,
        mode: str | None = None,
    ) -> None:
        self._settings = _Settings.of(
            api_key, base_url, grpc_target, transport, timeout, max_retries, mode
        )
        self._transport = _sync_transport(self._settings)
        super().__init__(self)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def _send(self, operation: Operation[T], request: Request) -> T:
        headers = _call_headers(operation, request)
        attempt = 0
        while True:
            try:
                return operation.decode(self._transport.send(operation, request, headers))
            except PayLoopsError as error:
                if attempt >= self._settings.max_retries or not _retry.retryable(error):
                    raise
            _retry.sleep(_retry.delay(attempt))
            attempt += 1

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> PayLoops:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PayLoops(base_url={self.base_url!r}, transport={self._settings.transport!r})"


class AsyncPayLoops(AsyncApiResources):
    """PayLoops for asyncio: the same arguments and resources, each call awaited
    (`await client.orders.create(…)`); pages iterate with `async for`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        transport: Transport = "http",
        grpc_target: str | None = None,
        mode: str | None = None,
    ) -> None:
        self._settings = _Settings.of(
            api_key, base_url, grpc_target, transport, timeout, max_retries, mode
        )
        self._transport = _async_transport(self._settings)
        super().__init__(self)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    async def _send(self, operation: Operation[T], request: Request) -> T:
        headers = _call_headers(operation, request)
        attempt = 0
        while True:
            try:
                return operation.decode(await self._transport.send(operation, request, headers))
            except PayLoopsError as error:
                if attempt >= self._settings.max_retries or not _retry.retryable(error):
                    raise
            await _retry.async_sleep(_retry.delay(attempt))
            attempt += 1

    async def close(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> AsyncPayLoops:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncPayLoops(base_url={self.base_url!r}, transport={self._settings.transport!r})"


def _sync_transport(settings: _Settings) -> _Transport:
    if settings.transport == "grpc":
        from payloops.sdk._grpc import GrpcTransport  # the grpc extra: imported only when used

        return GrpcTransport(settings.grpc_target, settings.headers(), settings.timeout)
    return HttpTransport(settings.base_url, settings.headers(), settings.timeout)


def _async_transport(settings: _Settings) -> _AsyncTransport:
    if settings.transport == "grpc":
        from payloops.sdk._grpc import AsyncGrpcTransport

        return AsyncGrpcTransport(settings.grpc_target, settings.headers(), settings.timeout)
    return AsyncHttpTransport(settings.base_url, settings.headers(), settings.timeout)
