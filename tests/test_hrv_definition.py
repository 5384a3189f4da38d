"""One HRV definition end to end: the `hrv` command's default equals the stored morning reading on every real RR
file, and stays within 5 % of the clean series on simulated mornings with artifacts (bench/hrv_accuracy.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shared_data import require_shared
from test_csv_import import run_import, sqlite_url

from ingest.rr_files import read_rr_file
from ingest.store import open_store
from ingest.virtual.rr_artifacts import inject_rr_artifacts, simulated_morning
from monitor.cli.main import main
from monitor.hrv import DEFAULT_CORRECTION, hrv_metrics, rmssd_ms
from monitor.rr_correction import excluded_intervals

FIRST_S = 300.0  # longer files are compared on their first 5 minutes (import skips > 10 min as no morning reading)


def hrv_json(capsys, path: Path) -> dict:
    assert main(["hrv", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def comparable_files(rr_dir: Path, folder: Path) -> list[Path]:
    """Every RR file of the shared folder as a morning reading: HRV Logger exports as they are (their own
    timestamps), the others dated by name (one day each), cut to their first 5 minutes when longer than that."""
    folder.mkdir()
    files = []
    others = sorted(p for p in rr_dir.iterdir() if not p.name.endswith("_Features.csv"))
    for day, path in enumerate(others):
        if path.name.startswith("hrvpublic__"):
            target = folder / path.name
            target.symlink_to(path)
        else:
            rr = read_rr_file(path).rr_ms
            rr = rr[np.cumsum(rr) <= FIRST_S * 1000.0]
            target = folder / f"2024-01-{day % 28 + 1:02d}_{path.stem}.txt"
            target.write_text("rr_ms\n" + "\n".join(f"{x:.6f}" for x in rr) + "\n")
        files.append(target)
    return files


def test_hrv_command_equals_the_stored_reading_for_every_real_file(tmp_path, capsys):
    rr_dir = require_shared("rr")
    files = comparable_files(rr_dir, tmp_path / "rr")
    assert len(files) == 58
    checked = 0
    for i, path in enumerate(files):  # one store per file: several files fall on one day
        (tmp_path / str(i)).mkdir()
        url = sqlite_url(tmp_path / str(i))
        code, rows, err = run_import(capsys, str(path), "--athlete", "A01", "--store", url)
        assert (code, err, rows[0]["status"]) == (0, "", "imported"), path.name
        store = open_store(url)
        try:
            stored = store.read("readiness", "A01", ["rmssd_ms", "n_beats"])
        finally:
            store.close()
        ours = hrv_json(capsys, path)
        assert stored.columns["n_beats"].tolist() == [ours["n_beats"]], path.name
        assert stored.columns["rmssd_ms"][0] == pytest.approx(ours["rmssd_ms"], rel=0.005), path.name
        checked += 1
    assert checked == 58


def test_within_5_percent_of_the_clean_series_on_200_mornings():
    """Fixed seed: 5-min mornings, low (15–30 ms) and normal (30–70 ms) rMSSD, artifacts at 0, 1, 2 and 5 % per beat
    (ectopic, missed, extra, long/short): every one within 5 % of the clean series' rMSSD."""
    rng = np.random.default_rng(2026)
    worst = 0.0
    for band in ("low", "normal"):
        for rate in (0.0, 0.01, 0.02, 0.05):
            for _ in range(25):
                reading = simulated_morning(band, rate, rng)
                error = hrv_metrics(reading.rr_ms).rmssd_ms / rmssd_ms(reading.clean_rr_ms) - 1
                worst = max(worst, abs(error))
    assert worst <= 0.05


def test_high_hrv_mornings_mostly_within_5_percent():
    """High HRV (70–140 ms): an artifact of 25–50 % is within the natural beat-to-beat range, so not every one is
    found (docs/validation.md); still 95 % of the mornings with up to 2 % artifacts are within 5 %."""
    rng = np.random.default_rng(2027)
    errors = []
    for rate in (0.0, 0.01, 0.02):
        for _ in range(40):
            reading = simulated_morning("high", rate, rng)
            errors.append(abs(hrv_metrics(reading.rr_ms).rmssd_ms / rmssd_ms(reading.clean_rr_ms) - 1))
    assert np.mean(np.asarray(errors) <= 0.05) >= 0.95


def test_low_hrv_reading_replacement_overestimates_exclusion_does_not():
    """The case behind the choice: a 27 ms reading with 2 % ectopic beats; replacing them (kubios) leaves the
    interpolated beats off the sinus rhythm and inflates rMSSD, excluding them does not."""
    rng = np.random.default_rng(5)
    from ingest.virtual.physiology import clean_morning_rr_ms

    clean = clean_morning_rr_ms(62.0, 27.0, rng, 300.0)
    reading = inject_rr_artifacts(clean, rng, 0.02, ("ectopic", "missed", "extra"))
    truth = rmssd_ms(clean)
    assert truth == pytest.approx(27.0, rel=1e-9) and reading.n_events >= 3
    assert hrv_metrics(reading.rr_ms).rmssd_ms == pytest.approx(truth, rel=0.03)
    assert hrv_metrics(reading.rr_ms, "kubios").rmssd_ms > 1.05 * truth


def test_every_injected_artifact_is_excluded_with_its_neighbour():
    rng = np.random.default_rng(11)
    found = missed = 0
    for _ in range(20):
        reading = simulated_morning("normal", 0.02, rng)
        excluded = excluded_intervals(reading.rr_ms).excluded
        found += int(np.count_nonzero(reading.artifact_mask & excluded))
        missed += int(np.count_nonzero(reading.artifact_mask & ~excluded))
    assert found >= 150 and missed <= 0.02 * found


def test_excluded_intervals_ends_and_short_series():
    assert excluded_intervals(np.array([900.0, 910.0, 905.0])).excluded.tolist() == [True, True, True]
    clean = np.round(1000.0 + 20.0 * np.sin(np.arange(60) * 1.3))
    ex = excluded_intervals(clean).excluded
    assert ex[[0, -2, -1]].all() and not ex[1:-2].any()
    with pytest.raises(ValueError):
        excluded_intervals(np.array([900.0, 0.0, 900.0, 910.0]))


def test_bad_intervals_in_stored_beats_are_excluded_not_fatal():
    """A stored beat stream may hold a zero or NaN interval (a glitch of a strap): the reading keeps its HRV."""
    rr = np.round(1000.0 + 20.0 * np.sin(np.arange(60) * 1.3))
    bad = rr.copy()
    bad[30], bad[40] = 0.0, np.nan
    m = hrv_metrics(bad)
    assert m.n_beats == 60 and m.n_used <= 60 - 5 and np.isfinite(m.rmssd_ms)
    assert m.rmssd_ms == pytest.approx(hrv_metrics(rr).rmssd_ms, rel=0.05)


def test_the_default_is_exclude():
    assert DEFAULT_CORRECTION == "exclude"
