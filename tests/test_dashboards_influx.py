"""Every dashboard query runs against a real influxd: data after `demo`, and data once the later fields exist."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from dashboard_data import future_batches

from dashboards import alerting, catalog
from dashboards.catalog import PanelQuery
from dashboards.flag_source import episodes, read_flags
from dashboards.report import build_report, load_report_data
from dashboards.visit_terms import QUIET_MS
from ingest.store.influx import InfluxStore
from ingest.timeline import DAY_MS
from ingest.visits import new_visit, remove_visit, write_visits
from monitor.cli.demo_squad import TREATED
from monitor.cli.main import main

pytestmark = pytest.mark.influx

DEMO_DB = "dashboards_demo"
FUTURE_DB = "dashboards_future"
FUTURE_ATHLETE = "F01"

VISIT_QUERIES = {
    "recovery-athlete / annotation: Visits (IDN) / -",
    "recovery-athlete / After-care until / A",
    "recovery-athlete / Treatment response / A",
    "recovery-squad / Squad / G",
    "recovery-athlete / annotation: Flags after a visit (muted) / -",
}
"""The queries on `visit` and `visit_response`, and the flags muted after a visit: run for the demo's treated
athlete."""
QUIET_QUERIES = {"recovery-athlete / After-care until / A", "recovery-squad / Squad / G"}
"""Visits less than 24 h before the range's end (`${__to}`): the demo's visit is 9 days old, so nothing at now;
test_visit_queries_in_the_quiet_period runs them at the end of a range inside its quiet period."""
EXPECTED_EMPTY_AFTER_DEMO: set[str] = QUIET_QUERIES
"""Queries that return nothing after `demo`; the test fails when one starts returning data."""

LATER_ISSUE_QUERIES = {
    "recovery-squad / Prevention visits recommended / A",
    "recovery-squad / Squad / D",
    "recovery-squad / Squad / E",
    "recovery-squad / Squad / F",
    "recovery-athlete / ACWR / A",
    "recovery-athlete / Form (TSB) / A",
    "recovery-athlete / Prevention visit / A",
    "recovery-athlete / Daily load and ACWR / A",
    "recovery-athlete / Daily load and ACWR / B",
    "recovery-athlete / Daily load and ACWR / C",
    "recovery-athlete / Fitness, fatigue and form (CTL / ATL / TSB) / A",
    "recovery-athlete / Resting heart rate / B",
    "recovery-athlete / Symmetry index / A",
    "recovery-athlete / Symmetry index / B",
    "recovery-athlete / Symmetry index / C",
    "recovery-athlete / Symmetry index / D",
    "recovery-squad / Athletes to watch / A",
    "recovery-squad / Squad / C",
    "recovery-live / Cadence now / A",
    "recovery-live / Ground contact now / A",
    "recovery-live / Muscle load now / A",
    "recovery-live / Cadence / A",
    "recovery-live / Cadence / B",
    "recovery-live / Ground-contact time, left and right / A",
    "recovery-live / Ground-contact time, left and right / B",
    "recovery-live / Muscle load, left and right / A",
    "recovery-live / Muscle load, left and right / B",
    "recovery-live / Live symmetry index / A",
    "recovery-live / Live symmetry index / B",
    "recovery-live / Live symmetry index / C",
    "recovery-live / Live symmetry index / D",
    "recovery-live / Live symmetry index / E",
    "recovery-gateway / Devices connected / A",
    "recovery-gateway / Spool depth now / A",
    "recovery-gateway / Ingest lag now / A",
    "recovery-gateway / Reconnects in range / A",
    "recovery-gateway / Devices / A",
    "recovery-gateway / Device states / A",
    "recovery-gateway / Reconnects / A",
    "recovery-gateway / Spool depth / A",
    "recovery-gateway / Ingest lag / A",
    "recovery-gateway / $gateway / -",
}
"""Queries on the fields of the analytics, gateway and live-stream data, also checked on synthetic points."""


def substitute(query: str, athlete: str, to_ms: int | None = None) -> str:
    """Grafana's template variables as the tests bind them; the range ends now, or at ``to_ms``."""
    to = str(int(time.time() * 1000) if to_ms is None else to_ms)
    for name, value in (("$timeFilter", "time > now() - 90d"), ("$__interval", "1h"), ("$gateway", ".*")):
        query = query.replace(name, value)
    return query.replace("${__to}", to).replace("$athlete", athlete)


def rows_of(url: str, database: str, query: str) -> list[dict]:
    """The rows one InfluxQL statement returns, as column → value (tags of GROUP BY included); fails on errors."""
    response = httpx.post(f"{url}/query", params={"db": database, "epoch": "ms"}, data={"q": query}, timeout=30)
    response.raise_for_status()
    result = response.json()["results"][0]
    assert "error" not in result, f"{query}\n→ {result['error']}"
    return [
        {**series.get("tags", {}), **dict(zip(series["columns"], values))}
        for series in result.get("series", [])
        for values in series["values"]
    ]


def run_query(url: str, database: str, query: str) -> int:
    """Rows returned by one InfluxQL statement; fails on any query error."""
    response = httpx.post(f"{url}/query", params={"db": database, "epoch": "ms"}, data={"q": query}, timeout=30)
    response.raise_for_status()
    body = response.json()
    result = body["results"][0]
    assert "error" not in result and "error" not in body, f"{query}\n→ {result.get('error') or body.get('error')}"
    return sum(len(series.get("values") or []) for series in result.get("series", []))


def all_queries() -> list[PanelQuery]:
    return [q for data in catalog.build_all().values() for q in catalog.iter_queries(data)]


@pytest.fixture(scope="module")
def demo(influxd) -> Iterator[dict]:
    """`demo` into a database of its own; yields its JSON report."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--store", f"influxdb+{influxd.http_url}/{DEMO_DB}", "--json"]) == 0
    yield json.loads(out.getvalue())
    influxd.query(f'DROP DATABASE "{DEMO_DB}"')


@pytest.fixture(scope="module")
def future(influxd) -> Iterator[str]:
    """A database holding the fields later issues add (see tests/dashboard_data.py)."""
    store = InfluxStore(influxd.http_url, FUTURE_DB)
    store.connect()
    today = dt.datetime.now(dt.UTC).date()
    store.write(future_batches(FUTURE_ATHLETE, today, int(time.time() * 1000)))
    store.close()
    yield FUTURE_DB
    influxd.query(f'DROP DATABASE "{FUTURE_DB}"')


def flagged_athlete(report: dict) -> str:
    return next(a["athlete"] for a in report["athletes"] if a["flags"])


def treated_athlete(report: dict) -> str:
    return next(a["athlete"] for a in report["athletes"] if a["simulated_condition"] == TREATED)


def query_by_key(key: str) -> str:
    return next(q.query for q in all_queries() if q.key == key)


def test_every_panel_query_returns_data_after_demo(influxd, demo):
    flagged, treated = flagged_athlete(demo), treated_athlete(demo)
    queries = all_queries()
    keys = [q.key for q in queries]
    assert len(keys) == len(set(keys)), "panel titles must be unique within a dashboard"
    assert set(keys) >= EXPECTED_EMPTY_AFTER_DEMO | VISIT_QUERIES, (EXPECTED_EMPTY_AFTER_DEMO | VISIT_QUERIES) - set(
        keys
    )
    empty, filled = [], []
    for query in queries:
        athlete = treated if query.key in VISIT_QUERIES else flagged
        rows = run_query(influxd.http_url, DEMO_DB, substitute(query.query, athlete))
        if query.key in EXPECTED_EMPTY_AFTER_DEMO:
            if rows:
                filled.append(query.key)
        elif not rows:
            empty.append(f"{query.key}: {query.query}")
    assert not empty, "queries without data after demo:\n" + "\n".join(empty)
    assert not filled, "these now return data: remove them from EXPECTED_EMPTY_AFTER_DEMO:\n" + "\n".join(filled)


def test_later_issue_queries_return_data_on_synthetic_points(influxd, future):
    """The load, asymmetry, live and gateway queries also work on synthetic points of the documented fields."""
    assert {q.key for q in all_queries()} >= LATER_ISSUE_QUERIES
    empty = [
        f"{q.key}: {q.query}"
        for q in all_queries()
        if q.key in LATER_ISSUE_QUERIES and not run_query(influxd.http_url, future, substitute(q.query, FUTURE_ATHLETE))
    ]
    assert not empty, "queries without data on the full data model:\n" + "\n".join(empty)


def test_alert_query_gives_one_series_per_flagged_athlete(influxd, demo):
    response = httpx.post(
        f"{influxd.http_url}/query", params={"db": DEMO_DB}, data={"q": alerting.FLAG_QUERY}, timeout=30
    ).json()
    series = response["results"][0]["series"]
    flagged = {a["athlete"] for a in demo["athletes"] if any(f["severity"] == "act" for f in a["flags"])}
    assert {s["tags"]["athlete"] for s in series} == flagged
    assert all(s["values"][0][1] >= 1 for s in series)


def test_flags_and_report_read_from_influx(influxd, demo, tmp_path):
    athlete = flagged_athlete(demo)
    store = InfluxStore(influxd.http_url, DEMO_DB)
    try:
        flags = read_flags(store)
        assert {f.athlete for f in flags} == {a["athlete"] for a in demo["athletes"] if a["flags"]}
        assert all(f.family and f.signal and f.severity and f.reason for f in flags)
        runs = episodes(flags)
        assert {(e.athlete, e.signal) for e in runs} == {(f.athlete, f.signal) for f in flags}
        data = load_report_data(store, athlete, dt.datetime.now(dt.UTC).date(), 90)
    finally:
        store.close()
    html = build_report(data)
    assert html.count("<svg") == 9  # five charts, two wellness charts, the body map and the flags timeline
    assert "hrv_suppressed" in html and "no data yet" not in html  # every chart has data after the demo
    assert html.count("<circle") > 40  # ~42 mornings of ln rMSSD and morning HR each


def test_visit_queries_return_the_demo_visit(influxd, demo):
    """The visit annotation and the treatment-response table hold the demo's visit and its response per level."""
    athlete = treated_athlete(demo)
    (visit,) = demo["visits"]
    at_ms = int(dt.datetime.fromisoformat(visit["at"]).timestamp() * 1000)
    url = influxd.http_url
    (marker,) = rows_of(
        url, DEMO_DB, substitute(query_by_key("recovery-athlete / annotation: Visits (IDN) / -"), athlete)
    )
    assert marker == {"time": at_ms, "regions": "calf_l,calf_r", "visit_id": visit["visit_id"], "therapist": "T1"}
    table = rows_of(url, DEMO_DB, substitute(query_by_key("recovery-athlete / Treatment response / A"), athlete))
    assert {row["level"]: row["verdict"] for row in table} == {k: v["verdict"] for k, v in visit["levels"].items()}
    for row in table:
        assert row["time"] == at_ms and row["visit"] == visit["visit_id"]
        level = visit["levels"][row["level"]]
        shown = [row["change (SD)"], row["95 % low (SD)"], row["95 % high (SD)"]]
        if level["improvement_sd"] is None:  # insufficient data: no values stored
            assert shown == [None, None, None]
        else:
            assert shown == pytest.approx([level["improvement_sd"], *level["ci95_sd"]], abs=1e-3)
    assert {row["level"] for row in table if row["change (SD)"] is not None} == {"local", "systemic"}
    assert (
        run_query(url, DEMO_DB, substitute(query_by_key("recovery-athlete / Treatment response / A"), "demo-02")) == 0
    )


def quiet_rows(url: str, database: str, key: str, athlete: str, to_ms: int) -> list[dict]:
    return rows_of(url, database, substitute(query_by_key(key), athlete, to_ms))


def test_visit_queries_in_the_quiet_period(influxd, demo):
    """The after-care stat and the squad's quiet state hold the visit while the range ends less than 24 h after it:
    Grafana adds 24 h to its time (the quiet period's end)."""
    athlete = treated_athlete(demo)
    at_ms = int(dt.datetime.fromisoformat(demo["visits"][0]["at"]).timestamp() * 1000)
    stat, squad = "recovery-athlete / After-care until / A", "recovery-squad / Squad / G"
    for to_ms, expected in ((at_ms - 1, 0), (at_ms, 1), (at_ms + QUIET_MS - 1, 1), (at_ms + QUIET_MS, 0)):
        rows = quiet_rows(influxd.http_url, DEMO_DB, stat, athlete, to_ms)
        assert [r["time"] for r in rows] == [at_ms] * expected, to_ms - at_ms
        assert all(r["regions"] == "calf_l,calf_r" for r in rows)
        everyone = quiet_rows(influxd.http_url, DEMO_DB, squad, ".*", to_ms)  # the `All` selection
        assert [(r["athlete"], r["time"], r["treated regions"]) for r in everyone] == [
            (athlete, at_ms, "calf_l,calf_r")
        ] * expected
    assert quiet_rows(influxd.http_url, DEMO_DB, stat, "demo-02", at_ms + 1) == []


def test_removed_visits_are_left_out(influxd):
    """`visit remove` marks a visit removed; no visit query shows it. The quiet state shows the last visit kept."""
    database = "dashboards_visits"
    store = InfluxStore(influxd.http_url, database)
    store.connect()
    now_ms = int(time.time() * 1000) // 1000 * 1000
    try:
        kept = new_visit("V01", now_ms - 6 * 3_600_000, "hamstring_r", therapist="T2", now_ms=now_ms)
        removed = new_visit("V01", now_ms - 3_600_000, "lumbar", now_ms=now_ms)
        other = new_visit("V02", now_ms - 2 * DAY_MS, "calf_l", now_ms=now_ms)
        write_visits(store, [kept, removed, other])
        remove_visit(store, removed.visit_id)
    finally:
        store.close()
    try:
        url = influxd.http_url
        marks = rows_of(
            url, database, substitute(query_by_key("recovery-athlete / annotation: Visits (IDN) / -"), "V01")
        )
        assert [m["visit_id"] for m in marks] == [kept.visit_id]
        (stat,) = quiet_rows(url, database, "recovery-athlete / After-care until / A", "V01", now_ms)
        assert stat["time"] == kept.at_ms and stat["regions"] == "hamstring_r"
        squad = quiet_rows(url, database, "recovery-squad / Squad / G", ".*", now_ms)
        assert [(r["athlete"], r["time"]) for r in squad] == [("V01", kept.at_ms)]  # V02's visit is 2 days old
    finally:
        influxd.query(f'DROP DATABASE "{database}"')
