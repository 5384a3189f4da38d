"""Which stored `session` point a session RPE belongs to: the rule shared by `recovery-monitor rpe` and session logs.

Two session points are the *same session* when they belong to one athlete, start on the same UTC day and start at
most `SAME_SESSION_TOLERANCE_MS` (30 min) apart. Sessions are *recorded* (a watch file or a strap: `fit`, `ble`,
…) or *logged* by the athlete (`csv` session logs, `rpe` sessions made by `recovery-monitor rpe`).

A session's sRPE is stored on exactly one point, its *carrier*: a logged session with an RPE that is the same
session as the recorded one when there is such a point (a session log imported before the watch file), else the
recorded session itself. FIT and BLE never write an RPE, so an athlete's sRPE load (`monitor.analyze`, which then
counts only sessions with sRPE) counts each real session once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.model import SESSION
from ingest.store.base import PointBatch, Store
from ingest.timeline import DAY_MS

MEASUREMENT = SESSION.name
SAME_SESSION_TOLERANCE_MS = 30 * 60_000
RPE_SOURCE = "rpe"
"""Source of a session made to carry an RPE (`recovery-monitor rpe`, the check-in page) on a day without one."""
LOGGED_SOURCES = frozenset({"csv", RPE_SOURCE})
"""Sources of sessions the athlete logged by hand; every other source is a recording."""
RPE_FIELDS = ("rpe", "srpe_load")
READ_FIELDS = ("duration_s", "rpe", "srpe_load", "avg_hr_bpm", "distance_m", "trimp", "rr_count")
"""Fields read to find sessions: a stored session has at least one of them."""


@dataclass(frozen=True)
class StoredSession:
    """One stored `session` point: its identity (athlete, source, sport, start) and the numbers read with it."""

    athlete: str
    time_ms: int
    source: str
    sport: str
    values: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def logged(self) -> bool:
        return self.source in LOGGED_SOURCES

    @property
    def tags(self) -> dict[str, str]:
        """The point's tag set: writing fields with these tags at `time_ms` merges them into this point."""
        return {"athlete": self.athlete, "source": self.source, "sport": self.sport}

    def value(self, name: str) -> float:
        return self.values.get(name, math.nan)

    @property
    def has_rpe(self) -> bool:
        return any(math.isfinite(self.value(name)) for name in RPE_FIELDS)


def stored_sessions(
    store: Store, athlete: str, start_ms: int, end_ms: int, fields: Sequence[str] = ()
) -> list[StoredSession]:
    """The athlete's session points starting in [start_ms, end_ms), by time, with `READ_FIELDS` + `fields`."""
    names = list(dict.fromkeys([*READ_FIELDS, *fields]))
    frame = store.read(MEASUREMENT, athlete, names, start_ms, end_ms, with_tags=("source", "sport"))
    sessions = []
    for i, time_ms in enumerate(frame.time_ms.tolist()):
        values = {}
        for name in names:
            value = frame.columns[name][i]
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                values[name] = float(value)
        source, sport = frame.columns["source"][i], frame.columns["sport"][i]
        sessions.append(StoredSession(athlete, int(time_ms), source or "", sport or "", values))
    return sessions


def same_session(a_ms: int, b_ms: int) -> bool:
    """Same UTC day and starts at most `SAME_SESSION_TOLERANCE_MS` apart (the boundary included)."""
    return a_ms // DAY_MS == b_ms // DAY_MS and abs(a_ms - b_ms) <= SAME_SESSION_TOLERANCE_MS


def nearest(sessions: Sequence[StoredSession], time_ms: int) -> StoredSession | None:
    """The session starting nearest to `time_ms` among those that are the same session (earlier one on a tie)."""
    close = [s for s in sessions if same_session(s.time_ms, time_ms)]
    return min(close, key=lambda s: (abs(s.time_ms - time_ms), s.time_ms), default=None)


def carrier(sessions: Sequence[StoredSession], target: StoredSession) -> StoredSession:
    """The point that holds (or will hold) the sRPE of `target`: for a recorded session, the nearest logged
    session with an RPE that is the same session, else `target` itself."""
    if target.logged:
        return target
    logged = [s for s in sessions if s.logged and s.has_rpe]
    return nearest(logged, target.time_ms) or target


def distinct_sessions(sessions: Sequence[StoredSession]) -> list[StoredSession]:
    """The real sessions among the points: each recorded session that has a logged carrier is shown as that one."""
    out = {carrier(sessions, s) for s in sessions}
    return sorted(out, key=lambda s: (s.time_ms, s.source, s.sport))


def rpe_batch(target: StoredSession, rpe: float, minutes: float, created: bool) -> PointBatch:
    """The point attaching a session RPE to ``target``: `rpe`, `srpe_load` (RPE × minutes, Foster) and, for a
    session created to carry it, `duration_s`; written with the target's tags and start, the fields merge into that
    point, so no second session appears."""
    fields = {"rpe": [float(rpe)], "srpe_load": [float(rpe) * minutes]}
    if created:
        fields["duration_s"] = [minutes * 60.0]
    return SESSION.batch(target.tags, [target.time_ms], fields)
