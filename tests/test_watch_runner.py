"""A watch-only runner, end to end: months of 1 Hz heart-rate runs (FIT files written by the independent encoder
fit-tool) and daily 5-min morning RR files, imported with no profile set, then analysed and reported.

The runner's true HRmax and HRrest are known, so the estimates are checked against them; the last days triple the
training load while the mornings show HRV suppressed, so a load flag and the IDN recommendation must follow.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fit_tool_writer import write_run_fit

from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS, day_start_ms
from monitor.cli.main import main

HR_MAX_BPM, HR_REST_BPM = 186.0, 47.0
DAYS = 84  # 12 weeks ending yesterday
SPIKE_DAYS = 8  # the last 8 days: every run three times as long, mornings with HRV suppressed
REST_DAYS = (2, 5)  # two rest days a week, counted from the spike's first day (the same whatever today's weekday)
INTERVAL_DAY = 3  # ... and one interval run
TODAY = dt.datetime.now(dt.UTC).date()
FIRST = TODAY - dt.timedelta(days=DAYS)
ONSET = TODAY - dt.timedelta(days=SPIKE_DAYS)
ATHLETE = "R01"


@dataclass
class Runner:
    folder: Path
    url: str
    store_path: Path
    run_days: list[dt.date]


def run_hr(rng: np.random.Generator, minutes: float, intervals: bool) -> np.ndarray:
    """1 Hz HR of one run: a 5-min warm-up, then steady at 65–75 % of the HR reserve; an interval day adds four
    90 s efforts at HRmax − 1 bpm (so the highest 30 s mean is within a beat of HRmax)."""
    n = int(minutes * 60)
    reserve = HR_MAX_BPM - HR_REST_BPM
    steady = HR_REST_BPM + rng.uniform(0.65, 0.75) * reserve
    hr = steady + rng.normal(0.0, 1.5, n)
    warm = min(300, n)
    hr[:warm] = np.linspace(HR_REST_BPM + 30, steady, warm)
    if intervals and n > 1800:
        for k in range(4):
            start = 600 + k * 300
            hr[start : start + 90] = HR_MAX_BPM - 1.0
    return np.clip(np.rint(hr), 40, HR_MAX_BPM)


def morning_rr_ms(rng: np.random.Generator, suppressed: bool) -> np.ndarray:
    """A 5-min supine reading: mean HR = HRrest (+6 bpm when suppressed), rMSSD ≈ 60 ms (≈ 15 ms suppressed)."""
    hr = HR_REST_BPM + (6.0 if suppressed else rng.normal(0.0, 1.0))
    mean_rr = 60_000.0 / hr
    n = int(300_000 / mean_rr)
    sd = (15.0 if suppressed else rng.normal(60.0, 5.0)) / np.sqrt(2.0)
    return np.rint(mean_rr + rng.normal(0.0, sd, n))


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """The watch folder (FIT runs + morning RR files), imported in one command with no profile set."""
    folder = tmp_path_factory.mktemp("watch")
    rng = np.random.default_rng(11)
    run_days = []
    for i in range(DAYS):
        day = FIRST + dt.timedelta(days=i)
        morning = morning_rr_ms(rng, suppressed=day >= ONSET + dt.timedelta(days=1))
        (folder / f"morning-{day.isoformat()}.txt").write_text("\n".join(str(int(v)) for v in morning) + "\n")
        if (day - ONSET).days % 7 in REST_DAYS:
            continue
        minutes = rng.uniform(25.0, 40.0) * (3.0 if day >= ONSET else 1.0)
        start = dt.datetime.combine(day, dt.time(17, 0), dt.UTC)
        write_run_fit(
            folder / f"run-{day.isoformat()}.fit", start, run_hr(rng, minutes, (day - ONSET).days % 7 == INTERVAL_DAY)
        )
        run_days.append(day)
    store_path = tmp_path_factory.mktemp("store") / "runner.sqlite"
    url = f"sqlite:///{store_path}"
    assert main(["import", str(folder), "--athlete", ATHLETE, "--store", url, "--json"]) == 0
    return Runner(folder, url, store_path, run_days)


def _cli_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_the_profile_is_estimated_from_the_runners_own_data(runner: Runner, capsys) -> None:
    profile = _cli_json(capsys, "athlete", "show", ATHLETE, "--store", runner.url, "--json")
    assert profile["hr_max_bpm"]["status"] == "estimated" and profile["hr_rest_bpm"]["status"] == "estimated"
    assert abs(profile["hr_max_bpm"]["value"] - HR_MAX_BPM) <= 5
    assert abs(profile["hr_rest_bpm"]["value"] - HR_REST_BPM) <= 5
    assert profile["sex"]["status"] == "default"


def test_every_training_day_has_a_load_and_acwr_starts_on_day_28(runner: Runner, capsys) -> None:
    doc = _cli_json(capsys, "analyze", "--store", runner.url, "--json")
    (entry,) = doc["athletes"]
    assert entry["hr_profile"]["hr_max_bpm"]["status"] == "estimated"  # said in analyze --json
    store = SQLiteStore(runner.store_path)
    try:
        daily = store.read("daily", ATHLETE, ["daily_load", "acwr", "load_source"], day_start_ms(FIRST))
    finally:
        store.close()
    days = [FIRST + dt.timedelta(days=int((t - day_start_ms(FIRST)) // DAY_MS)) for t in daily.time_ms]
    today = dt.datetime.now(dt.UTC).date()  # the analysis runs through its own today (a later day past midnight)
    assert days == [FIRST + dt.timedelta(days=i) for i in range((today - FIRST).days + 1)]  # every day, through today
    load = dict(zip(days, daily.columns["daily_load"]))
    assert all(load[d] > 0 for d in runner.run_days)  # a TRIMP on every training day
    rest = [d for d in days if d not in runner.run_days]
    assert all(load[d] == 0 for d in rest if d > runner.run_days[0])  # a rest day shown by the morning reading
    assert all(np.isnan(load[d]) for d in rest if d < runner.run_days[0])  # before the first run: no load yet
    assert set(daily.columns["load_source"]) == {"trimp"}
    acwr = dict(zip(days, daily.columns["acwr"]))
    first_run = runner.run_days[0]
    with_ratio = [d for d in days if np.isfinite(acwr[d])]
    assert with_ratio[0] == first_run + dt.timedelta(days=27)  # the 28th day of data


def test_a_tripled_load_is_flagged_within_three_days(runner: Runner, capsys) -> None:
    _cli_json(capsys, "analyze", "--store", runner.url, "--json")
    store = SQLiteStore(runner.store_path)
    try:
        flags = store.read("flag", ATHLETE, ["value"], day_start_ms(FIRST), with_tags=["family", "signal"])
    finally:
        store.close()
    load_days = sorted({t for t, fam in zip(flags.time_ms, flags.columns["family"]) if fam == "load"})
    assert load_days and min(load_days) >= day_start_ms(ONSET)  # no load flag before the spike
    assert min(load_days) <= day_start_ms(ONSET + dt.timedelta(days=3))


def test_report_as_of_draws_the_whole_history_with_the_recommendation(runner: Runner, tmp_path, capsys) -> None:
    _cli_json(capsys, "analyze", "--store", runner.url, "--json")
    as_of = TODAY - dt.timedelta(days=1)
    out = tmp_path / "report.html"
    assert (
        main(["report", "--athlete", ATHLETE, "--as-of", as_of.isoformat(), "--out", str(out), "--store", runner.url])
        == 0
    )
    html = out.read_text()
    assert f"{FIRST.isoformat()} to {as_of.isoformat()}" in html  # the period covers the whole history
    assert "no analysis" not in html
    assert f"Preventive IDN visit recommended on {as_of.isoformat()}" in html
    assert re.search(r"<li>act: hrv_suppressed — 7-day mean ln rMSSD", html)  # the reasons of the recommendation
    assert "<title>load_surge (watch)</title>" in html  # the load flag in the plots and the flags timeline
    assert "HRmax" in html and "estimated" in html


def test_setting_the_profile_recomputes_past_loads(runner: Runner, capsys) -> None:
    store = SQLiteStore(runner.store_path)
    first = runner.run_days[0]
    window = (day_start_ms(first), day_start_ms(first) + DAY_MS)
    try:
        _cli_json(capsys, "analyze", "--store", runner.url, "--json")
        before = float(store.read("daily", ATHLETE, ["daily_load"], *window).columns["daily_load"][0])
        assert main(["athlete", "set", ATHLETE, "--hr-max", "176", "--sex", "female", "--store", runner.url]) == 0
        _cli_json(capsys, "analyze", "--store", runner.url, "--json")
        after = float(store.read("daily", ATHLETE, ["daily_load"], *window).columns["daily_load"][0])
        trimp = float(store.read("session", ATHLETE, ["trimp"], *window).columns["trimp"][0])
    finally:
        store.close()
    assert after == trimp and after > before  # a lower HRmax puts the same HR higher in the reserve
