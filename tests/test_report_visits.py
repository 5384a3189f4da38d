"""The report's visits section: the period's visits with their regions and, per level, the stored response
(change in SD, 95 % interval, verdict, or why there is none); `report` stores a missing response first.

The browser rendering of this section is tested in tests/test_report_chromium.py.
"""

from __future__ import annotations

import contextlib
import io
import re
from html import unescape
from pathlib import Path

import pytest
from visit_data import ATHLETE, LAST, NOTE, at, treated_store

from dashboards.report_visits import load_visits, visits_section
from ingest.model import VISIT_RESPONSE
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS, day_start_ms
from ingest.visits import visit_id_for
from monitor.cli.main import main
from monitor.response_job import response_for

TAG = re.compile(r"<[^>]+>")


@pytest.fixture
def store_url(tmp_path) -> str:
    store = SQLiteStore(tmp_path / "visits.sqlite")
    treated_store(store)
    store.close()
    return f"sqlite:///{tmp_path / 'visits.sqlite'}"


def report(tmp_path: Path, store_url: str, *extra: str) -> str:
    out = tmp_path / "report.html"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", "--athlete", ATHLETE, "--out", str(out), "--store", store_url, *extra]) == 0
    return out.read_text()


def section(html: str) -> str:
    start = html.index("<h2>Visits (IDN) and the response after them</h2>")
    return html[start : html.index("<h2>Sessions</h2>")]


def level_rows(html: str) -> dict[tuple[str, str], list[str]]:
    """(visit ID, level) → the row's cells as text, without the visit's own cells (first row of a visit)."""
    rows = {}
    for visit_id, level, body in re.findall(r"<tr[^>]*data-visit='([^']+)' data-level='(\w+)'>(.*?)</tr>", html):
        cells = [unescape(TAG.sub(" ", cell)).split() for cell in re.findall(r"<td[^>]*>(.*?)</td>", body)]
        rows[(visit_id, level)] = [" ".join(words) for words in cells][-5:]
    return rows


def expected_cells(level: dict) -> list[str]:
    """The level cells the report shows for a response of `response_for` (values rounded as stored)."""
    if level["improvement_sd"] is None:
        return [level["verdict"], "—", "—"]
    low, high = level["ci95_sd"]
    return [level["verdict"], f"{level['improvement_sd']:+.2f}", f"[{low:+.2f}, {high:+.2f}]"]


def test_report_lists_the_visits_and_stores_the_missing_responses_first(tmp_path, store_url):
    store = SQLiteStore(Path(store_url.removeprefix("sqlite:///")))
    visits = load_visits(store, ATHLETE, day_start_ms(LAST) - 60 * DAY_MS, day_start_ms(LAST) + DAY_MS)
    reference = response_for(store, athlete=ATHLETE, as_of=LAST, write=False)
    assert store.count(VISIT_RESPONSE.name) == 0
    assert [v.missing_response for v in visits] == [True, True, False]  # days 105, 110 complete; 125 pending
    store.close()

    html = section(report(tmp_path, store_url))
    store = SQLiteStore(Path(store_url.removeprefix("sqlite:///")))
    stored = store.count(VISIT_RESPONSE.name)
    store.close()
    assert stored == 6, "the two complete visits' responses, one point per level, were stored first"
    assert "3 visits in this period" in html  # the removed one is left out
    rows = level_rows(html)
    complete = [v for v in reference["visits"] if v["complete"]]
    assert len(complete) == 2
    for entry in complete:
        for level, result in entry["levels"].items():
            assert rows[(entry["visit_id"], level)][1:4] == expected_cells(result), (entry["regions"], level)
    treated = next(v for v in complete if v["regions"] == ["calf_l"])
    verdicts = {level: r["verdict"] for level, r in treated["levels"].items()}
    assert verdicts["local"] == verdicts["systemic"] == "improved"
    assert rows[(treated["visit_id"], "local")][-1] == "gastrocnemius lateralis, gastrocnemius medialis"
    lumbar = next(v for v in complete if v["regions"] == ["lumbar"])
    assert rows[(lumbar["visit_id"], "local")] == [
        "local", "insufficient data", "—", "—", "no muscle-load pod muscle in the treated regions",
    ]  # fmt: skip

    pending = next(v for v in reference["visits"] if not v["complete"])
    block = re.search(rf"<tr class='first' data-visit='{pending['visit_id']}'>(.*?)</tr>", html).group(1)
    assert "pending: days 2–8 after the visit end on 2025-05-14" in block and "calf_r, hamstring_r" in block
    assert "2025-05-06 12:00" in block and "2025-05-07 12:00" in block  # the visit and the end of its quiet period


def test_everything_is_escaped_and_the_visit_cells_show_the_visit(tmp_path, store_url):
    html = section(report(tmp_path, store_url))
    assert NOTE not in html and "note: tight &lt;calf&gt; &amp; &quot;sore&quot;" in html
    visit_id = visit_id_for(ATHLETE, at(110))
    row = re.search(rf"<tr class='first' data-visit='{visit_id}' data-level='local'>(.*?)</tr>", html).group(1)
    cells = [unescape(TAG.sub(" ", c)).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
    assert cells[0] == ["2025-04-21", "12:00", visit_id] and cells[1] == ["calf_l"]
    assert cells[2] == ["T1", "needles:", "8", "note:", "tight", "<calf>", "&", '"sore"']
    assert cells[3] == ["2025-04-22", "12:00"]  # the end of the quiet period, 24 h after the visit
    assert "Descriptive only" in html


def test_a_report_ending_before_day_8_shows_the_visit_pending_and_stores_nothing(tmp_path, store_url):
    html = section(report(tmp_path, store_url, "--as-of", "2025-04-29"))  # day 8 after the day-110 visit
    store = SQLiteStore(Path(store_url.removeprefix("sqlite:///")))
    stored = store.count(VISIT_RESPONSE.name)
    store.close()
    assert "2 visits in this period" in html and stored == 3  # only the day-105 visit is complete
    assert "pending: days 2–8 after the visit end on 2025-04-29" in html
    html = section(report(tmp_path, store_url, "--as-of", "2025-04-30"))  # day 9: complete
    assert "pending" not in html and html.count("data-level=") == 6


def test_no_visits_say_so():
    assert visits_section([]) == "<p>No visits in this period.</p>"


def test_stored_responses_read_back_on_each_store(each_store):
    """The section reads `visit_response` points through the Store interface: the same on SQLite and InfluxDB."""
    treated_store(each_store)
    document = response_for(each_store, athlete=ATHLETE, as_of=LAST)
    results = {r.visit.visit_id: r for r in load_visits(each_store, ATHLETE, 0, day_start_ms(LAST) + DAY_MS)}
    for entry in document["visits"]:
        result = results[entry["visit_id"]]
        assert result.complete == entry["complete"]
        if not entry["complete"]:
            assert result.levels == {}
            continue
        for level, expected in entry["levels"].items():
            got = result.levels[level]
            assert got.verdict == expected["verdict"]
            assert [got.improvement_sd, got.ci95_low_sd, got.ci95_high_sd] == [
                expected["improvement_sd"], *expected["ci95_sd"],
            ]  # fmt: skip
            assert (got.days_pre, got.days_post) == (expected["days"]["pre"], expected["days"]["post"])
            assert got.muscles == (",".join(expected["muscles"]) or None if level == "local" else None)
