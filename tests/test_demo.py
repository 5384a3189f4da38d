"""End to end: `recovery-monitor demo` streams a squad over virtual BLE into each store and flags readiness."""

from __future__ import annotations

import json

import httpx
import pytest

from ingest.store.sqlite import SQLiteStore
from monitor.cli.demo import LIVE_MEASUREMENTS
from monitor.cli.demo_squad import EXPECTED_SIGNALS
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


def test_demo_with_the_embedded_store(tmp_path, capsys):
    report = run_demo(capsys, "--store", f"sqlite:///{tmp_path}/demo.sqlite")
    assert len(report["athletes"]) == 6 and report["days"] == 42
    assert {a["simulated_condition"] for a in report["athletes"]} == set(EXPECTED_SIGNALS) | {"healthy"}
    check_acceptance(report)


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
    assert f"The demo athletes (demo-01…) are in {url}. Next, try:\n  recovery-monitor analyze --store {url}\n" in out
    store = SQLiteStore(tmp_path / "demo.sqlite")
    try:  # the whole simulated history is analysed, so the report draws it (not one day of indicators)
        for athlete in ("demo-01", "demo-02"):
            first = store.read("session", athlete, ["duration_s"]).time_ms[0] // 86_400_000
            today = store.read("daily", athlete, ["recommend_idn_visit"]).time_ms[-1] // 86_400_000
            assert store.count("daily", athlete) == today - first + 1 >= 42
    finally:
        store.close()
