"""Per-request state the interceptor sets up and handlers add to: response headers; and the
type of a servicer's context."""

from __future__ import annotations

import contextvars
from typing import Any, TypeAlias

import grpc

# grpc's stubs make the context generic in the request and response types, which no handler
# here needs: one alias keeps signatures short.
ServicerContext: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

# Headers a handler wants on its response; the interceptor sends them as initial metadata,
# which Envoy turns into HTTP response headers (trailing metadata is dropped for REST).
response_headers: contextvars.ContextVar[list[tuple[str, str]]] = contextvars.ContextVar(
    "response_headers"
)

# The full name of the RPC being served ("/payloops.v1.OrderService/CreateOrder"), set by the
# interceptor: what a key may call depends on it.
rpc_method: contextvars.ContextVar[str] = contextvars.ContextVar("rpc_method", default="")


def add_response_header(key: str, value: str) -> None:
    response_headers.get().append((key, value))


def request_header(metadata: object, name: str) -> str | None:
    for key, value in metadata or ():  # type: ignore[attr-defined]
        if key == name and isinstance(value, str):
            return value
    return None
