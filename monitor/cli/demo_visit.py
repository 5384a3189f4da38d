"""The demo's treated athlete: its visit, the quiet period after it and the measured response at each IDN level."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from ingest.store.base import Store
    from ingest.visits import Visit

VISIT_COLUMNS = (
    "visit", "athlete", "at (UTC)", "regions", "therapist", "flags that day", "quiet until (UTC)",
    "local", "segmental", "systemic",
)  # fmt: skip


def demo_visits(athletes: list[str], conditions: list[str], today: dt.date, now_ms: int) -> list[Visit]:
    """The visit of each treated athlete (`demo_squad.TREATED`): calf regions, therapist T1, at
    `demo_squad.visit_time_ms`."""
    from ingest.visits import new_visit
    from monitor.cli.demo_squad import TREATED, VISIT_REGIONS, VISIT_THERAPIST, visit_time_ms

    return [
        new_visit(athlete, visit_time_ms(today), VISIT_REGIONS, therapist=VISIT_THERAPIST, now_ms=now_ms)
        for athlete, condition in zip(athletes, conditions)
        if condition == TREATED
    ]


def visit_reports(store: Store, visits: list[Visit], today: dt.date) -> list[dict[str, Any]]:
    """Each visit as the demo shows it: the visit, the flags of its day, the end of the quiet period and the
    response per level (`monitor.response_job.response_for`, stored as `visit_response` points once complete)."""
    from dashboards.flag_source import active_flags, read_flags
    from dashboards.visit_terms import quiet_until_ms
    from ingest.timeline import DAY_MS, iso_utc
    from ingest.visits import visit_document
    from monitor.response_job import response_for

    reports = []
    for visit in visits:
        entry = response_for(store, athlete=visit.athlete, visit_id=visit.visit_id, as_of=today)["visits"][0]
        day_ms = visit.at_ms // DAY_MS * DAY_MS
        flags = active_flags(read_flags(store, visit.athlete, day_ms, day_ms + DAY_MS), day_ms)
        levels = {
            name: {key: level[key] for key in ("verdict", "improvement_sd", "ci95_sd")}
            for name, level in entry["levels"].items()
        }
        reports.append(
            {
                **visit_document(visit),
                "flags_on_visit_day": [{"signal": f.signal, "severity": f.severity} for f in flags],
                "quiet_until": iso_utc(quiet_until_ms(visit.at_ms)),
                "complete": entry["complete"],
                "after_window_ends": entry["after_window_ends"],
                "levels": levels,
            }
        )
    return reports


def _time(iso: str) -> str:
    return iso.replace("T", " ").removesuffix("Z")[:16]


def print_visits(visits: list[dict[str, Any]], console: Console) -> None:
    """The visits as a table (monitor.cli.tables): the visit, the flags it followed, the quiet period, the
    response per level."""
    from monitor.cli import tables
    from monitor.cli.response import DESCRIPTIVE, LEVEL_NAMES, level_cell

    if not visits:
        return
    rows = []
    for v in visits:
        flags = "\n".join(f"{f['signal']} {f['severity']}" for f in v["flags_on_visit_day"]) or "none"
        levels = [level_cell(v["levels"][name]) for name in LEVEL_NAMES]
        if not v["complete"]:
            levels = [f"pending: day 8 is {v['after_window_ends']}"] * len(LEVEL_NAMES)
        at, until = _time(v["at"]), _time(v["quiet_until"])
        regions = ", ".join(v["regions"])
        rows.append([v["visit_id"], v["athlete"], at, regions, v["therapist"] or "—", flags, until, *levels])
    console.print()
    tables.print_table("Visits (IDN) and the response after them", VISIT_COLUMNS, rows, console=console)
    tables.note(
        console,
        "Quiet period: the 24 h after a visit (post-needling soreness is expected, not a new warning sign). "
        "Response: the 7 days before the visit against days 2–8 after, in the athlete's baseline SDs [95 % "
        "interval], positive = better. " + DESCRIPTIVE,
    )
