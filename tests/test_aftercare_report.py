"""The athlete report shows the after-care reminder while a visit's quiet window runs, as of the report's day."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from dashboard_data import future_batches

from dashboards.report_data import AftercareNote, running_aftercare
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import day_start_ms
from ingest.visits import new_visit, write_visits
from monitor.cli.main import main

ATHLETE = "R01"
HOUR_MS = 3_600_000


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(tmp_path / "report.sqlite", url=f"sqlite:///{tmp_path / 'report.sqlite'}")
    store.write(future_batches(ATHLETE, dt.datetime.now(dt.UTC).date(), int(time.time() * 1000)))
    yield store
    store.close()


def visit(store, at_ms: int, regions: str = "calf_l") -> str:
    v = new_visit(ATHLETE, at_ms, regions, now_ms=at_ms)
    write_visits(store, [v])
    return v.visit_id


def render(tmp_path, store, *extra: str) -> str:
    out = tmp_path / "report.html"
    assert main(["report", "--athlete", ATHLETE, "--out", str(out), "--store", store.url, *extra]) == 0
    return out.read_text()


def test_the_window_runs_from_the_visit_up_to_but_not_at_its_end(store):
    moment = day_start_ms(dt.date(2026, 3, 5)) + 12 * HOUR_MS
    inside = {visit(store, t): t for t in (moment - 24 * HOUR_MS + 1000, moment)}
    visit(store, moment - 24 * HOUR_MS)  # its window ended exactly at the moment
    visit(store, moment + 1000)  # not yet
    found = running_aftercare(store, ATHLETE, moment, 24 * HOUR_MS)
    assert found == [AftercareNote(v, t, t + 24 * HOUR_MS, ("calf_l",)) for v, t in inside.items()]
    assert running_aftercare(store, ATHLETE, moment, 0) == [], "quiet_hours = 0: no reminder"


def test_the_report_shows_the_running_reminder_and_not_an_expired_one(tmp_path, store):
    now_ms = int(time.time() * 1000) // 1000 * 1000
    visit(store, now_ms - 30 * HOUR_MS, "hamstring_r")  # expired
    assert "<h2>After-care</h2>" not in render(tmp_path, store)
    visit(store, now_ms - 2 * HOUR_MS, "calf_l,lumbar")
    html = render(tmp_path, store)
    section = html[html.index("<h2>After-care</h2>") : html.index("<h2>Load")]
    assert "No anti-inflammatory drugs (NSAIDs) and no ice on the treated area for 24 h" in section
    at = dt.datetime.fromtimestamp((now_ms - 2 * HOUR_MS) / 1000, dt.UTC)
    until = at + dt.timedelta(hours=24)
    assert f"Visit on {at:%Y-%m-%d %H:%M} UTC (calf_l, lumbar), until {until:%Y-%m-%d %H:%M} UTC" in section
    assert "hamstring_r" not in section


def test_a_past_report_day_shows_the_windows_running_at_its_end_with_the_clinics_advice(tmp_path, store):
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=5)
    visit(store, day_start_ms(day) + 10 * HOUR_MS)
    advice = tmp_path / "clinic.toml"
    advice.write_text('[idn]\naftercare_advice = "Keep <b>ice</b> off the calf & rest."\n')
    html = render(tmp_path, store, "--as-of", day.isoformat(), "--thresholds", str(advice))
    assert "Keep &lt;b&gt;ice&lt;/b&gt; off the calf &amp; rest." in html and "<b>ice</b>" not in html
    assert f"Visit on {day.isoformat()} 10:00 UTC (calf_l), until {day + dt.timedelta(days=1)} 10:00 UTC" in html
    next_day = render(tmp_path, store, "--as-of", (day + dt.timedelta(days=1)).isoformat())
    assert "<h2>After-care</h2>" not in next_day, "a past day is shown as of its end: the window ended at 10:00"
