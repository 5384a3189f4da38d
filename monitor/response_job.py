"""The treatment-response job over the store: each visit's response per IDN level, stored once it is complete.

``response_for`` reads the visits (``ingest.visits``) and, around them, the sessions, morning readings and
muscle-load strides, turns them into daily series and compares the 7 days before each visit with days 2–8 after
(``monitor.response``; descriptive only, docs/response.md). A visit is complete once day 8
after it has passed (the day of ``as_of`` is at least day 9); complete visits are written as `visit_response`
points, one per level, so writing again is the same points. The CLI (`recovery-monitor response`) and the HTTP
API call it.

Daily series: segmental — the day's mean GCT and pedal SI of the counted sessions (``monitor.analyze``), as |SI|;
systemic — the day's first stored morning reading (ln rMSSD, its mean HR as resting HR; mornings found in beats
count once ``analyze`` has stored them); local — per pod muscle of the treated regions the SI of the day's mean
left and right EMG of its `stride` points, else the mean SI of that day's sessions whose `muscle` field names it;
|SI| averaged over the muscles with a value that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from ingest.model import READINESS, SESSION, STRIDE, VISIT_RESPONSE
from ingest.store.base import Frame, ManyFrame, PointBatch, Store
from ingest.timeline import DAY_MS, day_start_ms, iso_utc, ms_day
from ingest.visits import Visit, VisitNotFoundError, find_visit, read_visits
from monitor.analyze import ASYMMETRY_FIELDS, LOAD_FIELDS, READINESS_FIELDS, build_inputs, counted, session_symmetry
from monitor.response import (
    BASELINE_DAYS,
    INSUFFICIENT,
    LEVELS,
    POST_DAYS,
    PRE_DAYS,
    LevelResponse,
    daily_left_right_si_pct,
    daily_mean,
    insufficient_level,
    level_json,
    muscles_for_regions,
    squad_summary,
    visit_responses,
)
from monitor.session_loads import SUPERSEDED

FIRST_OFFSET_DAYS = PRE_DAYS[0] - BASELINE_DAYS  # −67: the first day read before a visit
COMPLETE_AFTER_DAYS = POST_DAYS[1] + 1  # day 9: day 8 has passed


class UnknownAthleteError(ValueError):
    """An athlete ID with no data in the store."""


def _visits(store: Store, athlete: str | None, visit_id: str | None, end_ms: int) -> list[Visit]:
    if athlete is not None and athlete not in store.list_athletes():
        raise UnknownAthleteError(f"athlete {athlete!r}: no data for this athlete in {store.url}")
    if visit_id is None:
        return read_visits(store, athlete, end_ms=end_ms)
    visit = find_visit(store, visit_id)
    if visit is None:
        raise VisitNotFoundError(f"visit {visit_id!r}: no such visit (visit list shows the IDs)")
    if athlete is not None and visit.athlete != athlete:
        raise VisitNotFoundError(f"visit {visit_id!r}: not a visit of athlete {athlete!r}")
    return [visit] if visit.at_ms < end_ms else []


def _frame_rows(frame: Frame, keep: np.ndarray) -> ManyFrame:
    columns = {name: np.asarray(column)[keep] for name, column in frame.columns.items()}
    return ManyFrame(["_"], np.zeros(int(keep.sum()), np.int64), frame.time_ms[keep], columns)


def muscle_daily_si(store: Store, athlete: str, muscles: Sequence[str], start_ms: int, n_days: int) -> np.ndarray:
    """``(muscles, n_days)`` SI per pod muscle and day from `stride` EMG, else from sessions naming the muscle."""
    end_ms = start_ms + n_days * DAY_MS
    out = np.full((len(muscles), n_days), np.nan)
    tagged = {
        s.tags.get("muscle")
        for s in store.series(athlete)
        if s.measurement == STRIDE.name and s.last_ms >= start_ms and s.first_ms < end_ms
    }
    sessions = store.read(SESSION.name, athlete, [*ASYMMETRY_FIELDS, "muscle", SUPERSEDED], start_ms, end_ms)
    named = np.array([isinstance(m, str) and m in muscles for m in sessions.columns["muscle"]], bool)
    if named.any():
        frame = counted(_frame_rows(sessions, named))
        session_si, session_day = session_symmetry(frame)["muscle"], (frame.time_ms - start_ms) // DAY_MS
        session_muscle = frame.columns["muscle"]
    for i, muscle in enumerate(muscles):
        if muscle in tagged:
            strides = store.read(
                STRIDE.name, athlete, ["emg_rms_pct_mvc"], start_ms, end_ms, tags={"muscle": muscle}, with_tags=["side"]
            )
            day = (strides.time_ms - start_ms) // DAY_MS
            is_left = strides.columns["side"] == "left"
            keep = is_left | (strides.columns["side"] == "right")
            out[i] = daily_left_right_si_pct(day[keep], is_left[keep], strides.columns["emg_rms_pct_mvc"][keep], n_days)
        if named.any():
            mine = session_muscle == muscle
            from_sessions = daily_mean(session_day[mine], session_si[mine], n_days)
            out[i] = np.where(np.isfinite(out[i]), out[i], from_sessions)
    return out


def _abs_mean(si: np.ndarray) -> np.ndarray:
    """Mean |SI| over the rows (muscles) with a value each day; NaN where none."""
    a = np.abs(si)
    ok = np.isfinite(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok.any(axis=0), np.where(ok, a, 0.0).sum(axis=0) / ok.sum(axis=0), np.nan)


def daily_series(
    store: Store, visits: Sequence[Visit], first_day: dt.date, n_days: int
) -> tuple[dict[str, np.ndarray], list[tuple[str, ...]]]:
    """Per response metric the ``(visits, n_days)`` daily series of each visit's athlete, and each visit's muscles."""
    athletes = sorted({v.athlete for v in visits})
    start_ms, end_ms = day_start_ms(first_day), day_start_ms(first_day) + n_days * DAY_MS
    fields = (*LOAD_FIELDS, *ASYMMETRY_FIELDS, SUPERSEDED)
    sessions = counted(store.read_many(SESSION.name, fields, athletes, start_ms, end_ms))
    readiness = store.read_many(READINESS.name, READINESS_FIELDS, athletes, start_ms, end_ms)
    inputs = build_inputs(athletes, first_day, n_days, sessions, readiness)
    row = np.array([athletes.index(v.athlete) for v in visits], np.int64)

    def abs_si(metric: str) -> np.ndarray:
        total, _, count = inputs.asymmetry[metric]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.abs(np.where(count > 0, total / np.maximum(count, 1), np.nan))[row]

    muscles = [muscles_for_regions(v.regions) for v in visits]
    local = np.full((len(visits), n_days), np.nan)
    cache: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
    for i, (visit, names) in enumerate(zip(visits, muscles)):
        if names:
            key = (visit.athlete, names)
            if key not in cache:
                cache[key] = _abs_mean(muscle_daily_si(store, visit.athlete, names, start_ms, n_days))
            local[i] = cache[key]
    daily = {
        "muscle_si_abs_pct": local,
        "gct_si_abs_pct": abs_si("gct"),
        "pedal_si_abs_pct": abs_si("pedal"),
        "ln_rmssd": inputs.ln_rmssd[row],
        "resting_hr_bpm": inputs.rhr_bpm[row],
    }
    return daily, muscles


def _visit_json(visit: Visit, complete: bool, window_end: dt.date) -> dict[str, Any]:
    return {
        "visit_id": visit.visit_id,
        "athlete": visit.athlete,
        "at": iso_utc(visit.at_ms),
        "regions": list(visit.regions),
        "complete": complete,
        "after_window_ends": window_end.isoformat(),
    }


def _levels(
    responses: dict[str, LevelResponse], v: int, muscles: tuple[str, ...], complete: bool, window_end: dt.date
) -> dict[str, dict[str, Any]]:
    if not complete:
        reason = f"days 2–8 after the visit end on {window_end.isoformat()}"
        levels = {level: insufficient_level(reason) for level in LEVELS}
        levels["local"]["muscles"] = list(muscles)
        return levels
    levels = {level: level_json(responses[level], v) for level in LEVELS}
    if not muscles:
        levels["local"] = insufficient_level("no muscle-load pod muscle in the treated regions")
    elif levels["local"]["verdict"] == INSUFFICIENT:
        levels["local"]["reason"] = "too few days with muscle-load data of the treated muscles"
    for level in ("segmental", "systemic"):
        if levels[level]["verdict"] == INSUFFICIENT:
            levels[level]["reason"] = "too few days with data before or after the visit, or in the baseline"
    levels["local"]["muscles"] = list(muscles)
    return levels


def response_batches(entry: dict[str, Any], at_ms: int) -> list[PointBatch]:
    """The `visit_response` points of one complete visit's JSON entry at the visit time ``at_ms``, one per level
    (a value that is None is left out)."""
    batches = []
    for level, result in entry["levels"].items():
        columns: dict[str, list[Any]] = {"verdict": [result["verdict"]]}
        low, high = result["ci95_sd"]
        for name, value in (("improvement_sd", result["improvement_sd"]), ("ci95_low_sd", low), ("ci95_high_sd", high)):
            if value is not None:
                columns[name] = [value]
        columns |= {"days_pre": [result["days"]["pre"]], "days_post": [result["days"]["post"]]}
        if result["metrics_used"]:
            columns["metrics"] = [",".join(result["metrics_used"])]
        if result.get("muscles"):
            columns["muscles"] = [",".join(result["muscles"])]
        tags = {"athlete": entry["athlete"], "visit_id": entry["visit_id"], "level": level}
        batches.append(VISIT_RESPONSE.batch(tags, [at_ms], columns))
    return batches


def response_for(
    store: Store,
    athlete: str | None = None,
    visit_id: str | None = None,
    as_of: dt.date | None = None,
    *,
    write: bool = True,
) -> dict[str, Any]:
    """``{"as_of", "visits": [{"visit_id", "athlete", "at", "regions", "complete", "after_window_ends",
    "levels": {"local", "segmental", "systemic"}}], "summary"}`` for the visits up to the end of ``as_of``
    (default: today, UTC) of one athlete, one visit or everyone. Complete visits are written as `visit_response`
    points (``write``). `UnknownAthleteError` for an athlete without data, `VisitNotFoundError` for an unknown
    visit ID or one of another athlete (both ValueError, one line)."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    end_ms = day_start_ms(as_of) + DAY_MS
    visits = _visits(store, athlete, visit_id, end_ms)
    entries: list[dict[str, Any]] = []
    if visits:
        days = np.array([(ms_day(v.at_ms) - as_of).days for v in visits])  # ≤ 0: relative to as_of
        first_day = as_of + dt.timedelta(days=int(days.min()) + FIRST_OFFSET_DAYS)
        last_day = min(as_of, as_of + dt.timedelta(days=int(days.max()) + POST_DAYS[1]))
        n_days = (last_day - first_day).days + 1
        daily, muscles = daily_series(store, visits, first_day, n_days)
        visit_day = days - (first_day - as_of).days
        responses = visit_responses(visit_day, daily)
        for v, visit in enumerate(visits):
            window_end = ms_day(visit.at_ms) + dt.timedelta(days=POST_DAYS[1])
            complete = (as_of - ms_day(visit.at_ms)).days >= COMPLETE_AFTER_DAYS
            entry = _visit_json(visit, complete, window_end)
            entry["levels"] = _levels(responses, v, muscles[v], complete, window_end)
            entries.append(entry)
    complete_entries = [e for e in entries if e["complete"]]
    if write and complete_entries:
        at_ms = {v.visit_id: v.at_ms for v in visits}
        store.write([b for e in complete_entries for b in response_batches(e, at_ms[e["visit_id"]])])
    summary = squad_summary(e["levels"] for e in complete_entries)
    return {
        "as_of": as_of.isoformat(),
        "visits": entries,
        "summary": {"visits": len(entries), "complete": len(complete_entries), "levels": summary},
    }
