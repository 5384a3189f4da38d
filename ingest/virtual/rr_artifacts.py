"""Simulated RR recordings with a known clean series and realistic artifacts, for the HRV accuracy benchmark.

Pure numpy, no I/O; all randomness from an explicit ``numpy.random.Generator``. The clean series come from
``ingest.virtual.physiology`` (morning readings: respiratory sinus arrhythmia, Mayer wave, AR(1) beat-to-beat
variation; 24 h: ``ingest.virtual.recordings.day_recording``). Artifact kinds (Lipponen & Tarvainen 2019):

- ``ectopic``: a premature interval (55–75 % of the sinus one) followed by the compensatory pause (sum preserved);
- ``missed``: an undetected beat, two intervals merged;
- ``extra``: a spurious beat splitting one interval in two (25–75 %);
- ``long_short``: one interval 25–50 % too long or 20–40 % too short, uncompensated (a beat lost by the link or
  a mis-timed R peak).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.virtual.physiology import ECTOPIC_PREMATURITY, MIN_ARTIFACT_SPACING, clean_morning_rr_ms

ARTIFACT_KINDS = ("ectopic", "missed", "extra", "long_short")
# rMSSD bands (ms) of the benchmark and the resting HR range (bpm) that goes with each: low HRV with a higher HR
RMSSD_BANDS: dict[str, tuple[float, float]] = {"low": (15.0, 30.0), "normal": (30.0, 70.0), "high": (70.0, 140.0)}
BAND_HR_BPM: dict[str, tuple[float, float]] = {"low": (55.0, 75.0), "normal": (48.0, 68.0), "high": (40.0, 56.0)}


@dataclass(frozen=True)
class ArtifactedRR:
    """A recording with artifacts and the clean series it was made from."""

    rr_ms: np.ndarray
    clean_rr_ms: np.ndarray
    artifact_mask: np.ndarray  # bool per interval of rr_ms: True where it is not a clean interval
    n_events: int


def inject_rr_artifacts(
    clean_rr_ms: np.ndarray, rng: np.random.Generator, rate: float, kinds: tuple[str, ...] = ARTIFACT_KINDS
) -> ArtifactedRR:
    """Inject artifact events at ``rate`` per interval (at least ``MIN_ARTIFACT_SPACING`` apart, none in the first
    two and last two intervals), each of a kind drawn uniformly from ``kinds``."""
    unknown = set(kinds) - set(ARTIFACT_KINDS)
    if unknown or not kinds:
        raise ValueError(f"kinds must be among {ARTIFACT_KINDS}, got {kinds}")
    clean = np.asarray(clean_rr_ms, dtype=float)
    n = clean.size
    events = np.flatnonzero(rng.random(n) < rate)
    events = events[(events >= 2) & (events <= n - 3)]
    if events.size:
        keep = np.ones(events.size, dtype=bool)
        last = -MIN_ARTIFACT_SPACING
        for i, e in enumerate(events.tolist()):  # greedy spacing (sequential: a dropped event does not block the next)
            keep[i] = e - last >= MIN_ARTIFACT_SPACING
            last = e if keep[i] else last
        events = events[keep]
    kind = np.asarray(kinds)[rng.integers(0, len(kinds), events.size)]
    pieces: list[np.ndarray] = []
    flags: list[np.ndarray] = []
    start = 0
    for e, k in zip(events.tolist(), kind.tolist()):
        pieces.append(clean[start:e])
        flags.append(np.zeros(e - start, dtype=bool))
        x, nxt = clean[e], clean[e + 1]
        if k == "ectopic":
            short = x * rng.uniform(*ECTOPIC_PREMATURITY)
            bad, start = [short, nxt + x - short], e + 2
        elif k == "missed":
            bad, start = [x + nxt], e + 2
        elif k == "extra":
            u = rng.uniform(0.25, 0.75)
            bad, start = [u * x, (1 - u) * x], e + 1
        else:
            factor = rng.uniform(1.25, 1.5) if rng.random() < 0.5 else rng.uniform(0.6, 0.8)
            bad, start = [factor * x], e + 1
        pieces.append(np.asarray(bad))
        flags.append(np.ones(len(bad), dtype=bool))
    pieces.append(clean[start:])
    flags.append(np.zeros(n - start, dtype=bool))
    return ArtifactedRR(np.concatenate(pieces), clean, np.concatenate(flags), int(events.size))


def simulated_morning(
    band: str, rate: float, rng: np.random.Generator, duration_s: float = 300.0, kinds: tuple[str, ...] = ARTIFACT_KINDS
) -> ArtifactedRR:
    """A supine morning reading with a clean rMSSD drawn log-uniformly from ``RMSSD_BANDS[band]`` and a resting HR
    from ``BAND_HR_BPM[band]``, with artifacts injected at ``rate``."""
    lo, hi = RMSSD_BANDS[band]
    rmssd = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    clean = clean_morning_rr_ms(rng.uniform(*BAND_HR_BPM[band]), rmssd, rng, duration_s)
    return inject_rr_artifacts(clean, rng, rate, kinds)
