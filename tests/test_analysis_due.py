"""Data that changes past days (an import of older files, an RPE given later, a new profile) marks the athlete's
analysis as due from that day; the next `analyze` recomputes those days, not only the days after the last run."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.analysis_due import clear_due, mark_due, read_due
from ingest.store.base import PointBatch, Store
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS, day_start_ms
from monitor.cli.main import main

TODAY = dt.datetime.now(dt.UTC).date()
DAYS = 60


def test_a_mark_keeps_the_earliest_day_and_is_cleared_only_as_read(each_store: Store) -> None:
    assert read_due(each_store) == {}
    mark_due(each_store, {"A01": 5 * DAY_MS, "B 'x'": 9 * DAY_MS})
    mark_due(each_store, {"A01": 7 * DAY_MS})  # later than the pending mark: the earlier day stays
    assert read_due(each_store) == {"A01": 5 * DAY_MS, "B 'x'": 9 * DAY_MS}
    assert read_due(each_store, ["A01"]) == {"A01": 5 * DAY_MS}
    served = read_due(each_store)
    mark_due(each_store, {"B 'x'": 2 * DAY_MS})  # data imported while an analysis ran
    clear_due(each_store, served)
    assert read_due(each_store) == {"B 'x'": 2 * DAY_MS}  # A01 served; B's mark moved earlier, so it stays due
    clear_due(each_store, read_due(each_store))
    assert read_due(each_store) == {}
    mark_due(each_store, {"A01": 3 * DAY_MS})  # a cleared athlete can be marked again
    assert read_due(each_store) == {"A01": 3 * DAY_MS}


def _sessions(athlete: str) -> PointBatch:
    """A 45-min session at RPE 5 (225 AU) every day for DAYS days ending yesterday."""
    first = TODAY - dt.timedelta(days=DAYS)
    times = np.array([day_start_ms(first + dt.timedelta(days=i)) + 17 * 3_600_000 for i in range(DAYS)], np.int64)
    fields = {"duration_s": np.full(DAYS, 2700.0), "rpe": np.full(DAYS, 5.0), "srpe_load": np.full(DAYS, 225.0)}
    return PointBatch("session", {"athlete": athlete, "source": "csv", "sport": "run"}, times, fields)


def _daily_load(store: Store, athlete: str, day: dt.date) -> float:
    frame = store.read("daily", athlete, ["daily_load"], day_start_ms(day), day_start_ms(day) + DAY_MS)
    return float(frame.columns["daily_load"][0])


def test_an_rpe_given_for_a_past_day_is_analysed_on_the_next_run(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'due.sqlite'}"
    store = SQLiteStore(tmp_path / "due.sqlite")
    store.write([_sessions("A01")])
    assert main(["analyze", "--store", url, "--json"]) == 0
    past = TODAY - dt.timedelta(days=20)
    assert _daily_load(store, "A01", past) == 225.0
    capsys.readouterr()
    # A second session that day, 30 min at RPE 8, logged afterwards: 240 AU more.
    args = ["rpe", "A01", "--date", past.isoformat(), "--time", "07:00", "--rpe", "8", "--duration-min", "30"]
    assert main([*args, "--store", url]) == 0
    assert read_due(store) == {"A01": day_start_ms(past) + 7 * 3_600_000}
    assert main(["analyze", "--store", url, "--json"]) == 0
    assert _daily_load(store, "A01", past) == 465.0
    assert _daily_load(store, "A01", past - dt.timedelta(days=1)) == 225.0
    assert read_due(store) == {}
    store.close()


def test_a_past_as_of_leaves_the_later_days_due(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'due.sqlite'}"
    store = SQLiteStore(tmp_path / "due.sqlite")
    store.write([_sessions("A01")])
    assert main(["analyze", "--store", url, "--json"]) == 0
    past = TODAY - dt.timedelta(days=20)
    mark_due(store, {"A01": day_start_ms(past)})
    as_of = TODAY - dt.timedelta(days=10)
    assert main(["analyze", "--store", url, "--as-of", as_of.isoformat(), "--json"]) == 0
    assert read_due(store) == {"A01": day_start_ms(past)}  # days after --as-of are still to be recomputed
    store.close()
