"""Batches decoded samples per series and writes them to the store off the event loop."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from ingest import model
from ingest.store.base import PointBatch, Store


class PointBuffer:
    """Collects column chunks per (measurement, tag set) and flushes them in batches.

    `add` is synchronous so BLE notification callbacks can call it; `flush` runs the blocking store write in a
    worker thread. Flushes are serialised so batches reach the store in arrival order.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: dict[tuple, list[tuple[np.ndarray, dict[str, np.ndarray]]]] = defaultdict(list)
        self._lock = asyncio.Lock()

    def add(self, measurement: str, tags: Mapping[str, str], time_ms: np.ndarray, fields: Mapping[str, np.ndarray]):
        """Queue rows of one series; KeyError at once (not at the flush) naming a measurement or field that the data
        model does not declare."""
        if len(time_ms) == 0:
            return
        declared = model.measurement(measurement)
        for name in fields:
            declared.field(name)
        key = (measurement, tuple(sorted(tags.items())), tuple(sorted(fields)))
        self._pending[key].append((np.asarray(time_ms, np.int64), {k: np.asarray(v) for k, v in fields.items()}))

    def _take_batches(self) -> list[PointBatch]:
        batches = []
        for (measurement, tags, names), chunks in self._pending.items():
            columns = {n: np.concatenate([c[1][n] for c in chunks]) for n in names}
            batches.append(
                model.measurement(measurement).batch(dict(tags), np.concatenate([c[0] for c in chunks]), columns)
            )
        self._pending.clear()
        return batches

    async def flush(self) -> int:
        """Write everything queued so far; returns the points written by this call."""
        async with self._lock:
            batches = self._take_batches()
            if not batches:
                return 0
            return await asyncio.to_thread(self.store.write, batches)
