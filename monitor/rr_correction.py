"""RR artifact detection and correction after Lipponen & Tarvainen (2019), J Med Eng Technol 43:173.

Behaviour follows the reading of the paper in NeuroKit2's ``signal_fixpeaks(method="Kubios")`` (MIT; method
re-implemented here, vectorised, on RR intervals instead of peak samples):

- ``dRR`` (successive differences) is divided by ``Th1 = α·QD(|dRR|)``, QD = (Q3 − Q1)/2 over a centred 91-beat
  window (shrinking at the ends), α = 5.2. ``mRR = RR − median₁₁(RR)``, negative values doubled, is divided by
  ``Th2`` computed the same way from ``|mRR|``.
- Subspaces: ``S12`` = the larger (dRR > 0) or smaller (dRR < 0) of the two neighbouring dRR; ``S22`` = the smaller
  (dRR ≥ 0) or larger (dRR < 0) of the next two.
- A beat with |dRR| > 1 is ectopic if ``dRR > 1 and S12 < −c1·dRR − c2`` or ``dRR < −1 and S12 > −c1·dRR + c2``;
  otherwise it (and the next beat, when that one's |dRR| is smaller than the one after) is checked for long/short
  (``dRR > 1 and S22 < −1``, ``|mRR| > 3`` or ``dRR < −1 and S22 > 1``), which is a missed beat if half the interval
  is within Th2 of the local median, an extra beat if the interval plus the next one is (the next one is then not
  classified on its own: NeuroKit2 may also flag it as long/short and move a beat of the repaired pair).
- Correction on beat times: extra beats are dropped (two intervals merged), missed beats split the interval in two,
  ectopic and long/short beats move to the midpoint of their neighbours. Passes repeat until the artifact count
  stops falling.

The first interval has no predecessor: its dRR is 0 (no evidence), so it is never classified by itself. Indices are kept
exact when beats are dropped or inserted (NeuroKit2 0.2.13 shifts later indices by one too many or too few when
several extra or missed beats precede them, which moves the wrong beat).

Cost (the same results as recomputing everything on every pass): the windowed statistics are exact rolling
quantiles (:mod:`monitor.rolling`). Th2 is read only where the dRR test leaves a beat undecided (a few per cent of
the beats), so it is computed there, when first read. After a correction pass the median and Th1 are recomputed
only in the windows that hold an interval whose value changed; a re-placed beat that lands where it already was
changes nothing, and a pass that changes no interval ends the iteration (the next would find the same artifacts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np

from monitor.rolling import rolling_quantile as rolling_quantile  # re-exported
from monitor.rolling import window_quantiles

ALPHA = 5.2  # threshold = ALPHA · quartile deviation
THRESHOLD_WINDOW_BEATS = 91  # window of the quartile deviation
MEDIAN_WINDOW_BEATS = 11  # window of the local median RR
C1 = 0.13  # slope of the ectopic decision boundary
C2 = 0.17  # offset of the ectopic decision boundary
MRR_LIMIT = 3.0  # |mRR| / Th2 above this is long or short
MAX_PASSES = 100  # safety bound; the count has to fall on every pass anyway
MIN_BEATS = 4  # shorter series are returned unchanged
EXCLUDE_MAX_PASSES = 10  # detection passes of ``excluded_intervals`` (a reading needs 2–3 at 5 % artifacts)
ArtifactSizes = tuple[int, int, int, int]  # ectopic, missed, extra, long/short beats


@dataclass(frozen=True)
class ArtifactCounts:
    """Number of beats per artifact class."""

    ectopic: int = 0
    missed: int = 0
    extra: int = 0
    long_short: int = 0

    @property
    def total(self) -> int:
        return self.ectopic + self.missed + self.extra + self.long_short

    def as_dict(self) -> dict[str, int]:
        return {"ectopic": self.ectopic, "missed": self.missed, "extra": self.extra, "long_short": self.long_short}


_NONE = np.zeros(0, dtype=np.intp)
_NONE.flags.writeable = False  # shared by every empty class


@dataclass(frozen=True)
class RRArtifacts:
    """Indices (into the RR series) of the intervals of each artifact class; the classes are disjoint."""

    ectopic: np.ndarray = field(default_factory=lambda: _NONE)
    missed: np.ndarray = field(default_factory=lambda: _NONE)
    extra: np.ndarray = field(default_factory=lambda: _NONE)
    long_short: np.ndarray = field(default_factory=lambda: _NONE)

    def sizes(self) -> ArtifactSizes:
        return self.ectopic.size, self.missed.size, self.extra.size, self.long_short.size

    def counts(self) -> ArtifactCounts:
        return ArtifactCounts(*self.sizes())


@dataclass(frozen=True)
class RRCorrection:
    """Corrected RR series (ms) and the artifacts corrected, summed over the passes."""

    rr_ms: np.ndarray
    ectopic: int
    missed: int
    extra: int
    long_short: int
    passes: int  # correction passes applied

    @property
    def artifacts(self) -> ArtifactCounts:
        return ArtifactCounts(self.ectopic, self.missed, self.extra, self.long_short)


def _visited(prev_step: np.ndarray) -> np.ndarray:
    """Which beats a sequential scan reaches, where a beat whose step flag is set also consumes the next beat.

    ``prev_step[t]``: the previous beat (adjacent) has its step flag. Within a run of such beats every second one
    is skipped: ``visited[t] = not (visited[t-1] and step[t-1])``, vectorised by the parity within the run.
    """
    if not prev_step.any():
        return np.ones(prev_step.size, dtype=bool)
    t = np.arange(prev_step.size)
    starts = prev_step.copy()
    starts[1:] &= ~prev_step[:-1]
    run_start = np.maximum.accumulate(np.where(starts, t, 0))
    return ~prev_step | ((t - run_start) % 2 == 1)


@dataclass(frozen=True)
class _Stats:
    """Local statistics of an RR series: median₁₁, Th1 (of dRR) and Th2 (of mRR).

    Th2 is read only at the few beats the dRR test leaves undecided (and the next ones): :func:`_classify` computes
    it there and stores it in place; NaN where it has not been computed.
    """

    med: np.ndarray
    th1: np.ndarray
    th2: np.ndarray


def _drr(rr: np.ndarray) -> np.ndarray:
    """dRR: successive differences, 0 for the first interval."""
    drr = np.empty(rr.size)
    drr[0] = 0.0
    np.subtract(rr[1:], rr[:-1], out=drr[1:])
    return drr


def _mrr(rr: np.ndarray, med: np.ndarray) -> np.ndarray:
    """mRR: RR minus the local median, negative values doubled."""
    mrr = rr - med
    return np.where(mrr < 0, 2.0 * mrr, mrr)


def _thresholds(x: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """``α·QD`` of ``x`` over the threshold windows (at positions ``at``, default all)."""
    q1, q3 = window_quantiles(x, THRESHOLD_WINDOW_BEATS, (0.25, 0.75), at)
    return (ALPHA / 2.0) * (q3 - q1)


def _median(rr: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    return window_quantiles(rr, MEDIAN_WINDOW_BEATS, (0.5,), at)[0]


def _stats(rr: np.ndarray) -> _Stats:
    return _Stats(_median(rr), _thresholds(np.abs(_drr(rr))), np.full(rr.size, np.nan))


def _near(changed: np.ndarray, *reaches: int) -> list[np.ndarray]:
    """For each reach ``r``: the positions ``j`` with a changed position in ``j − r … j + r``."""
    n, far = changed.size, max(reaches)
    counts = np.empty(n + 1 + 2 * far, dtype=np.intp)  # counts[far + 1 + j]: changed positions up to j
    counts[: far + 1] = 0
    np.cumsum(changed, out=counts[far + 1 : far + 1 + n])
    counts[far + 1 + n :] = counts[far + n]
    return [(counts[far + r + 1 :][:n] > counts[far - r :][:n]).nonzero()[0] for r in reaches]


def _update_stats(rr: np.ndarray, source: np.ndarray, old: _Stats) -> _Stats:
    """Statistics of a corrected series: reused where the whole window is unchanged, recomputed elsewhere.

    ``source[j]`` is the index in the previous series of interval ``j``, or -1 if its value changed. The median
    window of ``j`` holds intervals ``j ± 5``; the Th1 window holds ``dRR`` at ``j ± 45``, which depend on intervals
    ``j − 46 … j + 45``; the Th2 window holds ``mRR`` at ``j ± 45``, which depend on intervals ``j ± 50``.
    """
    changed = source < 0
    src = np.where(changed, 0, source)
    med, th1, th2 = old.med[src], old.th1[src], old.th2[src]
    half, mhalf = THRESHOLD_WINDOW_BEATS // 2, MEDIAN_WINDOW_BEATS // 2
    near_med, near_th1, near_th2 = _near(changed, mhalf, half + 1, half + mhalf)
    med[near_med] = _median(rr, near_med)
    th1[near_th1] = _thresholds(np.abs(_drr(rr)), near_th1)
    th2[near_th2] = np.nan
    return _Stats(med, th1, th2)


def _classify(rr: np.ndarray, st: _Stats) -> RRArtifacts:
    """One detection pass on ``rr`` with its statistics ``st``."""
    n = rr.size
    med, th1, th2 = st.med, st.th1, st.th2
    d = _drr(rr)
    zero_th1 = not th1.all()
    if zero_th1:
        with np.errstate(divide="ignore", invalid="ignore"):
            d /= th1
        d[th1 == 0] = np.nan  # NaN where a threshold is zero: NaN never classifies a beat by itself
    else:
        d /= th1
    ad = np.abs(d)
    i = (~(ad[: n - 2] <= 1)).nonzero()[0]  # considered if |dRR| > 1 or |mRR| > 3; the last two lack look-ahead
    if not i.size:
        return RRArtifacts()
    mrr = _mrr(rr, med)

    def am(at: np.ndarray) -> np.ndarray:
        """|mRR| / Th2 at ``at`` (NaN where Th2 is zero); Th2 is computed where it is still missing."""
        th2_at = th2[at]
        missing = np.isnan(th2_at)
        if missing.any():
            th2_at[missing] = th2[at[missing]] = _thresholds(np.abs(mrr), at[missing])
        return np.divide(np.abs(mrr[at]), th2_at, out=np.full(at.size, np.nan), where=th2_at != 0)

    if zero_th1:  # a NaN dRR is considered only if |mRR| > 3
        i = i[~np.isnan(ad[i]) | (am(i) > MRR_LIMIT)]
        if not i.size:
            return RRArtifacts()

    # Ectopic: dRR > 1 and S12 < −c1·dRR − c2, or the same mirrored (−dRR, −S12) for dRR < −1.
    dr = np.concatenate((d[1:2], d, d[n - 2 : n - 1]))  # d with reflection at both ends: d(k) = dr[k + 1]
    i1 = i + 1
    adi, sign = ad[i], np.sign(d[i])
    s12 = np.maximum(sign * dr[i], sign * d[i1])
    ectopic_shape = (adi > 1) & (s12 < -C1 * adi - C2)
    with_next = ad[i1] < ad[i1 + 1]
    first = ~ectopic_shape
    run = (i1[:-1] == i[1:]) & (first & with_next)[:-1]  # beat i + 1 is consumed by beat i
    if run.any():
        visited = _visited(np.concatenate(([False], run)))
        ectopic, first = i[visited & ectopic_shape], visited & first
    else:
        ectopic = i[ectopic_shape]
    j = np.concatenate((i[first], i1[first & with_next]))
    j.sort()
    if not j.size:
        return RRArtifacts(ectopic=ectopic)

    # Long (dRR > 1 and S22 < −1), short (dRR < −1 and S22 > 1), or |mRR| > 3; then missed, extra or long/short.
    dj, n1, n2 = d[j], dr[j + 2], dr[j + 3]
    long_beat = (dj > 1) & (np.minimum(n1, n2) < -1)
    short_beat = (dj < -1) & (np.maximum(n1, n2) > 1)
    flagged = long_beat | short_beat | (am(j) > MRR_LIMIT)
    if not flagged.any():
        return RRArtifacts(ectopic=ectopic)
    j, long_beat, short_beat = j[flagged], long_beat[flagged], short_beat[flagged]
    th2j, medj = th2[j], med[j]
    extra = short_beat & (np.abs(rr[j] + rr[j + 1] - medj) < th2j)
    missed = long_beat & (np.abs(rr[j] / 2 - medj) < th2j)
    long_short = ~(extra | missed)
    if extra.any():  # an extra beat's interval is merged with the next one, which is not an artifact of its own
        merged = np.zeros(n + 1, dtype=bool)
        merged[j[extra] + 1] = True
        ectopic, keep = ectopic[~merged[ectopic]], ~merged[j]
        missed, long_short = missed & keep, long_short & keep
    return RRArtifacts(ectopic=ectopic, missed=j[missed], extra=j[extra], long_short=j[long_short])


def detect_artifacts(rr_ms: np.ndarray) -> RRArtifacts:
    """Classify the intervals of ``rr_ms`` into ectopic, missed, extra and long/short beats (one pass)."""
    rr = np.asarray(rr_ms, dtype=float)
    if rr.ndim != 1 or rr.size < MIN_BEATS:
        return RRArtifacts()
    return _classify(rr, _stats(rr))


def _move_to_midpoints(t: np.ndarray, moved: np.ndarray, beats: np.ndarray) -> None:
    """Move each beat in ``beats`` (simultaneously, in place) to the midpoint of its neighbours."""
    beats = beats[(beats >= 1) & (beats <= t.size - 2)]
    t[beats] = (t[beats - 1] + t[beats + 1]) / 2.0
    moved[beats] = True


def _correct(rr: np.ndarray, artifacts: RRArtifacts) -> tuple[np.ndarray, np.ndarray]:
    """One correction pass; also returns, per new interval, its index in ``rr`` (-1 where its value changed)."""
    t = np.empty(rr.size + 1)
    t[0] = 0.0
    np.cumsum(rr, out=t[1:])
    beat = np.arange(t.size)  # previous index of each beat, -1 once inserted
    extra = np.sort(artifacts.extra + 1)
    missed, ectopic, long_short = artifacts.missed + 1, artifacts.ectopic + 1, artifacts.long_short + 1
    if extra.size:
        t, beat = np.delete(t, extra), np.delete(beat, extra)
        missed, ectopic, long_short = (b - np.searchsorted(extra, b) for b in (missed, ectopic, long_short))
    if missed.size:
        missed = np.sort(missed[(missed >= 1) & (missed < t.size)])
        t = np.insert(t, missed, (t[missed - 1] + t[missed]) / 2.0)
        beat = np.insert(beat, missed, -1)
        ectopic, long_short = (b + np.searchsorted(missed, b, side="right") for b in (ectopic, long_short))
    moved = np.zeros(t.size, dtype=bool)
    for beats in (ectopic, long_short):
        if beats.size:
            _move_to_midpoints(t, moved, beats)
    out = t[1:] - t[:-1]
    if extra.size or missed.size:
        same = (beat[:-1] >= 0) & (beat[1:] == beat[:-1] + 1)  # between the two beats of interval beat[j] before
        source = np.where(same, beat[:-1], -1)
        kept = same & ~moved[:-1] & ~moved[1:]
        out[kept] = rr[source[kept]]  # neither beat moved: exactly the old interval, without cumulative-sum round-off
        source[same & (out != rr[source])] = -1  # a beat re-placed where it already was changes nothing
    else:  # the same, with source[j] = j
        kept = ~(moved[:-1] | moved[1:])
        out[kept] = rr[kept]
        source = beat[:-1]
        source[out != rr] = -1
    return out, source


def correct_artifacts(rr_ms: np.ndarray, artifacts: RRArtifacts) -> np.ndarray:
    """Apply one correction pass: drop extra beats, split missed ones, re-place ectopic and long/short beats.

    Works on beat times (interval ``j`` ends at beat ``j + 1``) in the order extra, missed, ectopic, long/short.
    """
    return _correct(np.asarray(rr_ms, dtype=float), artifacts)[0]


def correct_rr(rr_ms: np.ndarray, *, iterative: bool = True, count_passes: bool = True) -> RRCorrection:
    """Detect and correct RR artifacts, repeating until the number detected stops falling.

    The first pass is always applied; a further pass is applied only while it finds fewer artifacts than the
    previous one. The counts are summed over the applied passes. After the first pass the local statistics are
    recomputed only around the changed intervals (the result is the same as recomputing them everywhere).

    A detection pass after one that found a single artifact can only find none (the iteration ends) or one or more
    (it stops): either way the corrected series and the counts stay as they are; only ``passes`` tells the two
    apart. With ``count_passes=False`` that last detection is skipped and ``passes`` may be one short.
    """
    rr = np.asarray(rr_ms, dtype=float)
    if rr.ndim != 1:
        raise ValueError("rr_ms must be 1-D")
    if rr.size and not (np.minimum.reduce(rr) > 0 and np.maximum.reduce(rr) < np.inf):  # NaN fails both
        raise ValueError("rr_ms must be finite and positive")
    if rr.size < MIN_BEATS:
        return RRCorrection(rr.copy(), 0, 0, 0, 0, 1)
    st = _stats(rr)
    found = _classify(rr, st)
    counts, passes = found.sizes(), 1
    previous = sum(counts)
    while previous:
        rr, source = _correct(rr, found)
        if not iterative or passes >= MAX_PASSES or rr.size < MIN_BEATS:
            break
        if source.min() >= 0:  # no interval changed, so the next pass would find the same artifacts again
            break
        if previous == 1 and not count_passes:  # the next pass cannot change the series or the counts
            break
        st = _update_stats(rr, source, st)
        found = _classify(rr, st)
        now = found.sizes()
        if sum(now) >= previous:
            break
        counts, passes, previous = cast(ArtifactSizes, tuple(map(sum, zip(counts, now)))), passes + 1, sum(now)
    return RRCorrection(rr, *counts, passes)


@dataclass(frozen=True)
class RRExclusion:
    """Which intervals of an RR series to leave out of the HRV, and the artifacts behind it."""

    excluded: np.ndarray  # bool per interval, True = not used (artifact, next to one, or unclassifiable)
    artifacts: ArtifactCounts  # detected, summed over the passes
    passes: int


def excluded_intervals(rr_ms: np.ndarray) -> RRExclusion:
    """Lipponen–Tarvainen detection, repeated on the corrected series, to EXCLUDE artifacts rather than replace them.

    Each pass classifies the current series and corrects it (as :func:`correct_rr`), so artifacts hidden by
    thresholds that other artifacts inflated are found on the next pass; passes repeat while they find artifacts
    and change the series (at most ``EXCLUDE_MAX_PASSES``). An original interval is excluded if any pass flagged it,
    flagged the interval before it (a misplaced, dropped or inserted beat ends the flagged interval, so the next one
    is corrupt too), or changed it. The first interval (no predecessor) and the last two (no look-ahead) cannot be
    classified and are always excluded. The HRV then uses only successive differences of two kept intervals, so a
    replaced beat never enters it.
    """
    rr = np.asarray(rr_ms, dtype=float)
    if rr.ndim != 1:
        raise ValueError("rr_ms must be 1-D")
    if rr.size and not (np.minimum.reduce(rr) > 0 and np.maximum.reduce(rr) < np.inf):
        raise ValueError("rr_ms must be finite and positive")
    excluded = np.zeros(rr.size, dtype=bool)
    excluded[:1] = True
    excluded[-2:] = True
    if rr.size < MIN_BEATS:
        return RRExclusion(np.ones(rr.size, dtype=bool), ArtifactCounts(), 1)
    origin = np.arange(rr.size)  # index in rr_ms of each interval of the current series, -1 once changed
    counts, passes, st, current = (0, 0, 0, 0), 0, _stats(rr), rr
    while passes < EXCLUDE_MAX_PASSES:
        found = _classify(current, st)
        passes += 1
        if not sum(found.sizes()):
            break
        counts = cast(ArtifactSizes, tuple(map(sum, zip(counts, found.sizes()))))
        flagged = np.concatenate((found.ectopic, found.missed, found.extra, found.long_short))
        touched = np.zeros(current.size + 1, dtype=bool)
        touched[flagged] = touched[flagged + 1] = True
        hit = origin[touched[:-1]]
        excluded[hit[hit >= 0]] = True
        current, source = _correct(current, found)
        if source.min() >= 0 or current.size < MIN_BEATS:  # nothing changed: the next pass finds the same
            break
        origin = np.where(source >= 0, origin[np.maximum(source, 0)], -1)
        st = _update_stats(current, source, st)
    return RRExclusion(excluded, ArtifactCounts(*counts), passes)
