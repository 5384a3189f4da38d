"""The report's visits section: each visit (IDN) of the period with its regions and the response per level.

The visits are the stored `visit` points (removed ones left out, ``ingest.visits``); the response is read from the
stored `visit_response` points (``monitor.response_job`` writes them once day 8 after a visit has passed;
`recovery-monitor report` computes the missing ones first). Nothing is re-analysed here. Descriptive only
(docs/response.md): the report says "followed by", never "caused".
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from html import escape
from typing import Any

from dashboards.visit_terms import DESCRIPTIVE, QUIET_HOURS, quiet_until_ms
from ingest.model import VISIT_RESPONSE
from ingest.schema import stored_int, stored_text
from ingest.store.base import Store
from ingest.timeline import DAY_MS, ms_day
from ingest.visits import Visit, read_visits
from monitor.response import INSUFFICIENT, LEVELS, POST_DAYS, muscles_for_regions

LEVEL_MEANING = {
    "local": "muscle-load SI of the treated muscles",
    "segmental": "ground-contact time and pedal balance SI",
    "systemic": "ln rMSSD and resting HR",
}
VERDICT_COLOURS = {"improved": "#1a7f37", "worse": "#d44a3a", INSUFFICIENT: "#8c959f"}
CSS = """
table.visits td.verdict b{color:#fff;border-radius:4px;padding:0 .4rem;font-weight:600}
table.visits tr.first td{border-top:2px solid #8c959f}
"""


@dataclass(frozen=True)
class LevelResult:
    """One stored `visit_response` point: a level's verdict and its improvement in baseline SDs (positive =
    better) with the 95 % interval; None where the level had too little data."""

    verdict: str
    improvement_sd: float | None
    ci95_low_sd: float | None
    ci95_high_sd: float | None
    days_pre: int | None
    days_post: int | None
    metrics: str | None
    muscles: str | None


@dataclass(frozen=True)
class VisitResult:
    """A visit of the report's period and its stored response per level (empty when none is stored)."""

    visit: Visit
    window_ends: dt.date  # day 8 after the visit: the response exists from the next day on
    complete: bool  # day 8 had passed on the report's last day
    levels: dict[str, LevelResult] = field(default_factory=dict)

    @property
    def missing_response(self) -> bool:
        """Complete, but no response stored (`recovery-monitor response` computes it)."""
        return self.complete and not self.levels


def _value(value: Any) -> Any:
    """A frame cell, None when missing (NaN in a numeric column, None or NaN in a text column)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _float(value: Any) -> float | None:
    value = _value(value)
    return None if value is None else float(value)


def read_responses(store: Store, athlete: str, start_ms: int, end_ms: int) -> dict[str, dict[str, LevelResult]]:
    """The stored `visit_response` points of visits in [start_ms, end_ms): visit ID → level → result."""
    frame = store.read(
        VISIT_RESPONSE.name, athlete, VISIT_RESPONSE.field_names, start_ms, end_ms, with_tags=("visit_id", "level")
    )
    c = frame.columns
    found: dict[str, dict[str, LevelResult]] = {}
    for i in range(len(frame)):
        verdict = stored_text(c["verdict"][i])
        if verdict is None:
            continue
        found.setdefault(str(c["visit_id"][i]), {})[str(c["level"][i])] = LevelResult(
            verdict,
            _float(c["improvement_sd"][i]),
            _float(c["ci95_low_sd"][i]),
            _float(c["ci95_high_sd"][i]),
            stored_int(c["days_pre"][i]),
            stored_int(c["days_post"][i]),
            stored_text(c["metrics"][i]),
            stored_text(c["muscles"][i]),
        )
    return found


def load_visits(store: Store, athlete: str, start_ms: int, end_ms: int) -> list[VisitResult]:
    """The athlete's visits in [start_ms, end_ms) (the report's days) with their stored responses; a visit is
    complete when day 8 after it is before the period's last day."""
    last_day = ms_day(end_ms - DAY_MS)
    responses = read_responses(store, athlete, start_ms, end_ms)
    results = []
    for visit in read_visits(store, athlete, start_ms=start_ms, end_ms=end_ms):
        window_ends = ms_day(visit.at_ms) + dt.timedelta(days=POST_DAYS[1])
        results.append(VisitResult(visit, window_ends, last_day > window_ends, responses.get(visit.visit_id, {})))
    return results


def utc_minute(time_ms: int) -> str:
    """`YYYY-MM-DD HH:MM` (UTC) of a time in ms."""
    return dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _visit_cells(v: Visit, rows: int, quiet_hours: float) -> str:
    span = f" rowspan='{rows}'" if rows > 1 else ""
    who = escape(v.therapist) if v.therapist else "—"
    extra = "".join(
        f"<br>{label}: {escape(str(value))}" for label, value in (("needles", v.needles), ("note", v.note)) if value
    )
    return (
        f"<td{span}>{utc_minute(v.at_ms)}<br><small>{escape(v.visit_id)}</small></td>"
        f"<td{span}>{escape(', '.join(v.regions))}</td><td{span}>{who}{extra}</td>"
        f"<td{span}>{utc_minute(quiet_until_ms(v.at_ms, quiet_hours))}</td>"
    )


def _level_cells(visit: Visit, level: str, r: LevelResult | None) -> str:
    if r is None:
        return f"<td>{level}</td><td class='verdict' colspan='4'>not stored</td>"
    colour = VERDICT_COLOURS.get(r.verdict)
    verdict = f"<b style='background:{colour}'>{escape(r.verdict)}</b>" if colour else escape(r.verdict)
    interval = "—" if r.ci95_low_sd is None else f"[{_signed(r.ci95_low_sd)}, {_signed(r.ci95_high_sd)}]"
    measured = [escape(r.muscles.replace(",", ", ")) if r.muscles else ""]
    if r.verdict == INSUFFICIENT and level == "local" and not muscles_for_regions(visit.regions):
        measured = ["no muscle-load pod muscle in the treated regions"]
    elif r.verdict == INSUFFICIENT:
        measured.append(f"days with data: {r.days_pre or 0} before, {r.days_post or 0} after (3 needed)")
    detail = "<br>".join(m for m in measured if m)
    return (
        f"<td title='{escape(LEVEL_MEANING[level])}'>{level}</td><td class='verdict'>{verdict}</td>"
        f"<td>{_signed(r.improvement_sd)}</td><td>{interval}</td><td><small>{detail}</small></td>"
    )


def _visit_rows(result: VisitResult, quiet_hours: float) -> str:
    v = result.visit
    if not result.complete or result.missing_response:
        text = (
            f"pending: days 2–8 after the visit end on {result.window_ends.isoformat()}"
            if not result.complete
            else f"not computed: run <code>recovery-monitor response --athlete {escape(v.athlete)}</code>"
        )
        return (
            f"<tr class='first' data-visit='{escape(v.visit_id)}'>{_visit_cells(v, 1, quiet_hours)}"
            f"<td class='verdict' colspan='5'>{text}</td></tr>"
        )
    rows = []
    for i, level in enumerate(LEVELS):
        first = _visit_cells(v, len(LEVELS), quiet_hours) if i == 0 else ""
        cls = " class='first'" if i == 0 else ""
        cells = _level_cells(v, level, result.levels.get(level))
        rows.append(f"<tr{cls} data-visit='{escape(v.visit_id)}' data-level='{level}'>{first}{cells}</tr>")
    return "".join(rows)


def visits_section(visits: list[VisitResult], quiet_hours: float = QUIET_HOURS) -> str:
    """The report's visits section: one block of rows per visit (time, regions, therapist, end of the quiet
    period of ``quiet_hours``), one row per level with verdict, improvement in SD, 95 % interval and what was
    measured."""
    if not visits:
        return "<p>No visits in this period.</p>"
    head = (
        "<tr><th>visit (UTC)</th><th>regions</th><th>therapist</th><th>quiet until (UTC)</th><th>level</th>"
        "<th>verdict</th><th>change (SD)</th><th>95 % interval (SD)</th><th>measured</th></tr>"
    )
    body = "".join(_visit_rows(r, quiet_hours) for r in visits)
    n = len(visits)
    return (
        f"<p>{n} visit{'s' * (n != 1)} in this period. Quiet period: the {quiet_hours:g} h after a visit. Each level "
        "compares the 7 days before the visit with days 2–8 after it, in the athlete's own baseline SDs with the "
        "95 % interval; positive = better (local: muscle-load SI of the treated muscles; segmental: ground-contact "
        f"and pedal balance SI; systemic: ln rMSSD and resting HR).</p>"
        f"<table class='visits'>{head}{body}</table><p class='note'>{escape(DESCRIPTIVE)}</p>"
    )
