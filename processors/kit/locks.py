"""Locks by key: calls about one payment (or one attempt) run one at a time within an adapter
process, so a read-decide-write against the gateway (a capture deciding, a void marking) is not
interleaved with another about the same payment. A key's lock exists only while someone holds
or waits for it, so the maps stay as small as the calls in flight.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager


class KeyedLocks:
    """asyncio locks by key, for handlers on the event loop."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    async def acquire(self, key: Hashable) -> Callable[[], None]:
        """Waits for the key; returns the function that releases it (call it once, on the
        loop). Not a context manager, because the holder may outlive the handler: work handed
        to a thread keeps the key until that thread is done."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:
            self._forget(key)
            raise

        def release() -> None:
            lock.release()
            self._forget(key)

        return release

    def _forget(self, key: Hashable) -> None:
        lock, users = self._locks[key]
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class KeyedThreadLocks:
    """Locks by key for worker threads (a synchronous SDK's calls)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)
