"""Readiness analysis over the store: beats → morning readings → daily HRV status → flags, written back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ingest.store.base import PointBatch, Store
from monitor.hrv import ReadingMetrics, reading_metrics, split_readings
from monitor.readiness import ReadinessStatus, evaluate_readiness

DAY_MS = 86_400_000
MORNING_READING_MAX_S = 10 * 60
BASELINE_DAYS = 60
WINDOW_DAYS = 7


@dataclass
class Reading:
    """One recording found in an athlete's beat stream."""

    start_ms: int
    end_ms: int
    metrics: ReadingMetrics

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0

    @property
    def day(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.start_ms / 1000, dt.UTC).date()


@dataclass
class AthleteAnalysis:
    """Everything the readiness analysis found for one athlete."""

    athlete: str
    readiness: ReadinessStatus
    mornings: list[Reading] = field(default_factory=list)
    sessions: list[Reading] = field(default_factory=list)


def day_start_ms(day: dt.date) -> int:
    """00:00 UTC of `day` in epoch milliseconds."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def find_readings(time_ms: np.ndarray, rr_ms: np.ndarray) -> list[Reading]:
    """Split a beat stream at gaps and compute each recording's metrics."""
    readings = []
    for part in split_readings(time_ms):
        beats = time_ms[part]
        if len(beats) < 2:
            continue
        readings.append(Reading(int(beats[0]), int(beats[-1]), reading_metrics(rr_ms[part])))
    return readings


def daily_morning_ln_rmssd(mornings: list[Reading], first_day: dt.date, n_days: int) -> np.ndarray:
    """One ln rMSSD per day (the day's first morning reading), NaN where a day has none."""
    values = np.full(n_days, np.nan)
    for reading in sorted(mornings, key=lambda r: r.start_ms):
        index = (reading.day - first_day).days
        if 0 <= index < n_days and np.isnan(values[index]) and np.isfinite(reading.metrics.ln_rmssd):
            values[index] = reading.metrics.ln_rmssd
    return values


def analyze_athlete(store: Store, athlete: str, as_of: dt.date) -> AthleteAnalysis:
    """Read the athlete's beats, evaluate readiness on `as_of` and write readings, daily status and flags."""
    n_days = BASELINE_DAYS + WINDOW_DAYS
    first_day = as_of - dt.timedelta(days=n_days - 1)
    frame = store.read("rr", athlete, ["rr_ms"], day_start_ms(first_day), day_start_ms(as_of) + DAY_MS)
    readings = find_readings(frame.time_ms, frame.columns["rr_ms"])
    mornings = [r for r in readings if r.duration_s <= MORNING_READING_MAX_S]
    sessions = [r for r in readings if r.duration_s > MORNING_READING_MAX_S]
    days = np.arange(np.datetime64(first_day, "D"), np.datetime64(first_day, "D") + n_days)
    status = evaluate_readiness(athlete, days, daily_morning_ln_rmssd(mornings, first_day, n_days), as_of)
    analysis = AthleteAnalysis(athlete, status, mornings, sessions)
    store.write(result_batches(store, analysis, as_of))
    return analysis


def _readiness_batch(athlete: str, mornings: list[Reading]) -> PointBatch:
    m = [r.metrics for r in mornings]
    return PointBatch(
        "readiness",
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


def _session_batch(store: Store, athlete: str, session: Reading) -> PointBatch:
    hr = store.read("hr", athlete, ["bpm"], session.start_ms - 2000, session.end_ms + 2000).columns["bpm"]
    hr = hr[np.isfinite(hr)]
    fields: dict[str, np.ndarray] = {
        "duration_s": np.array([session.duration_s]),
        "rr_count": np.array([session.metrics.n_beats], np.int64),
    }
    if hr.size:
        fields["avg_hr_bpm"] = np.array([hr.mean()])
        fields["max_hr_bpm"] = np.array([hr.max()])
    return PointBatch(
        "session", {"athlete": athlete, "sport": "other", "source": "ble"}, np.array([session.start_ms]), fields
    )


def _finite_fields(values: dict[str, float | int | None]) -> dict[str, np.ndarray]:
    fields = {}
    for name, value in values.items():
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            continue
        fields[name] = np.array([value], np.int64 if isinstance(value, int) else np.float64)
    return fields


def result_batches(store: Store, analysis: AthleteAnalysis, as_of: dt.date) -> list[PointBatch]:
    """The points the analysis writes: readings, sessions, the day's indicators and its flags."""
    athlete, status = analysis.athlete, analysis.readiness
    batches = []
    mornings = [r for r in analysis.mornings if np.isfinite(r.metrics.ln_rmssd)]
    if mornings:
        batches.append(_readiness_batch(athlete, mornings))
    batches.extend(_session_batch(store, athlete, s) for s in analysis.sessions)
    day_ms = np.array([day_start_ms(as_of)], np.int64)
    daily = _finite_fields(
        {
            "ln_rmssd_7d": status.ln_rmssd_7d,
            "ln_rmssd_baseline_mean": status.baseline_mean,
            "ln_rmssd_baseline_sd": status.baseline_sd,
            "ln_rmssd_lower_bound": status.lower_bound,
            "readings_7d": int(status.n_readings_7d),
        }
    )
    daily["status"] = np.array([status.status], dtype=object)
    batches.append(PointBatch("daily", {"athlete": athlete}, day_ms, daily))
    for flag in status.flags:
        tags = {"athlete": athlete, "family": flag.family, "signal": flag.signal, "severity": flag.severity}
        fields = {
            "value": np.array([float(flag.value)]),
            "threshold": np.array([float(flag.threshold)]),
            "window": np.array([flag.window], dtype=object),
            "since": np.array([flag.since.isoformat()], dtype=object),
            "reason": np.array([flag.reason], dtype=object),
        }
        batches.append(PointBatch("flag", tags, day_ms, fields))
    return batches
