"""Lipponen & Tarvainen RR artifact detection and correction (monitor.rr_correction) and hrv_metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.virtual.physiology import clean_morning_rr_ms, inject_artifacts
from ingest.virtual.recordings import day_recording, day_rr_ms
from monitor.hrv import HrvMetrics, hrv_metrics
from monitor.rr_correction import (
    ALPHA,
    C1,
    C2,
    MAX_PASSES,
    ArtifactCounts,
    RRArtifacts,
    correct_artifacts,
    correct_rr,
    detect_artifacts,
    rolling_quantile,
)

# --- references written as plain loops ----------------------------------------------------------------------


def _rolling_quantile_loop(x: np.ndarray, window: int, q: float) -> np.ndarray:
    half = window // 2
    return np.array([np.quantile(x[max(0, i - half) : i + half + 1], q) for i in range(x.size)])


def _classify_loop(rr: np.ndarray) -> dict[str, list[int]]:
    """The beat-by-beat decision flow, one beat at a time (slow, obviously sequential)."""
    n = rr.size
    med = _rolling_quantile_loop(rr, 11, 0.5)
    drr = np.r_[0.0, np.diff(rr)]
    mrr = rr - med
    mrr = np.where(mrr < 0, 2 * mrr, mrr)

    def th(v):
        a = np.abs(v)
        return ALPHA * (_rolling_quantile_loop(a, 91, 0.75) - _rolling_quantile_loop(a, 91, 0.25)) / 2

    th1, th2 = th(drr), th(mrr)
    d = np.array([drr[k] / th1[k] if th1[k] else math.nan for k in range(n)])
    m = np.array([mrr[k] / th2[k] if th2[k] else math.nan for k in range(n)])

    def dd(k):  # reflect at the ends
        k = -k if k < 0 else k
        return d[2 * (n - 1) - k] if k > n - 1 else d[k]

    out: dict[str, list[int]] = {"ectopic": [], "missed": [], "extra": [], "long_short": []}
    i = 0
    while i < n - 2:
        if abs(d[i]) <= 1:
            i += 1
            continue
        lo, hi = min(dd(i - 1), dd(i + 1)), max(dd(i - 1), dd(i + 1))
        if any(map(math.isnan, (dd(i - 1), dd(i + 1)))):
            lo = hi = math.nan
        s12 = hi if d[i] > 0 else lo
        if (d[i] > 1 and s12 < -C1 * d[i] - C2) or (d[i] < -1 and s12 > -C1 * d[i] + C2):
            out["ectopic"].append(i)
            i += 1
            continue
        if not (abs(d[i]) > 1 or abs(m[i]) > 3):
            i += 1
            continue
        candidates = [i, i + 1] if abs(d[i + 1]) < abs(d[i + 2]) else [i]
        for j in candidates:
            pair = (dd(j + 1), dd(j + 2))
            s22 = (min(pair) if d[j] >= 0 else max(pair)) if not any(map(math.isnan, pair)) else math.nan
            long_beat = d[j] > 1 and s22 < -1
            short_beat = d[j] < -1 and s22 > 1
            if long_beat or short_beat or abs(m[j]) > 3:
                if short_beat and abs(rr[j] + rr[j + 1] - med[j]) < th2[j]:
                    out["extra"].append(j)
                elif long_beat and abs(rr[j] / 2 - med[j]) < th2[j]:
                    out["missed"].append(j)
                else:
                    out["long_short"].append(j)
            i += 1
    merged = {j + 1 for j in out["extra"]}  # the interval after an extra beat is merged into it
    return {name: [k for k in idx if name == "extra" or k not in merged] for name, idx in out.items()}


def _series_with_artifacts(seed: int, artifact_rate: float = 0.02, duration_s: float = 300.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    clean = clean_morning_rr_ms(rng.uniform(45, 80), rng.uniform(15, 90), rng, duration_s=duration_s)
    rr, _ = inject_artifacts(clean, rng, artifact_rate=artifact_rate)
    for _ in range(int(rng.integers(0, 3))):  # extra beats: one interval split in two
        k = int(rng.integers(5, rr.size - 5))
        f = rng.uniform(0.25, 0.45)
        rr = np.r_[rr[:k], f * rr[k], (1 - f) * rr[k], rr[k + 1 :]]
    return np.rint(rr)


# --- rolling quantile ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5, 11, 12, 45, 90, 91, 92, 181, 400])
@pytest.mark.parametrize(("window", "q"), [(91, 0.25), (91, 0.75), (11, 0.5), (5, 0.1)])
def test_rolling_quantile_matches_truncated_windows(n, window, q):
    x = np.random.default_rng(n).normal(size=n)
    np.testing.assert_allclose(rolling_quantile(x, window, q), _rolling_quantile_loop(x, window, q), atol=1e-12)


def test_rolling_quantile_rejects_even_window():
    with pytest.raises(ValueError):
        rolling_quantile(np.ones(10), 4, 0.5)


# --- detection ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_detection_matches_sequential_flow(seed):
    rr = _series_with_artifacts(seed, artifact_rate=0.01 + 0.005 * seed)
    found = detect_artifacts(rr)
    ref = _classify_loop(rr)
    for name in ("ectopic", "missed", "extra", "long_short"):
        assert getattr(found, name).tolist() == ref[name], name


def _steady(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return clean_morning_rr_ms(60.0, 40.0, rng, duration_s=n)


def test_clean_series_has_no_artifacts():
    for seed in range(5):
        assert detect_artifacts(_steady(seed=seed)).counts() == ArtifactCounts()


def test_missed_beat_is_split():
    clean = _steady()
    rr = np.r_[clean[:100], clean[100] + clean[101], clean[102:]]
    found = detect_artifacts(rr)
    assert found.missed.tolist() == [100] and found.counts().total == 1
    fixed = correct_rr(rr)
    assert fixed.rr_ms.size == clean.size and fixed.missed == 1
    np.testing.assert_allclose(fixed.rr_ms[100:102], (clean[100] + clean[101]) / 2)
    assert abs(np.sum(fixed.rr_ms) - np.sum(rr)) < 1e-6  # beat times are kept


def test_extra_beat_is_merged():
    clean = _steady()
    rr = np.r_[clean[:150], 0.3 * clean[150], 0.7 * clean[150], clean[151:]]
    found = detect_artifacts(rr)
    assert found.extra.tolist() == [150]
    fixed = correct_rr(rr)
    assert fixed.extra == 1 and fixed.rr_ms.size == clean.size
    np.testing.assert_allclose(fixed.rr_ms, clean, atol=1e-9)


def test_ectopic_beat_is_replaced():
    clean = _steady()
    rr = clean.copy()
    rr[80], rr[81] = 0.65 * clean[80], clean[81] + 0.35 * clean[80]  # premature beat + compensatory pause
    found = detect_artifacts(rr)
    assert set(found.ectopic) | set(found.long_short) == {80, 81}
    fixed = correct_rr(rr)
    assert fixed.rr_ms.size == rr.size and np.sum(fixed.rr_ms) == pytest.approx(np.sum(rr))
    assert np.all(np.abs(fixed.rr_ms[79:83] / clean[79:83] - 1) < 0.25)
    rmssd = lambda x: np.sqrt(np.mean(np.diff(x) ** 2))  # noqa: E731
    assert rmssd(rr) > 1.5 * rmssd(clean)
    assert rmssd(fixed.rr_ms) == pytest.approx(rmssd(clean), rel=0.15)  # midpoint re-placement leaves ~10 %


def test_correct_artifacts_applies_extra_then_missed_then_moves():
    rr = np.array([1000.0, 300.0, 700.0, 1000.0, 2000.0, 1000.0, 900.0, 1100.0, 1000.0])
    arts = RRArtifacts(extra=np.array([1]), missed=np.array([4]), long_short=np.array([6]))
    out = correct_artifacts(rr, arts)
    # 300+700 merged; 2000 split; the beat ending 900 (index 6 → 6 after merge and split) moved to the midpoint
    np.testing.assert_allclose(out, [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000])


def test_iteration_counts_fall_and_sum():
    rr = _series_with_artifacts(3, artifact_rate=0.04)
    fixed = correct_rr(rr)
    one = correct_rr(rr, iterative=False)
    assert one.passes == 1 and fixed.passes >= 1
    assert fixed.artifacts.total >= one.artifacts.total == detect_artifacts(rr).counts().total
    assert detect_artifacts(fixed.rr_ms).counts().total <= one.artifacts.total


def test_short_and_invalid_input():
    assert correct_rr(np.array([800.0, 900.0])).rr_ms.tolist() == [800.0, 900.0]
    assert correct_rr(np.array([])).rr_ms.size == 0
    for bad in ([800.0, np.nan, 900.0], [800.0, -1.0, 900.0], [[800.0]]):
        with pytest.raises(ValueError):
            correct_rr(np.array(bad))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(300, 2000), min_size=0, max_size=150), st.integers(0, 2**32 - 1))
def test_correction_keeps_a_positive_series(rr, seed):
    rr = np.asarray(rr)
    fixed = correct_rr(rr)
    assert np.all(fixed.rr_ms > 0) and np.all(np.isfinite(fixed.rr_ms))
    assert fixed.rr_ms.size == rr.size - fixed.extra + fixed.missed
    if rr.size:
        assert np.sum(fixed.rr_ms) == pytest.approx(np.sum(rr))  # corrections move beats, never the span


def test_24h_recording_corrected_rmssd_matches_the_clean_series():
    rr, clean = day_recording()
    assert rr.size > 90_000
    m = hrv_metrics(rr, "kubios")
    clean_rmssd = float(np.sqrt(np.mean(np.diff(clean) ** 2)))
    raw_rmssd = float(np.sqrt(np.mean(np.diff(rr) ** 2)))
    injected_missed = clean.size - rr.size  # each missed beat merged two intervals
    assert abs(m.artifacts.missed - injected_missed) <= 0.02 * injected_missed  # 176 of 177 found
    assert m.rmssd_ms == pytest.approx(clean_rmssd, rel=0.02)  # speed: bench/hrv.py
    assert raw_rmssd > 1.5 * clean_rmssd  # uncorrected, the artifacts dominate


def _correct_with_full_recomputation(rr: np.ndarray, max_passes: int | None = None) -> tuple[np.ndarray, int]:
    found = detect_artifacts(rr)
    rr, previous, passes = correct_artifacts(rr, found), found.counts().total, 1
    while previous and passes != max_passes:
        found = detect_artifacts(rr)
        if found.counts().total >= previous:
            break
        rr, previous, passes = correct_artifacts(rr, found), found.counts().total, passes + 1
    return rr, passes


@pytest.mark.parametrize("seed", [*range(6), "24h"])
def test_incremental_passes_equal_full_recomputation(seed):
    """After the first pass only the statistics around corrected beats are recomputed: nothing may change."""
    rr = day_rr_ms() if seed == "24h" else _series_with_artifacts(seed, artifact_rate=0.03, duration_s=1800)
    fixed = correct_rr(rr)
    reference, passes = _correct_with_full_recomputation(rr)
    assert fixed.passes == passes > 1
    np.testing.assert_array_equal(fixed.rr_ms, reference)


# --- hrv_metrics --------------------------------------------------------------------------------------------


def test_hrv_metrics_hand_worked():
    rr = np.array([1000.0, 1010.0, 990.0, 1000.0])
    for correction in ("none", "kubios"):
        m = hrv_metrics(rr, correction=correction)
        assert isinstance(m, HrvMetrics)
        assert m.n_beats == 4 and m.artifacts == ArtifactCounts()
        assert m.mean_rr_ms == pytest.approx(1000.0) and m.mean_hr_bpm == pytest.approx(60.0)
        assert m.rmssd_ms == pytest.approx(math.sqrt(200.0))
        assert m.sdnn_ms == pytest.approx(math.sqrt(200.0 / 3))  # ddof=1 like Kubios
        assert m.ln_rmssd == pytest.approx(math.log(math.sqrt(200.0)))


def test_hrv_metrics_none_counts_but_keeps_artifacts():
    clean = _steady()
    rr = np.r_[clean[:100], clean[100] + clean[101], clean[102:]]
    raw, fixed = hrv_metrics(rr, "none"), hrv_metrics(rr, "kubios")
    assert raw.artifacts.missed == fixed.artifacts.missed == 1
    assert raw.n_beats == rr.size and fixed.n_beats == rr.size + 1
    assert raw.rmssd_ms > fixed.rmssd_ms


def test_hrv_metrics_json_and_errors():
    doc = hrv_metrics(np.array([900.0]), "kubios").to_json()
    keys = {"n_beats", "n_used", "artifacts", "mean_rr_ms", "mean_hr_bpm", "sdnn_ms", "rmssd_ms", "ln_rmssd"}
    assert set(doc) == keys
    assert doc["rmssd_ms"] is None and doc["sdnn_ms"] is None and doc["mean_hr_bpm"] == pytest.approx(66.6667)
    assert set(doc["artifacts"]) == {"ectopic", "missed", "extra", "long_short"}
    for correction in ("kubios", "none"):
        with pytest.raises(ValueError):
            hrv_metrics(np.array([900.0, 0.0, 900.0]), correction)
    with pytest.raises(ValueError):
        hrv_metrics(np.array([900.0, 910.0]), correction="malik")  # type: ignore[arg-type]


# --- pathological series: ties, zero thresholds, dense artifacts -------------------------------------------------


def _pathological(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "plateaus":  # long runs of equal intervals: zero quartile deviations
        return np.repeat(rng.integers(700, 900, n // 7 + 1), 7)[:n].astype(float)
    if kind == "spikes":  # constant with sparse long/short intervals
        rr = np.full(n, 800.0)
        k = rng.choice(n, max(n // 25, 1), replace=False)
        rr[k] = rng.choice([400.0, 1200.0, 1600.0], k.size)
        return rr
    if kind == "bigeminy":
        return np.where(np.arange(n) % 2, 600.0, 1000.0) + rng.integers(-4, 5, n)
    rr = np.rint(850 + 40 * rng.normal(size=n))  # "dense": 10 % artifacts
    k = rng.random(n) < 0.1
    rr[k] = np.rint(rr[k] * rng.choice([0.5, 0.6, 1.5, 2.0], k.sum()))
    return rr


@pytest.mark.parametrize("kind", ["plateaus", "spikes", "bigeminy", "dense"])
@pytest.mark.parametrize("seed", range(3))
def test_detection_matches_sequential_flow_on_pathological_series(kind, seed):
    rr = _pathological(kind, 150 + 60 * seed, seed)
    found, ref = detect_artifacts(rr), _classify_loop(rr)
    for name in ("ectopic", "missed", "extra", "long_short"):
        assert getattr(found, name).tolist() == ref[name], name


@pytest.mark.parametrize("kind", ["plateaus", "spikes", "bigeminy", "dense"])
@pytest.mark.parametrize("n", [120, 600, 3000])
def test_incremental_passes_equal_full_recomputation_on_pathological_series(kind, n):
    rr = _pathological(kind, n, n)
    fixed = correct_rr(rr)
    reference, passes = _correct_with_full_recomputation(rr, max_passes=MAX_PASSES)  # bigeminy reaches the bound
    assert fixed.passes == passes
    np.testing.assert_array_equal(fixed.rr_ms, reference)


def test_long_series_with_extra_and_missed_beats_equal_full_recomputation():
    """Inserted and dropped beats shift the indices of the statistics that are reused."""
    rr = _series_with_artifacts(11, artifact_rate=0.03, duration_s=3600)
    rng = np.random.default_rng(5)
    for k in np.sort(rng.choice(np.arange(10, rr.size - 10), 12, replace=False))[::-1]:
        rr = (
            np.r_[rr[:k], 0.4 * rr[k], 0.6 * rr[k], rr[k + 1 :]]
            if k % 2
            else np.r_[rr[:k], rr[k] + rr[k + 1], rr[k + 2 :]]
        )
    fixed = correct_rr(rr)
    reference, passes = _correct_with_full_recomputation(rr)
    assert fixed.passes == passes and fixed.extra > 0 and fixed.missed > 0
    np.testing.assert_array_equal(fixed.rr_ms, reference)


def test_a_beat_replaced_where_it_was_changes_no_interval():
    """Moving a beat to the midpoint it already sits at leaves every interval (so the statistics) unchanged."""
    from monitor.rr_correction import _correct

    rr = np.array([800.0, 810.0, 900.0, 900.0, 790.0, 805.0])
    out, source = _correct(rr, RRArtifacts(long_short=np.array([2])))  # beat 3 is the midpoint of beats 2 and 4
    np.testing.assert_array_equal(out, rr)
    assert source.tolist() == list(range(rr.size))
    out, source = _correct(rr, RRArtifacts(long_short=np.array([1])))  # beat 2 is not
    assert source.tolist() == [0, -1, -1, 3, 4, 5] and out[1] == out[2] == 855.0


def test_skipping_the_confirming_pass_changes_only_the_pass_count():
    """After a pass that found one artifact, the next can only confirm the result: hrv_metrics skips it."""
    clean = _steady()
    series = [np.r_[clean[:100], clean[100] + clean[101], clean[102:]]]  # one missed beat
    series += [_series_with_artifacts(seed, artifact_rate=0.003) for seed in range(20)]
    skipped = 0
    for rr in series:
        exact, quick = correct_rr(rr), correct_rr(rr, count_passes=False)
        np.testing.assert_array_equal(quick.rr_ms, exact.rr_ms)
        assert quick.artifacts == exact.artifacts
        assert exact.passes - 1 <= quick.passes <= exact.passes
        skipped += quick.passes < exact.passes
        m = hrv_metrics(rr, "kubios")
        assert m.artifacts == exact.artifacts and m.n_beats == exact.rr_ms.size
        assert m.rmssd_ms == float(np.sqrt(np.mean(np.diff(exact.rr_ms) ** 2)))
    assert skipped >= 3
