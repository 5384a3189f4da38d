"""Rolling windows, the one home of them: trailing-window sums and statistics on daily grids, and quantiles over
centred windows of beat series. Exact and vectorised along the last axis (one row per athlete, or one series).

Trailing windows (:func:`rolling_sum`, :func:`window_stats`, :func:`rolling_stats`) cover days
``[t − lag − window + 1, t − lag]`` of a regular daily grid and are clipped at the start. They carry the load
windows (ACWR, monotony, strain, surge), the HRV readiness windows (the 7-day mean ln rMSSD, Plews 2012–2014, and
its 60-day normal range, Kiviniemi 2007; HRV4Training), the asymmetry windows and the evidence correlations.

Centred quantiles (:func:`rolling_quantile`, :func:`window_quantiles`): windows shrink at the ends.

The quantile ``q`` of a window of ``c`` values is interpolated between its ``lo``-th and ``hi``-th smallest values,
``lo = floor(p)``, ``hi = min(lo + 1, c − 1)``, ``p = q·(c − 1)`` (numpy's and pandas' linear method). Interior
windows have ``c = window``; the ``window // 2`` windows at each end are truncated.

Two methods, picked by :func:`window_quantiles` for the cheaper one (both give the same values):

- **Sorted windows**, at any subset of the positions (no margins needed): the windows are gathered from a copy of
  the values padded with a sentinel above every value (a truncated window's own values come first once sorted),
  sorted by one ``np.sort`` per chunk, and every quantile is picked from the same sorted window. Integers sort
  about twice as fast as floats, so the keys are the values in 1/1024 when they are whole there (RR intervals in
  whole ms stay so through the corrections, which halve them), else their ranks when most windows are wanted.
- **Rank filters** (``scipy.ndimage.rank_filter``, O(log w) per value but with a larger constant and a fixed cost
  per call), at every position of long series. See :func:`_rank_filter_quantiles`.

The per-call overhead of either is a few dozen numpy operations: on a 5-minute reading (300–500 beats) it is most
of the cost, hence the choice of one sort per window set, taken only where the windows are needed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import EllipsisType

import numpy as np

CHUNK = 1 << 17  # window values sorted at a time (bounds the memory)
RANK_FILTER_MIN_SIZE = 2000  # series at least this long, wanted at more than RANK_FILTER_SHARE of the positions:
RANK_FILTER_SHARE = 0.5  # rank filters at every position (measured on the RR files and a 24 h recording)
INTEGER_MIN_WINDOWS = 150  # integer keys pay for their check (a few array passes) from this many windows
RANKED_MIN_WINDOW = 32  # ranks as keys for windows at least this long (sorting 11 floats is cheap)...
RANKED_SHARE = 0.5  # ...wanted at more than this share of the positions (ranking sorts the whole series)
SCALE = 1024.0  # integer keys: the values in 1/SCALE
INT32_MAX = np.iinfo(np.int32).max
RANK_FILTER_BOUND = 2**62  # ±pads of integer rank filter input


@functools.lru_cache(maxsize=16)
def _interpolation(window: int, qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """For a window of ``c`` values (column ``c − 1``): the indices into the sorted window of ``lo`` (one row per q)
    then ``hi``, and the weights of ``hi``."""
    c1 = np.arange(window)  # c − 1
    p = np.multiply.outer(qs, c1)
    lo = np.floor(p)
    frac = p - lo
    index = np.concatenate((lo.astype(np.intp), np.minimum(lo.astype(np.intp) + 1, c1)))
    index.flags.writeable = frac.flags.writeable = False  # cached: shared by every call
    return index, frac


def _integer_keys(x: np.ndarray, dtype: type[np.signedinteger], bound: int, signed: bool) -> np.ndarray | None:
    """``x`` in 1/SCALE as integers below ``bound`` (and above ``−bound`` if ``signed``), if that is exact, else
    None (then use floats)."""
    scaled = x * SCALE
    with np.errstate(invalid="ignore"):  # too large for dtype: not exact
        keys: np.ndarray = scaled.astype(dtype)
    exact = (keys == scaled).all() and keys.max() < bound and (not signed or -bound < keys.min())
    return keys if exact else None


def _lower_rank(q: float, c: int) -> int:
    """Rank (0-based) of the lower order statistic of quantile ``q`` among ``c`` values."""
    return math.floor(q * (c - 1))


def _upper_rank_negated(q: float, c: int) -> int:
    """Rank in ``−x`` of the upper order statistic of quantile ``q`` of ``x`` among ``c`` values."""
    return c - 1 - math.ceil(q * (c - 1))


@functools.lru_cache(maxsize=16)
def _pad(window: int, q: float, upper: bool) -> np.ndarray:
    """Signs (−1, +1) of the pad slots after a row (slot 1 next to it); the slots before it are the same reversed.

    A window missing ``k`` values reaches ``k`` slots and must find ``a(k) = R − rank(window − k)`` of them at −∞
    for its ``R``-th smallest to be the ``rank(window − k)``-th smallest of its own values.
    """
    rank = _upper_rank_negated if upper else _lower_rank
    steps = np.diff([rank(q, window) - rank(q, window - k) for k in range(window // 2 + 1)])
    if not np.all((steps == 0) | (steps == 1)):  # cannot happen for 0 <= q <= 1
        raise ValueError(f"no pad pattern for q={q}")
    signs = np.where(steps == 1, -1, 1)
    signs.flags.writeable = False  # cached: shared by every call
    return signs


@functools.lru_cache(maxsize=16)
def _filter_calls(window: int, qs: tuple[float, ...]) -> tuple[tuple[int, tuple[tuple[int, bool], ...]], ...]:
    """The rank filter calls: their rank and their requests (index into ``qs``, upper), laid out in that order."""
    by_rank: dict[int, list[tuple[int, bool]]] = {}
    for j, q in enumerate(qs):
        by_rank.setdefault(_lower_rank(q, window), []).append((j, False))
        by_rank.setdefault(_upper_rank_negated(q, window), []).append((j, True))
    return tuple((rank, tuple(requests)) for rank, requests in by_rank.items())


def _rank_filter_quantiles(x: np.ndarray, window: int, qs: tuple[float, ...]) -> np.ndarray:
    """:func:`window_quantiles` at every position (``x.size ≥ window − 1``), by ``scipy.ndimage.rank_filter``.

    A truncated window sees pad slots instead of its missing values; if ``a`` of them hold −∞ and the rest +∞, its
    ``R``-th smallest is the ``(R − a)``-th smallest of its own values. The wanted rank falls by 0 or 1 per missing
    value, so one fixed ±∞ pattern next to each end serves every truncated window (:func:`_pad`). The upper order
    statistic ``hi`` is minus the ``(c − 1 − hi)``-th smallest of ``−x``: for a median, or the quartile pair, the
    lower and upper statistics share their ranks, so one call (median) or two (quartiles) give all of them, each
    over the series and its negation laid out one after the other with their pads. Whole values (in 1/1024) are
    filtered as 64-bit integers, which is faster.
    """
    from scipy import ndimage  # imported here: only long series reach this path (a morning reading never does)

    n, half = x.size, window // 2
    keys = _integer_keys(x, np.int64, RANK_FILTER_BOUND, signed=True)
    infinity = np.inf if keys is None else RANK_FILTER_BOUND
    keys = x if keys is None else keys
    _, frac = _interpolation(window, qs)
    stats: dict[tuple[int, bool], np.ndarray] = {}
    for rank, requests in _filter_calls(window, qs):
        parts: list[np.ndarray] = []
        starts: list[int] = []
        for j, upper in requests:
            pad = _pad(window, qs[j], upper) * infinity
            if not upper:
                body = keys
            elif frac[j, -1]:  # hi weighs inside the series
                body = -keys
            else:  # a median: hi weighs nothing inside, so only the windows at the ends
                body = -np.concatenate((keys[: 2 * half], keys[-2 * half :]))
            starts.append(sum(part.size for part in parts) + half)
            parts += [pad[::-1], body, pad]
        out = ndimage.rank_filter(np.concatenate(parts), rank, size=window, mode="nearest")
        if keys is not x:
            out = out / SCALE
        for (j, upper), start, body in zip(requests, starts, parts[1::3]):
            if body.size == n:
                stats[j, upper] = out[start : start + n]
            else:  # ends only: 0 inside, where it weighs nothing
                hi = np.zeros(n)
                hi[:half], hi[n - half :] = out[start : start + half], out[start + 3 * half : start + 4 * half]
                stats[j, upper] = hi
    last = np.minimum(np.arange(n), half)
    last += last[::-1]
    # lo + (hi − lo)·frac with hi = −stats[upper], written without the negation (the same rounding)
    return np.array([stats[j, False] - (stats[j, False] + stats[j, True]) * frac[j, last] for j in range(len(qs))])


def window_quantiles(x: np.ndarray, window: int, qs: tuple[float, ...], at: np.ndarray | None = None) -> np.ndarray:
    """Quantiles ``qs`` of ``x`` (1-D, finite) over the centred windows of odd length ``window``, truncated at the
    ends, at positions ``at`` (sorted, default all). Shape ``(len(qs), len(at))``.
    """
    if window % 2 != 1:
        raise ValueError("window must be odd")
    n, half, qs = x.size, window // 2, tuple(qs)
    if n >= max(RANK_FILTER_MIN_SIZE, 2 * half) and (at is None or at.size > RANK_FILTER_SHARE * n):
        out = _rank_filter_quantiles(x, window, qs)
        return out if at is None else out[:, at]
    pos = np.arange(n) if at is None else at
    m = pos.size
    if not m:
        return np.empty((len(qs), 0))
    last = np.minimum(pos, half) + np.minimum((n - 1) - pos, half)  # values in the (truncated) window, minus one
    index, frac = _interpolation(window, qs)
    index, frac = index[:, last], frac[:, last]

    keys = _integer_keys(x, np.int32, INT32_MAX, signed=False) if m >= INTEGER_MIN_WINDOWS else None
    decode: np.ndarray | EllipsisType | None  # None: integer keys, ...: the values themselves, else ranks
    if keys is not None:
        decode = None
        padded = np.full(n + 2 * half, INT32_MAX, dtype=np.int32)
        padded[half : half + n] = keys
    elif window >= RANKED_MIN_WINDOW and m > RANKED_SHARE * n:
        decode = x.argsort()
        padded = np.full(n + 2 * half, n, dtype=np.int16 if n < 2**15 else np.int32)  # n: beyond every rank
        padded[half + decode] = np.arange(n)
    else:
        decode = ...
        padded = np.full(n + 2 * half, np.inf)
        padded[half : half + n] = x
    windows = np.ndarray((n, window), padded.dtype, padded, 0, padded.strides * 2)  # a view, only read
    step = max(CHUNK // window, 1)
    parts = []
    for start in range(0, m, step):
        part = slice(start, start + step)
        rows = windows[part].copy() if at is None else windows[at[part]]
        rows.sort()
        parts.append(rows[np.arange(rows.shape[0]), index[:, part]])
    picked = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    if decode is None:
        picked = picked / SCALE
    elif decode is not ...:
        picked = x[decode[picked]]
    lo, hi = picked[: len(qs)], picked[len(qs) :]
    return lo + (hi - lo) * frac


def rolling_quantile(x: np.ndarray, window: int, q: float) -> np.ndarray:
    """Quantile ``q`` (linear interpolation) over a centred window of odd length, shrinking at the ends.

    The same as pandas' ``rolling(window, center=True, min_periods=1).quantile(q)``.
    """
    return window_quantiles(np.asarray(x, dtype=float), window, (q,))[0]


# --- Trailing windows on daily grids -----------------------------------------------------------------------


def rolling_sum(x: np.ndarray, window: int, lag: int = 0) -> np.ndarray:
    """Sum of ``x[..., t-lag-window+1 .. t-lag]`` along the last axis (windows clipped at the start)."""
    x = np.asarray(x, dtype=float)
    c = np.concatenate([np.zeros((*x.shape[:-1], 1)), np.cumsum(x, axis=-1)], axis=-1)
    n = x.shape[-1]
    stop = np.clip(np.arange(n) - lag + 1, 0, n)
    start = np.clip(stop - window, 0, n)
    return c[..., stop] - c[..., start]


@dataclass(frozen=True)
class RollingStats:
    """Mean, SD (ddof=1) and count of valid values in a trailing window, per day of a regular daily grid."""

    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray


def window_stats(
    value_sum: np.ndarray, value_sq_sum: np.ndarray, n: np.ndarray, window: int, lag: int = 0
) -> RollingStats:
    """Stats of the values in days ``[t − lag − window + 1, t − lag]`` from per-day sums of values, squares and
    counts, along the last axis (several values a day count each, e.g. sessions)."""
    cnt = rolling_sum(n, window, lag)
    s1 = rolling_sum(value_sum, window, lag)
    s2 = rolling_sum(value_sq_sum, window, lag)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, s1 / cnt, np.nan)
        var = np.where(cnt > 1, (s2 - s1 * s1 / np.maximum(cnt, 1)) / np.maximum(cnt - 1, 1), np.nan)
    return RollingStats(n=np.rint(cnt).astype(np.int64), mean=mean, sd=np.sqrt(np.maximum(var, 0.0)))


def rolling_stats(x: np.ndarray, window: int, lag: int = 0) -> RollingStats:
    """Stats of the finite values of ``x[..., t-lag-window+1 .. t-lag]`` for every ``t`` along the last axis
    (windows clipped at the start; one row per athlete or a single series)."""
    x = np.asarray(x, dtype=float)
    valid = np.isfinite(x)
    with np.errstate(invalid="ignore"):  # centring each row keeps the cumulative sums accurate
        centre = np.nanmean(np.where(valid.any(axis=-1, keepdims=True), x, 0.0), axis=-1, keepdims=True)
    z = np.where(valid, x - centre, 0.0)
    stats = window_stats(z, z * z, valid.astype(float), window, lag)
    return RollingStats(n=stats.n, mean=stats.mean + centre, sd=stats.sd)
