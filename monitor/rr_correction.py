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
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

ALPHA = 5.2  # threshold = ALPHA · quartile deviation
THRESHOLD_WINDOW_BEATS = 91  # window of the quartile deviation
MEDIAN_WINDOW_BEATS = 11  # window of the local median RR
C1 = 0.13  # slope of the ectopic decision boundary
C2 = 0.17  # offset of the ectopic decision boundary
MRR_LIMIT = 3.0  # |mRR| / Th2 above this is long or short
MAX_PASSES = 100  # safety bound; the count has to fall on every pass anyway
MIN_BEATS = 4  # shorter series are returned unchanged


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

    def __add__(self, other: ArtifactCounts) -> ArtifactCounts:
        return ArtifactCounts(
            self.ectopic + other.ectopic,
            self.missed + other.missed,
            self.extra + other.extra,
            self.long_short + other.long_short,
        )

    def as_dict(self) -> dict[str, int]:
        return {"ectopic": self.ectopic, "missed": self.missed, "extra": self.extra, "long_short": self.long_short}


@dataclass(frozen=True)
class RRArtifacts:
    """Indices (into the RR series) of the intervals of each artifact class; the classes are disjoint."""

    ectopic: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    missed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    extra: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    long_short: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))

    def counts(self) -> ArtifactCounts:
        return ArtifactCounts(self.ectopic.size, self.missed.size, self.extra.size, self.long_short.size)


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


@dataclass(frozen=True)
class _Layout:
    """Where each array sits in the +inf-padded concatenation, and its truncated edge windows (see below)."""

    starts: tuple[int, ...]  # offset of each array in the padded concatenation
    total: int
    rows: np.ndarray  # (edge positions of all arrays, window) indices into the padded concatenation
    edge_pos: tuple[np.ndarray, ...]  # per array: its positions whose window is truncated
    lo: tuple[np.ndarray, ...]  # per q: sorted-row index of the lower neighbour of the quantile
    hi: tuple[np.ndarray, ...]
    frac: tuple[np.ndarray, ...]


@functools.lru_cache(maxsize=256)
def _layout(sizes: tuple[int, ...], window: int, qs: tuple[float, ...], ends: tuple[tuple[bool, bool], ...]) -> _Layout:
    half = window // 2
    starts, rows, edge_pos, counts = [], [], [], []
    offset = half
    for n, (left, right) in zip(sizes, ends):
        if n > 2 * half:
            pos = np.concatenate((np.arange(half if left else 0), np.arange(n - half if right else n, n)))
        else:
            pos = np.arange(n)
        starts.append(offset)
        rows.append(offset - half + pos[:, None] + np.arange(window))
        edge_pos.append(pos)
        counts.append(np.minimum(pos + half + 1, n) - np.maximum(pos - half, 0))
        offset += n + half
    count = np.concatenate(counts)
    lo, hi, frac = [], [], []
    for q in qs:
        p = q * (count - 1)
        lo.append(np.floor(p).astype(np.intp))
        hi.append(np.minimum(lo[-1] + 1, count - 1))
        frac.append(p - lo[-1])
    return _Layout(tuple(starts), offset, np.concatenate(rows), tuple(edge_pos), tuple(lo), tuple(hi), tuple(frac))


def _rolling_quantiles(
    xs: list[np.ndarray], window: int, qs: tuple[float, ...], ends: list[tuple[bool, bool]] | None = None
) -> list[list[np.ndarray]]:
    """``[[quantile q of x over the rolling window for q in qs] for x in xs]`` (see :func:`rolling_quantile`).

    ``ends[k] = (left, right)``: whether the truncated windows at that end of ``xs[k]`` are wanted (default both;
    without them the first and last ``window // 2`` values of a long array are left undefined).

    The arrays are laid out in one +inf-padded array so that each rank filter runs once (interior windows never
    reach a pad); the truncated windows at the ends are then gathered from it (+inf fills them up), sorted once,
    and interpolated at each window's own quantile position.
    """
    if window % 2 != 1:
        raise ValueError("window must be odd")
    half = window // 2
    sizes = tuple(x.size for x in xs)
    layout = _layout(sizes, window, tuple(qs), tuple(ends) if ends else ((True, True),) * len(xs))
    padded = np.full(layout.total, np.inf)
    for x, start in zip(xs, layout.starts):
        padded[start : start + x.size] = x
    out = [[np.empty(n) for _ in qs] for n in sizes]
    if max(sizes) > 2 * half:
        filtered: dict[int, np.ndarray] = {}
        for k, q in enumerate(qs):
            p = q * (window - 1)
            lo, hi = math.floor(p), math.ceil(p)
            for r in (lo, hi):
                if r not in filtered:
                    filtered[r] = ndimage.rank_filter(padded, r, size=window, mode="nearest")
            for o, n, start in zip(out, sizes, layout.starts):
                if n > 2 * half:
                    seg = slice(start + half, start + n - half)
                    a, b = filtered[lo][seg], filtered[hi][seg]
                    o[k][half : n - half] = a + (b - a) * (p - lo) if hi != lo else a
    rows = padded[layout.rows]
    rows.sort(axis=1)
    r = np.arange(rows.shape[0])
    for k in range(len(qs)):
        v0 = rows[r, layout.lo[k]]
        value = v0 + (rows[r, layout.hi[k]] - v0) * layout.frac[k]
        first = 0
        for o, pos in zip(out, layout.edge_pos):
            o[k][pos] = value[first : first + pos.size]
            first += pos.size
    return out


def rolling_quantile(x: np.ndarray, window: int, q: float) -> np.ndarray:
    """Quantile ``q`` (linear interpolation) over a centred window of odd length, shrinking at the ends.

    Interior points use O(n log w) rank filters; the ``window // 2`` points at each end are computed from their
    truncated windows (the same as pandas' ``rolling(window, center=True, min_periods=1).quantile(q)``).
    """
    return _rolling_quantiles([np.asarray(x, dtype=float)], window, (q,))[0][0]


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
    """Local statistics of an RR series: median₁₁ and the two thresholds Th1 (dRR) and Th2 (mRR)."""

    med: np.ndarray
    th1: np.ndarray
    th2: np.ndarray


def _stats_at(rr: np.ndarray, runs: list[tuple[int, int]]) -> list[_Stats]:
    """Exact statistics on each run ``[a, b)`` of positions, computed from the run plus its dependency margin."""
    n, half, mhalf = rr.size, THRESHOLD_WINDOW_BEATS // 2, MEDIAN_WINDOW_BEATS // 2
    outer = [(max(a - half - mhalf, 0), min(b + half + mhalf, n)) for a, b in runs]  # rr needed
    inner = [(max(a - half, 0), min(b + half, n)) for a, b in runs]  # dRR and mRR needed
    meds = _rolling_quantiles(
        [rr[lo:hi] for lo, hi in outer], MEDIAN_WINDOW_BEATS, (0.5,), [(lo == 0, hi == n) for lo, hi in outer]
    )
    drrs, mrrs = [], []
    for (lo, hi), (olo, _), (med,) in zip(inner, outer, meds):
        drr = rr[lo:hi] - rr[max(lo - 1, 0) : hi - 1] if lo else np.concatenate(([0.0], np.diff(rr[:hi])))
        mrr = rr[lo:hi] - med[lo - olo : hi - olo]
        mrr[mrr < 0] *= 2.0
        drrs.append(np.abs(drr))
        mrrs.append(np.abs(mrr))
    ends = [(lo == 0, hi == n) for lo, hi in inner]
    quartiles = _rolling_quantiles(drrs + mrrs, THRESHOLD_WINDOW_BEATS, (0.25, 0.75), ends + ends)
    out = []
    for k, ((a, b), (lo, _), (olo, _)) in enumerate(zip(runs, inner, outer)):
        (q1d, q3d), (q1m, q3m) = quartiles[k], quartiles[len(runs) + k]
        sel = slice(a - lo, b - lo)
        out.append(
            _Stats(
                med=meds[k][0][a - olo : b - olo],
                th1=(ALPHA / 2.0) * (q3d[sel] - q1d[sel]),
                th2=(ALPHA / 2.0) * (q3m[sel] - q1m[sel]),
            )
        )
    return out


def _stats(rr: np.ndarray) -> _Stats:
    return _stats_at(rr, [(0, rr.size)])[0]


def _update_stats(rr: np.ndarray, source: np.ndarray, old: _Stats) -> _Stats:
    """Statistics of a corrected series: reused where the whole dependency window is unchanged, else recomputed.

    ``source[j]`` is the index in the previous series of interval ``j``, or -1 if it was corrected.
    """
    n = rr.size
    changed = source < 0
    reach = THRESHOLD_WINDOW_BEATS // 2 + MEDIAN_WINDOW_BEATS // 2 + 1
    counts = np.concatenate(([0], np.cumsum(changed)))
    j = np.arange(n)
    dirty = counts[np.minimum(j + reach + 1, n)] > counts[np.maximum(j - reach, 0)]
    if np.count_nonzero(dirty) > n // 2:
        return _stats(rr)
    src = np.where(dirty, 0, source)
    st = _Stats(old.med[src], old.th1[src], old.th2[src])
    edges = np.flatnonzero(np.diff(np.concatenate(([False], dirty, [False])).astype(np.int8)))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist()))
    if runs:
        for (a, b), part in zip(runs, _stats_at(rr, runs)):
            st.med[a:b], st.th1[a:b], st.th2[a:b] = part.med, part.th1, part.th2
    return st


def _classify(rr: np.ndarray, st: _Stats) -> RRArtifacts:
    """One detection pass on ``rr`` with its statistics ``st``."""
    n = rr.size
    med, th1, th2 = st.med, st.th1, st.th2
    drr = np.empty(n)
    drr[0] = 0.0  # the first interval has no predecessor
    np.subtract(rr[1:], rr[:-1], out=drr[1:])
    mrr = rr - med
    mrr[mrr < 0] *= 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        d = drr / th1  # NaN where a threshold is zero: NaN never classifies a beat by itself
        d[th1 == 0] = np.nan
        m = mrr / th2
        m[th2 == 0] = np.nan
        ad, am = np.abs(d), np.abs(m)
        considered = ~(ad <= 1) & ((ad > 1) | (am > MRR_LIMIT))
        considered[n - 2 :] = False  # the last two beats lack the look-ahead
        i = np.flatnonzero(considered)
        if not i.size:
            return RRArtifacts()

        def d_at(k: np.ndarray) -> np.ndarray:  # d with reflection at both ends
            k = np.abs(k)
            return d[np.where(k > n - 1, 2 * (n - 1) - k, k)]

        di, prev_d, next_d = d[i], d_at(i - 1), d[i + 1]
        s12 = np.where(di > 0, np.maximum(prev_d, next_d), np.minimum(prev_d, next_d))
        ectopic_shape = ((di > 1) & (s12 < -C1 * di - C2)) | ((di < -1) & (s12 > -C1 * di + C2))
        with_next = ad[i + 1] < ad[i + 2]
        step = ~ectopic_shape & with_next
        prev_step = np.zeros(i.size, dtype=bool)
        prev_step[1:] = (i[1:] - i[:-1] == 1) & step[:-1]
        visited = _visited(prev_step)
        ectopic = i[visited & ectopic_shape]
        first = visited & ~ectopic_shape
        j = np.sort(np.concatenate((i[first], i[first & with_next] + 1)))

        dj, n1, n2 = d[j], d_at(j + 1), d_at(j + 2)
        s22 = np.where(dj >= 0, np.minimum(n1, n2), np.where(dj < 0, np.maximum(n1, n2), 0.0))
        long_beat = (dj > 1) & (s22 < -1)
        short_beat = (dj < -1) & (s22 > 1)
        flagged = long_beat | short_beat | (am[j] > MRR_LIMIT)
        extra = flagged & short_beat & (np.abs(rr[j] + rr[j + 1] - med[j]) < th2[j])
        missed = flagged & ~extra & long_beat & (np.abs(rr[j] / 2 - med[j]) < th2[j])
        long_short = flagged & ~extra & ~missed
    # An extra beat's interval is merged with the next one, so the next one is not an artifact of its own.
    merged = np.zeros(n + 1, dtype=bool)
    merged[j[extra] + 1] = True
    keep = ~merged[j]
    return RRArtifacts(
        ectopic=ectopic[~merged[ectopic]],
        missed=j[missed & keep],
        extra=j[extra],
        long_short=j[long_short & keep],
    )


def detect_artifacts(rr_ms: np.ndarray) -> RRArtifacts:
    """Classify the intervals of ``rr_ms`` into ectopic, missed, extra and long/short beats (one pass)."""
    rr = np.asarray(rr_ms, dtype=float)
    if rr.ndim != 1 or rr.size < MIN_BEATS:
        return RRArtifacts()
    return _classify(rr, _stats(rr))


def _move_to_midpoints(t: np.ndarray, source: np.ndarray, beats: np.ndarray) -> None:
    """Move each beat in ``beats`` (simultaneously, in place) to the midpoint of its neighbours."""
    beats = beats[(beats >= 1) & (beats <= t.size - 2)]
    t[beats] = (t[beats - 1] + t[beats + 1]) / 2.0
    source[beats] = -1


def _correct(rr: np.ndarray, artifacts: RRArtifacts) -> tuple[np.ndarray, np.ndarray]:
    """One correction pass; also returns, per new interval, its index in ``rr`` (-1 where it changed)."""
    t = np.concatenate(([0.0], np.cumsum(rr)))
    beat = np.arange(t.size)  # previous index of each beat, -1 once inserted or moved
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
    _move_to_midpoints(t, beat, ectopic)
    _move_to_midpoints(t, beat, long_short)
    same = (beat[:-1] >= 0) & (beat[1:] == beat[:-1] + 1)
    source = np.where(same, beat[:-1], -1)
    out = np.diff(t)
    out[same] = rr[source[same]]  # unchanged intervals exactly, without cumulative-sum round-off
    return out, source


def correct_artifacts(rr_ms: np.ndarray, artifacts: RRArtifacts) -> np.ndarray:
    """Apply one correction pass: drop extra beats, split missed ones, re-place ectopic and long/short beats.

    Works on beat times (interval ``j`` ends at beat ``j + 1``) in the order extra, missed, ectopic, long/short.
    """
    return _correct(np.asarray(rr_ms, dtype=float), artifacts)[0]


def correct_rr(rr_ms: np.ndarray, *, iterative: bool = True) -> RRCorrection:
    """Detect and correct RR artifacts, repeating until the number detected stops falling.

    The first pass is always applied; a further pass is applied only while it finds fewer artifacts than the
    previous one. The counts are summed over the applied passes. After the first pass the local statistics are
    recomputed only around the corrected beats (the result is the same as recomputing them everywhere).
    """
    rr = np.asarray(rr_ms, dtype=float)
    if rr.ndim != 1:
        raise ValueError("rr_ms must be 1-D")
    if not np.all(np.isfinite(rr) & (rr > 0)):
        raise ValueError("rr_ms must be finite and positive")
    if rr.size < MIN_BEATS:
        return RRCorrection(rr.copy(), 0, 0, 0, 0, 1)
    st = _stats(rr)
    found = _classify(rr, st)
    counts, passes, previous = found.counts(), 1, found.counts().total
    while previous:
        rr, source = _correct(rr, found)
        if not iterative or passes >= MAX_PASSES or rr.size < MIN_BEATS:
            break
        st = _update_stats(rr, source, st)
        found = _classify(rr, st)
        if found.counts().total >= previous:
            break
        counts, passes, previous = counts + found.counts(), passes + 1, found.counts().total
    return RRCorrection(rr, counts.ectopic, counts.missed, counts.extra, counts.long_short, passes)
