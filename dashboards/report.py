"""One athlete's report as a single self-contained HTML file: the athlete detail plots without Grafana.

Inline SVG charts and inline CSS only: no scripts, no fonts, no network access (a Content-Security-Policy meta tag
forbids loading anything). Fields that the analysis does not write yet show "no data yet". The data comes from
``dashboards.report_data``; nothing is re-analysed.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import numpy as np

from dashboards.flag_source import FlagPoint, active_flags, episodes, flag_runs
from dashboards.report_data import (
    ReportData,
    data_span,
    float_column,
    load_report_data,
    on_last_day,
    report_window,
    running_aftercare,
)
from dashboards.report_visits import CSS as VISITS_CSS
from dashboards.report_visits import utc_minute, visits_section
from dashboards.report_wellness import candidate_line, wellness_section
from dashboards.svg import Band, HLine, Lane, Region, Series, chart, timeline
from ingest.store.base import Frame
from ingest.timeline import DAY_MS, ms_day

__all__ = ["ReportData", "build_report", "data_span", "load_report_data", "report_window", "running_aftercare"]

SEVERITY_COLOURS = {"act": "#d44a3a", "watch": "#ed8128"}
SHORT_HISTORY_DAYS = 42  # below this, the report says the long-window indicators are still building up

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:920px;color:#1f2328}
body{padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem;border-bottom:1px solid #d0d7de}
.meta{color:#59636e}.cards{display:flex;gap:.75rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .9rem;min-width:8rem}
.card b{display:block;font-size:1.3rem}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .4rem;text-align:left;vertical-align:top}
.sev{color:#fff;border-radius:4px;padding:0 .4rem}.chart{margin:.5rem 0 1rem;border:1px solid #eaeef2}
.chart-title{font-weight:600;font-size:14px}.tick,.legend{font-size:11px;fill:#59636e}
.frame{fill:none;stroke:#d0d7de}.grid{stroke:#eaeef2}.empty{font-size:14px;fill:#8c959f;text-anchor:middle}
p.note{color:#59636e;font-size:12px}p.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.4rem .6rem}
p.idn b{color:#d44a3a}
"""


def _daily_sums(frame: Frame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-day sums of a session field (days without a value are left out)."""
    values = float_column(frame, name)
    ok = np.isfinite(values)
    if not ok.any():
        return np.empty(0), np.empty(0)
    days = frame.time_ms[ok] // DAY_MS * DAY_MS
    unique, index = np.unique(days, return_inverse=True)
    return unique.astype(float), np.bincount(index, weights=values[ok])


def _regions(data: ReportData) -> tuple[Region, ...]:
    return tuple(
        Region(
            e.start_ms, e.last_ms + DAY_MS, SEVERITY_COLOURS.get(e.severity, "#8c959f"), f"{e.signal} ({e.severity})"
        )
        for e in episodes(data.flags)
    )


def charts(data: ReportData) -> list[str]:
    """The athlete detail plots, in the dashboard's order."""
    span = (data.start_ms, data.end_ms)
    regions = _regions(data)
    d, r, s = data.daily, data.readiness, data.sessions
    trimp_x, trimp = _daily_sums(s, "trimp")
    srpe_x, srpe = _daily_sums(s, "srpe_load")
    load = chart(
        "Daily load and ACWR",
        [
            Series("TRIMP", trimp_x, trimp, "bars"),
            Series("sRPE load", srpe_x, srpe, "bars"),
            Series("ACWR", d.time_ms, float_column(d, "acwr"), "line", "#a352cc", "right"),
        ],
        *span,
        bands=(
            Band(0.8, 1.3, "#56a64b", "ACWR 0.8–1.3", "right"),
            Band(1.5, 3.0, "#d44a3a", "ACWR above 1.5", "right"),
        ),
        regions=regions,
    )
    pmc = chart(
        "Fitness, fatigue and form (CTL / ATL / TSB)",
        [
            Series("CTL", d.time_ms, float_column(d, "ctl")),
            Series("ATL", d.time_ms, float_column(d, "atl")),
            Series("TSB", d.time_ms, float_column(d, "tsb")),
        ],
        *span,
        regions=regions,
    )
    low, mean, sd = (
        float_column(d, "ln_rmssd_lower_bound"),
        float_column(d, "ln_rmssd_baseline_mean"),
        float_column(d, "ln_rmssd_baseline_sd"),
    )
    high = mean + 0.5 * sd
    band_ok = np.isfinite(low) & np.isfinite(high)
    normal: tuple[Band, ...]
    if band_ok.sum() >= 2:
        normal = (Band(low, high, "#56a64b", "normal range (mean ± 0.5 SD)", x_ms=d.time_ms.astype(float)),)
    elif band_ok.any():
        last = np.flatnonzero(band_ok)[-1]
        normal = (Band(float(low[last]), float(high[last]), "#56a64b", "normal range (mean ± 0.5 SD)"),)
    else:
        normal = ()
    hrv = chart(
        "ln rMSSD: mornings, 7-day mean and normal range",
        [
            Series("morning", r.time_ms, float_column(r, "ln_rmssd"), "points", "#3274d9"),
            Series("7-day mean", d.time_ms, float_column(d, "ln_rmssd_7d"), "line", "#1f2328"),
        ],
        *span,
        bands=normal,
        regions=regions,
    )
    rhr = chart(
        "Resting heart rate",
        [
            Series("morning HR", r.time_ms, float_column(r, "mean_hr_bpm"), "points", "#e0752d"),
            Series("resting HR 7-day", d.time_ms, float_column(d, "rhr_7d"), "line", "#d44a3a"),
        ],
        *span,
        unit="bpm",
        regions=regions,
    )
    symmetry = chart(
        "Symmetry index (positive: left larger)",
        [
            Series("ground contact", s.time_ms, float_column(s, "gct_symmetry_index_pct"), "points"),
            Series("muscle load", s.time_ms, float_column(s, "muscle_symmetry_index_pct"), "points"),
            Series("pedal power", s.time_ms, float_column(s, "pedal_symmetry_index_pct"), "points"),
            Series("ground contact (daily)", d.time_ms, float_column(d, "gct_symmetry_index_pct"), "line"),
        ],
        *span,
        unit="%",
        lines=tuple(HLine(v, c, f"{v:+.0f} %") for v, c in ((10, "#ed8128"), (-10, "#ed8128")))
        + tuple(HLine(v, c, f"{v:+.0f} %") for v, c in ((15, "#d44a3a"), (-15, "#d44a3a"))),
        regions=regions,
    )
    return [load, pmc, hrv, rhr, symmetry]


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _recommended(data: ReportData) -> bool | None:
    value = on_last_day(data, "recommend_idn_visit")
    return None if value is None else bool(value)


def _cards(data: ReportData) -> str:
    active = active_flags(data.flags, data.last_day_ms)
    recommended = _recommended(data)
    items = [
        ("Readiness", str(on_last_day(data, "status") or "—")),
        ("ln rMSSD 7-day", _num(on_last_day(data, "ln_rmssd_7d"))),  # type: ignore[arg-type]
        ("ACWR", _num(on_last_day(data, "acwr"))),  # type: ignore[arg-type]
        ("Active flags", str(len(active)) if active else "none"),
        ("IDN visit", "—" if recommended is None else "recommended" if recommended else "no"),
    ]
    return (
        '<div class="cards">'
        + "".join(f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>' for k, v in items)
        + "</div>"
    )


def idn_reasons(data: ReportData) -> list[str]:
    """Why the last day recommends a visit, from the stored flags (as ``monitor.rules.idn_reasons`` words it):
    the act flags of that day, else the flags of each family within the watch window."""
    acts = [f for f in active_flags(data.idn_flags, data.last_day_ms) if f.severity == "act"]
    if acts:
        return [f"act: {f.signal} — {f.reason}" for f in acts]
    latest: dict[str, FlagPoint] = {}
    for f in sorted(data.idn_flags, key=lambda p: p.time_ms):
        latest[f.signal] = f
    families: dict[str, list[FlagPoint]] = {}
    for f in latest.values():
        families.setdefault(f.family, []).append(f)
    return [
        f"watch ({family}): "
        + "; ".join(f"{f.signal} (last {ms_day(f.time_ms).isoformat()}) — {f.reason}" for f in flags)
        for family, flags in sorted(families.items())
    ]


def _idn_section(data: ReportData) -> str:
    day = ms_day(data.last_day_ms).isoformat()
    recommended = _recommended(data)
    if recommended is None:
        return f"<p>No analysis is stored for {day}.</p>"
    if not recommended:
        return f"<p>No preventive IDN visit recommended on {day}.</p>"
    items = "".join(f"<li>{escape(reason)}</li>" for reason in idn_reasons(data))
    return (
        f"<p class='idn'><b>Preventive IDN visit recommended on {day}</b> (any act flag that day, or flags of two "
        f"families within {data.idn_watch_days} days). Why:</p><ul>{items}</ul>" + candidate_line(data)
    )


def _when(time_ms: int) -> str:
    return f"{utc_minute(time_ms)} UTC"


def aftercare_section(data: ReportData) -> str:
    """The after-care reminder of each visit whose window runs as of the report (nothing when none runs)."""
    if not data.aftercare:
        return ""
    items = "".join(
        f"<li>Visit on {_when(note.at_ms)} ({escape(', '.join(note.regions))}), until {_when(note.until_ms)}</li>"
        for note in data.aftercare
    )
    return (
        f"<h2>After-care</h2><p class='warn aftercare'>{escape(data.aftercare_advice)}</p><ul>{items}</ul>"
        "<p class='note'>Flags of the visit day and the day after are expected after needling: they open no new "
        "prevention episode.</p>"
    )


def flags_timeline(data: ReportData) -> str:
    """Per signal, the days it held, coloured by severity."""
    lanes: dict[str, list[Region]] = {}
    for run in flag_runs(data.flags):
        days = (run.end_ms - run.start_ms) // DAY_MS
        label = f"{run.signal} ({run.severity}) {ms_day(run.start_ms).isoformat()}, {days} day{'s' * (days != 1)}"
        colour = SEVERITY_COLOURS.get(run.severity, "#8c959f")
        lanes.setdefault(run.signal, []).append(Region(run.start_ms, run.end_ms, colour, label))
    rows = [Lane(signal, spans) for signal, spans in lanes.items()]
    return timeline(
        "Flags: the days each signal held", rows, data.start_ms, data.end_ms, empty="no flags in this period"
    )


def _notes(data: ReportData) -> str:
    """What the period lacks: a short history, or days without an analysis."""
    notes = []
    first = data.first_data_ms
    if first is not None and data.end_ms - max(first, data.start_ms) < SHORT_HISTORY_DAYS * DAY_MS:
        n = (data.end_ms - max(first, data.start_ms)) // DAY_MS
        notes.append(
            f"Only {n} day{'s' * (n != 1)} of data (from {ms_day(max(first, data.start_ms)).isoformat()}): the "
            "load ratio, fitness (CTL) and the HRV normal range need weeks of history and fill in as it grows."
        )
    missing = data.missing_days
    if missing:
        notes.append(
            f"{len(missing)} day{'s' * (len(missing) != 1)} of this period have no analysis: run "
            f"<code>{escape(analyze_command(data))}</code> to compute them."
        )
    text = "".join(f'<p class="warn">{note}</p>' for note in notes)
    if data.profile:
        text += f'<p class="note">TRIMP computed with {escape("; ".join(data.profile))}.</p>'
    return text


def analyze_command(data: ReportData) -> str:
    """The `analyze` call that computes the period's missing days."""
    missing = data.missing_days
    days = (ms_day(data.last_day_ms) - missing[0]).days + 1 if missing else 1
    last = ms_day(data.last_day_ms).isoformat()
    return f"recovery-monitor analyze --athlete {data.athlete} --as-of {last} --days {days}"


def _flags_table(data: ReportData) -> str:
    if not data.flags:
        return "<p>No flags in this period.</p>"
    rows = []
    for f in sorted(data.flags, key=lambda p: (-p.time_ms, p.signal)):
        colour = SEVERITY_COLOURS.get(f.severity, "#8c959f")
        rows.append(
            f"<tr><td>{ms_day(f.time_ms).isoformat()}</td>"
            f"<td><span class='sev' style='background:{colour}'>{escape(f.severity)}"
            f"</span></td><td>{escape(f.family)}</td><td>{escape(f.signal)}</td><td>{_num(f.value)}</td>"
            f"<td>{_num(f.threshold)}</td><td>{escape(f.since)}</td><td>{escape(f.reason)}</td></tr>"
        )
    head = "<tr><th>day</th><th>severity</th><th>family</th><th>signal</th><th>value</th><th>threshold</th>"
    return f"<table>{head}<th>since</th><th>reason</th></tr>{''.join(rows)}</table>"


def _sessions_table(data: ReportData) -> str:
    s = data.sessions
    if not len(s):
        return "<p>No sessions in this period.</p>"
    columns = [("minutes", float_column(s, "duration_s") / 60, 0), ("avg HR", float_column(s, "avg_hr_bpm"), 0)]
    columns += [("max HR", float_column(s, "max_hr_bpm"), 0), ("RPE", float_column(s, "rpe"), 1)]
    columns += [("sRPE load", float_column(s, "srpe_load"), 0), ("TRIMP", float_column(s, "trimp"), 0)]
    columns += [("GCT SI %", float_column(s, "gct_symmetry_index_pct"), 1)]
    head = "<tr><th>start (UTC)</th>" + "".join(f"<th>{escape(name)}</th>" for name, _, _ in columns) + "</tr>"
    rows = []
    for i in np.argsort(-s.time_ms):
        when = dt.datetime.fromtimestamp(int(s.time_ms[i]) / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
        cells = "".join(f"<td>{_num(values[i], digits)}</td>" for _, values, digits in columns)
        rows.append(f"<tr><td>{when}</td>{cells}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def build_report(data: ReportData, generated: dt.datetime | None = None) -> str:
    """The complete HTML document."""
    generated = generated or dt.datetime.now(dt.UTC)
    period = f"{ms_day(data.start_ms).isoformat()} to {ms_day(data.end_ms - DAY_MS).isoformat()}"
    plots = "\n".join(charts(data))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Recovery report {escape(data.athlete)} ({period})</title>
<style>{CSS}{VISITS_CSS}</style>
</head>
<body>
<h1>Recovery report: athlete {escape(data.athlete)}</h1>
<p class="meta">{period} · generated {generated:%Y-%m-%d %H:%M} UTC by recovery-monitor</p>
{_cards(data)}
{_notes(data)}
<h2>Preventive IDN visit</h2>
{_idn_section(data)}
{aftercare_section(data)}
<h2>Load, recovery and asymmetry</h2>
{plots}
<p class="note">Shaded spans mark flag episodes (red: act, orange: watch). Bands: ACWR 0.8–1.3 (green) and above
1.5 (red); the ln rMSSD normal range is the mean ± 0.5 SD of the 60 days before each week.</p>
<h2>Wellness and soreness</h2>
{wellness_section(data)}
<h2>Flags</h2>
{flags_timeline(data)}
{_flags_table(data)}
<h2>Visits (IDN) and the response after them</h2>
{visits_section(data.visits, data.quiet_hours)}
<h2>Sessions</h2>
{_sessions_table(data)}
</body>
</html>
"""
