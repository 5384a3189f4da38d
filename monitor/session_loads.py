"""Session loads from heart rate: TRIMP (Banister, Edwards) and time in the five HR zones of every `fit`/`ble`
session, computed from the athlete's `hr` points with the profile in use and written onto the `session` point.

`update_session_loads(store)` is idempotent: each written session also records the profile values used
(`load_hr_max_bpm`, `load_hr_rest_bpm`, `load_sex`), and a session is rewritten only when those change. It never
touches sessions of other sources (`csv`, `history`) nor a `fit`/`ble` session whose `trimp` was written by
something else (no `load_hr_max_bpm` beside it). Each athlete's `hr` is read once per call.

Strap sessions: the gateway streams `hr` (source `ble`) without session points, so before the loads the job finds
the training sessions in each athlete's `ble` HR stream (`monitor.hr_sessions`) and writes a `session` point (source
`ble`, sport `other`, at the first sample, with `hr_samples`) for each one that overlaps no other session of the
athlete (a FIT file of the same run, a session the demo wrote). A detected session whose figures changed (still
growing) is rewritten at the same start, and its loads recomputed. A detected session that another session
overlaps later (the watch file of the same training, imported afterwards) is marked `superseded`; the analysis
leaves it out, so the training counts once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields

import numpy as np

from ingest.model import HR, READINESS, SESSION
from ingest.store.base import PointBatch, Store
from monitor.hr_load import SessionHrLoads, highest_rolling_mean_bpm, sample_intervals, session_hr_loads
from monitor.hr_profile import ProfileInUse, estimate_hr_rest, read_profile, resolve_profile
from monitor.hr_sessions import find_hr_sessions

HR_SOURCES = ("fit", "ble")
SESSION_READ_FIELDS = (
    "duration_s",
    "elapsed_s",
    "rr_count",
    "trimp",
    "load_hr_max_bpm",
    "load_hr_rest_bpm",
    "load_sex",
)
ZONE_FIELDS = tuple(f"hr_zone{i}_s" for i in range(1, 6))
DETECTED_TAGS = {"source": "ble", "sport": "other"}  # a session found in the ble HR stream
DETECTED_FIELDS = ("duration_s", "elapsed_s", "avg_hr_bpm", "max_hr_bpm", "hr_samples")
SUPERSEDED = "superseded"  # bool on a detected strap session that another session of the same training covers


@dataclass
class SessionLoadCounts:
    """Sessions per outcome of one `update_session_loads` call."""

    updated: int = 0  # loads written (first time or with a changed profile)
    unchanged: int = 0  # loads already computed with the profile in use
    without_hr: int = 0  # fit/ble sessions without HR samples
    kept: int = 0  # fit/ble sessions whose trimp came from elsewhere (left as is)
    no_profile: int = 0  # sessions with HR but no usable profile (HRmax unavailable)
    sessions_found: int = 0  # ble sessions found in the HR stream and written as new session points
    sessions_grown: int = 0  # ble sessions written earlier whose duration or HR changed (rewritten, same start)
    sessions_superseded: int = 0  # detected ble sessions now covered by another session (e.g. a later FIT file)
    first_updated_ms: dict[str, int] = field(default_factory=dict)  # athlete → start of its earliest updated session
    profiles: dict[str, ProfileInUse] = field(default_factory=dict)  # athlete → the profile its loads used

    def add(self, other: SessionLoadCounts) -> None:
        for name in COUNT_NAMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.first_updated_ms.update(other.first_updated_ms)
        self.profiles.update(other.profiles)

    def to_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNT_NAMES}


COUNT_NAMES = tuple(f.name for f in fields(SessionLoadCounts) if f.type == "int")


@dataclass
class AthleteHr:
    """One athlete's fit/ble sessions and the HR samples inside them (grouped by session, time-sorted within)."""

    time_ms: np.ndarray  # session starts
    source: np.ndarray
    sport: np.ndarray
    stored: dict[str, np.ndarray]  # SESSION_READ_FIELDS as read
    hr_bpm: np.ndarray
    hr_time_ms: np.ndarray
    hr_session: np.ndarray  # session index of each HR sample
    dt_s: np.ndarray  # seconds each HR sample stands for (monitor.hr_load gap rule)
    hr_max_estimate_bpm: float

    @property
    def n_sessions(self) -> int:
        return len(self.time_ms)


def _span_ms(stored: dict[str, np.ndarray]) -> np.ndarray:
    """Session length: the longer of elapsed and timer time (pauses inside are then covered); NaN if neither."""
    span = np.fmax(stored["elapsed_s"], stored["duration_s"])
    return span * 1000.0


def read_athlete_hr(store: Store, athlete: str) -> AthleteHr:
    """The athlete's fit/ble sessions and, from one `hr` read over their span, the HR samples of each session.

    A sample belongs to the latest session of its source starting at or before it, if it is within that session's
    [start, start + max(elapsed, duration)]."""
    frame = store.read(SESSION.name, athlete, list(SESSION_READ_FIELDS), with_tags=["source", "sport"])
    mine = np.isin(frame.columns["source"].astype(str), HR_SOURCES)
    order = np.flatnonzero(mine)
    start = frame.time_ms[order].astype(np.int64)
    stored = {name: frame.columns[name][order] for name in SESSION_READ_FIELDS}
    end = start + np.nan_to_num(_span_ms(stored), nan=0.0).astype(np.int64)
    source = frame.columns["source"][order]
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(start):
        hr = store.read(HR.name, athlete, ["bpm"], int(start.min()), int(end.max()) + 1, with_tags=["source"])
        bpm = hr.columns["bpm"]
        for name in HR_SOURCES:
            sessions = np.flatnonzero(source == name)  # time-sorted, as read
            if not len(sessions):
                continue
            pick = (hr.columns["source"] == name) & np.isfinite(bpm) & (bpm > 0)
            t = hr.time_ms[pick].astype(np.int64)
            k = np.searchsorted(start[sessions], t, side="right") - 1
            inside = (k >= 0) & (t <= end[sessions][np.maximum(k, 0)])
            parts.append((bpm[pick][inside], t[inside], sessions[k[inside]]))
    bpm = np.concatenate([np.zeros(0)] + [p[0] for p in parts]).astype(float)
    t = np.concatenate([np.zeros(0, np.int64)] + [p[1] for p in parts]).astype(np.int64)
    session = np.concatenate([np.zeros(0, np.int64)] + [p[2] for p in parts]).astype(np.int64)
    by_session = np.lexsort((t, session))
    bpm, t, session = bpm[by_session], t[by_session], session[by_session]
    dt_s, continuous = sample_intervals(t, session, len(start))
    return AthleteHr(
        time_ms=start,
        source=source,
        sport=frame.columns["sport"][order],
        stored=stored,
        hr_bpm=bpm,
        hr_time_ms=t,
        hr_session=session,
        dt_s=dt_s,
        hr_max_estimate_bpm=highest_rolling_mean_bpm(bpm, t, continuous),
    )


def profile_in_use(store: Store, athlete: str, data: AthleteHr | None = None) -> ProfileInUse:
    """The athlete's profile: set values, else estimates from their sessions' HR and morning readings."""
    data = read_athlete_hr(store, athlete) if data is None else data
    mornings = store.read(READINESS.name, athlete, ["mean_hr_bpm"])
    counted = np.bincount(data.hr_session, data.dt_s, minlength=data.n_sessions) if data.n_sessions else np.zeros(0)
    return resolve_profile(
        athlete,
        read_profile(store, athlete),
        data.hr_max_estimate_bpm,
        int((counted > 0).sum()),
        float(counted.sum() / 3600.0),
        estimate_hr_rest(mornings.time_ms, mornings.columns["mean_hr_bpm"]),
    )


def _same(stored: np.ndarray, value: float | np.ndarray) -> np.ndarray:
    return np.isclose(np.asarray(stored, dtype=float), value, rtol=0.0, atol=1e-9)


def _session_batches(
    data: AthleteHr, athlete: str, rows: np.ndarray, loads: SessionHrLoads, profile: ProfileInUse
) -> list[PointBatch]:
    batches = []
    for source, sport in sorted({(str(data.source[i]), str(data.sport[i])) for i in rows}):
        sel = rows[(data.source[rows] == source) & (data.sport[rows] == sport)]
        fields: dict[str, np.ndarray] = {
            "trimp": loads.trimp[sel],
            "trimp_edwards": loads.trimp_edwards[sel],
            **{name: loads.zone_s[sel, z] for z, name in enumerate(ZONE_FIELDS)},
            "hr_time_s": loads.hr_time_s[sel],
            "load_hr_max_bpm": np.full(len(sel), profile.hr_max.bpm),
            "load_hr_rest_bpm": np.full(len(sel), profile.hr_rest.bpm),
            "load_sex": np.full(len(sel), profile.coefficients, dtype=object),
        }
        tags = {"athlete": athlete, "source": source, "sport": sport}
        batches.append(SESSION.batch(tags, data.time_ms[sel], fields))
    return batches


def _overlapping(start_ms: np.ndarray, end_ms: np.ndarray, first_ms: np.ndarray, last_ms: np.ndarray) -> np.ndarray:
    """Per interval [first, last]: whether it shares an instant with any of the time-sorted intervals [start, end]."""
    if not len(start_ms):
        return np.zeros(len(first_ms), bool)
    reach_ms = np.maximum.accumulate(end_ms)  # latest end among the intervals starting up to each one
    k = np.searchsorted(start_ms, last_ms, side="right")  # intervals starting at or before each last instant
    return (k > 0) & (reach_ms[np.maximum(k - 1, 0)] >= first_ms)


def _supersede(
    store: Store, athlete: str, frame_time_ms: np.ndarray, end: np.ndarray, ours: np.ndarray, superseded: np.ndarray
) -> np.ndarray:
    """Mark our detected sessions that another session overlaps (a watch file of the same training imported
    later) as `superseded`: the analysis counts the other one, so no training counts twice. Returns their starts."""
    start = frame_time_ms.astype(np.int64)
    covered = ours & ~(superseded == 1)
    covered[covered] = _overlapping(start[~ours], end[~ours], start[covered], end[covered])
    if covered.any():
        flags = np.ones(int(covered.sum()), bool)
        store.write([SESSION.batch({"athlete": athlete, **DETECTED_TAGS}, start[covered], {SUPERSEDED: flags})])
    return start[covered]


def detect_ble_sessions(store: Store, athlete: str, counts: SessionLoadCounts) -> np.ndarray:
    """Write the sessions found in the athlete's ble HR stream (module docstring); returns the starts written."""
    hr = store.read(HR.name, athlete, ["bpm"], tags={"source": "ble"})
    found = find_hr_sessions(hr.time_ms, hr.columns["bpm"])
    if not len(found):
        return np.zeros(0, np.int64)
    frame = store.read(SESSION.name, athlete, [*DETECTED_FIELDS, SUPERSEDED], with_tags=["source", "sport"])
    start = frame.time_ms.astype(np.int64)
    end = start + np.nan_to_num(_span_ms(frame.columns), nan=0.0).astype(np.int64)
    ours = (
        (frame.columns["source"] == DETECTED_TAGS["source"])
        & (frame.columns["sport"] == DETECTED_TAGS["sport"])
        & np.isfinite(frame.columns["hr_samples"])
    )
    rewritable = ours & np.isin(start, found.start_ms)  # our own point of a session found again
    again = np.isin(found.start_ms, start[rewritable])
    values = {
        "duration_s": found.duration_s,
        "elapsed_s": found.duration_s,  # a strap has no timer to pause: timer time = elapsed time
        "avg_hr_bpm": found.avg_hr_bpm,
        "max_hr_bpm": found.max_hr_bpm,
        "hr_samples": found.samples,
    }
    same = again.copy()
    if again.any():
        mine = np.flatnonzero(rewritable)  # one series, so one row per start
        row = mine[np.searchsorted(start[mine], found.start_ms[again])]
        for name, value in values.items():
            same[again] &= _same(frame.columns[name][row], value[again])
    new = ~again & ~_overlapping(start[~rewritable], end[~rewritable], found.start_ms, found.end_ms)
    write = new | (again & ~same)
    if write.any():
        fields = {name: value[write] for name, value in values.items()}
        store.write([SESSION.batch({"athlete": athlete, **DETECTED_TAGS}, found.start_ms[write], fields)])
    counts.sessions_found += int(new.sum())
    counts.sessions_grown += int((write & ~new).sum())
    covered = _supersede(store, athlete, frame.time_ms, end, ours, frame.columns["superseded"])
    counts.sessions_superseded += len(covered)
    return np.concatenate([found.start_ms[write], covered])


def update_athlete(store: Store, athlete: str, detect: bool = True) -> SessionLoadCounts:
    """Find the sessions of the athlete's ble HR stream (unless ``detect`` is False: no ble HR), then compute and
    write the loads of their fit/ble sessions (see the module docstring)."""
    counts = SessionLoadCounts()
    detected = detect_ble_sessions(store, athlete, counts) if detect else np.zeros(0, np.int64)
    if len(detected):
        counts.first_updated_ms[athlete] = int(detected.min())
    data = read_athlete_hr(store, athlete)
    if not data.n_sessions:
        return counts
    profile = profile_in_use(store, athlete, data)
    counts.profiles[athlete] = profile
    has_hr = np.bincount(data.hr_session, data.dt_s, minlength=data.n_sessions) > 0
    ours = np.isfinite(np.asarray(data.stored["load_hr_max_bpm"], dtype=float))
    foreign = np.isfinite(np.asarray(data.stored["trimp"], dtype=float)) & ~ours
    counts.without_hr = int((~has_hr & ~foreign).sum())
    counts.kept = int(foreign.sum())
    todo = has_hr & ~foreign
    if profile.problem is not None:
        counts.no_profile = int(todo.sum())
        return counts
    current = (
        ours
        & _same(data.stored["load_hr_max_bpm"], profile.hr_max.bpm)
        & _same(data.stored["load_hr_rest_bpm"], profile.hr_rest.bpm)
        & np.array([value == profile.coefficients for value in data.stored["load_sex"]], bool)
    )
    rewritten = np.isin(data.time_ms, detected) & (data.source == DETECTED_TAGS["source"])
    rewritten &= data.sport == DETECTED_TAGS["sport"]
    current &= ~rewritten  # a detected session that grew: its loads are recomputed
    counts.unchanged = int((todo & current).sum())
    rows = np.flatnonzero(todo & ~current)
    if len(rows):
        loads = session_hr_loads(
            data.hr_bpm,
            data.dt_s,
            data.hr_session,
            data.n_sessions,
            profile.hr_rest.bpm,
            profile.hr_max.bpm,
            profile.coefficients,
        )
        store.write(_session_batches(data, athlete, rows, loads, profile))
        first = int(data.time_ms[rows].min())
        counts.first_updated_ms[athlete] = min(first, counts.first_updated_ms.get(athlete, first))
    counts.updated = len(rows)
    return counts


def update_session_loads(store: Store, athletes: Iterable[str] | None = None) -> SessionLoadCounts:
    """Write session points for the sessions found in ble HR streams, then TRIMP, Edwards TRIMP and HR-zone times
    onto every fit/ble session with HR whose stored loads were not computed with the athlete's current profile.
    ``athletes``: None = every athlete with sessions or HR.

    Call it after importing files, after `athlete set`, and before analysing. Returns the counts over all athletes.
    """
    with_hr = set(store.list_athletes("hr"))
    roster = sorted(set(store.list_athletes("session")) | with_hr) if athletes is None else athletes
    total = SessionLoadCounts()
    for athlete in roster:
        total.add(update_athlete(store, athlete, detect=athlete in with_hr))
    return total
