"""One call of the API as both transports describe it: the operation and its REST-shaped request.

A Request says what REST would send: the path parameters (by their field path, dotted when
nested, as the URL template names them), the query and the JSON body. The HTTP transport sends
exactly that; the gRPC transport builds the request message from it with the RPC's own
google.api.http rule, so both give the same answer to the same call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from payloops.sdk._wire import decode

T = TypeVar("T")


@dataclass(frozen=True)
class Operation(Generic[T]):
    """An RPC (`name`, such as CreateOrder, in `service`), its REST binding and the model of
    its answer (None: the answer is empty)."""

    name: str
    method: str
    path: str
    service: str
    response: type[T] | None

    def decode(self, raw: Mapping[str, Any]) -> T:
        return cast(T, None) if self.response is None else decode(self.response, raw)


@dataclass(frozen=True)
class Request:
    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, object] = field(default_factory=dict)
    body: Mapping[str, object] | None = None
    idempotency_key: str | None = None
