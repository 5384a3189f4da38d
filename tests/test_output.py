"""Output for people and for machines: tables that never drop, cut or fold a column (narrow terminal, pipe),
`--csv`, no "nan"/"None" in reasons, reports or webhooks, `serve --once` exit code = JSON `ok`, `--version`,
malformed packets counted instead of logged as warnings, the live per-sensor view of `ingest`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
from importlib import metadata
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console
from shared_data import require_shared
from werkzeug import Request, Response

from ingest.gateway.config import DeviceSpec
from ingest.gateway.recorders import make_recorder
from ingest.gateway.session import DeviceState
from ingest.heart_rate_stream import HeartRateRecorder
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import NotificationClock, day_start_ms
from ingest.virtual.run_report import AthleteReport, GatewayReport, SensorReport, VirtualRunReport
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from monitor.cli import demo, ingest_cmd, scan, tables
from monitor.cli.analyze import CSV_INDICATORS, TABLE_COLUMNS
from monitor.cli.ingest_live import DeviceBoard, last_seen, live_console
from monitor.cli.main import main

WIDTHS = (40, 200)
NAN_OR_NONE = re.compile(r"\b(nan|NaN|None)\b")
AS_OF = dt.date(2026, 3, 31)


def assert_whole(out: str, words) -> None:
    """Every word appears unbroken (a folded header such as "athlet\\ne" or a cut "hrv_suppr…" fails)."""
    missing = [w for w in words if w not in out]
    assert not missing, f"missing or broken: {missing}\n{out}"
    assert "…" not in out, out


def fill(path, days: int, spike: bool = False, end: dt.date = AS_OF, athletes: int = 6) -> str:
    """A store with `days` days of simulated training ending on `end` (HRV drop on athlete 3; optional spike)."""
    h = simulate_training_history(
        athletes,
        days,
        np.random.default_rng(21),
        spike_day=days - 6 if spike else None,
        spike_factor=2.5,
        hrv_drop_day=[-1, -1, days - 6, -1, -1, -1][:athletes] if days > 60 else None,
    )
    store = SQLiteStore(path)
    store.write(training_history_batches(h, day_start_ms(end - dt.timedelta(days=days - 1))))
    store.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def squad_url(tmp_path_factory):
    return fill(tmp_path_factory.mktemp("squad") / "s.sqlite", 160)


@pytest.fixture(scope="module")
def young_url(tmp_path_factory):
    """One athlete with 38 days of load and a recent spike: ACWR flags, CTL (42 days) not yet available."""
    return fill(tmp_path_factory.mktemp("young") / "y.sqlite", 38, spike=True, athletes=1)


# -- the table helper ---------------------------------------------------------------------------------------


def render(columns, rows, width: int, terminal: bool) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=terminal, color_system=None)
    tables.print_table("T", columns, rows, console=console)
    return buffer.getvalue()


def test_helper_switches_to_a_list_when_the_table_does_not_fit(monkeypatch):
    columns, rows = ("athlete", "flags", "IDN visit"), [["S001", "hrv_suppressed (act)\nacwr_spike (watch)", "yes"]]
    wide = render(columns, rows, 60, terminal=True)
    assert "┃ athlete ┃" in wide and "hrv_suppressed (act)" in wide
    narrow = render(columns, rows, 30, terminal=True)  # the table needs 41 characters
    assert narrow.splitlines()[2:] == ["athlete: S001", "flags: hrv_suppressed (act)", "       acwr_spike (watch)",
                                       "IDN visit: yes"]  # fmt: skip
    monkeypatch.delenv("COLUMNS", raising=False)
    assert "┃ athlete ┃" in render(columns, rows, 30, terminal=False), "a pipe gets PIPE_WIDTH (160)"
    monkeypatch.setenv("COLUMNS", "30")
    assert "athlete: S001" in render(columns, rows, 200, terminal=False), "…or $COLUMNS when set"


def test_exactly_fitting_table_is_a_table_one_less_is_a_list():
    columns, rows = ("a", "b"), [["x" * 10, "y"]]
    width = len(render(columns, rows, 100, terminal=True).splitlines()[1])  # the table's top border
    assert "┃ a" in render(columns, rows, width, terminal=True)
    assert "a: xxxxxxxxxx" in render(columns, rows, width - 1, terminal=True)


def test_csv_is_one_header_and_plain_rows():
    out = io.StringIO()
    tables.write_csv(("athlete", "flags", "ACWR"), [["[red]S,1[/]", "a\nb", "—"]], out)
    assert out.getvalue() == 'athlete,flags,ACWR\n"S,1",a; b,\n'


# -- commands with COLUMNS=40 and 200, stdout not a terminal ------------------------------------------------


@pytest.mark.parametrize("columns", WIDTHS)
def test_analyze_keeps_every_column(squad_url, capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["analyze", "--store", squad_url, "--as-of", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert_whole(out, [*TABLE_COLUMNS, "IDN visit", "hrv_suppressed", "S001", "S006"])
    assert not NAN_OR_NONE.search(out)
    if columns == 40:
        assert "IDN visit: yes" in out and "athlete: S003" in out


def test_analyze_csv(squad_url, capsys):
    assert main(["analyze", "--store", squad_url, "--as-of", AS_OF.isoformat(), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    columns = ["athlete", *CSV_INDICATORS, "flags", "recommend_idn_visit", "idn_regions"]
    assert len(rows) == 6 and list(rows[0]) == columns
    assert "hrv_suppressed (act)" in rows[2]["flags"] and rows[2]["recommend_idn_visit"] == "yes"
    assert float(rows[0]["ctl"]) > 0


@pytest.mark.parametrize("columns", WIDTHS)
def test_import_keeps_every_column(tmp_path, capsys, monkeypatch, columns):
    fit = require_shared("fit") / "fitparse__garmin-fenix-5-run.fit"
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["import", str(fit), "--athlete", "A01", "--store", f"sqlite:///{tmp_path / 's.sqlite'}"]) == 0
    out = capsys.readouterr().out
    assert_whole(out, ["file", "start (UTC)", "GCT SI %", "pedal L %", "format", fit.name, "1 imported"])
    assert ("file: " in out) == (columns == 40)


def test_import_csv(tmp_path, capsys):
    fit = require_shared("fit") / "fitparse__garmin-fenix-5-run.fit"
    assert main(["import", str(fit), "--athlete", "A01", "--store", f"sqlite:///{tmp_path / 's.sqlite'}", "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("file,status,sport,start (UTC)") and len(lines) == 2
    row = next(csv.reader(lines[1:]))
    assert row[0] == str(fit) and row[1] == "imported" and row[10] == ""  # no pedal data: an empty field


@pytest.mark.parametrize("columns", WIDTHS)
def test_hrv_keeps_every_row_whole(tmp_path, capsys, monkeypatch, columns):
    path = tmp_path / "morning_2024-03-01.txt"
    path.write_text("rr_ms\n" + "\n".join(str(900 + 10 * (i % 3)) for i in range(60)) + "\n")
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["hrv", str(path)]) == 0
    assert_whole(capsys.readouterr().out, ["ectopic / missed / extra / long-short", "rMSSD (ms)", "correction exclude"])


@pytest.mark.parametrize("columns", WIDTHS)
def test_scan_keeps_every_column(capsys, monkeypatch, columns):
    rows = [
        {"address": "C0:00:00:05:00:01", "name": "Polar ACC [01]", "rssi_dbm": -50, "profiles": ["pmd_acc"],
         "battery_pct": None, "athlete": "A01", "side": None}
    ]  # fmt: skip
    monkeypatch.setenv("COLUMNS", str(columns))
    scan.print_table(rows, Console())
    assert_whole(capsys.readouterr().out, [*scan.SCAN_COLUMNS, "C0:00:00:05:00:01", "Polar ACC [01]", "pmd_acc"])


def demo_report(malformed: int) -> dict:
    flag = {"signal": "hrv_suppressed", "severity": "act", "since": "2026-03-28"}
    athlete = {
        "athlete": "D001", "simulated_condition": "suppressed HRV", "ble_samples_sent": 1234, "samples_stored": 1234,
        "malformed_rejected": malformed, "flags": [flag], "recommend_idn_visit": True,
        "indicators": {"ln_rmssd_7d": 3.5, "acwr": None, "gct_symmetry_index_pct": None},
    }  # fmt: skip
    return {"as_of": "2026-03-31", "store": "sqlite:///x", "athletes_n": 1, "days": 42, "elapsed_s": 9.0,
            "athletes": [athlete]}  # fmt: skip


@pytest.mark.parametrize("columns", WIDTHS)
def test_demo_keeps_flag_names_whole_and_counts_malformed_packets(capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    demo.print_table(demo_report(3), Console())
    out = capsys.readouterr().out
    assert_whole(out, [*demo.DEMO_COLUMNS, "hrv_suppressed act since 2026-03-28", "3 malformed packets rejected"])


@pytest.mark.parametrize("columns", WIDTHS)
def test_ingest_virtual_table_keeps_every_column(capsys, monkeypatch, columns):
    sensor = SensorReport(device="V01-pod-l", delivered=10, stored=10, malformed_rejected=1, malformed_delivered=1,
                          sequence_gaps=None, reconnects=0, watchdog_trips=0, recovery_s_max=None, recovered=True,
                          faults=[])  # fmt: skip
    gateway = GatewayReport(telemetry={}, drained=True, store_write_latency={}, store_outages=0)
    report = VirtualRunReport(ok=True, recovery_s_max=0.0, chaos_events=[], store_outages=[], gateway=gateway,
                              athletes=[AthleteReport("V01", {"muscle_load L": sensor})], athletes_n=1, duration_s=5.0,
                              chaos=[], store="sqlite:///x", spool_left_points=0, elapsed_s=5.0)  # fmt: skip
    monkeypatch.setenv("COLUMNS", str(columns))
    ingest_cmd._print_virtual(report, Console())
    assert_whole(capsys.readouterr().out, [*ingest_cmd.VIRTUAL_COLUMNS, "muscle_load L", "exactly once"])


# -- no nan / None where a person reads -----------------------------------------------------------------------


def test_reasons_say_what_is_missing_instead_of_nan(young_url, capsys):
    for width in WIDTHS:
        assert main(["analyze", "--store", young_url, "--as-of", AS_OF.isoformat(), "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        athlete = doc["athletes"][0]
        assert athlete["indicators"]["ctl"] is None and athlete["indicators"]["acwr"] >= 1.5
        reason = next(f["reason"] for f in athlete["flags"] if f["signal"] == "acwr_spike")
        assert "CTL not yet available (needs 42 days of load)" in reason and "ATL " in reason
        assert not any(NAN_OR_NONE.search(f["reason"]) for f in athlete["flags"])
        store = SQLiteStore(young_url.removeprefix("sqlite:///"))
        stored = store.read("flag", "S001", ["reason"])
        store.close()
        assert len(stored) and not any(NAN_OR_NONE.search(r) for r in stored.columns["reason"])
        assert main(["analyze", "--store", young_url, "--as-of", AS_OF.isoformat()]) == 0
        assert not NAN_OR_NONE.search(capsys.readouterr().out), width


HOOK = "/clinic/hook"


def receiver(httpserver, status: int) -> list[dict]:
    bodies: list[dict] = []

    def handle(request: Request) -> Response:
        bodies.append(json.loads(request.get_data()))
        return Response("{}" if status < 300 else "no", status=status, content_type="application/json")

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(handle)
    return bodies


@pytest.fixture
def today_store(tmp_path):
    """38 days of load ending today with a spike; ACWR ≥ 1.5 made `act` so the IDN rule fires."""
    url = fill(tmp_path / "today.sqlite", 38, spike=True, end=dt.datetime.now(dt.UTC).date(), athletes=1)
    strict = tmp_path / "strict.toml"
    strict.write_text("[load]\nacwr_act = 1.5\nacwr_persistence_days = 1\n")
    return url, strict


def serve_once(capsys, url: str, tmp_path, httpserver, strict) -> tuple[int, dict]:
    argv = ["serve", "--once", "--store", url, "--state", str(tmp_path / "state.json"), "--thresholds", str(strict)]
    code = main([*argv, "--webhook-url", httpserver.url_for(HOOK), "--webhook-retries", "0"])
    return code, json.loads(capsys.readouterr().out)


def test_webhook_payload_has_no_nan_and_serve_once_ok_agrees_with_exit_0(
    httpserver, capsys, tmp_path, today_store
):  # fmt: skip
    bodies = receiver(httpserver, 200)
    code, report = serve_once(capsys, today_store[0], tmp_path, httpserver, today_store[1])
    assert code == 0 and report["ok"] is True and report["analysed"] is True and len(report["alerts_sent"]) == 1
    (payload,) = bodies
    text = json.dumps(payload)
    assert "CTL not yet available (needs 42 days of load)" in text and not NAN_OR_NONE.search(text)
    assert all(isinstance(line, str) and not NAN_OR_NONE.search(line) for line in payload["summary"])


def test_serve_once_exit_1_when_an_alert_is_rejected_says_ok_false(httpserver, capsys, tmp_path, today_store):
    bodies = receiver(httpserver, 400)
    code, report = serve_once(capsys, today_store[0], tmp_path, httpserver, today_store[1])
    assert len(bodies) == 1 and report["alert_errors"] and report["analysed"] is True
    assert code == 1 and report["ok"] is False


def test_serve_once_exit_1_when_the_store_fails_says_ok_false(capsys, tmp_path):
    state, garbage = str(tmp_path / "state.json"), tmp_path / "not-a-database.sqlite"
    garbage.write_bytes(b"this is not an SQLite file" * 100)
    code = main(["serve", "--once", "--store", f"sqlite:///{garbage}", "--state", state])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False and report["analysed"] is False and report["error"]


# -- --version, malformed packets, live view ----------------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"recovery-monitor {metadata.version('recovery-monitor')}\n"


class Sink:
    def add(self, measurement, tags, time_ms, fields) -> bool:
        return True


MALFORMED_HR = b"\x10\x48\x00"  # the demo's injected packet: RR flag set, one dangling RR byte


def test_malformed_packets_are_counted_not_logged_as_warnings(caplog):
    caplog.set_level(logging.DEBUG)
    buffer = SimpleNamespace(add=lambda *a, **k: None)
    strap = HeartRateRecorder("D001", "HRM-D001", buffer, NotificationClock(0))
    strap.on_notification(None, bytearray(MALFORMED_HR))
    strap.on_notification(None, bytearray(b"\x00\x48"))
    spec = DeviceSpec(athlete="V01", profile="heart_rate", name="HRM-V01")
    gateway = make_recorder(spec, Sink(), lambda: 1_000)
    gateway.on_notification(None, bytearray(MALFORMED_HR))
    assert strap.stats.malformed == 1 and strap.stats.notifications == 2 and gateway.stats.malformed == 1
    assert [r.levelno for r in caplog.records if "malformed" in r.getMessage()] == [logging.DEBUG] * 2


def test_live_view_rows_from_the_gateway_sessions():
    recorder = SimpleNamespace(stats=SimpleNamespace(notifications=10, samples=25))
    spec = SimpleNamespace(athlete="V01", key="MLP-01L", side="left", profile="muscle_load")
    session = SimpleNamespace(spec=spec, recorder=recorder, state=DeviceState.CONNECTED, last_data=99.6)
    board = DeviceBoard()
    assert board.rows([session], 100.0)[0] == [
        "V01", "MLP-01L (left)", "muscle_load", "[green]connected[/]", "25", "0.0", "0.4 s ago",
    ]  # fmt: skip
    recorder.stats.notifications = 14
    assert board.rows([session], 102.0)[0][5] == "2.0", "4 notifications in 2 s"
    recorder.stats.notifications = 24
    assert board.rows([session], 104.0)[0][5] == "3.5", "14 notifications in 4 s (window 5 s)"
    recorder.stats.notifications = 30
    assert board.rows([session], 106.0)[0][5] == "3.3", "20 in 6 s: the window reaches back at least 5 s"
    recorder.stats.notifications = 36
    assert board.rows([session], 108.0)[0][5] == "3.7", "22 in 6 s: the sample of t = 100 s left the window"
    assert last_seen(0.0, 5.0) == "never" and last_seen(10.0, 130.0) == "2 min ago"
    assert live_console() is None, "no live view when stderr is not a terminal"
