"""Noise shared by the simulators of training histories and check-ins (pure numpy/scipy, no I/O)."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

QUANTILE_RANKS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The ranks of the across-people quantiles the fitted models hold (min, quartiles, max)."""


def stationary_ar1(e: np.ndarray, phi: float) -> np.ndarray:
    """Unit-variance AR(1) series along the last axis from unit normal innovations ``e``: ``x_t = φ x_{t−1} +
    √(1 − φ²) e_t``, the first value drawn from the stationary distribution (``e``'s own)."""
    first = e[..., :1]
    rest, _ = lfilter([np.sqrt(1.0 - phi * phi)], [1.0, -phi], e[..., 1:], axis=-1, zi=phi * first)
    return np.concatenate([first, rest], axis=-1)


def draw_quantiles(
    quantiles: tuple[float, ...], rng: np.random.Generator, n: int, rank: np.ndarray | None = None
) -> np.ndarray:
    """``n`` per-athlete values from across-people quantiles (piecewise linear inverse CDF through
    ``QUANTILE_RANKS``), at the quantile ranks ``rank`` if given."""
    return np.interp(rng.random(n) if rank is None else rank, QUANTILE_RANKS, quantiles)
