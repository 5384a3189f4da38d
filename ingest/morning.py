"""The morning reading of a day: what counts as one and which one a day with several readings uses.

Rule (import, analysis and report alike): a morning reading lasts at most `MORNING_READING_MAX_S` from first to last
beat; a day's morning reading is its **earliest** reading of the UTC day, whatever its source (an app export's
`readiness` point, an RR file, beats recorded by a strap or a watch). Later readings of that day are kept in the
store but not used.
"""

from __future__ import annotations

import numpy as np

from ingest.timeline import DAY_MS

MORNING_READING_MAX_S = 10 * 60
"""Longest morning reading, s (first to last beat, inclusive): a longer recording is not a morning reading."""


def first_per_day(row: np.ndarray, day: np.ndarray, time_ms: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Index of the earliest point of each (row, day) cell of a `shape` grid, −1 where a cell has none."""
    key = row.astype(np.int64) * shape[1] + day
    ok = (row >= 0) & (day >= 0) & (day < shape[1])
    order = np.lexsort((time_ms, key))
    order = order[ok[order]]
    keys, first = np.unique(key[order], return_index=True)
    out = np.full(shape[0] * shape[1], -1, np.int64)
    out[keys] = order[first]
    return out.reshape(shape)


def earliest_of_each_day(time_ms: np.ndarray) -> np.ndarray:
    """Indices (in time order) of the earliest of the points `time_ms` (ms, UTC) on each UTC day they cover."""
    if not len(time_ms):
        return np.zeros(0, np.int64)
    day = np.asarray(time_ms, np.int64) // DAY_MS
    first = first_per_day(np.zeros(len(day), np.int64), day - day.min(), time_ms, (1, int(day.max() - day.min()) + 1))
    return first[first >= 0]
