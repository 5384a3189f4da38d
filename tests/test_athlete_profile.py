"""`recovery-monitor athlete set|show`: the stored profile, its checks, the estimates and the recomputed loads."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from fit_tool_writer import write_run_fit

from ingest.store import open_store
from ingest.store.base import PointBatch
from monitor import hr_profile as hp
from monitor.cli.main import main

DAY_MS = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def profile_points(url: str, athlete: str) -> int:
    store = open_store(url)
    try:
        return store.count("profile", athlete)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hr-max", "120", "--hr-rest", "120"], "HRmax 120 bpm must be above HRrest 120 bpm"),
        (["--hr-max", "110", "--hr-rest", "115"], "HRmax 110 bpm must be above HRrest 115 bpm"),
        (["--hr-max", "99.9"], "HRmax 99.9 bpm is outside 100-230 bpm"),
        (["--hr-max", "231"], "HRmax 231 bpm is outside 100-230 bpm"),
        (["--hr-rest", "24"], "HRrest 24 bpm is outside 25-120 bpm"),
        (["--hr-rest", "121"], "HRrest 121 bpm is outside 25-120 bpm"),
        (["--hr-max", "nan"], "--hr-max 'nan' is not a number of beats per minute"),
        (["--hr-rest", "fast"], "--hr-rest 'fast' is not a number of beats per minute"),
        (["--sex", "other"], "--sex 'other': use female or male"),
        ([], "give at least one of --hr-max, --hr-rest, --sex"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(capsys, url, args, message):
    code, out, err = run(capsys, "athlete", "set", "A1", *args, "--store", url)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("recovery-monitor: error: ") and message in err
    assert profile_points(url, "A1") == 0


@pytest.mark.parametrize(("hr_max", "hr_rest"), [("100", "25"), ("230", "120"), ("121", "120")])
def test_range_edges_are_accepted(capsys, url, hr_max, hr_rest):
    code, out, _ = run(
        capsys, "athlete", "set", "A1", "--hr-max", hr_max, "--hr-rest", hr_rest, "--store", url, "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["hr_max_bpm"]["value"] == float(hr_max) and doc["hr_rest_bpm"]["value"] == float(hr_rest)


def test_setting_one_value_keeps_the_others_and_latest_wins(capsys, url):
    assert run(capsys, "athlete", "set", "A1", "--hr-max", "188", "--sex", "Female", "--store", url)[0] == 0
    assert run(capsys, "athlete", "set", "A1", "--hr-rest", "44", "--store", url)[0] == 0
    # a later HRrest above the stored HRmax is refused against the merged profile
    code, _, err = run(capsys, "athlete", "set", "A1", "--hr-max", "130", "--hr-rest", "131", "--store", url)
    assert code == 2 and "nothing was changed" in err
    code, out, _ = run(capsys, "athlete", "show", "A1", "--store", url, "--json")
    doc = json.loads(out)
    assert code == 0 and profile_points(url, "A1") == 2
    assert (doc["hr_max_bpm"]["value"], doc["hr_max_bpm"]["status"]) == (188.0, "set")
    assert (doc["hr_rest_bpm"]["value"], doc["hr_rest_bpm"]["status"]) == (44.0, "set")
    assert (doc["sex"]["value"], doc["sex"]["status"]) == ("female", "set")
    assert doc["trimp_coefficients"] == {"a": 0.86, "b": 1.67} and doc["usable"] is True


def test_show_unknown_athlete_is_an_error(capsys, url):
    code, out, err = run(capsys, "athlete", "show", "nobody", "--store", url)
    assert code == 2 and out == "" and "athlete 'nobody' has no data" in err


def test_estimate_hr_rest_median_of_first_reading_per_day_in_90_days():
    days = np.arange(100)
    t = T0 + days * DAY_MS + 6 * 3_600_000
    hr = np.where(days < 10, 80.0, 50.0 + (days % 3))  # days 0-9 fall outside the 90 days ending on day 99
    t = np.r_[t, t[-1] + 3_600_000]  # a second reading on the last day is not a morning
    hr = np.r_[hr, 99.0]
    assert hp.estimate_hr_rest(t, hr) == (51.0, 90)
    assert hp.estimate_hr_rest(t[:2], hr[:2]) == (None, 2)  # fewer than 3 mornings
    assert hp.estimate_hr_rest(t[:3], hr[:3]) == (80.0, 3)
    assert hp.estimate_hr_rest(np.array([T0, T0 + DAY_MS, T0 + 2 * DAY_MS]), np.array([50.0, 51.5, 60.0])) == (
        52.0,
        3,
    )  # median 51.5 rounds to 52 (half to even)


def test_resolve_profile_statuses():
    stored = hp.StoredProfile()
    p = hp.resolve_profile("A", stored, float("nan"), 0, 0.0, (None, 1))
    assert p.hr_max.status == hp.UNAVAILABLE and p.problem and "HRmax unavailable" in p.problem
    assert (p.hr_rest.value, p.hr_rest.status) == (hp.HR_REST_DEFAULT_BPM, hp.DEFAULT)
    assert p.coefficients == "unspecified"
    p = hp.resolve_profile("A", stored, 99.4, 3, 1.5, (48.0, 30))  # rounds to 99: below 100, not used
    assert p.hr_max.value is None and "99 bpm, outside 100-230 bpm" in p.hr_max.detail
    p = hp.resolve_profile("A", stored, 99.5, 3, 1.5, (48.0, 30))  # rounds to 100: the edge is used
    assert (p.hr_max.value, p.hr_max.status, p.hr_rest.status) == (100.0, hp.ESTIMATED, hp.ESTIMATED)
    assert "3 sessions (1.5 h of HR)" in p.hr_max.detail and "30 mornings" in p.hr_rest.detail
    p = hp.resolve_profile("A", hp.StoredProfile(150.0, None, "male"), 190.0, 3, 1.5, (48.0, 30))
    assert p.hr_max.status == hp.SET and p.coefficients == "male" and p.problem is None


def test_set_recomputes_the_loads_of_an_imported_run(capsys, url, tmp_path):
    hr = np.r_[np.full(600, 150.0), np.full(60, 180.0)]
    path = write_run_fit(tmp_path / "run.fit", dt.datetime(2026, 1, 5, 7, tzinfo=dt.UTC), hr)
    assert run(capsys, "import", str(path), "--athlete", "A1", "--store", url, "--json")[0] == 0
    store = open_store(url)
    start = int(dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timestamp() * 1000)
    mornings = {"mean_hr_bpm": np.array([50.0, 52.0, 54.0])}
    store.write([PointBatch("readiness", {"athlete": "A1"}, start + DAY_MS * np.arange(3), mornings)])
    store.close()
    code, out, _ = run(capsys, "athlete", "show", "A1", "--store", url, "--json")
    doc = json.loads(out)
    assert (doc["hr_max_bpm"]["value"], doc["hr_max_bpm"]["status"]) == (180.0, "estimated")
    assert (doc["hr_rest_bpm"]["value"], doc["hr_rest_bpm"]["status"]) == (52.0, "estimated")
    assert doc["sex"] == {"value": None, "status": "default", "detail": doc["sex"]["detail"]}
    code, out, _ = run(capsys, "athlete", "set", "A1", "--sex", "male", "--store", url, "--json")
    doc = json.loads(out)
    expected = {"updated": 1, "unchanged": 0, "without_hr": 0, "kept": 0, "no_profile": 0}
    no_ble = {"sessions_found": 0, "sessions_grown": 0, "sessions_superseded": 0}
    assert code == 0 and doc["sessions"] == expected | no_ble
    store = open_store(url)
    trimp = store.read("session", "A1", ["trimp"]).columns["trimp"][0]
    store.close()
    x = (150 - 52) / (180 - 52)  # 600 samples at 150 bpm stand for 1 s each, 59 of the 60 at 180 bpm (= HRmax)
    assert trimp == pytest.approx((600 * x * 0.64 * np.exp(1.92 * x) + 59 * 0.64 * np.exp(1.92)) / 60)
    code, out, _ = run(capsys, "athlete", "set", "A1", "--sex", "male", "--store", url, "--json")
    assert json.loads(out)["sessions"]["updated"] == 0  # same profile: nothing recomputed
    code, out, _ = run(capsys, "athlete", "show", "A1", "--store", url)
    assert "estimated" in out and "set" in out and "nan" not in out.lower() and "None" not in out
    code, out, _ = run(capsys, "analyze", "--store", url, "--as-of", "2026-01-05", "--json")
    indicators = json.loads(out)["athletes"][0]["indicators"]
    assert code == 0 and indicators["load_source"] == "trimp"
    assert indicators["daily_load"] == pytest.approx(trimp, abs=1e-3)  # the watch-only day's load is its TRIMP
