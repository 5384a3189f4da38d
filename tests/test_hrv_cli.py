"""`recovery-monitor hrv FILE`: output, error handling, and agreement with Kubios and NeuroKit2 on the shared files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from shared_data import require_shared, skip_or_fail

from ingest.rr_files import read_rr_file
from monitor.cli.main import main

REPO = Path(__file__).resolve().parents[1]
KEYS = {"n_beats", "n_used", "artifacts", "mean_rr_ms", "mean_hr_bpm", "sdnn_ms", "rmssd_ms", "ln_rmssd"}


@pytest.fixture
def rr_dir() -> Path:
    return require_shared("rr")


@pytest.fixture
def show(capsys):
    """Write lines to the terminal whether or not pytest captures output (the comparison tables)."""

    def write(lines: list[str]) -> None:
        with capsys.disabled():
            print("\n" + "\n".join(lines))

    return write


def rr_files(rr_dir: Path) -> list[Path]:
    return sorted(p for p in rr_dir.iterdir() if not p.name.endswith("_Features.csv"))


def run_json(capsys, *argv: str) -> dict:
    assert main(["hrv", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# --- output -------------------------------------------------------------------------------------------------


def test_json_output(tmp_path, capsys):
    path = tmp_path / "r.txt"
    path.write_text("1000\n1010\n990\n1000\n")
    doc = run_json(capsys, str(path), "--correction", "kubios")
    assert set(doc) == KEYS and set(doc["artifacts"]) == {"ectopic", "missed", "extra", "long_short"}
    assert doc["n_beats"] == doc["n_used"] == 4 and doc["mean_hr_bpm"] == 60.0
    assert doc["rmssd_ms"] == pytest.approx(np.sqrt(200.0), abs=1e-4)
    assert run_json(capsys, str(path), "--correction", "none") == doc
    # the default leaves out the first interval and the last two (the detector cannot classify them): one is left
    default = run_json(capsys, str(path))
    assert (default["n_beats"], default["n_used"], default["rmssd_ms"], default["mean_rr_ms"]) == (4, 1, None, 1010.0)
    assert run_json(capsys, str(path), "--correction", "exclude") == default


def test_table_output(tmp_path, capsys):
    path = tmp_path / "morning_2024-03-01.txt"
    path.write_text("rr_ms\n" + "\n".join(str(900 + 10 * (i % 3)) for i in range(60)) + "\n")
    assert main(["hrv", str(path)]) == 0
    out = capsys.readouterr().out
    assert "rMSSD (ms)" in out and "2024-03-01" in out and "correction exclude" in out and "intervals used" in out


def test_bad_correction_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["hrv", str(tmp_path / "x.txt"), "--correction", "malik"])
    assert info.value.code == 2


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("empty.txt", "", 1),
        ("letters.txt", "rr_ms\n800\n8I0\n", 3),
        ("unknown.csv", "time,bpm\n0,60\n", 1),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, name, text, line):
    path = tmp_path / name
    path.write_text(text)
    assert main(["hrv", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.fullmatch(rf"recovery-monitor: error: {re.escape(str(path))}:{line}: .+\n", captured.err)


def test_bad_input_via_python_m_monitor(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "hrv", str(path)], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and f"{path}:1: empty file" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- reference comparisons ----------------------------------------------------------------------------------


def _kubios_results(path: Path) -> dict[str, float]:
    results: dict[str, float] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        m = re.match(r"\s*(Mean RR|STD RR|Mean HR|RMSSD)\s.*?:\s*,\s*([-\d.]+)", line)
        if m and m.group(1) not in results:
            results[m.group(1)] = float(m.group(2))
    return results


def test_uncorrected_matches_kubios_reports(rr_dir, capsys, show):
    """The Kubios reports were made without artifact correction: compare with --correction none."""
    lines = [
        "ours (--correction none) vs Kubios HRV Premium 3.1 reports",
        f"{'file':34} {'beats':>6} "
        f"{'rMSSD':>9} {'Kubios':>9} {'diff':>8}  {'SDNN':>8} {'Kubios':>8}  {'HR':>7} {'Kubios':>7}",
    ]
    reports = sorted(rr_dir.glob("pyhrv__kubios_*"))
    assert len(reports) == 5
    for path in reports:
        ours, ref = run_json(capsys, str(path), "--correction", "none"), _kubios_results(path)
        diff = ours["rmssd_ms"] - ref["RMSSD"]
        lines.append(
            f"{path.name:34} {ours['n_beats']:6d} {ours['rmssd_ms']:9.4f} {ref['RMSSD']:9.4f} {diff:+8.4f}  "
            f"{ours['sdnn_ms']:8.4f} {ref['STD RR']:8.4f}  {ours['mean_hr_bpm']:7.3f} {ref['Mean HR']:7.3f}"
        )
        assert abs(diff) <= max(1.0, 0.02 * ref["RMSSD"]), path.name
        assert ours["sdnn_ms"] == pytest.approx(ref["STD RR"], abs=0.01)
        assert ours["mean_rr_ms"] == pytest.approx(ref["Mean RR"], abs=0.01)
        assert ours["mean_hr_bpm"] == pytest.approx(ref["Mean HR"], abs=0.01)
    show(lines)


def _neurokit2():
    try:
        import neurokit2
    except ImportError:
        skip_or_fail("neurokit2 not installed", ci_reason="neurokit2 (dev extra) is not installed")
    return neurokit2


def test_corrected_matches_neurokit2_kubios_method_on_every_file(rr_dir, capsys, show):
    nk = _neurokit2()
    lines = [
        "ours (--correction kubios) vs NeuroKit2 signal_fixpeaks(method='Kubios') + hrv_time",
        f"{'file':34} {'beats':>5} {'nk':>5} {'artifacts':>9} {'rMSSD':>8} {'NK':>8} {'diff %':>7} "
        f"{'SDNN':>8} {'NK':>8}",
    ]
    worst = 0.0
    paths = rr_files(rr_dir)
    assert len(paths) == 58
    for path in paths:
        ours = run_json(capsys, str(path), "--correction", "kubios")
        rr = read_rr_file(path).rr_ms
        peaks = np.rint(np.r_[0.0, np.cumsum(rr)]).astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, fixed = nk.signal_fixpeaks(peaks, sampling_rate=1000, iterative=True, method="Kubios")
            ref = nk.hrv_time(fixed, sampling_rate=1000)
        rmssd, sdnn = float(ref["HRV_RMSSD"].iloc[0]), float(ref["HRV_SDNN"].iloc[0])
        rel = ours["rmssd_ms"] / rmssd - 1
        worst = max(worst, abs(rel))
        lines.append(
            f"{path.name:34} {ours['n_beats']:5d} {len(fixed) - 1:5d} {sum(ours['artifacts'].values()):9d} "
            f"{ours['rmssd_ms']:8.2f} {rmssd:8.2f} {100 * rel:+7.2f} {ours['sdnn_ms']:8.2f} {sdnn:8.2f}"
        )
    lines.append(f"{len(paths)} files, largest rMSSD difference {100 * worst:.2f} %")
    show(lines)
    assert worst <= 0.02


def test_a_reader_that_leaves_the_pipe_early_is_no_error(rr_dir: Path) -> None:
    """`recovery-monitor hrv FILE --json | head -c 10`: the reader closes the pipe before the command writes. The
    command stops quietly with the shell's code for it (141 = 128 + SIGPIPE), no error line and no traceback."""
    command = [sys.executable, "-m", "monitor", "hrv", str(rr_dir / "hrvpublic__ot_m60_RRIntervals.csv"), "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the interpreter has even started: every write finds the pipe closed
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 141 and stderr == b""
