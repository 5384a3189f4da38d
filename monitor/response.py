"""Treatment response after a visit, per IDN level: the 7 days before against days 2–8 after. Descriptive only.

There is no control group and athletes also change their training after a visit, so a change after a visit is
not evidence that the visit caused it (docs/response.md). Pure numpy (scipy for the t
quantile), no I/O; arrays have one row per visit and days on the last axis.

Windows, in days relative to the visit's UTC day (day 0):

- **pre**: days −7..−1 — the 7 days before the visit, the visit day itself left out;
- **post**: days 2–8 — the first 24 h after the visit (day 1, expected post-needling soreness, a small HRV dip
  or a guarded gait; Martín-Pintado-Zugasti et al. 2018) are skipped: day 2 starts more than 24 h after any
  visit time on day 0;
- **baseline**: the ``BASELINE_DAYS`` (60) days before the pre-window, days −67..−8, as the readiness baseline
  of docs/analytics.md §2 lies before its week. It only gives the unit: the athlete's own day-to-day SD.

Metrics (``METRICS``), one value per day: local — |SI| of muscle load of the treated muscles; segmental — |SI| of
ground-contact time and of pedal power; systemic — the morning ln rMSSD and resting HR. The pre- and post-means of
daily ln rMSSD are the 7-day ln rMSSD (Plews 2012) ending on day −1 and on day 8.

Each metric's change is ``mean(post) − mean(pre)`` with a 95 % Welch interval (Welch 1947, Biometrika 34:28–35:
unequal variances, Welch–Satterthwaite degrees of freedom) on the daily values, then divided by the baseline SD
(floored, ``METRICS[...].sd_floor``) to give SD units. The interval treats days as independent; the simulator's
fitted mornings have a lag-1 autocorrelation of 0.14 (ln rMSSD) and 0.20 (HR), which makes it slightly too
narrow. A level combines its metrics: each day's values are standardised against their own baseline (mean, SD)
with the sign turned so that positive = better, averaged over the level's metrics with enough data, and the same
Welch interval is taken of that daily score: ``improvement_sd``, positive = better.

Verdicts (``verdict``): ``improved`` when the whole 95 % interval lies on the good side of 0 (|SI| smaller,
ln rMSSD up, resting HR down), ``worse`` when it lies wholly on the other side, ``unchanged`` otherwise (a bound
exactly at 0 is unchanged), ``insufficient data`` when the pre- or post-window has fewer than
``MIN_WINDOW_DAYS`` days with a value or the baseline fewer than ``MIN_BASELINE_DAYS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ingest.regions import REGION_MUSCLES
from monitor.asymmetry import symmetry_index_pct
from monitor.load import daily_count, daily_sum

Direction = Literal["down", "up"]

PRE_DAYS = (-7, -1)
"""First and last day of the pre-window, relative to the visit's UTC day."""
POST_DAYS = (2, 8)
"""First and last day of the post-window: the first 24 h after the visit are skipped."""
BASELINE_DAYS = 60
"""Days of the baseline, ending the day before the pre-window (days −67..−8)."""
MIN_WINDOW_DAYS = 3
"""Days with a value needed in the pre- and in the post-window (as ``min_readings_7d`` of the 7-day ln rMSSD)."""
MIN_BASELINE_DAYS = 10
"""Days with a value needed in the baseline (as ``min_baseline_sessions`` of the asymmetry baseline)."""
CONFIDENCE = 0.95

IMPROVED, UNCHANGED, WORSE, INSUFFICIENT = "improved", "unchanged", "worse", "insufficient data"
VERDICTS = (IMPROVED, UNCHANGED, WORSE, INSUFFICIENT)
LEVELS = ("local", "segmental", "systemic")


@dataclass(frozen=True)
class Metric:
    """A daily metric of one level, the direction that counts as better, and the floor of its baseline SD."""

    level: str
    good: Direction
    sd_floor: float
    meaning: str


METRICS: dict[str, Metric] = {
    "muscle_si_abs_pct": Metric("local", "down", 1.5, "|SI| of muscle load of the treated muscles, %"),
    "gct_si_abs_pct": Metric("segmental", "down", 1.5, "|SI| of ground-contact time, %"),
    "pedal_si_abs_pct": Metric("segmental", "down", 1.5, "|SI| of pedal power, %"),
    "ln_rmssd": Metric("systemic", "up", 0.05, "morning ln rMSSD"),
    "resting_hr_bpm": Metric("systemic", "down", 1.0, "morning resting HR, bpm"),
}
"""The SD floors keep a very steady baseline from inflating the SD units: 1.5 SI points as the asymmetry baseline
(``asymmetry.sd_floor_pct``); 0.05 ln units and 1 bpm, under the smallest day-to-day SDs of the noise fitted to real
mornings (0.11 and 3.0 bpm, docs/analytics.md). Verdicts do not depend on them."""


def region_group(region: str) -> str:
    """The group of a region name: ``calf_l`` → ``calf``; a midline region is its own group."""
    return region[:-2] if region.endswith(("_l", "_r")) else region


def muscles_for_regions(regions: Iterable[str]) -> tuple[str, ...]:
    """The pod muscles in the treated regions (``REGION_MUSCLES``), sorted, without repeats. A left/right SI
    compares both sides of a muscle, so ``calf_l`` and ``calf_r`` name the same muscles."""
    return tuple(sorted({m for r in regions for m in REGION_MUSCLES.get(region_group(r), ())}))


def daily_left_right_si_pct(day: np.ndarray, is_left: np.ndarray, value: np.ndarray, n_days: int) -> np.ndarray:
    """``(n_days,)``: the SI of each day's mean left and mean right ``value`` (e.g. EMG RMS of every stride of a
    muscle, ``day`` its day index); NaN unless both sides have a value that day."""
    day, left = np.asarray(day, dtype=np.int64), np.asarray(is_left, dtype=bool)
    value = np.asarray(value, dtype=float)
    return symmetry_index_pct(daily_mean(day[left], value[left], n_days), daily_mean(day[~left], value[~left], n_days))


def daily_mean(day: np.ndarray, value: np.ndarray, n_days: int) -> np.ndarray:
    """``(n_days,)``: the mean of the finite ``value`` of each day (e.g. the SIs of its sessions), NaN = none."""
    rows = np.zeros(len(day), np.int64)
    total = daily_sum(rows, day, value, (1, n_days))[0]
    count = daily_count(rows, day, value, (1, n_days))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def window_values(daily: np.ndarray, visit_day: np.ndarray, first: int, last: int) -> np.ndarray:
    """``daily[v, visit_day[v] + first .. visit_day[v] + last]`` per row, NaN outside the grid: ``(visits, n)``."""
    x = np.asarray(daily, dtype=float)
    day = np.asarray(visit_day, dtype=np.int64)[:, None] + np.arange(first, last + 1)
    inside = (day >= 0) & (day < x.shape[-1])
    picked = np.take_along_axis(x, np.clip(day, 0, max(x.shape[-1] - 1, 0)), axis=-1) if x.shape[-1] else day * 0.0
    return np.where(inside, picked, np.nan)


@dataclass(frozen=True)
class Windows:
    """Daily values of the baseline, pre- and post-windows, ``(visits, days of the window)``, NaN = no value."""

    baseline: np.ndarray
    pre: np.ndarray
    post: np.ndarray


def visit_windows(daily: np.ndarray, visit_day: np.ndarray) -> Windows:
    """The three windows of every visit from a daily series per visit (row ``v`` = the visit's athlete)."""
    start = PRE_DAYS[0] - BASELINE_DAYS
    return Windows(
        window_values(daily, visit_day, start, PRE_DAYS[0] - 1),
        window_values(daily, visit_day, *PRE_DAYS),
        window_values(daily, visit_day, *POST_DAYS),
    )


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and variance (ddof=1) of the finite values along the last axis (NaN where undefined)."""
    ok = np.isfinite(x)
    n = ok.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis=-1) / n
        var = np.where(ok, (x - mean[..., None]) ** 2, 0.0).sum(axis=-1) / (n - 1)
    return n, np.where(n > 0, mean, np.nan), np.where(n > 1, var, np.nan)


def welch_interval(
    pre: np.ndarray, post: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``mean(post) − mean(pre)`` of the finite values along the last axis and its two-sided Welch interval.

    ``se = √(s₁²/n₁ + s₂²/n₂)``, ``df = se⁴ / Σ (sᵢ²/nᵢ)² / (nᵢ − 1)`` (Welch–Satterthwaite), bounds
    ``diff ± t(1 − α/2, df)·se``. Two windows without any spread (se = 0) give the interval [diff, diff].
    NaN where a window has fewer than 2 values.
    """
    from scipy import stats  # imported here, as in monitor.asymmetry: the CLI's parser need not load scipy

    n1, m1, v1 = _stats(np.asarray(pre, dtype=float))
    n2, m2, v2 = _stats(np.asarray(post, dtype=float))
    diff = m2 - m1
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = v1 / n1, v2 / n2
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
        half = np.where(se > 0, stats.t.ppf(0.5 + confidence / 2.0, np.where(se > 0, df, 1.0)) * se, 0.0)
    half = np.where(np.isfinite(se), half, np.nan)
    return diff, diff - half, diff + half


def verdict(low: np.ndarray, high: np.ndarray, good: Direction, sufficient: np.ndarray) -> np.ndarray:
    """``improved`` / ``worse`` when the interval [low, high] lies wholly on the good / bad side of 0 (a bound at
    exactly 0 does not), else ``unchanged``; ``insufficient data`` where not ``sufficient``. Object array."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    with np.errstate(invalid="ignore"):
        better, poorer = (high < 0, low > 0) if good == "down" else (low > 0, high < 0)
    out = np.where(better, IMPROVED, np.where(poorer, WORSE, UNCHANGED)).astype(object)
    out[~np.asarray(sufficient, dtype=bool)] = INSUFFICIENT
    return out


@dataclass(frozen=True)
class Comparison:
    """Pre against post for every visit (arrays ``(visits,)``); SD units = the baseline SD (``unit``)."""

    good: Direction
    n_baseline: np.ndarray
    n_pre: np.ndarray
    n_post: np.ndarray
    baseline_mean: np.ndarray
    unit: np.ndarray  # the baseline SD, floored (metrics); 1 for a level's standardised score
    pre_mean: np.ndarray
    post_mean: np.ndarray
    change: np.ndarray  # post − pre, in the metric's unit
    change_sd: np.ndarray  # change / unit
    ci_low_sd: np.ndarray
    ci_high_sd: np.ndarray
    sufficient: np.ndarray
    verdict: np.ndarray


def enough_days(windows: Windows) -> np.ndarray:
    """Enough days with a value in every window (``MIN_WINDOW_DAYS``, ``MIN_BASELINE_DAYS``)."""
    count = [np.isfinite(w).sum(axis=-1) for w in (windows.baseline, windows.pre, windows.post)]
    return (count[0] >= MIN_BASELINE_DAYS) & (count[1] >= MIN_WINDOW_DAYS) & (count[2] >= MIN_WINDOW_DAYS)


def compare(windows: Windows, good: Direction, sd_floor: float = 0.0, unit: np.ndarray | None = None) -> Comparison:
    """The change from pre to post in baseline SDs (``max(SD, sd_floor)``, or ``unit`` when given) with its Welch
    interval and verdict."""
    n_base, base_mean, base_var = _stats(windows.baseline)
    sd = np.maximum(np.sqrt(base_var), sd_floor) if unit is None else np.broadcast_to(unit, base_mean.shape)
    n_pre, pre_mean, _ = _stats(windows.pre)
    n_post, post_mean, _ = _stats(windows.post)
    change, low, high = welch_interval(windows.pre, windows.post)
    sufficient = enough_days(windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        low_sd, high_sd = low / sd, high / sd
        return Comparison(
            good, n_base, n_pre, n_post, base_mean, sd, pre_mean, post_mean, change, change / sd, low_sd, high_sd,
            sufficient, verdict(low_sd, high_sd, good, sufficient),
        )  # fmt: skip


def standardised(windows: Windows, c: Comparison) -> Windows:
    """The windows as normal scores against the baseline (``(x − mean)/unit``), signed so that positive = better;
    all NaN for visits without enough data."""
    sign = -1.0 if c.good == "down" else 1.0
    keep = c.sufficient[:, None]

    def z(x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(keep, sign * (x - c.baseline_mean[:, None]) / c.unit[:, None], np.nan)

    return Windows(z(windows.baseline), z(windows.pre), z(windows.post))


@dataclass(frozen=True)
class LevelResponse:
    """One level for every visit: its combined score and each of its metrics."""

    level: str
    score: Comparison  # the daily mean of the standardised metrics, positive = better; change_sd = improvement
    metrics: dict[str, Comparison]


def _nanmean_stack(arrays: Sequence[np.ndarray]) -> np.ndarray:
    stack = np.stack(arrays)
    ok = np.isfinite(stack)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok.any(axis=0), np.where(ok, stack, 0.0).sum(axis=0) / ok.sum(axis=0), np.nan)


def level_response(level: str, windows: Mapping[str, Windows]) -> LevelResponse:
    """Compare each metric of ``level`` in ``windows`` (metric → its windows) and their combined daily score."""
    metrics = {name: compare(w, METRICS[name].good, METRICS[name].sd_floor) for name, w in windows.items()}
    scores = [standardised(windows[name], c) for name, c in metrics.items()]
    if not scores:
        raise ValueError(f"level {level!r}: no metric")
    combined = Windows(*(_nanmean_stack([getattr(s, part) for s in scores]) for part in ("baseline", "pre", "post")))
    score = compare(combined, "up", unit=np.ones(combined.pre.shape[0]))
    return LevelResponse(level, score, metrics)


def visit_responses(visit_day: np.ndarray, daily: Mapping[str, np.ndarray]) -> dict[str, LevelResponse]:
    """Every level with at least one metric in ``daily`` (metric name of ``METRICS`` → ``(visits, days)`` series,
    row ``v`` the athlete of visit ``v`` on the common day grid, ``visit_day[v]`` the visit's day index)."""
    unknown = sorted(set(daily) - set(METRICS))
    if unknown:
        raise KeyError(f"unknown response metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
    out = {}
    for level in LEVELS:
        names = [name for name in METRICS if METRICS[name].level == level and name in daily]
        if names:
            out[level] = level_response(level, {name: visit_windows(daily[name], visit_day) for name in names})
    return out


# --- JSON --------------------------------------------------------------------------------------------------------


def _number(value: Any, digits: int = 3) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


def comparison_json(c: Comparison, v: int) -> dict[str, Any]:
    """The comparison of visit ``v`` as JSON: means, change (metric unit and SD units), interval, verdict."""
    judged = bool(c.sufficient[v])  # no change or interval from too few days

    def shown(x: Any) -> float | None:
        return _number(x) if judged else None

    return {
        "verdict": str(c.verdict[v]),
        "good_direction": c.good,
        "pre_mean": _number(c.pre_mean[v]),
        "post_mean": _number(c.post_mean[v]),
        "change": shown(c.change[v]),
        "change_sd": shown(c.change_sd[v]),
        "ci95_sd": [shown(c.ci_low_sd[v]), shown(c.ci_high_sd[v])],
        "baseline_mean": _number(c.baseline_mean[v]),
        "baseline_sd": _number(c.unit[v]),
        "days": {"baseline": int(c.n_baseline[v]), "pre": int(c.n_pre[v]), "post": int(c.n_post[v])},
    }


def level_json(r: LevelResponse, v: int) -> dict[str, Any]:
    """A level of visit ``v``: verdict, ``improvement_sd`` (positive = better) with its interval, each metric."""
    s = r.score
    used = [name for name, c in r.metrics.items() if c.sufficient[v]]
    judged = bool(s.sufficient[v])
    return {
        "verdict": str(s.verdict[v]),
        "improvement_sd": _number(s.change_sd[v]) if judged else None,
        "ci95_sd": [_number(s.ci_low_sd[v]), _number(s.ci_high_sd[v])] if judged else [None, None],
        "days": {"pre": int(s.n_pre[v]), "post": int(s.n_post[v])},
        "metrics_used": used,
        "metrics": {name: comparison_json(c, v) for name, c in r.metrics.items()},
    }


def insufficient_level(reason: str) -> dict[str, Any]:
    """A level without any measurement for a visit (e.g. no pod muscle in the treated regions)."""
    return {
        "verdict": INSUFFICIENT,
        "improvement_sd": None,
        "ci95_sd": [None, None],
        "days": {"pre": 0, "post": 0},
        "metrics_used": [],
        "metrics": {},
        "reason": reason,
    }


def squad_summary(levels: Iterable[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per level: visits per verdict and the share of visits with a verdict that were followed by improvement
    (``improved_share``, None when no visit had enough data)."""
    counts = {level: dict.fromkeys(VERDICTS, 0) for level in LEVELS}
    for visit in levels:
        for level in LEVELS:
            counts[level][str(visit[level]["verdict"])] += 1
    out = {}
    for level, c in counts.items():
        judged = c[IMPROVED] + c[UNCHANGED] + c[WORSE]
        share = round(c[IMPROVED] / judged, 3) if judged else None
        out[level] = {"visits_judged": judged, **c, "improved_share": share}
    return out
