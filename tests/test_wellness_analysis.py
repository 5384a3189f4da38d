"""`analyze` reads the check-ins from the store (ingest.wellness) on both backends: the Hooper indicators and the
wellness flags equal the engine replayed over the simulated arrays, the IDN recommendation names its candidate
regions (JSON, reasons, `daily.idn_regions`), and the report draws the Hooper items and the body map."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from engine_replay import replay_engine

from ingest.timeline import day_start_ms
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from ingest.virtual.wellness_history import FITTED_WELLNESS
from monitor.analyze import analyze
from monitor.candidates import candidate_regions
from monitor.cli.main import main
from monitor.rules import flags_on
from monitor.thresholds import load_thresholds

AS_OF = dt.date(2026, 3, 31)
DAYS = 150
ONSET = DAYS - 6
NONE = -1
EVENTS = {  # S001 steady; S002 HRV drop with a sore right calf; S003 HRV drop with the soleus pods' asymmetry;
    # S004 a wellness drop (3 SDs) that only the check-ins show
    "hrv_drop_day": [NONE, ONSET, ONSET, NONE],
    "soreness_onset_day": [NONE, ONSET - 2, NONE, NONE],
    "muscle_onset_day": [NONE, NONE, ONSET - 3, NONE],
    "wellness_drop_day": [NONE, NONE, NONE, ONSET],
}


def history():
    return simulate_training_history(
        4, DAYS, np.random.default_rng(31), wellness=FITTED_WELLNESS, wellness_drop_sd=3.0, pod_muscle="soleus",
        **EVENTS,
    )  # fmt: skip


FIRST_DAY = AS_OF - dt.timedelta(days=DAYS - 1)


@pytest.fixture
def filled(each_store):
    each_store.write(training_history_batches(history(), day_start_ms(FIRST_DAY)))
    return each_store


def test_analyze_reads_the_check_ins_and_equals_the_replayed_engine(filled):
    result = analyze(filled, AS_OF, write_days=3)
    h = history()
    ind, signals, idn = replay_engine(h, FIRST_DAY)
    t = DAYS - 1
    th = load_thresholds()
    for row, report in enumerate(result.athletes):
        expected = flags_on(signals, ind, row, t)
        assert [(f.signal, f.severity, f.since, f.reason) for f in report.flags] == [
            (f.signal, f.severity, f.since, f.reason) for f in expected
        ]
        assert report.recommend_idn_visit == bool(idn[row, t])
        hooper = report.indicators["hooper_index_7d"]
        assert hooper == pytest.approx(float(ind.hooper.week.mean[row, t]), abs=1e-4)
        assert report.indicators["checkins_7d"] == int(ind.hooper.week.n[row, t])
        regions = [c.region for c in candidate_regions(ind, signals, th, row, t)] if idn[row, t] else []
        assert report.idn_regions == regions
    by_athlete = {r.athlete: r for r in result.athletes}
    assert not by_athlete["S001"].flags and by_athlete["S001"].idn_regions == []
    sore = by_athlete["S002"]
    assert sore.recommend_idn_visit and sore.idn_regions[0] == "calf_r"  # the sore region first
    assert sore.idn_reasons[-1].startswith("candidate regions: calf_r (sore, rated ")
    assert "soleus_r" in by_athlete["S003"].idn_regions  # the soleus pods' SI −15: the right carries more
    assert "wellness_poor" in {f.signal for f in by_athlete["S004"].flags}
    poor = next(f for f in by_athlete["S004"].flags if f.signal == "wellness_poor")
    assert poor.family == "wellness" and poor.value > poor.threshold and "Hooper index" in poor.reason

    daily = filled.read("daily", "S002", ["idn_regions", "hooper_index_7d", "checkins_7d", "recommend_idn_visit"])
    assert len(daily) == 3 and daily.columns["idn_regions"][-1] == ",".join(sore.idn_regions)
    steady = filled.read("daily", "S001", ["idn_regions", "hooper_index_7d"])
    assert (
        all(v is None for v in steady.columns["idn_regions"]) and np.isfinite(steady.columns["hooper_index_7d"]).all()
    )
    flags = filled.read("flag", "S004", ["reason"], tags={"family": "wellness"})
    assert len(flags) >= 1


def test_report_shows_the_hooper_items_and_the_body_map(tmp_path, filled):
    analyze(filled, AS_OF, write_days=14)
    out = tmp_path / "report.html"
    assert main(["report", "--athlete", "S002", "--out", str(out), "--store", filled.url, "--as-of", "2026-03-31"]) == 0
    html = out.read_text()
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    titles = [re.search(r"<title>(.*?)</title>", svg).group(1) for svg in svgs]
    assert titles[-4:-1] == [
        "Morning wellness: Hooper items (1 = very, very good … 7 = very, very bad)",
        "Hooper index: mornings, 7-day mean and normal range (higher = worse)",
        "Soreness body map",
    ]
    body = svgs[titles.index("Soreness body map")]
    calf = re.search(r'<ellipse[^>]*data-region="calf_r"[^>]*>.*?</ellipse>', body, re.S).group(0)
    assert 'stroke="#1f2328"' in calf and "candidate region" in calf and "/10" in calf
    assert "Candidate regions: Calf (gastrocnemius), right (<code>calf_r</code>)" in html


def test_the_cli_table_and_csv_name_the_candidate_regions(filled, capsys):
    import csv
    import io

    assert main(["analyze", "--store", filled.url, "--as-of", AS_OF.isoformat(), "--csv", "--no-catch-up"]) == 0
    rows = {r["athlete"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["S002"]["recommend_idn_visit"] == "yes" and rows["S002"]["idn_regions"].startswith("calf_r")
    assert rows["S001"]["idn_regions"] == "" and float(rows["S001"]["hooper_index_7d"]) > 4
    assert main(["analyze", "--store", filled.url, "--as-of", AS_OF.isoformat(), "--no-catch-up"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Hooper 7d" in out and "yes: calf_r" in out
