"""Rolling quantiles over truncated centred windows (monitor.rolling): each method against a loop and the others."""

from __future__ import annotations

import numpy as np
import pytest

import monitor.rolling as rolling
from monitor.rolling import rolling_quantile, window_quantiles

QS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def _loop(x: np.ndarray, window: int, q: float) -> np.ndarray:
    half = window // 2
    return np.array([np.quantile(x[max(0, i - half) : i + half + 1], q) for i in range(x.size)])


def _series(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "float":
        return rng.normal(800.0, 60.0, n)
    if kind == "whole":  # RR-like: whole ms, with plateaus (ties)
        return np.repeat(rng.integers(600, 1000, n // 3 + 1), 3)[:n].astype(float)
    if kind == "halves":  # whole ms halved a few times, as corrections do
        return rng.integers(0, 4000, n) / 8.0
    return np.abs(np.rint(rng.normal(0.0, 25.0, n)))  # "abs": |dRR|-like, many zeros


@pytest.fixture
def method(request, monkeypatch):
    """Force one of the methods of window_quantiles (they are picked by size otherwise)."""
    name = request.param
    monkeypatch.setattr(rolling, "RANK_FILTER_MIN_SIZE", 0 if name == "rank_filter" else 10**9)
    monkeypatch.setattr(rolling, "RANK_FILTER_SHARE", 0.0)
    monkeypatch.setattr(rolling, "INTEGER_MIN_WINDOWS", 0 if name == "integer" else 10**9)
    monkeypatch.setattr(rolling, "RANKED_MIN_WINDOW", 0 if name == "ranked" else 10**9)
    monkeypatch.setattr(rolling, "RANKED_SHARE", 0.0)
    return name


METHODS = ["float", "integer", "ranked", "rank_filter"]


@pytest.mark.parametrize("method", METHODS, indirect=True)
@pytest.mark.parametrize("kind", ["float", "whole", "halves", "abs"])
@pytest.mark.parametrize(("n", "window"), [(1, 5), (7, 5), (40, 11), (90, 91), (91, 91), (250, 91), (300, 11), (60, 1)])
def test_every_method_matches_the_loop(method, kind, n, window):
    x = _series(kind, n, seed=n + window)
    got = window_quantiles(x, window, QS)
    for k, q in enumerate(QS):
        np.testing.assert_allclose(got[k], _loop(x, window, q), rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind", ["float", "whole", "halves", "abs"])
@pytest.mark.parametrize(("n", "window"), [(5, 91), (95, 91), (400, 91), (2500, 91), (2500, 11), (3000, 5)])
def test_methods_agree_exactly_at_any_positions(monkeypatch, kind, n, window):
    """All methods give the same floats, at every position and at any subset of positions."""
    x = _series(kind, n, seed=7 * n + window)
    at = np.sort(np.random.default_rng(n).choice(n, max(n // 3, 1), replace=False))
    results = []
    for name in METHODS:
        monkeypatch.setattr(rolling, "RANK_FILTER_MIN_SIZE", 0 if name == "rank_filter" else 10**9)
        monkeypatch.setattr(rolling, "RANK_FILTER_SHARE", 0.0)
        monkeypatch.setattr(rolling, "INTEGER_MIN_WINDOWS", 0 if name == "integer" else 10**9)
        monkeypatch.setattr(rolling, "RANKED_MIN_WINDOW", 0 if name == "ranked" else 10**9)
        monkeypatch.setattr(rolling, "RANKED_SHARE", 0.0)
        if name == "rank_filter" and n < window - 1:
            continue  # windows truncated at both ends: sorted windows only
        full = window_quantiles(x, window, (0.25, 0.5, 0.75))
        np.testing.assert_array_equal(window_quantiles(x, window, (0.25, 0.5, 0.75), at), full[:, at])
        results.append(full)
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


def test_chunks_give_the_same_result(monkeypatch):
    x = _series("abs", 3000, seed=3)
    at = np.arange(0, 3000, 2)
    expected = window_quantiles(x, 91, (0.25, 0.75), at)
    monkeypatch.setattr(rolling, "CHUNK", 91 * 7)  # 7 windows at a time
    np.testing.assert_array_equal(window_quantiles(x, 91, (0.25, 0.75), at), expected)
    np.testing.assert_array_equal(window_quantiles(x[:500], 91, (0.25, 0.75)), _reference(x[:500]))


def _reference(x: np.ndarray) -> np.ndarray:
    return np.array([[np.quantile(x[max(0, i - 45) : i + 46], q) for i in range(x.size)] for q in (0.25, 0.75)])


def test_non_whole_values_are_not_rounded():
    """Values not whole in 1/1024 (or too large for the integer keys) must keep the float order."""
    x = np.array([1.0, 1.0 + 2**-20, 1.0 + 2**-19, 3e12, 3e12 + 1024, 2.0] * 60)
    for window in (11, 91):
        got = window_quantiles(x, window, (0.25, 0.5, 0.75))
        for k, q in enumerate((0.25, 0.5, 0.75)):
            np.testing.assert_allclose(got[k], _loop(x, window, q), rtol=1e-15, atol=0)


def test_empty_and_argument_checks():
    assert window_quantiles(np.zeros(0), 91, (0.5,)).shape == (1, 0)
    assert window_quantiles(np.ones(10), 5, (0.5,), np.zeros(0, dtype=np.intp)).shape == (1, 0)
    assert rolling_quantile(np.array([3.0]), 91, 0.75).tolist() == [3.0]
    with pytest.raises(ValueError):
        window_quantiles(np.ones(10), 4, (0.5,))


@pytest.mark.parametrize("window", [1, 3, 5, 11, 31, 91, 181])
@pytest.mark.parametrize("q", [0.0, 0.05, 1 / 3, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_pad_patterns_exist(window, q):
    """The ±inf pads of the rank filters exist for any quantile (the wanted rank falls by 0 or 1 per slot)."""
    for upper in (False, True):
        pad = rolling._pad(window, q, upper)
        assert pad.size == window // 2 and set(pad.tolist()) <= {-1, 1}
