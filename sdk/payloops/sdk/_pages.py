"""One page of a list, and iteration over every page after it (sync and async)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page, newest first where the API orders by time. `auto_paging_iter()` walks on to
    the last page, fetching each as the iteration reaches it."""

    data: list[T]
    next_page_token: str = ""
    _fetch_next: Callable[[str], Page[T]] | None = field(default=None, repr=False, compare=False)

    @property
    def has_more(self) -> bool:
        return bool(self.next_page_token)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def auto_paging_iter(self) -> Iterator[T]:
        page: Page[T] = self
        while True:
            yield from page.data
            if not page.has_more or page._fetch_next is None:
                return
            page = page._fetch_next(page.next_page_token)


@dataclass(frozen=True)
class AsyncPage(Generic[T]):
    """One page, as Page; `auto_paging_iter()` is an async iterator over this page and every
    page after it (`async for order in page.auto_paging_iter()`)."""

    data: list[T]
    next_page_token: str = ""
    _fetch_next: Callable[[str], Awaitable[AsyncPage[T]]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def has_more(self) -> bool:
        return bool(self.next_page_token)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    async def auto_paging_iter(self) -> AsyncIterator[T]:
        page: AsyncPage[T] = self
        while True:
            for item in page.data:
                yield item
            if not page.has_more or page._fetch_next is None:
                return
            page = await page._fetch_next(page.next_page_token)
