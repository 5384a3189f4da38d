"""The store of the HTTP side of `serve`: one connection for every request thread, used by one request at a time.

Requests run store calls in worker threads. `SharedStore.use()` opens the store on first use and hands it to one
caller at a time (a lock), so no connection (a SQLite handle, an httpx client) is used by two threads at once and
a read-then-write, such as "is this visit already stored? else write it", is atomic among requests. The analysis
loop opens its own store per cycle, so it never waits for a request. A store that fails to open is retried on the
next use.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from ingest.store import RetryBudget, open_store
from ingest.store.base import Store
from ingest.store.errors import StoreError

T = TypeVar("T")


class SharedStore:
    """The store named by `url` (None: `RECOVERY_STORE` or the default file), opened lazily, used under a lock."""

    def __init__(self, url: str | None = None, *, timeout_s: float = 10.0) -> None:
        self.url = url
        self.retry = RetryBudget(max_total_s=min(RetryBudget().max_total_s, timeout_s))
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._closed = False

    @contextlib.contextmanager
    def use(self) -> Iterator[Store]:
        """The open store, for this caller alone until the block ends (StoreError when it cannot be opened)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the shared store is closed")
            if self._store is None:
                self._store = open_store(self.url, retry=self.retry)
            yield self._store

    async def run(self, work: Callable[[Store], T], unavailable: Callable[[StoreError], Exception]) -> T:
        """``work(store)`` in a worker thread with the store to itself; a StoreError becomes ``unavailable(error)``
        (each service's own 503)."""

        def call() -> T:
            try:
                with self.use() as store:
                    return work(store)
            except StoreError as exc:
                raise unavailable(exc) from None

        return await run_in_threadpool(call)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._store is not None:
                self._store.close()
                self._store = None
