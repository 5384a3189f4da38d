"""`analyze` brings every day since the last analysed day up to date (monitor/history.py), without look-ahead."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from ingest.store.base import PointBatch
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS, day_start_ms
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from monitor.analyze import analyze
from monitor.cli.main import main
from monitor.history import catch_up, first_data_days, last_analysed_days, plan_catch_up

AS_OF = dt.date(2026, 3, 31)
DAYS = 150
FIRST = AS_OF - dt.timedelta(days=DAYS - 1)
COMPARED = ["acwr", "ctl", "atl", "tsb", "monotony", "strain", "ln_rmssd_7d", "ln_rmssd_lower_bound", "rhr_7d"]
COMPARED += ["rhr_upper_bound", "gct_symmetry_index_pct", "gct_symmetry_baseline_pct", "readings_7d"]
TEXT = ["status", "load_source"]


def history_batches(n_athletes: int = 3) -> list[PointBatch]:
    """150 days of sessions and mornings ending on AS_OF; an HRV drop and a GCT asymmetry onset near the end."""
    history = simulate_training_history(
        n_athletes, DAYS, np.random.default_rng(5), hrv_drop_day=DAYS - 9, gct_onset_day=DAYS - 20, id_prefix="H"
    )
    return training_history_batches(history, day_start_ms(FIRST))


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "history.sqlite")
    s.write(history_batches())
    yield s
    s.close()


def daily_days(store: SQLiteStore, athlete: str) -> list[dt.date]:
    frame = store.read("daily", athlete, ["recommend_idn_visit"])
    return [FIRST + dt.timedelta(days=int((t - day_start_ms(FIRST)) // DAY_MS)) for t in frame.time_ms]


def test_catch_up_writes_every_day_since_the_first_day_with_data(store):
    plan = plan_catch_up(store, AS_OF)
    assert plan.starts == {a: FIRST for a in store.list_athletes()} and plan.backfill_days == DAYS - 1
    done: list[tuple[int, int]] = []
    result = catch_up(store, plan, chunk_days=40, progress=lambda d, t: done.append((d, t)))
    assert done == [(40, 150), (80, 150), (120, 150), (149, 150), (150, 150)]  # oldest first, in chunks
    expected = [FIRST + dt.timedelta(days=i) for i in range(DAYS)]
    assert all(daily_days(store, a) == expected for a in store.list_athletes())
    assert result.backfilled_days == DAYS - 1 and result.as_of == AS_OF
    assert result.points_written >= 3 * DAYS
    assert last_analysed_days(store, store.list_athletes(), AS_OF) == {a: AS_OF for a in store.list_athletes()}

    later = AS_OF + dt.timedelta(days=5)  # five days on, without new data: five new days, nothing before
    plan = plan_catch_up(store, later)
    assert set(plan.starts.values()) == {AS_OF + dt.timedelta(days=1)} and plan.backfill_days == 4
    catch_up(store, plan)
    assert all(len(daily_days(store, a)) == DAYS + 5 for a in store.list_athletes())
    assert plan_catch_up(store, later).backfill_days == 0  # up to date: only the day itself is evaluated again


def test_backfilled_days_equal_the_daily_runs(store, tmp_path):
    catch_up(store, plan_catch_up(store, AS_OF), chunk_days=92)
    daily_runs = SQLiteStore(tmp_path / "daily.sqlite")
    daily_runs.write(history_batches())
    for offset in (60, 100, 140, 148):  # days inside the first chunk, the second chunk and its last day
        day = FIRST + dt.timedelta(days=offset)
        analyze(daily_runs, day)
        window = (day_start_ms(day), day_start_ms(day) + DAY_MS)
        for athlete in store.list_athletes():
            ours, theirs = (s.read("daily", athlete, COMPARED + TEXT, *window) for s in (store, daily_runs))
            assert len(ours) == len(theirs) == 1
            for name in COMPARED:
                np.testing.assert_allclose(ours.columns[name], theirs.columns[name], rtol=1e-12, err_msg=name)
            assert [ours.columns[n][0] for n in TEXT] == [theirs.columns[n][0] for n in TEXT]
            flags = [
                sorted(zip(f.columns["signal"], f.columns["severity"], f.columns["since"], f.columns["reason"]))
                for f in (
                    s.read("flag", athlete, ["since", "reason"], *window, with_tags=["signal", "severity"])
                    for s in (store, daily_runs)
                )
            ]
            assert flags[0] == flags[1]
    assert store.count("flag", None, day_start_ms(FIRST + dt.timedelta(days=140)), None) > 0  # flags were compared
    daily_runs.close()


def test_first_day_with_data_comes_from_beats_sessions_or_mornings(tmp_path):
    s = SQLiteStore(tmp_path / "first.sqlite")
    beats_day, session_day = AS_OF - dt.timedelta(days=30), AS_OF - dt.timedelta(days=20)
    beats = day_start_ms(beats_day) + 6 * 3_600_000 + np.arange(0, 60_000, 1000, dtype=np.int64)
    s.write(
        [
            PointBatch("rr", {"athlete": "B"}, beats, {"rr_ms": np.full(beats.size, 1000.0)}),
            PointBatch("session", {"athlete": "B"}, np.array([day_start_ms(session_day)]), {"trimp": np.array([50.0])}),
            PointBatch("session", {"athlete": "S"}, np.array([day_start_ms(session_day)]), {"trimp": np.array([50.0])}),
            PointBatch("session", {"athlete": "LATE"}, np.array([day_start_ms(AS_OF) + DAY_MS]), {"trimp": [50.0]}),
        ]
    )
    assert first_data_days(s, ["B", "S", "LATE"], AS_OF) == {"B": beats_day, "S": session_day}
    assert first_data_days(s, ["B"], beats_day - dt.timedelta(days=1)) == {}  # nothing read after as_of
    plan = plan_catch_up(s, AS_OF)
    assert plan.starts == {"B": beats_day, "S": session_day}  # LATE has no data by AS_OF
    assert plan_catch_up(s, AS_OF, athletes=["LATE"]).starts == {"LATE": AS_OF}  # named: analysed anyway
    assert plan_catch_up(s, AS_OF, catch_up=False, days=3).starts == {
        a: AS_OF - dt.timedelta(days=2) for a in ("B", "S")
    }
    s.close()


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main(["analyze", *args])
    return code, capsys.readouterr().out


def test_cli_catches_up_and_no_catch_up_writes_one_day(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/cli.sqlite"
    s = SQLiteStore(tmp_path / "cli.sqlite")
    s.write(history_batches(2))
    s.close()
    code, out = cli(capsys, "--store", url, "--as-of", (AS_OF - dt.timedelta(days=10)).isoformat(), "--no-catch-up")
    assert code == 0 and "History brought up to date" not in out
    s = SQLiteStore(tmp_path / "cli.sqlite")
    assert s.count("daily") == 2  # the evaluated day only
    s.close()
    code, out = cli(capsys, "--store", url, "--as-of", AS_OF.isoformat())
    assert code == 0 and "History brought up to date: 10 days from 2026-03-22." in out
    s = SQLiteStore(tmp_path / "cli.sqlite")
    assert s.count("daily") == 2 * 11
    s.close()
    code, out = cli(capsys, "--store", url, "--as-of", AS_OF.isoformat(), "--days", "0")
    assert code == 2


def test_a_past_as_of_gives_the_same_json_after_later_data(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/past.sqlite"
    day = AS_OF - dt.timedelta(days=8)  # the day before the HRV drop shows
    batches = history_batches()
    s = SQLiteStore(tmp_path / "past.sqlite")
    s.write(b for b in batches)
    s.close()
    code, before = cli(capsys, "--store", url, "--as-of", day.isoformat(), "--json")
    assert code == 0 and json.loads(before)["as_of"] == day.isoformat()
    later = day_start_ms(day) + DAY_MS + np.arange(5, dtype=np.int64) * DAY_MS + 9 * 3_600_000
    s = SQLiteStore(tmp_path / "past.sqlite")
    s.write(
        [
            PointBatch("session", {"athlete": "H001"}, later, {"srpe_load": np.full(5, 3000.0)}),
            PointBatch("readiness", {"athlete": "H001"}, later, {"ln_rmssd": np.full(5, 2.0)}),
            PointBatch("session", {"athlete": "NEW"}, later, {"trimp": np.full(5, 80.0)}),
        ]
    )
    s.close()
    code, after = cli(capsys, "--store", url, "--as-of", day.isoformat(), "--json")
    assert code == 0 and after == before
    code, today = cli(capsys, "--store", url, "--as-of", AS_OF.isoformat(), "--json")
    assert "NEW" in today and today != before  # the later data is there and used for later days
