"""Accuracy of the rMSSD definitions against a known clean series, and their agreement on the real RR files.

Simulated readings (``ingest.virtual.rr_artifacts``): 5-min supine mornings in three rMSSD bands (low 15–30 ms,
normal 30–70, high 70–140) with ectopic, missed, extra and long/short beats at 0, 1, 2 and 5 % per beat, and 24 h
recordings (``ingest.virtual.recordings.day_recording``) with the same artifacts. The error is
rMSSD(candidate on the recording) / rMSSD(clean series, every difference) − 1. Candidates:

- ``replace``: Lipponen–Tarvainen correction, every difference (``hrv_metrics(rr, "kubios")``, as Kubios/NeuroKit2);
- ``mask``: the former analysis path: local-median mask (``artifact_mask``), differences of two valid intervals;
- ``lt_exclude_1``: one Lipponen–Tarvainen detection pass, differences touching a flagged interval (or the one after
  it) left out;
- ``exclude``: the chosen definition (``hrv_metrics(rr)``): detection repeated on the corrected series, every
  interval any pass touched and the unclassifiable ends left out.

Real files: every RR file in ``<repo>/../shared/data/rr`` (``--data DIR``); each candidate against NeuroKit2
(``signal_fixpeaks(method="Kubios")`` + ``hrv_time``), against ``--correction none`` and, for the five Kubios
reports (made without correction), against the report's RMSSD. Prints one JSON document.

    python bench/hrv_accuracy.py [--mornings 100] [--days 2] [--seed 2026] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ingest.rr_files import read_rr_file
from ingest.virtual.recordings import day_recording
from ingest.virtual.rr_artifacts import RMSSD_BANDS, inject_rr_artifacts, simulated_morning
from monitor.hrv import artifact_mask, hrv_metrics, rmssd_ms
from monitor.rr_correction import detect_artifacts

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rr"
RATES = (0.0, 0.01, 0.02, 0.05)


def lt_exclude_one_pass(rr_ms: np.ndarray) -> float:
    """rMSSD without the differences that touch an interval flagged by one detection pass (or the one after it)."""
    found = detect_artifacts(rr_ms)
    flagged = np.concatenate((found.ectopic, found.missed, found.extra, found.long_short))
    bad = np.zeros(rr_ms.size + 1, dtype=bool)
    bad[flagged] = bad[flagged + 1] = True
    return rmssd_ms(rr_ms, ~bad[:-1])


CANDIDATES: dict[str, Callable[[np.ndarray], float]] = {
    "replace": lambda rr: hrv_metrics(rr, "kubios").rmssd_ms,
    "mask": lambda rr: rmssd_ms(rr, ~artifact_mask(rr)),
    "lt_exclude_1": lt_exclude_one_pass,
    "exclude": lambda rr: hrv_metrics(rr).rmssd_ms,
}


def summary(errors: np.ndarray) -> dict[str, float]:
    """Error statistics in per cent: median and 95th percentile of |error|, max |error|, mean (bias), share ≤ 5 %."""
    a = np.abs(errors)
    return {
        "median_abs_pct": round(100 * float(np.median(a)), 2),
        "p95_abs_pct": round(100 * float(np.percentile(a, 95)), 2),
        "max_abs_pct": round(100 * float(a.max()), 2),
        "bias_pct": round(100 * float(np.mean(errors)), 2),
        "within_5pct": round(float(np.mean(a <= 0.05)), 3),
    }


def mornings(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for band in RMSSD_BANDS:
        for rate in RATES:
            errors: dict[str, list[float]] = {name: [] for name in CANDIDATES}
            for _ in range(n):
                reading = simulated_morning(band, rate, rng)
                truth = rmssd_ms(reading.clean_rr_ms)
                for name, fn in CANDIDATES.items():
                    errors[name].append(fn(reading.rr_ms) / truth - 1)
            rows.append({"band": band, "rate": rate, "n": n} | {k: summary(np.asarray(v)) for k, v in errors.items()})
    return rows


def days(n: int, seed: int) -> list[dict]:
    clean = [day_recording(seed + i)[1] for i in range(n)]
    rng = np.random.default_rng(seed)
    rows = []
    for rate in RATES:
        errors: dict[str, list[float]] = {name: [] for name in CANDIDATES}
        for series in clean:
            rec = inject_rr_artifacts(series, rng, rate)
            truth = rmssd_ms(series)
            for name, fn in CANDIDATES.items():
                errors[name].append(fn(rec.rr_ms) / truth - 1)
        rows.append({"rate": rate, "n": n} | {k: summary(np.asarray(v)) for k, v in errors.items()})
    return rows


def kubios_report_rmssd(path: Path) -> float | None:
    for line in path.read_text(encoding="latin-1").splitlines():
        m = re.match(r"\s*RMSSD\s.*?:\s*,\s*([-\d.]+)", line)
        if m:
            return float(m.group(1))
    return None


def real_files(data: Path) -> dict:
    import neurokit2 as nk

    paths = sorted(p for p in data.iterdir() if not p.name.endswith("_Features.csv"))
    vs_nk: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    vs_none: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    vs_report: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    for path in paths:
        rr = read_rr_file(path).rr_ms
        peaks = np.rint(np.r_[0.0, np.cumsum(rr)]).astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, fixed = nk.signal_fixpeaks(peaks, sampling_rate=1000, iterative=True, method="Kubios")
            nk_rmssd = float(nk.hrv_time(fixed, sampling_rate=1000)["HRV_RMSSD"].iloc[0])
        raw = hrv_metrics(rr, "none").rmssd_ms
        report = kubios_report_rmssd(path) if path.name.startswith("pyhrv__kubios_") else None
        for name, fn in CANDIDATES.items():
            value = fn(rr)
            vs_nk[name].append(value / nk_rmssd - 1)
            vs_none[name].append(value / raw - 1)
            if report is not None:
                vs_report[name].append(value / report - 1)

    def stats(errors: list[float]) -> dict[str, float]:
        a = np.abs(np.asarray(errors))
        return {
            "median_abs_pct": round(100 * float(np.median(a)), 2),
            "max_abs_pct": round(100 * float(a.max()), 2),
            "over_5pct": int(np.sum(a > 0.05)),
        }

    return {
        "files": len(paths),
        "vs_neurokit2_kubios": {k: stats(v) for k, v in vs_nk.items()},
        "vs_uncorrected": {k: stats(v) for k, v in vs_none.items()},
        "vs_kubios_reports": {k: stats(v) for k, v in vs_report.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mornings", type=int, default=100, help="simulated mornings per band and rate")
    parser.add_argument("--days", type=int, default=2, help="simulated 24 h recordings per rate")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    result = {
        "mornings_5min": mornings(args.mornings, args.seed),
        "recordings_24h": days(args.days, args.seed),
        "real_files": real_files(args.data) if args.data.is_dir() else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
