"""Benchmark `hrv` (Lipponen–Tarvainen correction + time-domain metrics) against NeuroKit2.

Inputs: every RR file in ``<repo>/../shared/data/rr`` (or ``--data DIR``) and a synthetic 24 h recording
(``ingest.virtual.physiology``: rest, daily activity, a 1 h interval session, ectopic and missed beats).
Both sides get the same beats: peaks = the cumulative intervals rounded to whole ms (the RR files already are
whole ms). Ours = ``monitor.hrv.hrv_metrics(np.diff(peaks), "kubios")``; NeuroKit2 = ``signal_fixpeaks(peaks, 1000,
iterative=True, method="Kubios")`` then ``hrv_time``.

Times are CPU seconds of this process (``time.process_time``), each side timed over the whole input set, best of
``--repeat`` runs; the runs of the two sides alternate, so a busy machine affects both alike. Both sides are
warmed up on one input first. The last line printed is one JSON object with beats/s, the ratios and the rMSSD
agreement. Needs the dev extra (neurokit2).

    python bench/hrv.py [--data DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ingest.rr_files import RRFileError, read_rr_file
from ingest.virtual.recordings import day_rr_ms
from monitor.hrv import hrv_metrics

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rr"


def peaks_ms(rr_ms: np.ndarray) -> np.ndarray:
    """Beat times in whole ms (1000 Hz samples), starting at 0."""
    return np.rint(np.concatenate(([0.0], np.cumsum(rr_ms)))).astype(int)


def nk_rmssd(nk, peaks: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, fixed = nk.signal_fixpeaks(peaks, sampling_rate=1000, iterative=True, method="Kubios")
        return float(nk.hrv_time(fixed, sampling_rate=1000)["HRV_RMSSD"].iloc[0])


def cpu_time(fn: Callable[[], list[float]]) -> tuple[float, list[float]]:
    started = time.process_time()
    result = fn()
    return time.process_time() - started, result


def compare(nk, name: str, series: list[np.ndarray], repeat: int) -> dict:
    peaks = [peaks_ms(s) for s in series]
    rr = [np.diff(p).astype(float) for p in peaks]  # the same intervals NeuroKit2 sees
    beats = int(sum(s.size for s in rr))
    ours_s = nk_s = float("inf")
    for _ in range(max(repeat, 1)):  # alternate the two sides
        elapsed, ours = cpu_time(lambda: [hrv_metrics(s, "kubios").rmssd_ms for s in rr])
        ours_s = min(ours_s, elapsed)
        elapsed, ref = cpu_time(lambda: [nk_rmssd(nk, p) for p in peaks])
        nk_s = min(nk_s, elapsed)
    rel = np.abs(np.asarray(ours) / np.asarray(ref) - 1.0)
    row = {
        "inputs": len(series),
        "beats": beats,
        "ours_cpu_s": round(ours_s, 4),
        "neurokit2_cpu_s": round(nk_s, 3),
        "ours_beats_per_s": round(beats / ours_s),
        "neurokit2_beats_per_s": round(beats / nk_s),
        "ratio": round(nk_s / ours_s, 1),
        "rmssd_max_diff_pct": round(100 * float(rel.max()), 3),
        "rmssd_within_2pct": int(np.count_nonzero(rel <= 0.02)),
    }
    print(
        f"{name:14} {row['inputs']:3d} inputs {beats:7d} beats | ours {row['ours_beats_per_s']:>9,} beats/s | "
        f"NeuroKit2 {row['neurokit2_beats_per_s']:>7,} beats/s | {row['ratio']:6.1f}x | "
        f"rMSSD max diff {row['rmssd_max_diff_pct']:.2f} % ({row['rmssd_within_2pct']}/{row['inputs']} within 2 %)"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"RR files (default {DATA})")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, best kept (default 3)")
    args = parser.parse_args()

    import neurokit2 as nk

    files = []
    for path in sorted(args.data.iterdir()):
        try:
            files.append(read_rr_file(path).rr_ms)
        except RRFileError:
            continue  # e.g. the HRV Logger feature exports next to the RR files
    hrv_metrics(files[0], "kubios")  # warm-up (imports, first calls) outside the timings
    nk_rmssd(nk, peaks_ms(files[0]))

    all_rr = compare(nk, "all RR files", files, args.repeat)
    synthetic = compare(nk, "synthetic 24 h", [day_rr_ms()], args.repeat)
    print(
        json.dumps(
            {
                "all_rr_files": all_rr,
                "synthetic_24h": synthetic,
                "ratios": {"all_rr_files": all_rr["ratio"], "synthetic_24h": synthetic["ratio"]},
                "target_ratio": 50,
                "neurokit2": nk.__version__,
                "timing": f"process CPU seconds, best of {args.repeat} alternating runs per side, same beats",
            }
        )
    )


if __name__ == "__main__":
    main()
