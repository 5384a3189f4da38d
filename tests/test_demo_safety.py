"""The demo and `ingest --virtual` never touch a real athlete's data, in either store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_athlete_data import raw_points

from ingest.store import default_store_url
from ingest.store.base import PointBatch, Store
from ingest.store.sqlite import SQLiteStore
from ingest.virtual.ownership import MARKER_MEASUREMENT
from monitor.cli.demo import demo_store_url
from monitor.cli.main import main

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DEMO = ("--athletes", "2", "--days", "35", "--json")


def real_athlete(athlete: str) -> list[PointBatch]:
    """What a user's watch history looks like: three sessions and a morning of RR intervals."""
    day = 86_400_000
    return [
        PointBatch(
            "session",
            {"athlete": athlete, "sport": "run", "source": "fit"},
            T0 + day * np.arange(3, dtype=np.int64),
            {"duration_s": np.array([3600.0, 2700.0, 1800.0]), "avg_hr_bpm": np.array([150.0, 142.0, 160.0])},
        ),
        PointBatch(
            "rr",
            {"athlete": athlete, "device": "H10", "source": "file"},
            T0 + np.array([0, 1000, 2010, 2990], np.int64),
            {"rr_ms": np.array([1000.0, 1010.0, 980.0, 995.0])},
        ),
    ]


def of(athlete: str, points: set[tuple]) -> set[tuple]:
    return {p for p in points if ("athlete", athlete) in p[1]}


def sqlite_at(url: str) -> SQLiteStore:
    return SQLiteStore(url.removeprefix("sqlite:///"), url=url)


def test_the_demo_writes_its_own_store_and_leaves_a_real_a01_alone(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("RECOVERY_STORE", raising=False)
    demo_url = demo_store_url()
    assert demo_url == f"sqlite:///{tmp_path}/data/recovery-monitor/demo.sqlite"
    users, demos = sqlite_at(default_store_url()), sqlite_at(demo_url)
    users.write(real_athlete("A01"))
    demos.write(real_athlete("A01"))  # even an A01 inside the demo's own store is not the demo's
    user_points, demo_before = raw_points(users), raw_points(demos)
    assert len(of("A01", user_points)) == 3 * 2 + 4

    assert main(["demo", *DEMO]) == 0
    report = json.loads(capsys.readouterr().out)

    assert report["store"] == demo_url
    assert [a["athlete"] for a in report["athletes"]] == ["demo-01", "demo-02"]
    assert raw_points(users) == user_points
    after = raw_points(demos)
    assert of("A01", after) == of("A01", demo_before)
    assert demos.list_athletes(MARKER_MEASUREMENT) == ["demo-01", "demo-02"]
    assert demos.list_athletes() == ["A01", "demo-01", "demo-02"]
    store_option = f"--store {demo_url}"
    assert report["next_commands"][:3] == [
        f"recovery-monitor analyze {store_option}",
        f"recovery-monitor report --athlete demo-02 --out demo-02.html {store_option}",
        f"recovery-monitor athlete list {store_option}",
    ]


def test_next_commands_name_the_store_only_when_it_is_not_the_default(tmp_path: Path, monkeypatch) -> None:
    from monitor.cli.demo import next_commands

    monkeypatch.setenv("RECOVERY_STORE", f"sqlite:///{tmp_path}/mine.sqlite")
    assert next_commands(f"sqlite:///{tmp_path}/mine.sqlite", ["demo-01"])[0] == "recovery-monitor analyze"
    url = "influxdb+http://127.0.0.1:8086/recovery"
    commands = next_commands(url, ["demo-01", "demo-02"])
    assert commands[0] == f"recovery-monitor analyze --store {url}"
    assert commands[3].endswith(f"dashboards publish --grafana-url http://127.0.0.1:3000 --store {url}")


def unmarked_demo_id_is_refused(store: Store, url: str, capsys) -> None:
    store.write(real_athlete("demo-02"))
    before = raw_points(store)
    code = main(["demo", *DEMO, "--store", url])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        f"recovery-monitor: error: demo: athlete 'demo-02' in {url} holds data that no simulation created; nothing "
        "was written (use a store of its own with --store, or other athlete IDs)\n"
    )
    assert raw_points(store) == before


def test_the_demo_refuses_a_real_athlete_with_a_demo_id(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    unmarked_demo_id_is_refused(sqlite_at(url), url, capsys)


def test_ingest_virtual_refuses_to_reset_a_real_sim_01(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    store = sqlite_at(url)
    store.write(real_athlete("sim-01"))
    before = raw_points(store)
    code = main(["ingest", "--virtual", "--athletes", "1", "--duration", "1", "--store", url])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("recovery-monitor: error: ingest --virtual: athlete 'sim-01' in") and err.count("\n") == 1
    assert raw_points(store) == before


@pytest.mark.influx
def test_the_demo_on_influxdb_leaves_a_real_a01_alone_and_refuses_unmarked_ids(influx_store, capsys) -> None:
    influx_store.write(real_athlete("A01"))
    before = raw_points(influx_store)
    assert main(["demo", *DEMO, "--store", influx_store.url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [a["athlete"] for a in report["athletes"]] == ["demo-01", "demo-02"]
    after = raw_points(influx_store)
    assert of("A01", after) == of("A01", before) and len(of("A01", before)) == 10
    assert influx_store.list_athletes(MARKER_MEASUREMENT) == ["demo-01", "demo-02"]
    influx_store.delete_athlete("demo-02")
    unmarked_demo_id_is_refused(influx_store, influx_store.url, capsys)
