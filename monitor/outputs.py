"""What the analysis reports and stores: indicator columns, the per-athlete JSON, `daily` and `flag` points.

Every indicator is an ``(athletes, days)`` float column with NaN where its data is insufficient; the JSON shows
``null`` and ``"insufficient data"`` for those, and the `daily` point simply omits the field
(docs/data-model.md: a missing value is a missing field).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.model import DAILY
from ingest.schema import INT
from ingest.store.base import PointBatch
from monitor.candidates import Candidate, candidate_regions, candidate_text
from monitor.flags import Flag, flag_batches_of, json_number
from monitor.indicators import Indicators
from monitor.rules import flags_on, idn_reasons
from monitor.signals import SignalSeries
from monitor.thresholds import Thresholds

INSUFFICIENT = "insufficient data"
COUNT_FIELDS = tuple(f.name for f in DAILY.fields if f.type == INT)  # readings_7d, *_sessions_7d


def indicator_columns(ind: Indicators, th: Thresholds) -> dict[str, np.ndarray]:
    """Name → ``(athletes, days)`` array of every numeric indicator (NaN = insufficient data), in report order."""
    rt = th.recovery
    week_ok = ind.hrv_week.n >= rt.min_readings_7d
    base_ok = ind.hrv_base.n >= rt.min_baseline_days
    rhr_week_ok = ind.rhr_week.n >= rt.min_readings_7d
    rhr_base_ok = ind.rhr_base.n >= rt.min_baseline_days

    def when(ok: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.where(ok, x, np.nan)

    cols = {
        "daily_load": when(ind.load_days > 0, _known_load(ind)),
        "load_7d": ind.load_7d,
        "load_known_days_7d": ind.load_known_7d.astype(float),
        "load_known_days_28d": ind.load_known_28d.astype(float),
        "typical_day_load": ind.typical_load,
        "load_7d_typical_days": ind.load_units_7d,
        "acwr": ind.acwr,
        "acwr_coupled": ind.acwr_coupled,
        "acwr_uncoupled": ind.acwr_uncoupled,
        "monotony": ind.monotony,
        "strain": ind.strain,
        "strain_baseline": ind.strain_baseline,
        "ctl": ind.ctl,
        "atl": ind.atl,
        "tsb": ind.tsb,
        "ramp_rate": ind.ramp_rate,
        "ln_rmssd": ind.inputs.ln_rmssd,
        "ln_rmssd_7d": when(week_ok, ind.hrv_week.mean),
        "ln_rmssd_baseline_mean": when(base_ok, ind.hrv_base.mean),
        "ln_rmssd_baseline_sd": when(base_ok, ind.hrv_base.sd),
        "ln_rmssd_lower_bound": when(base_ok, ind.hrv_lower),
        "ln_rmssd_cv_7d": ind.ln_rmssd_cv_7d,
        "readings_7d": ind.hrv_week.n.astype(float),
        "rhr_7d": when(rhr_week_ok, ind.rhr_week.mean),
        "rhr_baseline_mean": when(rhr_base_ok, ind.rhr_base.mean),
        "rhr_baseline_sd": when(rhr_base_ok, ind.rhr_base.sd),
        "rhr_upper_bound": when(rhr_base_ok & rhr_week_ok, ind.rhr_upper),
    }
    for metric, s in ind.asymmetry.items():
        cols[f"{metric}_symmetry_index_pct"] = when(s.week_ok, s.week.mean)
        cols[f"{metric}_symmetry_baseline_pct"] = when(s.baseline_ok, s.baseline.mean)
        cols[f"{metric}_symmetry_baseline_sd"] = when(s.baseline_ok, s.baseline.sd)
        cols[f"{metric}_sessions_7d"] = s.week.n.astype(float)
    cols.update(wellness_columns(ind, th))
    return cols


def _known_load(ind: Indicators) -> np.ndarray:
    """The day's load, NaN where it is not known (``DailyInputs.load_known``)."""
    known = ind.inputs.load_known
    return ind.inputs.load if known is None else np.where(known, ind.inputs.load, np.nan)


def wellness_columns(ind: Indicators, th: Thresholds) -> dict[str, np.ndarray]:
    """The Hooper index columns (none when the check-ins were not read): that morning's, the 7-day mean, the
    baseline mean and SD, the normal range's upper bound, and the check-ins in the 7 days."""
    h = ind.hooper
    if h is None or ind.inputs.wellness is None:
        return {}
    week_ok = h.week.n >= th.wellness.min_checkins_7d
    return {
        "hooper_index": ind.inputs.wellness.hooper_index,
        "hooper_index_7d": np.where(week_ok, h.week.mean, np.nan),
        "hooper_baseline_mean": np.where(h.ok, h.baseline.mean, np.nan),
        "hooper_baseline_sd": np.where(h.ok, h.baseline.sd, np.nan),
        "hooper_upper_bound": np.where(h.ok, h.upper, np.nan),
        "checkins_7d": h.week.n.astype(float),
    }


def idn_candidates(
    ind: Indicators, signals: dict[str, SignalSeries], idn: np.ndarray, th: Thresholds, row: int, t: int
) -> list[Candidate]:
    """The candidate regions of the day's IDN recommendation (none on a day without one)."""
    return candidate_regions(ind, signals, th, row, t) if idn[row, t] else []


def hrv_status(ind: Indicators, signals: dict[str, SignalSeries], days: slice) -> np.ndarray:
    """The `daily.status` strings of the ``days`` columns: "suppressed", "ok" or "insufficient data"."""
    status = np.where(ind.hrv_ok[:, days], "ok", INSUFFICIENT).astype(object)
    if "hrv_suppressed" in signals:
        status[signals["hrv_suppressed"].flagged[:, days]] = "suppressed"
    return status


@dataclass
class AthleteReport:
    """One athlete on the evaluated day."""

    athlete: str
    indicators: dict[str, Any]
    status: dict[str, str]
    flags: list[Flag] = field(default_factory=list)
    recommend_idn_visit: bool = False
    idn_reasons: list[str] = field(default_factory=list)
    idn_regions: list[str] = field(default_factory=list)  # candidate regions of the recommendation

    def to_json(self) -> dict[str, Any]:
        flags = []
        for f in self.flags:
            item = f.to_json()
            item.pop("athlete")
            flags.append(item)
        return {
            "athlete": self.athlete,
            "indicators": self.indicators,
            "flags": flags,
            "recommend_idn_visit": self.recommend_idn_visit,
            "idn_reasons": self.idn_reasons,
            "idn_regions": self.idn_regions,
            "status": self.status,
        }


def athlete_reports(
    cols: dict[str, np.ndarray],
    ind: Indicators,
    signals: dict[str, SignalSeries],
    idn: np.ndarray,
    th: Thresholds,
    t: int,
    post_visit: np.ndarray | None = None,
) -> list[AthleteReport]:
    """The JSON-ready report of every athlete on day index ``t``; ``post_visit`` (athletes, days) marks the flags
    of days overlapping a visit's quiet window (``monitor.lifecycle.post_visit_days``)."""
    hrv_today = hrv_status(ind, signals, slice(t, t + 1))[:, 0]
    sources = ind.inputs.load_source
    reports = []
    for row, athlete in enumerate(ind.inputs.athletes):
        indicators: dict[str, Any] = {}
        status: dict[str, str] = {}
        for name, column in cols.items():
            value = float(column[row, t])
            if name in COUNT_FIELDS:
                indicators[name] = int(value)
                continue
            indicators[name] = json_number(value, 4)
            status[name] = "ok" if math.isfinite(value) else INSUFFICIENT
        indicators["load_source"] = sources[row] if sources else None
        indicators["hrv_status"] = str(hrv_today[row])
        recommend = bool(idn[row, t])
        flags = marked(flags_on(signals, ind, row, t), post_visit is not None and bool(post_visit[row, t]))
        reasons = idn_reasons(signals, ind, th, row, t, flags) if recommend else []
        candidates = idn_candidates(ind, signals, idn, th, row, t)
        if recommend:
            reasons.append(candidate_text(candidates))
        reports.append(
            AthleteReport(
                athlete,
                indicators,
                status,
                flags,
                recommend_idn_visit=recommend,
                idn_reasons=reasons,
                idn_regions=[c.region for c in candidates],
            )
        )
    return reports


def day_ms(day: np.datetime64) -> int:
    """00:00 UTC of a day in epoch ms."""
    return int(day.astype("datetime64[D]").astype("datetime64[ms]").astype(np.int64))


def daily_batches(
    cols: dict[str, np.ndarray],
    ind: Indicators,
    signals: dict[str, SignalSeries],
    idn: np.ndarray,
    days: range,
    th: Thresholds | None = None,
) -> list[PointBatch]:
    """`daily` points of every athlete for the day indices in ``days``; one batch per athlete and field set. With
    ``th``, a day with an IDN recommendation carries its candidate regions (`idn_regions`)."""
    status = hrv_status(ind, signals, slice(days.start, days.stop))
    names = list(cols)
    stacked = np.stack([cols[n][:, days.start : days.stop] for n in names])  # (fields, A, T)
    finite = np.isfinite(stacked)
    times = np.array([day_ms(ind.inputs.days[t]) for t in days], np.int64)
    batches = []
    for row, athlete in enumerate(ind.inputs.athletes):
        source = ind.inputs.load_source[row] if ind.inputs.load_source else None
        signature = finite[:, row, :].T  # (T, fields)
        regions = [
            ",".join(c.region for c in idn_candidates(ind, signals, idn, th, row, t)) if th is not None else ""
            for t in days
        ]
        groups: dict[bytes, list[int]] = {}
        for i in range(len(times)):
            groups.setdefault(signature[i].tobytes() + bytes([bool(regions[i])]), []).append(i)
        for members in groups.values():
            j = np.array(members)
            fields: dict[str, np.ndarray] = {}
            for k in np.flatnonzero(signature[j[0]]):
                values = stacked[k, row, j]
                fields[names[k]] = values.astype(np.int64) if names[k] in COUNT_FIELDS else values
            fields["status"] = status[row, j].astype(object)
            fields["recommend_idn_visit"] = idn[row, days.start + j].astype(bool)
            if source:
                fields["load_source"] = np.full(len(j), source, dtype=object)
            if regions[j[0]]:
                fields["idn_regions"] = np.array([regions[i] for i in j], dtype=object)
            batches.append(DAILY.batch({"athlete": athlete}, times[j], fields))
    return batches


def marked(flags: list[Flag], post_visit: bool) -> list[Flag]:
    """The flags with `post_visit` set as given."""
    return [dataclasses.replace(f, post_visit=post_visit) for f in flags]


def flag_batches(
    ind: Indicators, signals: dict[str, SignalSeries], days: range, post_visit: np.ndarray | None = None
) -> list[PointBatch]:
    """`flag` points (docs/data-model.md) for every flag raised on the day indices in ``days``; ``post_visit``
    (athletes, days) marks those of days overlapping a visit's quiet window."""
    rows, cols = np.nonzero(np.any([s.flagged[:, days.start : days.stop] for s in signals.values()], axis=0))
    flags = [
        (day_ms(ind.inputs.days[t]), flag)
        for row, j in zip(rows.tolist(), cols.tolist())
        for t in [days.start + j]
        for flag in marked(flags_on(signals, ind, row, t), post_visit is not None and bool(post_visit[row, t]))
    ]
    return flag_batches_of(flags)
