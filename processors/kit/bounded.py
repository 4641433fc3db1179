"""A bounded map for what one adapter process remembers or caches: SDK clients per key, the
redirect of a payment it made. Least recently used entries go first, so memory stays bounded
however many merchants and payments pass through. What it holds must never be needed for
correctness: a restarted adapter, or another instance, finds everything at the gateway.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class BoundedMap(Generic[_K, _V]):
    """A thread-safe LRU map. `on_evict(value)` runs for each entry pushed out (closing an
    evicted client's connections)."""

    def __init__(self, size: int, on_evict: Callable[[_V], None] | None = None) -> None:
        if size <= 0:
            raise ValueError("size must be positive")
        self._size = size
        self._on_evict = on_evict
        self._items: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: _K, value: _V) -> None:
        evicted: list[_V] = []
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                evicted.append(self._items.popitem(last=False)[1])
        # Outside the lock: closing a client may take a while.
        if self._on_evict is not None:
            for old in evicted:
                self._on_evict(old)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
