"""The base of every resource (`client.orders`, …): a call is an Operation and a REST-shaped
Request, handed to the client, which owns the transport, the retries and the idempotency keys.

The async twins (AsyncResource) are here too: the async resources are generated from the sync
ones and differ only in these names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

from payloops.sdk._operation import Operation, Request
from payloops.sdk._pages import AsyncPage, Page
from payloops.sdk._wire import encode

T = TypeVar("T")
R = TypeVar("R")


class Requester(Protocol):
    def _send(self, operation: Operation[T], request: Request) -> T: ...


class AsyncRequester(Protocol):
    async def _send(self, operation: Operation[T], request: Request) -> T: ...


class Resource:
    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def _call(
        self,
        operation: Operation[T],
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        return self._requester._send(
            operation, Request(path or {}, query or {}, body, idempotency_key)
        )

    def _page(
        self,
        operation: Operation[R],
        items: Callable[[R], list[T]],
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
    ) -> Page[T]:
        answer = self._call(operation, path=path, query=query)
        token = str(getattr(answer, "next_page_token", ""))
        return Page(
            items(answer),
            token,
            lambda next_token: self._page(
                operation, items, path=path, query={**(query or {}), "page_token": next_token}
            ),
        )

    @staticmethod
    def _every(fetch: Callable[..., Page[T]], **query: Any) -> Iterator[T]:
        return fetch(**query).auto_paging_iter()


class AsyncResource:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def _call(
        self,
        operation: Operation[T],
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        return await self._requester._send(
            operation, Request(path or {}, query or {}, body, idempotency_key)
        )

    async def _page(
        self,
        operation: Operation[R],
        items: Callable[[R], list[T]],
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
    ) -> AsyncPage[T]:
        answer = await self._call(operation, path=path, query=query)
        token = str(getattr(answer, "next_page_token", ""))
        return AsyncPage(
            items(answer),
            token,
            lambda next_token: self._page(
                operation, items, path=path, query={**(query or {}), "page_token": next_token}
            ),
        )

    @staticmethod
    async def _every(
        fetch: Callable[..., Awaitable[AsyncPage[T]]], **query: Any
    ) -> AsyncIterator[T]:
        page = await fetch(**query)
        async for item in page.auto_paging_iter():
            yield item


def given(**fields: object) -> dict[str, object]:
    """The arguments that were given: None means "not sent", so the server's default applies."""
    return {name: value for name, value in fields.items() if value is not None}


def enum(value: str | None) -> str | None:
    """An enum value as the API names it ("manual" -> "MANUAL"): the REST listener would take any
    case, but the canonical name is what the published contract lists."""
    return value.upper() if value is not None else None


def field_mask(fields: Mapping[str, object]) -> str:
    """The update_mask of a PATCH: the fields given, in the FieldMask JSON form (camelCase), so
    that a field given as "" or {} is cleared rather than left alone."""
    return ",".join(
        name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
        for name in fields
    )


def as_body(value: object) -> Mapping[str, object]:
    """A model or a mapping, as the JSON object of a request body."""
    encoded = encode(value)
    if not isinstance(encoded, dict):
        raise TypeError(f"expected a model or a mapping, got {type(value).__name__}")
    return encoded
