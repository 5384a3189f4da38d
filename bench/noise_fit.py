"""Day-to-day noise of real athletes, fitted for the cohort simulator (``ingest.virtual.training_history``).

Per person, from the real exports in ``../shared/data`` (MANIFEST.md), read with the product's own importers:

- **mornings** (``hrv-daily/``: HRV4Training and Elite HRV exports, one person per file; ``rr/hrvpublic__ot_m*``:
  one person's morning RR files, each made a morning reading by ``monitor.analyze.find_readings`` as ``analyze``
  does): SD and lag-1 autocorrelation of daily ln rMSSD and morning HR, their correlation, the missed-morning rate;
- **resting HR** (``pmdata/pNN/fitbit/resting_heart_rate.json``, Fitbit's daily value; 0 = none): SD, lag-1
  autocorrelation and missing-day rate, for comparison (a sleep-derived value, not a morning reading);
- **sessions** (``pmdata/pNN/pmsys/srpe.csv``, people with ≥ ``MIN_SESSIONS`` sessions): sessions per week,
  weeks without a session, the weekday pattern and the variability of duration and RPE around it.

Every statistic is reported as the distribution across people (median, quartiles, n) with the per-person values.
Pure fitting functions take daily arrays (NaN = no value); the readers do the I/O.

    python bench/noise_fit.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ingest.importer import decode_file
from ingest.timeline import DAY_MS
from monitor.analyze import find_readings

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MIN_SESSIONS = 20
"""People with fewer logged sessions tell nothing about a weekly pattern (p03, p05, p09, p13, p16)."""
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- fitting functions (pure) ------------------------------------------------------------------------------------


def lag1_autocorrelation(x: np.ndarray) -> float:
    """Lag-1 autocorrelation of a daily series with gaps (NaN): the mean product of deviations from the series mean
    over pairs of consecutive days that both have a value, divided by the mean squared deviation (n − 1 and 1/n
    conventions of ``statsmodels.tsa.acf`` with ``missing='conservative'``)."""
    x = np.asarray(x, float)
    ok = np.isfinite(x)
    if ok.sum() < 3:
        return float("nan")
    dev = x - x[ok].mean()
    pair = ok[:-1] & ok[1:]
    if not pair.any():
        return float("nan")
    return float(np.mean(dev[:-1][pair] * dev[1:][pair]) / np.mean(dev[ok] ** 2))


def paired_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two daily series over the days where both have a value."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float("nan")
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def missed_rate(x: np.ndarray) -> float:
    """Share of days without a value between the first and the last day with one."""
    ok = np.flatnonzero(np.isfinite(np.asarray(x, float)))
    if not ok.size:
        return float("nan")
    return float(1.0 - ok.size / (ok[-1] - ok[0] + 1))


def daily_sd(x: np.ndarray) -> float:
    """Sample SD (n − 1) of the days with a value."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.std(ddof=1)) if x.size >= 2 else float("nan")


def _within_sd(values: np.ndarray, groups: np.ndarray) -> float:
    """Pooled within-group SD (one-way ANOVA residual): the spread around each group's mean."""
    dev = values - np.array([values[groups == g].mean() for g in groups])
    dof = values.size - np.unique(groups).size
    return float(np.sqrt(np.sum(dev**2) / dof)) if dof > 0 else float("nan")


def session_pattern(day: np.ndarray, duration_min: np.ndarray, rpe: np.ndarray) -> dict[str, float]:
    """Weekly pattern and variability of one person's sessions.

    ``day``: days since 1970-01-01 (a Thursday) of each session; weeks run Monday–Sunday from the first session's
    week to the last one's. ``plan_days`` = the person's ``k`` most used weekdays, ``k`` = sessions per week with a
    session, rounded (1–7); ``p_plan_day``/``p_other_day`` = share of those weeks with a session on a planned / an
    other weekday. Duration and RPE spread: SD over all sessions and pooled within weekday (around the weekday's
    mean: the noise around a plan)."""
    day = np.asarray(day, np.int64)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday (3 with Monday = 0)
    week = (day + 3) // 7
    weeks = int(week.max() - week.min() + 1)
    active = np.unique(week)
    per_active_week = day.size / active.size
    k = int(np.clip(np.rint(per_active_week), 1, 7))
    days_used = np.unique(day)
    used_weekday = (days_used + 3) % 7
    used_week = (days_used + 3) // 7
    share = np.array([np.isin(active, used_week[used_weekday == w]).mean() for w in range(7)])
    plan = np.argsort(-share, kind="stable")[:k]
    other = np.setdiff1d(np.arange(7), plan)
    ln_minutes = np.log(np.asarray(duration_min, float))
    rpe = np.asarray(rpe, float)
    return {
        "sessions": int(day.size),
        "weeks": weeks,
        "sessions_per_week": day.size / weeks,
        "sessions_per_active_week": per_active_week,
        "weeks_without_session": 1.0 - active.size / weeks,
        "days_with_two_or_more": 1.0 - days_used.size / day.size,
        "plan_days": k,
        "p_plan_day": float(share[plan].mean()),
        "p_other_day": float(share[other].mean()) if other.size else float("nan"),
        "median_duration_min": float(np.median(np.exp(ln_minutes))),
        "ln_duration_sd": float(ln_minutes.std(ddof=1)),
        "ln_duration_within_weekday_sd": _within_sd(ln_minutes, weekday),
        "mean_rpe": float(rpe.mean()),
        "rpe_sd": float(rpe.std(ddof=1)),
        "rpe_within_weekday_sd": _within_sd(rpe, weekday),
        **{f"share_{name}": float(np.mean(weekday == w)) for w, name in enumerate(WEEKDAYS)},
    }


def distribution(values: dict[str, float]) -> dict[str, object]:
    """Median, quartiles, range and n of per-person values (NaN left out), with the values themselves."""
    v = np.array([x for x in values.values() if np.isfinite(x)])
    low, q25, med, q75, high = np.percentile(v, [0, 25, 50, 75, 100]) if v.size else (np.nan,) * 5
    return {
        "min": _r(low),
        "median": _r(med),
        "q25": _r(q25),
        "q75": _r(q75),
        "max": _r(high),
        "n": int(v.size),
        "per_person": {k: _r(x) for k, x in values.items()},
    }


def _r(x: float) -> float | None:
    return round(float(x), 4) if np.isfinite(x) else None


# --- readers (I/O, via the product's importers) ------------------------------------------------------------------


def _daily(time_ms: np.ndarray, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Daily arrays (UTC days from the first to the last reading) of the earliest reading of each day."""
    day = np.asarray(time_ms, np.int64) // DAY_MS
    order = np.lexsort((time_ms, day))
    first = order[np.unique(day[order], return_index=True)[1]]
    index = day[first] - day[first].min()
    out = {}
    for name, values in columns.items():
        grid = np.full(int(index.max()) + 1, np.nan)
        grid[index] = np.asarray(values, float)[first]
        out[name] = grid
    return out


def app_export_mornings(path: Path) -> dict[str, np.ndarray]:
    """Daily ``ln_rmssd`` and ``mean_hr_bpm`` of an HRV app export (``readiness`` table of the importer)."""
    table = next(t for t in decode_file(path).tables if t.measurement == "readiness")
    return _daily(table.time_ms, {"ln_rmssd": table.numbers["ln_rmssd"], "hr_bpm": table.numbers["mean_hr_bpm"]})


def rr_file_mornings(paths: list[Path]) -> dict[str, np.ndarray]:
    """Daily ``ln_rmssd`` and mean HR of RR files, each file one morning reading as ``analyze`` computes it."""
    times, ln, hr = [], [], []
    for path in paths:
        table = decode_file(path).tables[0]
        for reading in find_readings(table.time_ms, table.numbers["rr_ms"]):
            times.append(reading.start_ms)
            ln.append(reading.metrics.ln_rmssd)
            hr.append(reading.metrics.mean_hr_bpm)
    return _daily(np.array(times, np.int64), {"ln_rmssd": np.array(ln), "hr_bpm": np.array(hr)})


def fitbit_resting_hr(path: Path) -> np.ndarray:
    """Daily Fitbit resting HR (bpm) of a PMData ``resting_heart_rate.json``; 0 (no value) becomes NaN."""
    rows = json.loads(path.read_text())
    day = np.array([np.datetime64(r["dateTime"][:10], "D").astype(np.int64) for r in rows])
    value = np.array([float(r["value"]["value"]) for r in rows])
    grid = np.full(int(day.max() - day.min()) + 1, np.nan)
    grid[day - day.min()] = np.where(value > 0, value, np.nan)
    return grid


def pmsys_sessions(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTC day since epoch, duration in min, RPE) of each session of a PMSys sRPE log, by start time."""
    table = decode_file(path).tables[0]
    return table.time_ms // DAY_MS, table.numbers["duration_s"] / 60.0, table.numbers["rpe"]


# --- the fit -----------------------------------------------------------------------------------------------------


def morning_series(data: Path) -> dict[str, dict[str, np.ndarray]]:
    """Per person: daily ``ln_rmssd`` and ``hr_bpm`` (the six app exports and the hrv_public morning RR files)."""
    people = {p.stem.removeprefix("goldencheetah__"): app_export_mornings(p) for p in sorted(data.glob("hrv-daily/*"))}
    people["hrv_public_rr"] = rr_file_mornings(sorted(data.glob("rr/hrvpublic__ot_m*_RRIntervals.csv")))
    return people


def fit(data: Path = DEFAULT_DATA) -> dict[str, object]:
    """Every fitted statistic (see the module docstring) as JSON-able dicts."""
    mornings = morning_series(data)
    stats = {
        "ln_rmssd_sd": {k: daily_sd(v["ln_rmssd"]) for k, v in mornings.items()},
        "ln_rmssd_lag1_autocorrelation": {k: lag1_autocorrelation(v["ln_rmssd"]) for k, v in mornings.items()},
        "morning_hr_sd_bpm": {k: daily_sd(v["hr_bpm"]) for k, v in mornings.items()},
        "morning_hr_lag1_autocorrelation": {k: lag1_autocorrelation(v["hr_bpm"]) for k, v in mornings.items()},
        "ln_rmssd_hr_correlation": {k: paired_correlation(v["ln_rmssd"], v["hr_bpm"]) for k, v in mornings.items()},
        "missed_morning_rate": {k: missed_rate(v["ln_rmssd"]) for k, v in mornings.items()},
        "mornings": {k: float(np.isfinite(v["ln_rmssd"]).sum()) for k, v in mornings.items()},
    }
    fitbit = {p.parts[-3]: fitbit_resting_hr(p) for p in sorted(data.glob("pmdata/p*/fitbit/resting_heart_rate.json"))}
    stats |= {
        "fitbit_resting_hr_sd_bpm": {k: daily_sd(v) for k, v in fitbit.items()},
        "fitbit_resting_hr_lag1_autocorrelation": {k: lag1_autocorrelation(v) for k, v in fitbit.items()},
        "fitbit_resting_hr_missing_rate": {k: missed_rate(v) for k, v in fitbit.items()},
    }
    patterns = {}
    for path in sorted(data.glob("pmdata/p*/pmsys/srpe.csv")):
        try:
            day, minutes, rpe = pmsys_sessions(path)
        except Exception:  # p16: only empty sessions (the importer refuses the file)
            continue
        if day.size >= MIN_SESSIONS:
            patterns[path.parts[-3]] = session_pattern(day, minutes, rpe)
    for key in next(iter(patterns.values())):
        stats[f"sessions_{key}"] = {k: float(v[key]) for k, v in patterns.items()}
    return {name: distribution(values) for name, values in stats.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (MANIFEST.md)")
    print(json.dumps(fit(parser.parse_args().data), indent=1))


if __name__ == "__main__":
    main()
