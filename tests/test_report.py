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
    ]
    assert "no data yet" not in html, "every plot has data on the full data model"
    assert all("<polyline" in svg or "<circle" in svg or "<rect x" in svg for svg in svgs)
    assert "<polygon" in svgs[2], "the ln rMSSD normal range is drawn as a band"
    assert svgs[4].count("stroke-dasharray") == 4, "±10 % and ±15 % symmetry lines"
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
