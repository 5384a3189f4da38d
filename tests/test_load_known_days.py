"""No data is not rest: a log-based athlete's day without a log is unknown; load statistics need known days."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.store.base import PointBatch
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS, day_start_ms
from monitor.analyze import analyze
from monitor.rules import compute_indicators, daily_inputs, evaluate_signals
from monitor.thresholds import load_thresholds

FIRST = dt.date(2026, 1, 5)  # a Monday
WEEKS = 10
AS_OF = FIRST + dt.timedelta(days=7 * WEEKS - 1)
WEEK_AU = np.array([300.0, 0.0, 300.0, 0.0, 300.0, 300.0, 0.0])  # Mon, Wed, Fri, Sat
GAP_WEEKS = (5, 6, 7)  # only Monday logged: Tuesday to Saturday (5 days) without a log or a morning reading


def _gappy() -> tuple[np.ndarray, np.ndarray]:
    """Loads and the known mask: regular weeks, then three weeks with a 5-day logging gap each."""
    load, known = np.tile(WEEK_AU, WEEKS), np.ones(7 * WEEKS, bool)
    for w in GAP_WEEKS:
        load[7 * w + 1 : 7 * w + 6], known[7 * w + 1 : 7 * w + 6] = 0.0, False
    return load, known


def _write_athlete(store: SQLiteStore, athlete: str, load: np.ndarray, known: np.ndarray, metric: str) -> None:
    day_ms = day_start_ms(FIRST) + DAY_MS * np.arange(load.size, dtype=np.int64)
    trained = load > 0
    fields = {"duration_s": np.full(trained.sum(), 3600.0), metric: load[trained]}
    if metric == "srpe_load":
        fields["rpe"] = load[trained] / 60.0
        mornings = known & ~trained  # a morning reading shows the athlete used the device and did not train
        ln = np.full(mornings.sum(), 4.0)
        store.write([PointBatch("readiness", {"athlete": athlete}, day_ms[mornings] + 6 * 3_600_000, {"ln_rmssd": ln})])
    tags = {"athlete": athlete, "sport": "run", "source": "csv" if metric == "srpe_load" else "fit"}
    store.write([PointBatch("session", tags, day_ms[trained] + 17 * 3_600_000, fields)])


def _flag_days(load: np.ndarray, known: np.ndarray | None) -> dict[str, list[int]]:
    th = load_thresholds()
    nan = np.full((1, load.size), np.nan)
    inputs = daily_inputs(["A"], FIRST, np.where(load > 0, load, np.nan)[None], nan, nan, {}, "srpe", known)
    signals = evaluate_signals(compute_indicators(inputs, th), th)
    return {name: np.flatnonzero(s.flagged[0]).tolist() for name, s in signals.items() if s.flagged.any()}


def test_logging_gaps_read_as_rest_raise_load_flags_but_unknown_days_do_not() -> None:
    load, known = _gappy()
    before = _flag_days(load, None)  # every day without a log counted as rest (the old rule)
    assert before["strain_high"] == list(range(63, 70)) and "load_surge" in before  # the first full week back
    assert _flag_days(load, known) == {}


def test_analyze_a_log_based_athlete_with_logging_gaps_and_a_watch_user_with_rest_days(tmp_path) -> None:
    store = SQLiteStore(tmp_path / "known.sqlite")
    load, known = _gappy()
    _write_athlete(store, "LOG", load, known, "srpe_load")
    _write_athlete(store, "WATCH", np.tile(WEEK_AU, WEEKS), np.ones(7 * WEEKS, bool), "trimp")
    result = analyze(store, AS_OF, write_days=7 * WEEKS)
    log, watch = result.athletes  # sorted IDs
    assert (log.athlete, watch.athlete) == ("LOG", "WATCH")
    assert log.indicators["load_source"] == "srpe" and watch.indicators["load_source"] == "trimp"
    daily = store.read("daily", "LOG", ["load_known_days_7d", "load_known_days_28d", "strain", "acwr", "daily_load"])
    gap_day = 7 * GAP_WEEKS[0] + 1
    assert np.isnan(daily.columns["daily_load"][gap_day])  # unknown, not 0
    assert daily.columns["daily_load"][gap_day + 5] == 0.0  # Sunday: a morning reading and no session = rest
    assert daily.columns["load_known_days_7d"][gap_day + 4] == 2  # Sat: Sun and Mon of the week known
    assert np.isnan(daily.columns["strain"][gap_day + 4]) and np.isnan(daily.columns["acwr"][gap_day + 4])
    flags = store.read("flag", "LOG", ["value"])
    assert len(flags) == 0  # neither the gaps nor the first full week after them raise a load flag
    # the watch user's days without a session are rest: every day known, Foster statistics computed
    w = store.read("daily", "WATCH", ["load_known_days_7d", "load_known_days_28d", "monotony", "daily_load"])
    assert (w.columns["load_known_days_7d"][7:] == 7).all() and (w.columns["load_known_days_28d"][28:] == 28).all()
    assert w.columns["daily_load"][1] == 0.0 and np.isclose(w.columns["monotony"][-1], 1200 / 7 / np.std(WEEK_AU))
    assert watch.indicators["monotony"] is not None
    store.close()


def test_a_rest_marker_makes_a_day_known() -> None:
    from ingest.store.bulk import ManyFrame
    from monitor.analyze import ASYMMETRY_FIELDS, build_inputs

    start = day_start_ms(FIRST)
    sessions = ManyFrame(
        ["A"],
        np.zeros(2, np.int64),
        np.array([start + 17 * 3_600_000, start + DAY_MS + 6 * 3_600_000], np.int64),
        {
            "duration_s": np.array([3600.0, 0.0]),  # day 1: `rpe A --rest` (duration 0)
            "rpe": np.array([5.0, 0.0]),
            "srpe_load": np.array([300.0, 0.0]),
            "trimp": np.array([np.nan, np.nan]),
        },
    )
    readiness = ManyFrame(["A"], np.zeros(0, np.int64), np.zeros(0, np.int64), {
        "ln_rmssd": np.zeros(0), "rmssd_ms": np.zeros(0), "mean_hr_bpm": np.zeros(0),
    })  # fmt: skip
    no_asymmetry = ManyFrame(
        ["A"], np.zeros(0, np.int64), np.zeros(0, np.int64), {f: np.zeros(0) for f in ASYMMETRY_FIELDS}
    )
    inputs = build_inputs(["A"], FIRST, 3, sessions, readiness, no_asymmetry)
    assert inputs.load_known.tolist() == [[True, True, False]] and inputs.load[0].tolist() == [300.0, 0.0, 0.0]
    assert inputs.load_source == ["srpe"]  # the rest marker is not a session that decides the source


def test_known_day_minimums_are_inclusive() -> None:
    th = load_thresholds()
    assert (th.load.min_known_days_7d, th.load.min_known_days_28d) == (6, 24)
    load = np.tile(WEEK_AU, 6)
    t = load.size - 1
    for unknown, finite in (((t,), True), ((t, t - 1), False), (tuple(range(t - 10, t - 6)), True)):
        known = np.ones(load.size, bool)
        known[list(unknown)] = False
        nan = np.full((1, load.size), np.nan)
        inputs = daily_inputs(["A"], FIRST, np.where(load > 0, load, np.nan)[None], nan, nan, {}, "srpe", known)
        ind = compute_indicators(inputs, th)
        assert np.isfinite(ind.acwr[0, t]) == finite, unknown
        assert int(ind.load_known_7d[0, t]) == 7 - sum(u > t - 7 for u in unknown)
    known = np.ones(load.size, bool)
    known[[t - 20, t - 15, t - 12, t - 9]] = False  # 24 of 28 known: the chronic minimum exactly
    ind = compute_indicators(daily_inputs(["A"], FIRST, load[None], nan, nan, {}, "srpe", known), th)
    assert int(ind.load_known_28d[0, t]) == 24 and np.isfinite(ind.acwr[0, t])
    known[t - 22] = False  # 23 of 28
    ind = compute_indicators(daily_inputs(["A"], FIRST, load[None], nan, nan, {}, "srpe", known), th)
    assert np.isnan(ind.acwr[0, t]) and np.isnan(ind.surge[0, t]) and np.isnan(ind.ctl[0, t])
