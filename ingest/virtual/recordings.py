"""Long synthetic recordings built from the physiology simulator, for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from ingest.virtual.physiology import inject_artifacts, interval_workload, make_squad, session_hr


def day_rr_ms(seed: int = 24) -> np.ndarray:
    """About 24 h of beats (~108,000): sleep, daily activity, a 1 h interval session; 0.3 % artifact events."""
    return day_recording(seed)[0]


def day_recording(seed: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """The recording of :func:`day_rr_ms` and the clean RR series it was made from (before the artifacts)."""
    rng = np.random.default_rng(seed)
    profile = make_squad(1, 60, rng)[0]
    workload = np.full(86_400, 0.05)
    workload[8 * 3600 :] = 0.15
    workload[18 * 3600 : 19 * 3600] = interval_workload(3600, rng)
    _, rr = session_hr(profile, workload, rng)
    return inject_artifacts(rr, rng, artifact_rate=0.003)[0], rr
