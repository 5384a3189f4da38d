"""The analysis job over the store (monitor.analyze), `recovery-monitor analyze`, bulk reads and the validation
scripts on real data."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from engine_replay import replay_engine
from shared_data import require_shared

from ingest.store import bulk
from ingest.store.base import PointBatch
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS, day_start_ms
from ingest.virtual.physiology import AthleteProfile, daily_ln_rmssd, morning_rr_ms
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from monitor.analyze import SESSION_FIELDS, analyze
from monitor.cli.main import main
from monitor.rules import flags_on

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 3, 31)
DAYS = 160
EVENTS = {  # athlete index → simulator arguments (onsets 3–6 days before AS_OF)
    "spike_day": [-1, DAYS - 5, -1, -1, -1, -1],  # a camp of 3 × the usual session
    "hrv_drop_day": [-1, -1, DAYS - 6, -1, -1, -1],
    "gct_onset_day": [-1, -1, -1, DAYS - 6, -1, -1],
    "muscle_onset_day": [-1, -1, -1, -1, DAYS - 6, -1],
}


def history():
    sport = np.array(["mixed", "mixed", "mixed", "run", "mixed", "ride"])
    return simulate_training_history(6, DAYS, np.random.default_rng(21), sport=sport, spike_factor=3.0, **EVENTS)


def fill(store, h=None) -> None:
    h = h or history()
    store.write(training_history_batches(h, day_start_ms(AS_OF - dt.timedelta(days=DAYS - 1))))


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "a.sqlite")
    fill(s)
    yield s
    s.close()


def signals_of(report) -> set[str]:
    return {f.signal for f in report.flags}


def test_analyze_flags_the_simulated_events_and_writes_daily_and_flag_points(store):
    result = analyze(store, AS_OF, write_days=3)
    by_athlete = {r.athlete: r for r in result.athletes}
    assert list(by_athlete) == ["S001", "S002", "S003", "S004", "S005", "S006"]
    assert signals_of(by_athlete["S001"]) == set() and not by_athlete["S001"].recommend_idn_visit
    assert signals_of(by_athlete["S002"]) & {"acwr_spike", "strain_high", "load_surge"}
    assert "hrv_suppressed" in signals_of(by_athlete["S003"])
    assert signals_of(by_athlete["S004"]) & {"asymmetry_gct", "asymmetry_shift"}
    assert signals_of(by_athlete["S005"]) & {"asymmetry_muscle", "asymmetry_shift"}
    for r in result.athletes:
        assert r.recommend_idn_visit == bool(r.idn_reasons)
        assert r.indicators["load_source"] == "srpe"
    assert set(result.timings_s) == {"read_s", "compute_s", "write_s"}

    doc = json.loads(json.dumps(result.to_json()))
    assert doc["as_of"] == "2026-03-31"
    a = doc["athletes"][2]
    assert set(a) >= {"athlete", "indicators", "flags", "recommend_idn_visit", "status"}
    required = {"acwr", "monotony", "strain", "ctl", "atl", "tsb", "ln_rmssd_7d", "ln_rmssd_baseline_mean",
                "ln_rmssd_baseline_sd", "rhr_7d", "gct_symmetry_index_pct", "muscle_symmetry_index_pct"}  # fmt: skip
    assert required <= set(a["indicators"]) and required <= set(a["status"])
    assert set(a["flags"][0]) >= {"signal", "family", "severity", "value", "threshold", "since", "reason"}

    assert store.count("daily") == 6 * 3
    daily = store.read("daily", "S003", ["acwr", "ctl", "tsb", "ln_rmssd_7d", "recommend_idn_visit", "status"])
    assert len(daily) == 3 and np.isfinite(daily.columns["ctl"]).all()
    assert daily.columns["status"][-1] == "suppressed"
    flags = store.read("flag", "S003", ["value", "threshold", "since", "reason"], tags={"signal": "hrv_suppressed"})
    assert len(flags) >= 1 and "normal range" in flags.columns["reason"][-1]
    before = (store.count("daily"), store.count("flag"))
    analyze(store, AS_OF, write_days=3)  # the same day again overwrites: exactly-once
    assert (store.count("daily"), store.count("flag")) == before


def test_analyze_equals_the_engine_replayed_over_the_whole_history(store):
    result = analyze(store, AS_OF, write=False)
    # the same simulated arrays, straight into the engine
    ind, signals, idn = replay_engine(history(), AS_OF - dt.timedelta(days=DAYS - 1))
    for row, report in enumerate(result.athletes):
        expected = flags_on(signals, ind, row, DAYS - 1)
        assert [(f.signal, f.severity, f.since) for f in report.flags] == [
            (f.signal, f.severity, f.since) for f in expected
        ]
        assert report.recommend_idn_visit == bool(idn[row, DAYS - 1])
        ctl = float(ind.ctl[row, DAYS - 1])
        assert report.indicators["ctl"] == (pytest.approx(ctl, rel=1e-3) if np.isfinite(ctl) else None)


def test_missing_data_is_insufficient_data_not_a_crash(tmp_path):
    store = SQLiteStore(tmp_path / "m.sqlite")
    short = simulate_training_history(1, 10, np.random.default_rng(2), id_prefix="NEW")
    store.write(training_history_batches(short, day_start_ms(AS_OF - dt.timedelta(days=9))))
    store.write([PointBatch("hr", {"athlete": "HRONLY"}, np.array([day_start_ms(AS_OF)]), {"bpm": np.array([60])})])
    result = analyze(store, AS_OF)
    for report in result.athletes:
        assert report.flags == [] and not report.recommend_idn_visit
        for name in ("acwr", "ctl", "tsb", "ln_rmssd_baseline_mean", "muscle_symmetry_baseline_pct"):
            assert report.indicators[name] is None and report.status[name] == "insufficient data"
    new = result.athletes[1]
    assert new.athlete == "NEW001" and new.status["monotony"] == "ok"  # 7 days of load are enough for monotony
    empty = analyze(SQLiteStore(tmp_path / "empty.sqlite"), AS_OF)
    assert empty.athletes == [] and empty.points_written == 0
    store.close()


def test_mornings_are_taken_from_beats_when_no_readiness_points_exist(tmp_path):
    store = SQLiteStore(tmp_path / "rr.sqlite")
    rng = np.random.default_rng(5)
    profile = AthleteProfile("BEATS", "female", 52.0, 188.0, 4.0, 0.1)
    targets = daily_ln_rmssd(profile, 30, rng)
    batches = []
    for i in range(30):
        start = day_start_ms(AS_OF - dt.timedelta(days=29 - i)) + 6 * 3_600_000
        rr = morning_rr_ms(profile, i, targets[i], rng, duration_s=120.0)
        batches.append(PointBatch("rr", {"athlete": "BEATS"}, start + np.cumsum(rr).astype(np.int64), {"rr_ms": rr}))
    store.write(batches)
    assert store.list_athletes("rr") == ["BEATS"]
    report = analyze(store, AS_OF).athletes[0]
    assert report.indicators["readings_7d"] == 7
    assert report.indicators["ln_rmssd_7d"] == pytest.approx(4.0, abs=0.2)
    assert report.status["ln_rmssd_baseline_mean"] == "ok"
    assert store.count("readiness", "BEATS") == 30  # readings found in the beats are stored as `readiness` points
    store.close()


def test_a_backfill_writes_what_the_daily_runs_wrote(store):
    old = AS_OF - dt.timedelta(days=70)  # beyond the recent look-back of an as-of run (120 − 67 days)
    fields = ["ln_rmssd_7d", "readings_7d", "gct_symmetry_index_pct", "muscle_symmetry_index_pct"]
    window = (day_start_ms(old), day_start_ms(old) + DAY_MS)

    def stored() -> dict[str, list]:
        return {
            athlete: [store.read("daily", athlete, fields, *window).columns[f].tolist() for f in fields]
            for athlete in store.list_athletes()
        }

    analyze(store, old)
    daily_run = stored()
    assert all(np.isfinite(values[0][0]) and values[1][0] >= 3 for values in daily_run.values())
    analyze(store, AS_OF, write_days=71)
    np.testing.assert_equal(stored(), daily_run)  # NaN where a metric has no sessions


def test_read_many_equals_one_read_per_athlete(store):
    start, end = day_start_ms(AS_OF - dt.timedelta(days=40)), day_start_ms(AS_OF)
    many = store.read_many("session", SESSION_FIELDS, None, start, end)
    single = store.read_many("session", SESSION_FIELDS, None, start, end, workers=1)
    np.testing.assert_array_equal(many.time_ms, single.time_ms)
    assert many.athletes == store.list_athletes()
    for i, athlete in enumerate(many.athletes):
        frame = store.read("session", athlete, list(SESSION_FIELDS), start, end)
        mine = many.athlete_index == i
        np.testing.assert_array_equal(many.time_ms[mine], frame.time_ms)
        for f in SESSION_FIELDS:
            np.testing.assert_allclose(many.columns[f][mine], frame.columns[f], equal_nan=True)
    assert len(store.read_many("session", ["duration_s"], ["nobody"])) == 0
    assert len(store.read_many("nothing", ["x"])) == 0
    generic = bulk.read_many_tagged(store, "session", SESSION_FIELDS, None, start, end)  # as on InfluxDB
    assert generic.athletes == many.athletes
    np.testing.assert_array_equal(generic.athlete_index, many.athlete_index)
    np.testing.assert_array_equal(generic.time_ms, many.time_ms)
    for f in SESSION_FIELDS:
        np.testing.assert_allclose(generic.columns[f], many.columns[f], equal_nan=True)
    one = bulk.read_many_tagged(store, "session", ["duration_s"], [many.athletes[1]], start, end)
    assert one.athletes == [many.athletes[1]] and len(one) == int(np.sum(many.athlete_index == 1))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_table_errors_and_thresholds(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/cli.sqlite"
    s = SQLiteStore(tmp_path / "cli.sqlite")
    fill(s)
    s.close()
    code, out, _ = run_cli(capsys, "--store", url, "--as-of", AS_OF.isoformat(), "--json", "--no-catch-up")
    doc = json.loads(out)
    assert code == 0 and doc["as_of"] == "2026-03-31" and len(doc["athletes"]) == 6
    explicit = ("--athlete", "S003", "--days", "5", "--no-catch-up")  # catching up: tests/test_history.py
    code, out, _ = run_cli(capsys, "--store", url, "--as-of", AS_OF.isoformat(), *explicit)
    assert code == 0 and "S003" in out and "hrv_suppressed" in out and "S001" not in out
    assert SQLiteStore(tmp_path / "cli.sqlite").count("daily", "S003") == 5
    future = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    code, out, err = run_cli(capsys, "--store", url, "--as-of", future)
    assert code == 2 and out == "" and err.count("\n") == 1 and "future" in err
    code, _, err = run_cli(capsys, "--store", url, "--as-of", "31/03/2026")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = run_cli(capsys, "--store", url, "--athlete", "nobody")
    assert code == 2 and "nobody" in err
    strict = tmp_path / "strict.toml"
    strict.write_text("[asymmetry]\nwatch_pct = 0.5\nact_pct = 0.6\npersistence_days = 1\n")
    code, out, _ = run_cli(capsys, "--store", url, "--as-of", AS_OF.isoformat(), "--json", "--thresholds", str(strict))
    assert code == 0 and all(a["recommend_idn_visit"] for a in json.loads(out)["athletes"][:2])
    strict.write_text("[asymmetry]\nwatch = 1\n")
    code, _, err = run_cli(capsys, "--store", url, "--thresholds", str(strict))
    assert code == 2 and "asymmetry.watch" in err


@pytest.mark.influx
def test_analyze_on_a_real_influxd_matches_the_embedded_store(influx_store, store):
    fill(influx_store)
    on_influx = analyze(influx_store, AS_OF)
    on_sqlite = analyze(store, AS_OF)
    assert [r.athlete for r in on_influx.athletes] == [r.athlete for r in on_sqlite.athletes]
    for a, b in zip(on_influx.athletes, on_sqlite.athletes):
        assert [(f.signal, f.severity, f.since) for f in a.flags] == [(f.signal, f.severity, f.since) for f in b.flags]
        acwr, expected = a.indicators["acwr"], b.indicators["acwr"]  # None: too few known days (S003, S004)
        assert (acwr is None and expected is None) or acwr == pytest.approx(expected, rel=1e-9)
    assert influx_store.count("daily") == 6
    frame = influx_store.read("flag", "S003", ["value", "reason"], tags={"signal": "hrv_suppressed"})
    assert len(frame) == 1
    start = day_start_ms(AS_OF - dt.timedelta(days=30))
    bulk = influx_store.read_many("session", SESSION_FIELDS, None, start)
    assert bulk.athletes == [f"S00{i}" for i in range(1, 7)]
    for i, athlete in enumerate(bulk.athletes):
        frame = influx_store.read("session", athlete, list(SESSION_FIELDS), start)
        mine = bulk.athlete_index == i
        np.testing.assert_array_equal(bulk.time_ms[mine], frame.time_ms)
        for f in ("srpe_load", "gct_symmetry_index_pct", "pedal_balance_left_pct"):
            np.testing.assert_allclose(bulk.columns[f][mine], frame.columns[f], equal_nan=True)
    assert influx_store.list_athletes("readiness") == bulk.athletes
    assert influx_store.list_athletes("rr") == []


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hrv4training_agreement_regenerates_the_documented_numbers():
    result = _script("hrv4training_agreement").agreement(require_shared("hrv-daily"))
    assert (result["mornings"], result["app_verdicts"], result["app_below"]) == (42, 33, 7)
    flag = result["comparisons"]["hrv_suppressed"]
    assert flag["days"] == result["comparable_days"] == 16
    assert (flag["both_below"], flag["app_only"], flag["ours_only"]) == (0, 4, 0)
    assert result["comparisons"]["morning_below_range"]["cohens_kappa"] == pytest.approx(0.412, abs=0.001)
    assert result["steady_export"]["hrv_suppressed_days"] == 0
