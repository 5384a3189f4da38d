"""`recovery-monitor report` rendered by a real browser: Debian's headless Chromium (`apt-get install chromium`).

The report of a demo athlete is screenshotted to a PNG, which must be a real picture (decoded here with zlib and
numpy: no imaging dependency), and its DOM must hold every plot, with no script error logged. A report with
visits (tests/visit_data.py) must hold, as Chromium parses it, each visit's rows with the response per level. Without
/usr/bin/chromium the test is skipped, except under CI=true, where it fails.

Regenerate the README screenshot (a simulated season, so every plot has data):

    python tests/test_report_chromium.py docs/report-screenshot.png
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from shared_data import skip_or_fail
from visit_data import ATHLETE, LAST, treated_store

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
WINDOW = (1280, 2000)
README_WINDOW = (1000, 1800)  # the plots, without the tables: keeps docs/report-screenshot.png small
PLOTS = 9  # five charts, two wellness charts (the demo checks in), the soreness body map and the flags timeline


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        skip_or_fail(
            f"{CHROMIUM} not installed: apt-get install -y chromium to run the browser test",
            ci_reason=f"{CHROMIUM} not found: .ci/run must apt-get install -y chromium",
        )
    return CHROMIUM


def chromium(
    page: Path, profile: Path, *extra: str, window: tuple[int, int] = WINDOW
) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on a local file with a throw-away profile; no network, no extensions, no updates."""
    profile.mkdir(parents=True, exist_ok=True)
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}", *extra]
    return subprocess.run(
        [*command, page.as_uri()], capture_output=True, text=True, timeout=60, check=True, cwd=profile
    )


def decode_png(data: bytes) -> np.ndarray:
    """8-bit RGB(A), non-interlaced PNG → (height, width, channels) array."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, chunks, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(chunks))
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], np.frombuffer(raw, np.uint8, stride, start + 1)
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: running sum per channel
            row = (np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.int64) & 255).astype(np.uint8).ravel()
        elif kind == 2:  # Up
            row = line + prev
        else:  # Average and Paeth depend on the reconstructed left neighbour: byte by byte
            row = bytearray(line.tobytes())
            up = prev.tolist()
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = up[i]
                if kind == 3:
                    row[i] = (row[i] + ((a + b) >> 1)) & 255
                    continue
                c = up[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            row = np.frombuffer(bytes(row), np.uint8)
        out[y] = prev = row
    return out.reshape(height, width, bpp)


def write_report(store_url: str, athlete: str, out: Path) -> Path:
    from monitor.cli.main import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", "--athlete", athlete, "--out", str(out), "--store", store_url]) == 0
    return out


def test_report_renders_in_headless_chromium(tmp_path):
    require_chromium()
    from monitor.cli.main import main

    store, out = f"sqlite:///{tmp_path / 'demo.sqlite'}", io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--store", store, "--athletes", "2", "--json"]) == 0
    athlete = next(a for a in json.loads(out.getvalue())["athletes"] if a["simulated_condition"] == "hrv_suppressed")
    page = write_report(store, athlete["athlete"], tmp_path / "report.html")
    png = tmp_path / "report.png"
    chromium(page, tmp_path / "profile-shot", f"--screenshot={png}")

    assert png.stat().st_size > 30_000
    image = decode_png(png.read_bytes())[..., :3]
    assert image.shape == (WINDOW[1], WINDOW[0], 3)
    packed = image.astype(np.uint32)
    colours = np.unique((packed[..., 0] << 16) | (packed[..., 1] << 8) | packed[..., 2])
    ink = np.any(image < 200, axis=2).mean()
    assert len(colours) >= 50, f"only {len(colours)} colours: a blank or broken page"
    assert 0.01 < ink < 0.5, f"{ink:.1%} of the page is ink"
    red = (image[..., 0] > 180) & (image[..., 1] < 120) & (image[..., 2] < 120)
    assert red.sum() > 20, "the act flag (red) is drawn"

    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom", "--enable-logging=stderr", "--v=0")
    svgs = re.findall(r"<svg\b.*?</svg>", dom.stdout, re.S)
    assert len(svgs) == PLOTS and all("<title>" in svg for svg in svgs), dom.stdout[:500]
    assert "ln rMSSD" in dom.stdout and "hrv_suppressed" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console


class _Rows(HTMLParser):
    """The table rows of a page that carry `data-visit`: (visit, level or None, the text of each cell)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, str | None, list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr":
            self._row = [] if found.get("data-visit") else None
            if self._row is not None:
                self.rows.append((str(found["data-visit"]), found.get("data-level"), self._row))
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_report_with_visits_renders_their_section_in_headless_chromium(tmp_path):
    """The visits section as Chromium parses it: each visit's rows, the verdict, change and interval per level."""
    require_chromium()
    from ingest.store.sqlite import SQLiteStore
    from monitor.response_job import response_for

    store = SQLiteStore(tmp_path / "visits.sqlite")
    visits = treated_store(store)
    reference = {v["visit_id"]: v for v in response_for(store, athlete=ATHLETE, as_of=LAST, write=False)["visits"]}
    store.close()
    page = write_report(f"sqlite:///{tmp_path / 'visits.sqlite'}", ATHLETE, tmp_path / "report.html")
    dom = chromium(page, tmp_path / "profile-visits", "--dump-dom", "--enable-logging=stderr", "--v=0")
    parser = _Rows()
    parser.feed(dom.stdout)
    rows = {(visit, level): cells for visit, level, cells in parser.rows}

    treated = visits["treated"]
    assert [level for visit, level, _ in parser.rows if visit == treated.visit_id] == list(
        reference[treated.visit_id]["levels"]
    )
    first = rows[(treated.visit_id, "local")]
    assert first[:4] == [
        f"2025-04-21 12:00{treated.visit_id}", "calf_l", 'T1needles: 8note: tight <calf> & "sore"', "2025-04-22 12:00",
    ]  # fmt: skip
    for level, result in reference[treated.visit_id]["levels"].items():
        cells = rows[(treated.visit_id, level)][-5:]
        low, high = result["ci95_sd"]
        assert cells[:4] == [level, result["verdict"], f"{result['improvement_sd']:+.2f}", f"[{low:+.2f}, {high:+.2f}]"]
    assert rows[(treated.visit_id, "local")][-5:][1] == rows[(treated.visit_id, "systemic")][-5:][1] == "improved"
    pending = rows[(visits["pending"].visit_id, None)]
    assert pending[-1] == "pending: days 2–8 after the visit end on 2025-05-14"
    assert visits["removed"].visit_id not in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console


def _season_store(path: Path, as_of: dt.date) -> str:
    """One simulated athlete over 150 days: steady training, then an HRV drop and a GCT asymmetry onset."""
    from ingest.store.sqlite import SQLiteStore
    from ingest.timeline import day_start_ms
    from ingest.virtual.training_history import simulate_training_history, training_history_batches
    from monitor.history import catch_up, plan_catch_up

    days = 150
    history = simulate_training_history(
        1, days, np.random.default_rng(5), sport="run", hrv_drop_day=days - 9, gct_onset_day=days - 20, id_prefix="A"
    )
    store = SQLiteStore(path)
    store.write(training_history_batches(history, day_start_ms(as_of - dt.timedelta(days=days - 1))))
    catch_up(store, plan_catch_up(store, as_of))  # every day analysed, as `recovery-monitor analyze` does
    athlete = store.list_athletes()[0]
    store.close()
    return athlete


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report-screenshot.png")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        athlete = _season_store(root / "season.sqlite", dt.datetime.now(dt.UTC).date())
        page = write_report(f"sqlite:///{root / 'season.sqlite'}", athlete, root / "report.html")
        chromium(page, root / "profile", f"--screenshot={target.resolve()}", window=README_WINDOW)
    print(f"{target}: {target.stat().st_size / 1024:.0f} KB")
