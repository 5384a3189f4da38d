"""Which athletes' stored analysis is out of date, and from which day: the `analysis_due` marker.

Writers that add or change data of past days (file imports, `rpe`, a changed profile) call ``mark_due`` with the
earliest time they touched; ``recovery-monitor analyze`` (and ``serve``) re-analyse each marked athlete from that
day on and then ``clear_due``. One point per athlete, stamped at the epoch, so a new mark overwrites the old one
(keeping the earlier day) and clearing is an overwrite too — on every store backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ingest.model import ANALYSIS_DUE
from ingest.store.base import PointBatch, Store

MEASUREMENT = ANALYSIS_DUE.name
FIELDS = ANALYSIS_DUE.field_names  # from_ms, pending
_STAMP_MS = 0


def read_due(store: Store, athletes: Iterable[str] | None = None) -> dict[str, int]:
    """Athlete → the earliest time (ms) whose analysis is due, for athletes with a pending mark."""
    wanted = None if athletes is None else set(athletes)
    one = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None  # a single athlete: read only theirs
    frame = store.read(MEASUREMENT, one, list(FIELDS), _STAMP_MS, _STAMP_MS + 1, with_tags=["athlete"])
    due = {}
    for athlete, from_ms, pending in zip(frame.columns["athlete"], frame.columns["from_ms"], frame.columns["pending"]):
        if (wanted is None or athlete in wanted) and pending == 1 and np.isfinite(from_ms):
            due[str(athlete)] = int(from_ms)
    return due


def _batches(marks: Mapping[str, int], pending: bool) -> list[PointBatch]:
    return [
        ANALYSIS_DUE.batch({"athlete": athlete}, [_STAMP_MS], {"from_ms": [int(from_ms)], "pending": [pending]})
        for athlete, from_ms in sorted(marks.items())
    ]


def due_batches(store: Store, touched: Mapping[str, int]) -> list[PointBatch]:
    """The marks `mark_due` writes, for a writer that stores them in one call with its own data."""
    if not touched:
        return []
    pending = read_due(store, touched)
    return _batches({a: min(t, pending.get(a, t)) for a, t in touched.items()}, True)


def mark_due(store: Store, touched: Mapping[str, int]) -> None:
    """Record that each athlete's data changed from ``touched[athlete]`` (ms) on; an earlier pending mark stays."""
    if batches := due_batches(store, touched):
        store.write(batches)


def clear_due(store: Store, analysed: Mapping[str, int]) -> None:
    """Clear the marks an analysis has served: ``analysed[athlete]`` is the mark it read. A mark moved to an
    earlier day in the meantime (data imported during the analysis) stays pending."""
    current = read_due(store, analysed)
    done = {a: t for a, t in analysed.items() if current.get(a) == t}
    if done:
        store.write(_batches(done, False))
