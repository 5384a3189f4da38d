"""Agreement of `hrv_suppressed` with HRV4Training's own daily verdict on a real export.

`goldencheetah__2018_7_8_myMeasurements.csv` (73 days, 42 mornings, CR-only line endings) carries the app's daily
message, "Tu HRV está por debajo de tus valores normales" (below your normal values) or "... en valores normales".
The app judges *that morning's* reading; `hrv_suppressed` judges the 7-day mean and asks for confirmation, so three
of our quantities are compared with the app, each on the days where both have a verdict:

- ``hrv_suppressed``: the flag (7-day mean below the normal range and a CUSUM confirmation);
- ``week_below_range``: the 7-day mean ln rMSSD below the normal range (mean − 0.5 SD of the 60 days before);
- ``morning_below_range``: that morning's ln rMSSD below the same lower bound (the app's kind of verdict).

The 119-day export `goldencheetah__2017_7_28_myMeasurements.csv` has no verdict; it is used to count how often
the flag fires on a real, apparently steady record.

Both exports are read by the product importer (`ingest.importer.decode_file`): its `readiness` table holds one
morning reading per day with `ln_rmssd`, `mean_hr_bpm` and `app_verdict` (the daily message classified as
`below normal` or `normal`; rows without a reading, here also without a message, are skipped).

    python bench/hrv4training_agreement.py [--data ../shared/data/hrv-daily]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from ingest.importer import decode_file
from monitor.indicators import compute_indicators, daily_inputs
from monitor.signals import evaluate_signals
from monitor.thresholds import load_thresholds

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hrv-daily"
VERDICT_FILE = "goldencheetah__2018_7_8_myMeasurements.csv"
STEADY_FILE = "goldencheetah__2017_7_28_myMeasurements.csv"
APP_VERDICTS = ("below normal", "normal")
"""The app's verdicts compared here (the importer's `app_verdict`); any other day counts as unjudged."""


def read_export(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """Days (datetime64[D]), ln rMSSD, morning HR and the app's verdict per morning reading, via the importer."""
    activity = decode_file(path)
    table = next(t for t in activity.tables if t.measurement == "readiness")
    days = table.time_ms.astype("datetime64[ms]").astype("datetime64[D]")
    missing = np.full(len(table), np.nan)
    verdicts = table.texts.get("app_verdict", [None] * len(table))
    return (
        days,
        table.numbers["ln_rmssd"],
        table.numbers.get("mean_hr_bpm", missing),
        [v if v in APP_VERDICTS else None for v in verdicts],
    )


def evaluate(days: np.ndarray, ln: np.ndarray, hr: np.ndarray):
    """Indicators and signals over a consecutive grid from the first to the last day of the export."""
    first = days.min()
    n = int((days.max() - first).astype(int)) + 1
    grid_ln, grid_hr = np.full((1, n), np.nan), np.full((1, n), np.nan)
    index = (days - first).astype(int)
    grid_ln[0, index], grid_hr[0, index] = ln, hr
    th = load_thresholds()
    inputs = daily_inputs(["hrv4t"], first, np.full((1, n), np.nan), grid_ln, grid_hr, {})
    ind = compute_indicators(inputs, th)
    return ind, evaluate_signals(ind, th), index


def _agreement(ours: np.ndarray, app: np.ndarray) -> dict:
    both_below = int(np.sum(ours & app))
    both_normal = int(np.sum(~ours & ~app))
    only_ours, only_app = int(np.sum(ours & ~app)), int(np.sum(~ours & app))
    n = ours.size
    observed = (both_below + both_normal) / n if n else math.nan
    expected = (np.mean(ours) * np.mean(app) + np.mean(~ours) * np.mean(~app)) if n else math.nan
    kappa = (observed - expected) / (1 - expected) if n and expected < 1 else math.nan
    return {
        "days": n,
        "both_below": both_below,
        "both_normal": both_normal,
        "ours_only": only_ours,
        "app_only": only_app,
        "agreement": round(observed, 3),
        "cohens_kappa": round(float(kappa), 3) if math.isfinite(kappa) else None,
    }


def agreement(data: Path = DEFAULT_DATA) -> dict:
    days, ln, hr, verdicts = read_export(data / VERDICT_FILE)
    ind, signals, index = evaluate(days, ln, hr)
    with np.errstate(invalid="ignore"):
        candidates = {
            "hrv_suppressed": signals["hrv_suppressed"].flagged[0],
            "week_below_range": ind.hrv_ok[0] & (ind.hrv_week.mean[0] < ind.hrv_lower[0]),
            "morning_below_range": ind.inputs.ln_rmssd[0] < ind.hrv_lower[0],
        }
    app = np.array([v == "below normal" for v in verdicts])
    judged = np.array([v is not None for v in verdicts])
    comparable = judged & ind.hrv_ok[0, index]
    result = {
        "file": VERDICT_FILE,
        "mornings": int(np.isfinite(ln).sum()),
        "app_verdicts": int(judged.sum()),
        "app_below": int(app[judged].sum()),
        "comparable_days": int(comparable.sum()),
        "comparisons": {
            name: _agreement(series[index][comparable], app[comparable]) for name, series in candidates.items()
        },
    }
    steady_path = data / STEADY_FILE
    if steady_path.is_file():
        s_days, s_ln, s_hr, _ = read_export(steady_path)
        s_ind, s_signals, _ = evaluate(s_days, s_ln, s_hr)
        result["steady_export"] = {
            "file": STEADY_FILE,
            "mornings": int(np.isfinite(s_ln).sum()),
            "days_evaluable": int(s_ind.hrv_ok.sum()),
            "hrv_suppressed_days": int(s_signals["hrv_suppressed"].flagged.sum()),
            "week_below_range_days": int(np.sum(s_ind.hrv_ok & (s_ind.hrv_week.mean < s_ind.hrv_lower))),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    result = agreement(args.data)
    print(f"{result['file']}: {result['mornings']} mornings, {result['app_verdicts']} app verdicts "
          f"({result['app_below']} below normal), {result['comparable_days']} days comparable")  # fmt: skip
    for name, a in result["comparisons"].items():
        print(f"  {name:20s} agreement {a['agreement']:.2f}, kappa {a['cohens_kappa']}, {a}")
    if "steady_export" in result:
        print(f"  steady export: {result['steady_export']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
