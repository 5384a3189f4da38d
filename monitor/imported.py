"""What follows an import (CLI `import`, the check-in upload): loads from heart rate and the analysis marked due.

Shared by every way files come in, so that a file uploaded from a phone is analysed exactly as one imported from a
terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ingest.analysis_due import mark_due
from ingest.model import HR, RR
from ingest.store.base import Store
from ingest.timeline import MORNING_READING_MAX_S
from monitor.analyze import store_mornings
from monitor.session_loads import SessionLoadCounts, update_session_loads


def earliest_written(first_ms_per_file: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Athlete → the earliest time any of the files' imports wrote for them (``ImportResult.first_ms`` each)."""
    earliest: dict[str, int] = {}
    for first_ms in first_ms_per_file:
        for athlete, t in first_ms.items():
            earliest[athlete] = min(t, earliest.get(athlete, t))
    return earliest


def after_import(store: Store, first_ms: Mapping[str, int]) -> SessionLoadCounts | None:
    """Given athlete → the earliest time an import wrote for them: store the morning readings in new beats,
    compute the training loads of the new sessions from heart rate (a better HRmax/HRrest estimate may change older
    ones too) and mark each touched athlete's analysis due from the earliest day that changed. None when nothing
    was written."""
    touched = dict(first_ms)
    if not touched:
        return None
    with_beats = set(store.list_athletes(RR.name))
    for athlete in sorted(touched):
        if athlete in with_beats:  # morning readings first: the HRrest estimate of the loads uses them
            store_mornings(store, athlete, touched[athlete] - MORNING_READING_MAX_S * 1000)
    with_hr = set(store.list_athletes(HR.name))
    loads = update_session_loads(store, [a for a in sorted(touched) if a in with_hr])
    for athlete, t in loads.first_updated_ms.items():
        touched[athlete] = min(t, touched.get(athlete, t))
    mark_due(store, touched)
    return loads
