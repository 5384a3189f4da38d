"""Day-to-day noise of morning wellness check-ins, fitted for the cohort simulator (``ingest.virtual.wellness``).

From PMData (Thambawita et al. 2020; ``../shared/data/pmdata/pNN/pmsys/wellness.csv``, 16 people, Nov 2019 to
Mar 2020; MANIFEST.md): each morning's PMSys items fatigue, sleep quality, soreness and stress on 1–5 (3 = normal,
1–2 worse, 4–5 better) and the sore body areas (SNOMED CT body-structure codes). The product's check-in asks the
Hooper & Mackinnon (1995) items on 1–7 with 1 = very, very good and 7 = very, very bad, so every item is mapped by
its anchors, ``1 + (5 − x)·1.5`` (5 → 1, 3 → 4, 1 → 7); a 0 is no answer.

Per person: each item's mean, SD and lag-1 autocorrelation (days with an answer, consecutive pairs only), the
Hooper index (sum of the four) likewise, the missed check-in rate (days without a report between the first and
the last), the share of check-ins naming a sore area and its lag-1 autocorrelation, the share of lower-leg reports
naming one side only, and, for people with ≥ ``noise_fit.MIN_SESSIONS`` logged sessions, each item's response to
training load (``pmsys/srpe.csv``): least-squares slopes of the item in the person's SDs on the previous day's load
and on the mean load of the 7 days before, both as ratios to the person's mean daily load. Across people: the
within-person correlation of the four items (pooled standardised check-ins). Reported as distributions across
people (median, quartiles, range) with the per-person values.

    python bench/wellness_fit.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from noise_fit import DEFAULT_DATA, MIN_SESSIONS, daily_sd, distribution, lag1_autocorrelation, missed_rate

from ingest.wellness import HOOPER_ITEMS

LEFT_LOWER_LEG, RIGHT_LOWER_LEG = "48979004", "32696007"
LEFT_UPPER_ARM, RIGHT_UPPER_ARM = "368208006", "368209003"
SIDED_AREAS = ((LEFT_LOWER_LEG, RIGHT_LOWER_LEG), (LEFT_UPPER_ARM, RIGHT_UPPER_ARM))
"""SNOMED CT structures of the left / right lower leg and upper arm: the sided areas of the PMSys body map."""
AREA_NAMES = {
    LEFT_LOWER_LEG: "left lower leg",
    RIGHT_LOWER_LEG: "right lower leg",
    "12921003": "pelvis",
    "69536005": "head",
    "22943007": "trunk",
    LEFT_UPPER_ARM: "left upper arm",
    RIGHT_UPPER_ARM: "right upper arm",
}


# --- fitting functions (pure) ------------------------------------------------------------------------------------


def hooper_from_pmsys(value: np.ndarray) -> np.ndarray:
    """A PMSys 1–5 answer (5 = best) on the Hooper 1–7 scale (7 = worst) by its anchors; 0 or NaN → NaN."""
    x = np.asarray(value, float)
    return np.where((x >= 1) & (x <= 5), 1.0 + (5.0 - x) * 1.5, np.nan)


ANSWER_STEP = 1.5
"""The mapped answers lie on a grid of 1.5 points: rounding adds about ``1.5²/12`` to their variance (Sheppard)."""
MIN_LATENT_SD = 0.2


def latent_sd(observed_sd: float | np.ndarray, step: float = ANSWER_STEP) -> np.ndarray:
    """The SD of the continuous value behind answers rounded to a grid of ``step`` (Sheppard's correction,
    ``√(SD² − step²/12)``), at least ``MIN_LATENT_SD``."""
    sd = np.asarray(observed_sd, float)
    return np.sqrt(np.maximum(sd * sd - step * step / 12.0, MIN_LATENT_SD**2))


def latent_lag1(observed_lag1: float, observed_sd: float, step: float = ANSWER_STEP) -> float:
    """Lag-1 autocorrelation of the continuous value: rounding noise is white, so it only adds variance."""
    return float(observed_lag1 * observed_sd**2 / latent_sd(observed_sd, step) ** 2)


def latent_correlation(observed: np.ndarray, observed_sd: np.ndarray, step: float = ANSWER_STEP) -> np.ndarray:
    """Correlation matrix of the continuous values: each pair's covariance over the latent SDs (off-diagonal)."""
    sd = np.asarray(observed_sd, float)
    lat = latent_sd(sd, step)
    factor = np.outer(sd, sd) / np.outer(lat, lat)
    out = np.clip(np.asarray(observed, float) * factor, -1.0, 1.0)
    np.fill_diagonal(out, 1.0)
    return out


def item_stats(x: np.ndarray) -> dict[str, float]:
    """Mean, SD and lag-1 autocorrelation of a daily series with gaps (NaN)."""
    x = np.asarray(x, float)
    ok = np.isfinite(x)
    return {
        "mean": float(x[ok].mean()) if ok.any() else float("nan"),
        "sd": daily_sd(x),
        "lag1": lag1_autocorrelation(x),
    }


def standardised(items: np.ndarray) -> np.ndarray:
    """Rows (check-ins with every item answered) of ``items`` (days, n_items) standardised per item; an item that
    never varies is 0."""
    x = np.asarray(items, float)
    x = x[np.isfinite(x).all(axis=1)]
    sd = x.std(axis=0)
    return np.where(sd > 0, (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)


def pooled_correlation(people: list[np.ndarray]) -> np.ndarray:
    """Within-person correlation matrix: Pearson correlation of every person's standardised check-ins pooled."""
    z = np.concatenate([standardised(p) for p in people])
    return np.corrcoef(z.T)


def load_response(item: np.ndarray, load: np.ndarray) -> tuple[float, float]:
    """(β previous day, β 7 days): least-squares slopes of the item, in the person's SDs, on the previous day's load
    and on the mean load of the 7 days before, each divided by the person's mean daily load (0 on days without a
    session). Days 0–7 are left out (no full week before them); NaN when the item never varies."""
    y, load = np.asarray(item, float), np.asarray(load, float)
    mean = load.mean()
    prev = np.concatenate([[np.nan], load[:-1]]) / mean
    week = np.convolve(load, np.ones(7) / 7.0)[: load.size]
    week = np.concatenate([[np.nan], week[:-1]]) / mean
    ok = np.isfinite(y) & np.isfinite(prev) & np.isfinite(week)
    ok[:8] = False
    sd = y[ok].std() if ok.sum() > 3 else 0.0
    if not sd > 0:
        return float("nan"), float("nan")
    x = np.column_stack([np.ones(ok.sum()), prev[ok], week[ok]])
    beta = np.linalg.lstsq(x, (y[ok] - y[ok].mean()) / sd, rcond=None)[0]
    return float(beta[1]), float(beta[2])


def area_stats(areas: list[set[str]]) -> dict[str, float]:
    """Share of check-ins naming a sore area and its lag-1 autocorrelation (consecutive check-ins), the share of
    check-ins naming a lower leg, the share of those naming one side only, and the share of all check-ins naming
    one side only of a sided area (lower leg or upper arm)."""
    has = np.array([bool(a) for a in areas], float)
    left = np.array([LEFT_LOWER_LEG in a for a in areas])
    right = np.array([RIGHT_LOWER_LEG in a for a in areas])
    leg = left | right
    one_sided = np.array([any((lt in a) != (rt in a) for lt, rt in SIDED_AREAS) for a in areas])
    return {
        "sore_area_share": float(has.mean()),
        "sore_area_lag1": lag1_autocorrelation(has),
        "lower_leg_share": float(leg.mean()),
        "one_sided_leg_share": float((left ^ right).sum() / leg.sum()) if leg.any() else float("nan"),
        "one_sided_checkin_share": float(one_sided.mean()),
    }


# --- readers (I/O) -----------------------------------------------------------------------------------------------


def pmsys_wellness(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray], list[set[str]]]:
    """(UTC day since the epoch of each day with a report, Hooper-scale items per day, sore areas per day) of a
    PMSys ``wellness.csv``; the first report of a day counts."""
    by_day: dict[int, dict[str, str]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            day = int(np.datetime64(row["effective_time_frame"][:10], "D").astype(np.int64))
            by_day.setdefault(day, row)
    days = np.array(sorted(by_day), np.int64)
    rows = [by_day[int(d)] for d in days]
    items = {k: hooper_from_pmsys(np.array([float(r[k] or 0) for r in rows])) for k in HOOPER_ITEMS}
    areas = [{a.strip() for a in r["soreness_area"].strip("[]").split(",") if a.strip()} for r in rows]
    return days, items, areas


def pmsys_daily_load(path: Path, first_day: int, n_days: int) -> np.ndarray:
    """Daily sRPE load (RPE × minutes, AU; 0 without a session) of a PMSys ``srpe.csv`` on days first_day…"""
    load = np.zeros(n_days)
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if not (row["perceived_exertion"] and row["duration_min"]):
                continue
            day = int(np.datetime64(row["end_date_time"][:10], "D").astype(np.int64)) - first_day
            if 0 <= day < n_days:
                load[day] += float(row["perceived_exertion"]) * float(row["duration_min"])
    return load


# --- the fit -----------------------------------------------------------------------------------------------------


def _grid(days: np.ndarray, values: np.ndarray) -> np.ndarray:
    grid = np.full(int(days[-1] - days[0]) + 1, np.nan)
    grid[days - days[0]] = values
    return grid


def fit(data: Path = DEFAULT_DATA) -> dict[str, object]:
    """Every fitted statistic (module docstring) as JSON-able dicts."""
    stats: dict[str, dict[str, float]] = {}

    def put(name: str, person: str, value: float) -> None:
        stats.setdefault(name, {})[person] = value

    matrices = []
    for path in sorted(data.glob("pmdata/p*/pmsys/wellness.csv")):
        person = path.parts[-3]
        days, items, areas = pmsys_wellness(path)
        grids = {k: _grid(days, v) for k, v in items.items()}
        for name, grid in {**grids, "hooper_index": sum(grids.values())}.items():
            for stat, value in item_stats(grid).items():
                put(f"{name}_{stat}", person, value)
        put("missed_checkin_rate", person, missed_rate(grids["fatigue"]))
        for stat, value in area_stats(areas).items():
            put(stat, person, value)
        matrices.append(np.column_stack([items[k] for k in HOOPER_ITEMS]))
        srpe = path.with_name("srpe.csv")
        load = pmsys_daily_load(srpe, int(days[0]), int(days[-1] - days[0]) + 1) if srpe.exists() else np.zeros(1)
        if (load > 0).sum() >= MIN_SESSIONS:
            for k in HOOPER_ITEMS:
                previous, week = load_response(grids[k], load)
                put(f"{k}_load_beta_previous_day", person, previous)
                put(f"{k}_load_beta_7d", person, week)
    out: dict[str, object] = {name: distribution(values) for name, values in stats.items()}
    correlation = pooled_correlation(matrices)
    out["item_correlation"] = {"items": list(HOOPER_ITEMS), "matrix": np.round(correlation, 4).tolist()}
    sd = {k: float(np.nanmedian(list(stats[f"{k}_sd"].values()))) for k in HOOPER_ITEMS}
    out["latent"] = {  # the continuous values behind the answers: what the simulator draws before rounding
        "item_sd_quantiles": {
            k: np.round(latent_sd(np.nanpercentile(list(stats[f"{k}_sd"].values()), [0, 25, 50, 75, 100])), 4).tolist()
            for k in HOOPER_ITEMS
        },
        "item_lag1": {
            k: round(latent_lag1(float(np.nanmedian(list(stats[f"{k}_lag1"].values()))), sd[k]), 4)
            for k in HOOPER_ITEMS
        },
        "item_correlation": np.round(
            latent_correlation(correlation, np.array([sd[k] for k in HOOPER_ITEMS])), 4
        ).tolist(),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (MANIFEST.md)")
    print(json.dumps(fit(parser.parse_args().data), indent=1))


if __name__ == "__main__":
    main()
