"""The analysis job over the store: ``analyze`` runs the full analytics for every athlete at once.

Sessions and mornings (stored `readiness` points, else readings found in the beats) → daily load, recovery and
asymmetry indicators (``monitor.indicators``, ``monitor.signals``) → `daily` and `flag` points and the IDN
recommendation. Reads use ``Store.read_many``; computation is vectorised across athletes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.model import READINESS, REST_DAY, RR, SESSION
from ingest.regions import REGION_NAMES
from ingest.store.base import Frame, ManyFrame, PointBatch, Store
from ingest.timeline import DAY_MS, MORNING_READING_MAX_S, day_start_ms, first_per_day
from ingest.visits import read_visits
from ingest.wellness import HOOPER_ITEMS, read_wellness_many
from monitor.asymmetry import si_from_left_share_pct, symmetry_index_pct
from monitor.candidates import muscle_asymmetry_flagged
from monitor.hrv import HrvMetrics, hrv_metrics, split_readings
from monitor.indicators import DailyInputs, compute_indicators
from monitor.lifecycle import post_visit_days, quiet_ms
from monitor.load import daily_count, daily_sum, srpe_load
from monitor.outputs import AthleteReport, athlete_reports, daily_batches, flag_batches, indicator_columns
from monitor.rules import idn_series
from monitor.session_loads import SUPERSEDED
from monitor.signals import evaluate_signals
from monitor.thresholds import Thresholds, load_thresholds
from monitor.wellness import WellnessInputs


@dataclass
class Reading:
    """One recording found in an athlete's beat stream."""

    start_ms: int
    end_ms: int
    metrics: HrvMetrics  # ``hrv_metrics`` with the default correction, the same as the `hrv` command's

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0

    @property
    def day(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.start_ms / 1000, dt.UTC).date()


def find_readings(time_ms: np.ndarray, rr_ms: np.ndarray) -> list[Reading]:
    """Split a beat stream at gaps and compute each recording's metrics (``hrv_metrics``, default correction)."""
    readings = []
    for part in split_readings(time_ms):
        beats = time_ms[part]
        if len(beats) < 2:
            continue
        readings.append(Reading(int(beats[0]), int(beats[-1]), hrv_metrics(rr_ms[part])))
    return readings


def _readiness_batch(athlete: str, mornings: list[Reading]) -> PointBatch:
    m = [r.metrics for r in mornings]
    return READINESS.batch(
        {"athlete": athlete},
        np.array([r.start_ms for r in mornings], np.int64),
        {
            "rmssd_ms": np.array([x.rmssd_ms for x in m]),
            "ln_rmssd": np.array([x.ln_rmssd for x in m]),
            "sdnn_ms": np.array([x.sdnn_ms for x in m]),
            "mean_rr_ms": np.array([x.mean_rr_ms for x in m]),
            "mean_hr_bpm": np.array([x.mean_hr_bpm for x in m]),
            "n_beats": np.array([x.n_beats for x in m], np.int64),
            "artifact_pct": np.array([x.artifact_pct for x in m]),
            "duration_s": np.array([r.duration_s for r in mornings]),
        },
    )


# --- full analytics: load, recovery and asymmetry for every athlete ------------------------------------------

LOAD_FIELDS = ("duration_s", "rpe", "srpe_load", "trimp")
ASYMMETRY_FIELDS = (
    "gct_left_ms",
    "gct_right_ms",
    "gct_balance_left_pct",
    "gct_symmetry_index_pct",
    "muscle_load_left",
    "muscle_load_right",
    "muscle_symmetry_index_pct",
    "pedal_balance_left_pct",
    "pedal_symmetry_index_pct",
)
READINESS_FIELDS = ("ln_rmssd", "rmssd_ms", "mean_hr_bpm")


def _first_finite(*columns: np.ndarray) -> np.ndarray:
    out = np.asarray(columns[0], dtype=float).copy()
    for column in columns[1:]:
        out = np.where(np.isfinite(out), out, column)
    return out


SESSION_FIELDS = LOAD_FIELDS + ASYMMETRY_FIELDS


SRPE_MIN_SHARE = 0.8
"""sRPE drives an athlete's load only when at least this share of their sessions in the window carry it."""


def session_loads(sessions: ManyFrame) -> tuple[np.ndarray, list[str | None]]:
    """Per-session load and each athlete's load source, one source per athlete so that loads stay comparable:
    sRPE (``srpe_load``, else ``rpe`` × minutes) when at least ``SRPE_MIN_SHARE`` of the athlete's sessions in the
    window carry it; else Banister TRIMP when more sessions carry a TRIMP than an sRPE (a watch user who rated a
    few sessions); else sRPE. Sessions without the chosen metric add nothing."""
    c = sessions.columns
    srpe = _first_finite(c["srpe_load"], srpe_load(c["rpe"], c["duration_s"]))
    n = len(sessions.athletes)
    total = np.bincount(sessions.athlete_index, minlength=n)
    n_srpe = np.bincount(sessions.athlete_index[np.isfinite(srpe)], minlength=n)
    n_trimp = np.bincount(sessions.athlete_index[np.isfinite(c["trimp"])], minlength=n)
    by_srpe = (n_srpe > 0) & ((n_srpe >= SRPE_MIN_SHARE * total) | (n_srpe >= n_trimp))
    load = np.where(by_srpe[sessions.athlete_index], srpe, c["trimp"])
    sources = ["srpe" if s else "trimp" if t else None for s, t in zip(by_srpe, n_trimp > 0)]
    return load, sources


def known_load_days(
    sessions: ManyFrame,
    s_day: np.ndarray,
    load: np.ndarray,
    sources: list[str | None],
    rest_marked: np.ndarray,
    morning: np.ndarray,
) -> np.ndarray:
    """(athletes, days) True where the day's load is known (docs/analytics.md §2, "No data is not rest").

    Device-based (TRIMP) athletes: every day (the device records what it is worn for). Log-based (sRPE)
    athletes: a day whose sessions all carry the load (logged), a day the athlete marked as rest
    (``rest_marked``, `rest_day` points) or a day with a morning reading (``morning``: the athlete used the
    device that day and logged nothing, so rested). Any other day is unknown, never a rest day.
    """
    shape = morning.shape
    rows = sessions.athlete_index
    n_sessions = daily_count(rows, s_day, np.ones(len(rows)), shape)
    n_loads = daily_count(rows, s_day, load, shape)
    logged = (n_sessions > 0) & (n_loads == n_sessions)
    device_based = np.array([s == "trimp" for s in sources], bool)[:, None]
    return device_based | logged | ((n_sessions == 0) & (rest_marked | morning))


def rest_marks(frame: ManyFrame, start_ms: int, shape: tuple[int, int]) -> np.ndarray:
    """(athletes, days) True where a `rest_day` point with `rest` true marks the day; a `rest` false point of the
    same day (a mark withdrawn) wins over none, so the day is marked when any source still says rest."""
    day = (frame.time_ms - start_ms) // DAY_MS
    rest = np.where(frame.columns["rest"] > 0.5, 1.0, np.nan)
    return daily_count(frame.athlete_index, day, rest, shape) > 0


def session_symmetry(sessions: ManyFrame) -> dict[str, np.ndarray]:
    """Per-session SI of each metric from the stored SI, else from left/right values or the left share."""
    c = sessions.columns
    si = {
        "gct": _first_finite(
            c["gct_symmetry_index_pct"],
            symmetry_index_pct(c["gct_left_ms"], c["gct_right_ms"]),
            si_from_left_share_pct(c["gct_balance_left_pct"]),
        ),
        "muscle": _first_finite(
            c["muscle_symmetry_index_pct"], symmetry_index_pct(c["muscle_load_left"], c["muscle_load_right"])
        ),
        "pedal": _first_finite(c["pedal_symmetry_index_pct"], si_from_left_share_pct(c["pedal_balance_left_pct"])),
    }
    return {m: np.where(np.abs(v) <= 200.0, v, np.nan) for m, v in si.items()}


def counted(sessions: ManyFrame) -> ManyFrame:
    """The sessions that count: a strap session found in the heart-rate stream and later covered by another
    session of the same training (`superseded`, e.g. the watch file imported afterwards) is left out."""
    keep = ~(sessions.columns.get(SUPERSEDED, np.zeros(len(sessions))) == 1)
    if keep.all():
        return sessions
    columns = {name: column[keep] for name, column in sessions.columns.items()}
    return ManyFrame(sessions.athletes, sessions.athlete_index[keep], sessions.time_ms[keep], columns)


def build_inputs(
    athletes: list[str],
    first_day: dt.date,
    n_days: int,
    sessions: ManyFrame,
    readiness: ManyFrame,
    asymmetry: ManyFrame | None = None,
    rest: ManyFrame | None = None,
    earlier_readiness: ManyFrame | None = None,
    beat_mornings: np.ndarray | None = None,
) -> DailyInputs:
    """Daily grids of load, mornings and session asymmetry from the points read from the store.

    ``sessions`` needs the load fields; the asymmetry fields come from ``asymmetry`` (default: ``sessions``);
    ``rest`` are `rest_day` points; ``earlier_readiness`` readiness points before those of ``readiness``, which
    only tell on which days a log-based athlete used the device (``known_load_days``), as do ``beat_mornings``
    (athletes, days: mornings found in the beats).
    """
    shape = (len(athletes), n_days)
    start_ms = day_start_ms(first_day)
    s_day = (sessions.time_ms - start_ms) // DAY_MS
    load, sources = session_loads(sessions)
    load_start = np.full(len(athletes), n_days, np.int64)
    np.minimum.at(load_start, sessions.athlete_index, np.clip(s_day, 0, n_days))
    asymmetry = sessions if asymmetry is None else asymmetry
    a_day = (asymmetry.time_ms - start_ms) // DAY_MS
    rows = asymmetry.athlete_index
    asym = {}
    for metric, si in session_symmetry(asymmetry).items():
        asym[metric] = (
            daily_sum(rows, a_day, si, shape),
            daily_sum(rows, a_day, si * si, shape),
            daily_count(rows, a_day, si, shape),
        )
    r = readiness.columns
    ln = _first_finite(r["ln_rmssd"], np.log(np.where(r["rmssd_ms"] > 0, r["rmssd_ms"], np.nan)))
    first = first_per_day(readiness.athlete_index, (readiness.time_ms - start_ms) // DAY_MS, readiness.time_ms, shape)
    pick = np.maximum(first, 0)
    morning = np.zeros(shape, bool) if beat_mornings is None else np.asarray(beat_mornings, bool).copy()
    for frame in (readiness, earlier_readiness) if earlier_readiness is not None else (readiness,):
        c = frame.columns
        hrv = np.where(np.isfinite(c["ln_rmssd"]) | np.isfinite(c["rmssd_ms"]), 1.0, np.nan)
        morning |= daily_count(frame.athlete_index, (frame.time_ms - start_ms) // DAY_MS, hrv, shape) > 0
    marked = np.zeros(shape, bool) if rest is None else rest_marks(rest, start_ms, shape)
    return DailyInputs(
        athletes=athletes,
        days=np.datetime64(first_day, "D") + np.arange(n_days),
        load=daily_sum(sessions.athlete_index, s_day, load, shape),
        load_start=load_start,
        ln_rmssd=np.where(first >= 0, ln[pick] if ln.size else np.nan, np.nan),
        rhr_bpm=np.where(first >= 0, r["mean_hr_bpm"][pick] if ln.size else np.nan, np.nan),
        asymmetry=asym,
        load_source=sources,
        load_known=known_load_days(sessions, s_day, load, sources, marked, morning),
    )


def wellness_grid(
    athletes: list[str], first_day: dt.date, n_days: int, items: ManyFrame, sore: Frame
) -> WellnessInputs:
    """Daily check-ins on the analysis grid (``ingest.wellness.read_wellness_many``): each day's first check-in
    (its Hooper items and pain) and the sore regions stored with it (same athlete and time); other athletes'
    regions and regions outside the vocabulary are left out."""
    shape = (len(athletes), n_days)
    start_ms = day_start_ms(first_day)
    first = first_per_day(items.athlete_index, (items.time_ms - start_ms) // DAY_MS, items.time_ms, shape)
    pick, has = np.maximum(first, 0), first >= 0
    grids = {
        name: np.where(has, items.columns[name][pick] if len(items) else np.nan, np.nan)
        for name in (*HOOPER_ITEMS, "pain")
    }
    chosen_ms = np.where(has, items.time_ms[pick] if len(items) else -1, -1)
    soreness = np.zeros((*shape, len(REGION_NAMES)), np.uint8)
    if len(sore):
        row_of = {athlete: i for i, athlete in enumerate(athletes)}
        index_of = {name: i for i, name in enumerate(REGION_NAMES)}
        rows = np.array([row_of.get(a, -1) for a in sore.columns["athlete"]], np.int64)
        region = np.array([index_of.get(r, -1) for r in sore.columns["region"]], np.int64)
        day = (sore.time_ms - start_ms) // DAY_MS
        rating = np.nan_to_num(np.asarray(sore.columns["rating"], float))
        ok = (rows >= 0) & (region >= 0) & (day >= 0) & (day < n_days)
        ok[ok] &= chosen_ms[rows[ok], day[ok]] == sore.time_ms[ok]
        soreness[rows[ok], day[ok], region[ok]] = np.clip(np.rint(rating[ok]), 0, 10).astype(np.uint8)
    return WellnessInputs({k: grids[k] for k in HOOPER_ITEMS}, soreness, grids["pain"])


def pod_muscles(store: Store, athletes: list[str], rows: list[int], start_ms: int, end_ms: int) -> list[str | None]:
    """Per athlete: the muscle the muscle-load pods sat on (sessions' `muscle` field, the latest recorded in
    [start_ms, end_ms)), read only for the athletes at ``rows``; None for the others and when none is recorded."""
    out: list[str | None] = [None] * len(athletes)
    for row in rows:
        frame = store.read(SESSION.name, athletes[row], ["muscle"], start_ms, end_ms)
        named = [m for m in frame.columns["muscle"].tolist() if isinstance(m, str) and m]
        out[row] = named[-1] if named else None
    return out


def mornings_in_beats(store: Store, athlete: str, start_ms: int | None, end_ms: int | None) -> list[Reading]:
    """The morning readings (recordings of at most 10 min with a valid ln rMSSD) in the athlete's beats."""
    frame = store.read(RR.name, athlete, ["rr_ms"], start_ms, end_ms)
    readings = find_readings(frame.time_ms, frame.columns["rr_ms"])
    return [r for r in readings if r.duration_s <= MORNING_READING_MAX_S and np.isfinite(r.metrics.ln_rmssd)]


def store_mornings(store: Store, athlete: str, start_ms: int | None = None, end_ms: int | None = None) -> int:
    """Store the `readiness` point of every morning reading in the athlete's beats in [start_ms, end_ms) (as
    ``analyze`` does), e.g. right after RR files are imported, so the resting-HR estimate sees them at once."""
    mornings = mornings_in_beats(store, athlete, start_ms, end_ms)
    return store.write([_readiness_batch(athlete, mornings)]) if mornings else 0


def _mornings_from_beats(store: Store, athlete: str, as_of: dt.date, th: Thresholds, earlier: int) -> list[Reading]:
    n_days = th.recovery.baseline_days + th.recovery.window_days + earlier
    first_day = as_of - dt.timedelta(days=n_days - 1)
    return mornings_in_beats(store, athlete, day_start_ms(first_day), day_start_ms(as_of) + DAY_MS)


def _merge_mornings(inputs: DailyInputs, row: int, mornings: list[Reading], readiness: ManyFrame) -> None:
    """Use the day's first morning found in the beats where it is the day's earliest reading (`ingest.timeline`):
    no stored `readiness` point (with an ln rMSSD) that day, or only later ones."""
    first_day = np.datetime64(inputs.days[0], "D").astype(dt.date)
    by_day: dict[int, Reading] = {}
    for reading in sorted(mornings, key=lambda m: m.start_ms):
        by_day.setdefault((reading.day - first_day).days, reading)
    mine = readiness.athlete_index == row
    stored_ms = readiness.time_ms[mine]
    day = (stored_ms - day_start_ms(first_day)) // DAY_MS
    first = first_per_day(np.zeros(len(day), np.int64), day, stored_ms, (1, inputs.days.size))[0]
    earliest_ms = np.where(first >= 0, stored_ms[np.maximum(first, 0)] if len(day) else 0, np.iinfo(np.int64).max)
    for t, reading in by_day.items():
        if 0 <= t < inputs.days.size and (
            reading.start_ms < earliest_ms[t] or not np.isfinite(inputs.ln_rmssd[row, t])
        ):
            inputs.ln_rmssd[row, t] = reading.metrics.ln_rmssd
            inputs.rhr_bpm[row, t] = reading.metrics.mean_hr_bpm


def post_visit_mask(
    store: Store, roster: list[str], first_day: dt.date, n_days: int, from_index: int, th: Thresholds
) -> np.ndarray:
    """(athletes, days) True where the day overlaps the quiet window of one of the athlete's visits
    (``monitor.lifecycle.post_visit_days``), for the day indices from ``from_index`` on (False before)."""
    muted = np.zeros((len(roster), n_days), bool)
    window_ms = quiet_ms(th.idn.quiet_hours)
    day_ms = day_start_ms(first_day) + DAY_MS * np.arange(from_index, n_days, dtype=np.int64)
    if window_ms <= 0 or not roster or not day_ms.size:
        return muted
    rows = {athlete: row for row, athlete in enumerate(roster)}
    by_athlete: dict[int, list[int]] = {}
    for visit in read_visits(store, start_ms=int(day_ms[0]) - window_ms, end_ms=int(day_ms[-1]) + DAY_MS):
        if visit.athlete in rows:
            by_athlete.setdefault(rows[visit.athlete], []).append(visit.at_ms)
    for row, times in by_athlete.items():
        muted[row, from_index:] = post_visit_days(day_ms, np.array(times, np.int64), window_ms)
    return muted


@dataclass
class AnalysisResult:
    """The outcome of ``analyze``: per-athlete reports on ``as_of``, points written and where time went."""

    as_of: dt.date
    athletes: list[AthleteReport]
    points_written: int = 0
    timings_s: dict[str, float] = field(default_factory=dict)
    backfilled_days: int = 0  # days written before as_of (``monitor.history.catch_up``)

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "athletes": [a.to_json() for a in self.athletes]}


def analyze(
    store: Store,
    as_of: dt.date,
    *,
    athletes: list[str] | None = None,
    thresholds: Thresholds | None = None,
    write_days: int = 1,
    write: bool = True,
) -> AnalysisResult:
    """Compute every indicator, flag and IDN recommendation of ``athletes`` (default: all in the store) on
    ``as_of``, and write `daily` and `flag` points for the last ``write_days`` days ending on ``as_of``. Every
    written day is computed with the full look-back windows behind it, so a backfill equals the daily runs.
    Flags of days overlapping a visit's quiet window carry `post_visit` (``post_visit_mask``)."""
    th = thresholds or load_thresholds()
    clock = time.perf_counter()
    roster = sorted(store.list_athletes()) if athletes is None else list(athletes)
    earlier = max(1, write_days) - 1  # written days before as_of
    n_days = th.analysis.lookback_days + earlier
    first_day = as_of - dt.timedelta(days=n_days - 1)
    start_ms, end_ms = day_start_ms(first_day), day_start_ms(as_of) + DAY_MS
    recent_ms = day_start_ms(as_of - dt.timedelta(days=th.analysis.recent_lookback_days - 1 + earlier))
    sessions = counted(store.read_many(SESSION.name, (*LOAD_FIELDS, SUPERSEDED), roster, start_ms, end_ms))
    asymmetry = counted(store.read_many(SESSION.name, (*ASYMMETRY_FIELDS, SUPERSEDED), roster, recent_ms, end_ms))
    readiness = store.read_many(READINESS.name, READINESS_FIELDS, roster, recent_ms, end_ms)
    rest = store.read_many(REST_DAY.name, ("rest",), roster, start_ms, end_ms)
    older = store.read_many(READINESS.name, READINESS_FIELDS[:2], roster, start_ms, recent_ms)  # device days only
    beats = {
        a: _mornings_from_beats(store, a, as_of, th, earlier) for a in set(store.list_athletes("rr")) & set(roster)
    }
    beat_days = np.zeros((len(roster), n_days), bool)  # mornings found in the beats: device days too
    for athlete, mornings in beats.items():
        at = np.array([(m.day - first_day).days for m in mornings], np.int64)
        beat_days[roster.index(athlete), at[(at >= 0) & (at < n_days)]] = True
    inputs = build_inputs(roster, first_day, n_days, sessions, readiness, asymmetry, rest, older, beat_days)
    items, sore = read_wellness_many(store, roster, recent_ms, end_ms)
    if len(items):  # no check-ins: no wellness indicators at all (nothing to compute, no empty columns)
        inputs = dataclasses.replace(inputs, wellness=wellness_grid(roster, first_day, n_days, items, sore))
    derived: list[PointBatch] = []
    for athlete in sorted(beats):
        if beats[athlete]:
            _merge_mornings(inputs, roster.index(athlete), beats[athlete], readiness)
            derived.append(_readiness_batch(athlete, beats[athlete]))
    read_s = time.perf_counter() - clock

    clock = time.perf_counter()
    ind = compute_indicators(inputs, th)
    signals = evaluate_signals(ind, th)
    idn = idn_series(signals, th)
    recent = slice(max(0, n_days - max(1, write_days) - th.idn.watch_window_days), n_days)
    muscle_flag = muscle_asymmetry_flagged(ind, signals)
    needs_muscle = np.flatnonzero((muscle_flag[:, recent] & idn[:, recent].any(axis=1, keepdims=True)).any(axis=1))
    inputs.pod_muscle[:] = pod_muscles(store, roster, needs_muscle.tolist(), recent_ms, end_ms)
    cols = indicator_columns(ind, th)
    t = n_days - 1
    days = range(max(0, n_days - max(1, write_days)), n_days)
    muted = post_visit_mask(store, roster, first_day, n_days, days.start, th)
    reports = athlete_reports(cols, ind, signals, idn, th, t, muted)
    compute_s = time.perf_counter() - clock

    clock = time.perf_counter()
    written = 0
    if write and roster:
        batches = derived + daily_batches(cols, ind, signals, idn, days, th) + flag_batches(ind, signals, days, muted)
        written = store.write(batches)
    write_s = time.perf_counter() - clock
    timings = {"read_s": read_s, "compute_s": compute_s, "write_s": write_s}
    return AnalysisResult(as_of, reports, written, {k: round(v, 4) for k, v in timings.items()})
