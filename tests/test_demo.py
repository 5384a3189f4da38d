"""End to end: `recovery-monitor demo` streams a squad over virtual BLE into each store and flags readiness."""

from __future__ import annotations

import datetime as dt
import io
import json

import httpx
import pytest
from rich.console import Console

from ingest.store.sqlite import SQLiteStore
from ingest.timeline import day_start_ms, iso_utc
from ingest.visits import read_visits
from monitor.cli.demo import LIVE_MEASUREMENTS
from monitor.cli.demo_squad import EXPECTED_SIGNALS, TREATED, VISIT_DAYS_BEFORE_TODAY
from monitor.cli.demo_visit import print_visits
from monitor.cli.main import main


def run_demo(capsys, *args: str) -> dict:
    assert main(["demo", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def check_acceptance(report: dict) -> None:
    conditions = {a["simulated_condition"] for a in report["athletes"]}
    assert {"healthy", "hrv_suppressed"} <= conditions
    for athlete in report["athletes"]:
        assert athlete["ble_samples_sent"] > 3000
        assert athlete["samples_stored"] == athlete["ble_samples_sent"], athlete["athlete"]
        assert athlete["malformed_rejected"] == 1
        signals = [f["signal"] for f in athlete["flags"]]
        condition = athlete["simulated_condition"]
        if condition == TREATED:
            check_visit(report, athlete["athlete"])
            continue
        if condition == "healthy":
            assert signals == [], athlete
            assert athlete["recommend_idn_visit"] is False
            continue
        raised = [s for s in EXPECTED_SIGNALS[condition] if s in signals]
        assert raised, athlete
        flag = athlete["flags"][signals.index(raised[0])]
        if flag["signal"] == "asymmetry_shift":
            assert "ground-contact" in flag["reason"].lower(), flag
        assert set(flag) >= {"signal", "family", "severity", "since", "value", "threshold", "reason"}
        assert flag["since"] <= report["as_of"] and flag["reason"]
        if condition == "hrv_suppressed":
            assert flag["value"] < flag["threshold"] and "normal range" in flag["reason"]
            assert flag["severity"] == "act" and athlete["recommend_idn_visit"] is True


def check_visit(report: dict, athlete: str) -> None:
    """The treated athlete's visit: after its act flag, 9 days before the demo's day, the quiet period the 24 h
    after it, and a complete response with local and systemic improvement (its calf asymmetry and HRV drop fade)."""
    (visit,) = [v for v in report["visits"] if v["athlete"] == athlete]
    visit_day = dt.date.fromisoformat(report["as_of"]) - dt.timedelta(days=VISIT_DAYS_BEFORE_TODAY)
    at_ms = day_start_ms(visit_day) + 12 * 3_600_000
    assert visit["at"] == iso_utc(at_ms) and visit["quiet_until"] == iso_utc(at_ms + 24 * 3_600_000)
    assert visit["regions"] == ["calf_l", "calf_r"] and visit["therapist"] == "T1"
    assert {"signal": "asymmetry_muscle", "severity": "act"} in visit["flags_on_visit_day"]
    assert visit["complete"] is True
    verdicts = {level: result["verdict"] for level, result in visit["levels"].items()}
    # segmental: the treated athlete runs and rides, so neither window holds 3 days of GCT or pedal balance
    assert verdicts == {"local": "improved", "segmental": "insufficient data", "systemic": "improved"}
    for level in ("local", "systemic"):
        low, high = visit["levels"][level]["ci95_sd"]
        assert 0 < low < visit["levels"][level]["improvement_sd"] < high


def test_demo_with_the_embedded_store(tmp_path, capsys):
    report = run_demo(capsys, "--store", f"sqlite:///{tmp_path}/demo.sqlite")
    assert len(report["athletes"]) == 6 and report["days"] == 42
    assert {a["simulated_condition"] for a in report["athletes"]} == set(EXPECTED_SIGNALS) | {"healthy", TREATED}
    check_acceptance(report)
    assert [v["athlete"] for v in report["visits"]] == ["demo-05"]
    assert (
        report["next_commands"][3]
        == f"recovery-monitor response --athlete demo-05 --store sqlite:///{tmp_path}/demo.sqlite"
    )
    console = Console(file=io.StringIO(), width=300)
    print_visits(report["visits"], console)  # the table the demo prints without --json
    table = console.file.getvalue()
    visit = report["visits"][0]
    assert visit["visit_id"] in table and "calf_l, calf_r" in table and "asymmetry_muscle act" in table
    assert visit["quiet_until"].replace("T", " ")[:16] in table and "insufficient data" in table
    assert "improved" in table and f"{visit['levels']['local']['improvement_sd']:+.2f} SD" in table
    store = SQLiteStore(tmp_path / "demo.sqlite")
    try:  # the visit and its response per level are stored, as `visit add` and `response` store them
        (visit,) = read_visits(store)
        assert visit.visit_id == report["visits"][0]["visit_id"]
        levels = store.read("visit_response", "demo-05", ["verdict"], with_tags=["level", "visit_id"])
        assert sorted(levels.columns["level"]) == ["local", "segmental", "systemic"]
        assert set(levels.columns["visit_id"]) == {visit.visit_id} and (levels.time_ms == visit.at_ms).all()
    finally:
        store.close()


def test_demo_twice_with_the_same_seed_stores_nothing_twice(tmp_path, capsys):
    store = f"sqlite:///{tmp_path}/demo.sqlite"
    run_demo(capsys, "--store", store, "--athletes", "2", "--days", "42", "--seed", "3")
    second = run_demo(capsys, "--store", store, "--athletes", "2", "--days", "42", "--seed", "3")
    check_acceptance(second)  # the first run's points neither linger nor count twice


@pytest.mark.influx
def test_demo_with_a_real_influxd(influxd, capsys):
    report = run_demo(capsys, "--store", f"influxdb+{influxd.http_url}/recovery")
    check_acceptance(report)
    for athlete in report["athletes"]:
        counts = 0  # everything streamed over BLE carries source=ble; the simulated history does not
        for measurement in LIVE_MEASUREMENTS:
            q = (
                f'SELECT count(*) FROM "{measurement}" WHERE "athlete" = \'{athlete["athlete"]}\' '
                f"AND \"source\" = 'ble'"
            )
            body = httpx.get(f"{influxd.http_url}/query", params={"db": "recovery", "q": q}).json()
            for series in body["results"][0].get("series", []):  # the demo's kit has no power meter or ACC
                counts += max(v for v in series["values"][0][1:] if v is not None)
        assert counts == athlete["samples_stored"]


def test_demo_prints_a_readable_table(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/demo.sqlite"
    assert main(["demo", "--athletes", "2", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "IDN visit" in out and "hrv_suppressed act since" in out and "2 athletes, 42 days" in out
    assert "Visits (IDN)" not in out  # a squad of 2 has no treated athlete
    assert f"The demo athletes (demo-01…) are in {url}. Next, try:\n  recovery-monitor analyze --store {url}\n" in out
    store = SQLiteStore(tmp_path / "demo.sqlite")
    try:  # the whole simulated history is analysed, so the report draws it (not one day of indicators)
        for athlete in ("demo-01", "demo-02"):
            sessions = store.read("session", athlete, ["duration_s"]).time_ms[0]
            checkins = store.read("wellness", athlete, ["hooper_index"]).time_ms[0]
            first = min(sessions, checkins) // 86_400_000  # from the first day with data the analysis uses
            today = store.read("daily", athlete, ["recommend_idn_visit"]).time_ms[-1] // 86_400_000
            assert store.count("daily", athlete) == today - first + 1 >= 42
    finally:
        store.close()
