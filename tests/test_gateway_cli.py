"""`recovery-monitor scan` and `recovery-monitor ingest` end to end, including a clean stop on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from ingest.store.sqlite import SQLiteStore
from monitor.cli.main import main

SQUAD = """
[[device]]
athlete = "P07"
profile = "heart_rate"
name = "HRM-sim-01"

[[device]]
athlete = "P07"
profile = "muscle_load"
address = "C0:00:00:04:00:01"
side = "right"
"""


def test_ingest_virtual_json_report(tmp_path, capsys):
    store = f"sqlite:///{tmp_path}/store.sqlite"
    code = main(["ingest", "--virtual", "--athletes", "1", "--duration", "6", "--with-acc", "--store", store, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"]
    sensors = report["athletes"][0]["sensors"]
    assert set(sensors) == {"strap", "footpod", "pod_left", "pod_right", "acc"}
    assert sensors["acc"]["delivered"] >= 100  # 50 Hz in frames of 10 samples
    assert all(sensor["stored"] == sensor["delivered"] > 0 for sensor in sensors.values())


def test_scan_virtual_lists_profiles_rssi_battery_and_squad_owner(tmp_path, capsys):
    config = tmp_path / "squad.toml"
    config.write_text(SQUAD)
    assert main(["scan", "--virtual", "--athletes", "1", "--timeout", "1.5", "--config", str(config), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"HRM-sim-01", "FP-sim-01", "MLP-01L", "MLP-01R", "Polar ACC 01"}
    assert rows["HRM-sim-01"]["profiles"] == ["heart_rate"] and rows["HRM-sim-01"]["battery_pct"] == 90
    assert rows["Polar ACC 01"]["profiles"] == ["heart_rate", "pmd_acc"]  # H10-like: it advertises Heart Rate too
    assert rows["MLP-01R"]["athlete"] == "P07" and rows["MLP-01R"]["side"] == "right"
    assert rows["HRM-sim-01"]["athlete"] == "P07" and rows["FP-sim-01"]["athlete"] is None
    assert all(isinstance(row["rssi_dbm"], int) for row in rows.values())


def test_bad_config_and_chaos_are_usage_errors(tmp_path, capsys):
    config = tmp_path / "squad.toml"
    config.write_text(SQUAD.replace('side = "right"', 'side = "middle"'))
    assert main(["ingest", "--config", str(config)]) == 2
    assert "device #2: side 'middle'" in capsys.readouterr().err
    assert main(["ingest", "--virtual", "--chaos", "meteor"]) == 2
    assert "unknown kind(s) meteor" in capsys.readouterr().err


def test_sigint_stops_cleanly_and_flushes_everything(tmp_path):
    store_path = tmp_path / "store.sqlite"
    command = [sys.executable, "-m", "monitor", "ingest", "--virtual", "--athletes", "1", "--duration", "120"]
    command += ["--store", f"sqlite:///{store_path}", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    time.sleep(8.0)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=40)
    assert process.returncode == 0, err.decode()[-2000:]
    report = json.loads(out)
    assert report["ok"] and report["gateway"]["drained"] and report["spool_left_points"] == 0
    sensors = report["athletes"][0]["sensors"]
    store = SQLiteStore(store_path)
    assert store.count("hr") + store.count("rr") == sensors["strap"]["delivered"] > 0
    assert store.count("stride") == sensors["pod_left"]["delivered"] + sensors["pod_right"]["delivered"]
    states = store.read("device_state", "sim-01", ["state"]).columns["state"].tolist()
    assert states.count("stopped") == 4
