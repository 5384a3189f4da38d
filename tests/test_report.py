"""`recovery-monitor report`: a self-contained HTML file with the athlete detail plots.

The browser rendering test (headless Chromium, screenshot and DOM) is tests/test_report_chromium.py.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import numpy as np
import pytest
from dashboard_data import future_batches

from dashboards.svg import Series, chart, nice_ticks
from ingest.store.base import PointBatch
from ingest.store.sqlite import SQLiteStore
from monitor.cli.main import main

ATHLETE = "R01"
DAY_MS = 86_400_000


@pytest.fixture
def store_url(tmp_path) -> str:
    """The full data model for one athlete: 21 days of indicators, sessions, flags and morning readings."""
    path = tmp_path / "report.sqlite"
    store = SQLiteStore(path)
    today = dt.datetime.now(dt.UTC).date()
    store.write(future_batches(ATHLETE, today, int(time.time() * 1000)))
    mornings = np.array([(today.toordinal() - 719163 - i) * DAY_MS + 6 * 3_600_000 for i in range(30, -1, -1)])
    readiness = {"ln_rmssd": np.linspace(4.3, 3.9, 31), "mean_hr_bpm": np.linspace(48, 53, 31)}
    store.write([PointBatch("readiness", {"athlete": ATHLETE}, mornings.astype(np.int64), readiness)])
    store.close()
    return f"sqlite:///{path}"


def render(tmp_path: Path, store_url: str, *extra: str) -> str:
    out = tmp_path / "out" / "report.html"
    assert main(["report", "--athlete", ATHLETE, "--out", str(out), "--store", store_url, *extra]) == 0
    return out.read_text()


def test_report_is_self_contained_with_every_plot(tmp_path, store_url, capsys):
    html = render(tmp_path, store_url)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    titles = [re.search(r"<title>(.*?)</title>", svg).group(1) for svg in svgs]
    assert titles == [
        "Daily load and ACWR",
        "Fitness, fatigue and form (CTL / ATL / TSB)",
        "ln rMSSD: mornings, 7-day mean and normal range",
        "Resting heart rate",
        "Symmetry index (positive: left larger)",
        "Flags: the days each signal held",
    ]
    assert "no data yet" not in html, "every plot has data on the full data model"
    assert all("<polyline" in svg or "<circle" in svg or "<rect x" in svg for svg in svgs)
    assert "<polygon" in svgs[2], "the ln rMSSD normal range is drawn as a band"
    assert svgs[4].count("stroke-dasharray") == 4, "±10 % and ±15 % symmetry lines"
    assert svgs[5].count('fill="#ed8128"') == 1, "acwr_high held 3 days at watch: one orange span"
    assert "<script" not in html.lower() and "acwr_high" in html
    external = re.findall(r"(?:src|href)=\"(?!data:)[^\"]+\"|url\(|@import", html)
    assert external == [], external
    assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"] * len(svgs)


def test_unknown_athlete_is_a_one_line_error(tmp_path, store_url, capsys):
    out = tmp_path / "x.html"
    assert main(["report", "--athlete", "nobody", "--out", str(out), "--store", store_url]) == 2
    err = capsys.readouterr().err.strip()
    assert "nobody" in err and "\n" not in err and not out.exists()


def test_empty_chart_says_so_and_ticks_are_round():
    svg = chart("Empty", [Series("x", np.array([0.0]), np.array([np.nan]))], 0, DAY_MS)
    assert "no data yet" in svg and svg.startswith("<svg")
    assert nice_ticks(0.0, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(47.3, 53.9) == [48.0, 50.0, 52.0]


def flag_batch(athlete: str, signal: str, family: str, severity: str, days: list[dt.date], reason: str) -> PointBatch:
    times = np.array([(d.toordinal() - 719163) * DAY_MS for d in days], np.int64)
    fields = {"value": np.full(len(days), 2.5), "threshold": np.full(len(days), 2.0)}
    fields["since"] = np.array([days[0].isoformat()] * len(days), dtype=object)
    fields["reason"] = np.array([reason] * len(days), dtype=object)
    tags = {"athlete": athlete, "family": family, "signal": signal, "severity": severity}
    return PointBatch("flag", tags, times, fields)


@pytest.fixture
def flagged_url(tmp_path) -> str:
    """60 analysed days ending 2026-03-31; two signals held on the last 5 and 4 days; a visit recommended."""
    store = SQLiteStore(tmp_path / "flagged.sqlite")
    end = dt.date(2026, 3, 31)
    days = [end - dt.timedelta(days=59 - i) for i in range(60)]
    times = np.array([(d.toordinal() - 719163) * DAY_MS for d in days], np.int64)
    daily = {"acwr": np.linspace(1.0, 2.2, 60), "status": np.array(["ok"] * 60, dtype=object)}
    daily["recommend_idn_visit"] = np.array([False] * 56 + [True] * 4)
    store.write(
        [
            PointBatch("daily", {"athlete": ATHLETE}, times, daily),
            PointBatch("session", {"athlete": ATHLETE}, times + 17 * 3_600_000, {"trimp": np.full(60, 90.0)}),
            flag_batch(ATHLETE, "acwr_high", "load", "watch", days[-5:], "Acute:chronic load ratio 1.62 ..."),
            flag_batch(ATHLETE, "hrv_suppressed", "recovery", "act", days[-4:], "7-day mean ln rMSSD 3.9 is below"),
        ]
    )
    store.close()
    return f"sqlite:///{tmp_path / 'flagged.sqlite'}"


def cards(html: str) -> dict[str, str]:
    return dict(re.findall(r'<div class="card">(.*?)<b>(.*?)</b></div>', html))


def test_cards_count_active_flags_and_the_idn_visit_shows_its_reasons(tmp_path, flagged_url):
    html = render(tmp_path, flagged_url)
    assert cards(html) == {
        "Readiness": "ok",
        "ln rMSSD 7-day": "—",
        "ACWR": "2.20",
        "Active flags": "2",  # 9 flag points, 2 signals held on the last day
        "IDN visit": "recommended",
    }
    idn = html[html.index("<h2>Preventive IDN visit</h2>") : html.index("<h2>Load")]
    assert "recommended on 2026-03-31" in idn
    assert "act: hrv_suppressed — 7-day mean ln rMSSD 3.9 is below" in idn and "acwr_high" not in idn
    assert "2026-01-31 to 2026-03-31" in html, "the period is the athlete's data, ending on its last day"
    timeline = re.findall(r"<svg.*?</svg>", html, re.S)[-1]
    assert re.findall(r"<title>(\w+) \((\w+)\) ([\d-]+), (\d+) days</title>", timeline) == [
        ("acwr_high", "watch", "2026-03-27", "5"),
        ("hrv_suppressed", "act", "2026-03-28", "4"),
    ]


def test_report_as_of_a_past_day_draws_that_period(tmp_path, flagged_url):
    html = render(tmp_path, flagged_url, "--as-of", "2026-03-28")
    assert "2026-01-31 to 2026-03-28" in html
    assert cards(html)["Active flags"] == "2" and cards(html)["ACWR"] == "2.14"
    html = render(tmp_path, flagged_url, "--to", "2026-03-26", "--days", "10")
    assert "2026-03-17 to 2026-03-26" in html and cards(html)["Active flags"] == "none"
    assert "No preventive IDN visit recommended on 2026-03-26" in html
    assert "Only 10 days of data" in html  # a short period says so
    html = render(tmp_path, flagged_url, "--from", "2025-06-01", "--to", "2026-03-10")
    assert "2026-01-31 to 2026-03-10" in html, "a period never starts before the first day with data"


def test_watch_flags_of_two_families_give_the_idn_reasons(tmp_path):
    store = SQLiteStore(tmp_path / "watch.sqlite")
    end = dt.date(2026, 3, 31)
    store.write(
        [
            PointBatch("daily", {"athlete": ATHLETE}, np.array([(end.toordinal() - 719163) * DAY_MS]),
                       {"recommend_idn_visit": np.array([True])}),
            flag_batch(ATHLETE, "monotony_high", "load", "watch", [end - dt.timedelta(days=6)], "Monotony 2.3"),
            flag_batch(ATHLETE, "monotony_high", "load", "watch", [end - dt.timedelta(days=7)], "Too old"),
            flag_batch(ATHLETE, "rhr_elevated", "recovery", "watch", [end], "Resting HR up"),
        ]
    )  # fmt: skip
    store.close()
    html = render(tmp_path, f"sqlite:///{tmp_path / 'watch.sqlite'}")
    assert "watch (load): monotony_high (last 2026-03-25) — Monotony 2.3" in html
    assert "watch (recovery): rhr_elevated (last 2026-03-31) — Resting HR up" in html and "Too old" not in html
    assert cards(html)["Active flags"] == "1"


def test_days_without_analysis_name_the_command_and_a_day_without_data_is_an_error(tmp_path, store_url, capsys):
    html = render(tmp_path, store_url)
    today = dt.datetime.now(dt.UTC).date()
    command = f"recovery-monitor analyze --athlete {ATHLETE} --as-of {today.isoformat()} --days 31"
    assert f"10 days of this period have no analysis: run <code>{command}</code>" in html
    assert command in capsys.readouterr().err  # the 31 mornings reach 10 days before the 21 analysed days
    out = tmp_path / "none.html"
    args = ["report", "--athlete", ATHLETE, "--out", str(out), "--store", store_url]
    assert main([*args, "--as-of", "2001-01-01"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no data on or before 2001-01-01" in err and "\n" not in err and not out.exists()
    assert main([*args, "--from", "2001-01-01", "--to", "2001-02-01"]) == 2 and not out.exists()
    assert main([*args, "--as-of", "1 May"]) == 2 and "YYYY-MM-DD" in capsys.readouterr().err
