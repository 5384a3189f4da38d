"""Benchmark: `analyze` over 1,000 athletes × 365 days in the embedded store.

The data (simulated sessions with sRPE, TRIMP, GCT, muscle load and pedal balance, plus morning readings, with
load spikes, HRV drops and asymmetry onsets in a fifth of the squad) is generated and written first, untimed. The
timed part is one `analyze` call: bulk read, vectorised computation for every athlete and day, and writing the
`daily` and `flag` points of the evaluated day. Prints a short report, then one JSON line (last line).

    python bench/analyze.py [--athletes 1000] [--days 365] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from ingest.store.sqlite import SQLiteStore
from ingest.timeline import day_start_ms
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from ingest.virtual.wellness_history import FITTED_WELLNESS
from monitor.analyze import analyze

AS_OF = dt.date(2026, 3, 31)


def build_store(path: Path, n_athletes: int, days: int, seed: int, wellness: bool = False) -> tuple[SQLiteStore, dict]:
    rng = np.random.default_rng(seed)
    onset = np.where(rng.random(n_athletes) < 0.2, rng.integers(days - 60, days - 3, n_athletes), -1)
    kind = rng.integers(0, 4, n_athletes)
    history = simulate_training_history(
        n_athletes,
        days,
        rng,
        spike_day=np.where(kind == 0, onset, -1),
        hrv_drop_day=np.where(kind == 1, onset, -1),
        gct_onset_day=np.where(kind == 2, onset, -1),
        muscle_onset_day=np.where(kind == 3, onset, -1),
        wellness=FITTED_WELLNESS if wellness else None,
    )
    first_day = AS_OF - dt.timedelta(days=days - 1)
    store = SQLiteStore(path)
    started = time.perf_counter()
    points = store.write(training_history_batches(history, day_start_ms(first_day)))
    return store, {"points": points, "write_s": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wellness", action="store_true", help="every athlete also checks in each morning")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store, setup = build_store(Path(tmp) / "bench.sqlite", args.athletes, args.days, args.seed, args.wellness)
        print(f"setup (untimed): {setup['points']:,} points written in {setup['write_s']} s")
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = analyze(store, AS_OF)
            total = time.perf_counter() - started
            runs.append({"total_s": round(total, 3), **result.timings_s, "points_written": result.points_written})
            print(f"analyze: {runs[-1]}")
        store.close()
    best = min(runs, key=lambda r: r["total_s"])
    reports = result.athletes
    summary = {
        "benchmark": "analyze",
        "athletes": args.athletes,
        "days": args.days,
        "setup_points": setup["points"],
        "total_s": best["total_s"],
        "read_s": best["read_s"],
        "compute_s": best["compute_s"],
        "write_s": best["write_s"],
        "points_written": best["points_written"],
        "runs_total_s": [r["total_s"] for r in runs],
        "athletes_flagged": sum(bool(r.flags) for r in reports),
        "idn_recommended": sum(r.recommend_idn_visit for r in reports),
        "budget_s": 5.0,
        "within_budget": best["total_s"] < 5.0,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
