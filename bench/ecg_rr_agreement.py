"""Agreement of RR from a simulated H10 ECG (130 Hz, ``monitor.ecg``) with the strap's RR of the same beats.

For ``--athletes`` simulated athletes (``ingest.virtual.physiology``) at rest, at a steady run and near maximum, the
beats drive both a strap (RR rounded to 1/1024 s, as on the wire) and a synthetic chest ECG
(``ingest.virtual.ecg_waveform``, rounded to whole µV as in an H10 frame) with three noise levels. Reported per
condition: median, 95th percentile and maximum of |ECG RR − strap RR| in ms over all beats, the same for R peaks
placed on the 130-Hz sample grid alone (no sub-sample refinement), and beats missed or added. Prints one JSON
document.

    python bench/ecg_rr_agreement.py [--athletes 20] [--seconds 300] [--seed 2026]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ingest.virtual.ecg_waveform import ECG_SAMPLE_RATE_HZ, beat_times_s, ecg_uv
from ingest.virtual.physiology import make_squad, session_hr
from monitor.ecg import ecg_rr_ms, r_peak_indices, rr_agreement_ms

WORKLOADS = {"rest": 0.0, "run": 0.6, "near max": 0.95}
NOISE_UV = (8.0, 25.0, 50.0)


def _summary(diffs: list[np.ndarray], beats: int, found: int) -> dict[str, float | int]:
    every = np.concatenate(diffs)
    return {
        "median_abs_diff_ms": round(float(np.median(every)), 3),
        "p95_abs_diff_ms": round(float(np.percentile(every, 95)), 3),
        "max_abs_diff_ms": round(float(every.max()), 3),
        "pairs": int(every.size),
        "beats_missed_or_added": int(abs(beats - found)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    squad = make_squad(args.athletes, 28, rng)
    fs = ECG_SAMPLE_RATE_HZ
    report: dict[str, object] = {"sample_rate_hz": fs, "athletes": args.athletes, "seconds": args.seconds}
    for label, workload in WORKLOADS.items():
        for noise in NOISE_UV:
            refined, grid, beats, found = [], [], 0, 0
            for profile in squad:
                _, rr = session_hr(profile, np.full(args.seconds, workload), rng)
                strap_rr = np.round(rr * 1.024) / 1.024  # 1/1024-s ticks, in ms
                peaks_s = beat_times_s(rr, first_beat_s=0.5)
                t = np.arange(0.0, peaks_s[-1] + 0.5, 1 / fs)
                ecg = np.rint(ecg_uv(t, peaks_s, rng, noise_uv=noise))
                ecg_rr = ecg_rr_ms(ecg, fs)
                grid_rr = np.diff(r_peak_indices(ecg, fs)) * 1000.0 / fs
                beats, found = beats + peaks_s.size, found + ecg_rr.size + 1
                for target, series in ((refined, ecg_rr), (grid, grid_rr)):
                    agreement = rr_agreement_ms(strap_rr, series, max_lag=3)
                    start = max(0, -agreement.lag)
                    stop = min(series.size, strap_rr.size - agreement.lag)
                    target.append(np.abs(series[start:stop] - strap_rr[start + agreement.lag : stop + agreement.lag]))
            report[f"{label}, noise {noise:g} µV"] = {
                "refined": _summary(refined, beats, found),
                "sample_grid_only": _summary(grid, beats, found),
            }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
