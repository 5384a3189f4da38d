"""After-care reminders as the store records them: the visits whose quiet window runs, and the reminders sent.

While a visit's quiet window [visit, visit + `[idn] quiet_hours`) runs, `serve` sends one `post_visit_care`
event for it (a visit recorded after its window ended gets none: the advice would come too late). Every
acknowledged reminder is also written to the store as one `aftercare` point (tags `athlete`, `channel`; stamped
at the visit; fields `visit_id`, `until_ms`, `sent_ms`, `http_status`), so the loss of the state file never sends
a reminder twice.
"""

from __future__ import annotations

import math

from ingest.model import AFTERCARE
from ingest.store.base import PointBatch, Store
from ingest.visits import Visit, visits_in_window
from monitor.alerts.state import AftercareRecord
from monitor.service.episodes import CHANNEL

AFTERCARE_FIELDS = AFTERCARE.field_names  # visit_id, until_ms, sent_ms, http_status


def running_visits(store: Store, now_ms: int, window_ms: int) -> list[Visit]:
    """Every athlete's visits whose quiet window runs at `now_ms`: visit ≤ now < visit + `window_ms`."""
    return visits_in_window(store, now_ms, window_ms)


def stored_aftercare(store: Store, start_ms: int, end_ms: int) -> dict[str, AftercareRecord]:
    """Visit ID → the acknowledged reminder recorded in the store, for visits in [start_ms, end_ms)."""
    names = list(AFTERCARE_FIELDS)
    frame = store.read(AFTERCARE.name, None, names, start_ms, end_ms, tags={"channel": CHANNEL}, with_tags=["athlete"])
    found = {}
    for i, at_ms in enumerate(frame.time_ms.tolist()):
        visit_id, until, sent, status = (frame.columns[name][i] for name in names)
        if isinstance(visit_id, str) and visit_id and all(_finite(x) for x in (until, sent)):
            code = int(status) if _finite(status) else 0
            athlete = str(frame.columns["athlete"][i])
            found[visit_id] = AftercareRecord(athlete, visit_id, int(at_ms), int(until), int(sent), code)
    return found


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def aftercare_batch(record: AftercareRecord) -> PointBatch:
    """The `aftercare` point recording an acknowledged reminder."""
    values = (record.visit_id, record.until_ms, record.sent_ms, record.http_status)
    tags = {"athlete": record.athlete, "channel": CHANNEL}
    return AFTERCARE.batch(tags, [record.at_ms], {n: [v] for n, v in zip(AFTERCARE_FIELDS, values)})
