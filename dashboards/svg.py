"""Minimal inline-SVG time charts for the HTML report: lines, points, bars, bands, threshold lines, regions.

No plotting library and no scripts: each chart is one `<svg>` element that any browser (or e-mail client that
shows HTML) renders offline.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Literal

import numpy as np

Style = Literal["line", "points", "bars"]
Axis = Literal["left", "right"]

WIDTH, HEIGHT = 880, 260
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_SIDE, MARGIN_AXIS = 34, 30, 14, 52
PALETTE = ("#3274d9", "#e0752d", "#56a64b", "#a352cc", "#f2cc0c", "#8f3bb8")


@dataclass
class Series:
    """One data series; NaN values are gaps."""

    name: str
    x_ms: np.ndarray
    y: np.ndarray
    style: Style = "line"
    colour: str | None = None
    axis: Axis = "left"


@dataclass
class Band:
    """A horizontal band between two y values (e.g. ACWR 0.8–1.3), or a time-varying one when `x_ms` is given."""

    low: float | np.ndarray
    high: float | np.ndarray
    colour: str
    label: str = ""
    axis: Axis = "left"
    x_ms: np.ndarray | None = None


@dataclass
class HLine:
    """A dashed threshold line."""

    y: float
    colour: str
    label: str = ""
    axis: Axis = "left"


@dataclass
class Region:
    """A shaded time span (e.g. a flag episode)."""

    start_ms: int
    end_ms: int
    colour: str
    label: str = ""


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def _fmt(value: float) -> str:
    """Tick label: no trailing zeros, at most two decimals."""
    if abs(value) < 0.005:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


class _Scale:
    def __init__(self, low: float, high: float, top: float, bottom: float) -> None:
        if high - low < 1e-9:
            low, high = low - 1.0, high + 1.0
        pad = (high - low) * 0.06
        self.low, self.high, self.top, self.bottom = low - pad, high + pad, top, bottom

    def __call__(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)


def _extent(values: list[np.ndarray]) -> tuple[float, float] | None:
    finite = [v[np.isfinite(v)] for v in values if v.size]
    finite = [v for v in finite if v.size]
    if not finite:
        return None
    joined = np.concatenate(finite)
    return float(joined.min()), float(joined.max())


def _day_ticks(x: Callable[[float], float], start_ms: int, end_ms: int, y: float) -> list[str]:
    """Date labels along the time axis, at most about eight."""
    days = max((end_ms - start_ms) / 86_400_000, 1)
    step_days = next(s for s in (1, 2, 7, 14, 28, 56, 112, 365, 730) if days / s <= 8)
    labels, tick_ms = [], (start_ms // 86_400_000 + 1) * 86_400_000
    while tick_ms < end_ms:
        label = dt.datetime.fromtimestamp(tick_ms / 1000, dt.UTC).strftime("%d %b %y" if days > 365 else "%d %b")
        labels.append(f'<text x="{x(tick_ms):.1f}" y="{y}" text-anchor="middle" class="tick">{label}</text>')
        tick_ms += step_days * 86_400_000
    return labels


def chart(
    title: str,
    series: list[Series],
    start_ms: int,
    end_ms: int,
    *,
    unit: str = "",
    bands: tuple[Band, ...] = (),
    lines: tuple[HLine, ...] = (),
    regions: tuple[Region, ...] = (),
) -> str:
    """One chart as an `<svg>` element; says "no data yet" when no series has a finite value."""
    has_right = any(s.axis == "right" for s in series)
    left_x, right_x = MARGIN_AXIS, WIDTH - (MARGIN_AXIS if has_right else MARGIN_SIDE)
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left_x}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    data_series = [s for s in series if np.isfinite(np.asarray(s.y, float)).any()]
    if not data_series:
        out.append(f'<rect x="{left_x}" y="{top}" width="{right_x - left_x}" height="{bottom - top}" class="frame"/>')
        out.append(f'<text x="{(left_x + right_x) / 2}" y="{(top + bottom) / 2}" class="empty">no data yet</text>')
        return "\n".join([*out, "</svg>"])

    def x(ms: float) -> float:
        return left_x + (ms - start_ms) / max(end_ms - start_ms, 1) * (right_x - left_x)

    scales: dict[str, _Scale] = {}
    for axis in ("left", "right"):
        values = [np.asarray(s.y, float) for s in data_series if s.axis == axis]
        if not values:
            continue
        values += [np.atleast_1d(np.asarray(b.low, float)) for b in bands if b.axis == axis and b.x_ms is None]
        values += [np.array([h.y]) for h in lines if h.axis == axis]
        low, high = _extent(values) or (0.0, 1.0)
        if any(s.style == "bars" for s in data_series if s.axis == axis):
            low = min(low, 0.0)
        scales[axis] = _Scale(low, high, top, bottom)

    out.append(f'<rect x="{left_x}" y="{top}" width="{right_x - left_x}" height="{bottom - top}" class="frame"/>')
    for region in regions:
        x0, x1 = max(x(region.start_ms), left_x), min(x(region.end_ms), right_x)
        if x1 > x0:
            out.append(
                f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{bottom - top}" fill="{region.colour}" '
                f'opacity="0.12"><title>{escape(region.label)}</title></rect>'
            )
    for band in bands:
        scale = scales.get(band.axis)
        if scale is None:
            continue
        if band.x_ms is None:
            y0, y1 = scale(float(band.high)), scale(float(band.low))
            y0, y1 = max(min(y0, bottom), top), max(min(y1, bottom), top)
            out.append(
                f'<rect x="{left_x}" y="{y0:.1f}" width="{right_x - left_x}" height="{max(y1 - y0, 0):.1f}" '
                f'fill="{band.colour}" opacity="0.18"><title>{escape(band.label)}</title></rect>'
            )
        else:
            ok = np.isfinite(band.low) & np.isfinite(band.high)
            xs, lows, highs = band.x_ms[ok], np.asarray(band.low)[ok], np.asarray(band.high)[ok]
            if xs.size:
                upper = [f"{x(a):.1f},{scale(b):.1f}" for a, b in zip(xs, highs)]
                lower = [f"{x(a):.1f},{scale(b):.1f}" for a, b in zip(xs[::-1], lows[::-1])]
                out.append(
                    f'<polygon points="{" ".join(upper + lower)}" fill="{band.colour}" opacity="0.2">'
                    f"<title>{escape(band.label)}</title></polygon>"
                )
    for axis, scale in scales.items():
        ticks = nice_ticks(scale.low, scale.high)
        anchor_x = left_x - 6 if axis == "left" else right_x + 6
        anchor = "end" if axis == "left" else "start"
        for tick in ticks:
            ty = scale(tick)
            if axis == "left":
                out.append(f'<line x1="{left_x}" x2="{right_x}" y1="{ty:.1f}" y2="{ty:.1f}" class="grid"/>')
            out.append(f'<text x="{anchor_x}" y="{ty + 4:.1f}" text-anchor="{anchor}" class="tick">{_fmt(tick)}</text>')
    if unit:
        out.append(f'<text x="6" y="{top - 8}" class="tick">{escape(unit)}</text>')
    out += _day_ticks(x, start_ms, end_ms, bottom + 18)
    days = max((end_ms - start_ms) / 86_400_000, 1)
    for line in lines:
        scale = scales.get(line.axis)
        if scale is not None and scale.low <= line.y <= scale.high:
            ly = scale(line.y)
            out.append(
                f'<line x1="{left_x}" x2="{right_x}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="{line.colour}" '
                f'stroke-dasharray="6 4" stroke-width="1.5"><title>{escape(line.label)}</title></line>'
            )
    bar_series = [s for s in data_series if s.style == "bars"]
    bar_width = max((right_x - left_x) / days * 0.8 / max(len(bar_series), 1), 1.0)
    legend_x = left_x + 8
    for index, item in enumerate(data_series):
        colour = item.colour or PALETTE[index % len(PALETTE)]
        scale = scales[item.axis]
        xs, ys = np.asarray(item.x_ms, float), np.asarray(item.y, float)
        ok = np.isfinite(ys)
        if item.style == "bars":
            offset = bar_series.index(item) * bar_width - len(bar_series) * bar_width / 2
            base = scale(max(scale.low, 0.0))
            for a, b in zip(xs[ok], ys[ok]):
                y0 = min(scale(b), base)
                out.append(
                    f'<rect x="{x(a) + offset:.1f}" y="{y0:.1f}" width="{bar_width:.1f}" '
                    f'height="{abs(base - scale(b)):.1f}" fill="{colour}" opacity="0.75"/>'
                )
        if item.style == "line":
            segments = np.split(np.arange(len(ys)), np.where(~ok)[0])
            for segment in segments:
                segment = segment[ok[segment]]
                if segment.size > 1:
                    points = " ".join(f"{x(xs[i]):.1f},{scale(ys[i]):.1f}" for i in segment)
                    out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if item.style in ("line", "points"):
            radius = 3.0 if item.style == "points" else 2.2
            for a, b in zip(xs[ok], ys[ok]):
                out.append(f'<circle cx="{x(a):.1f}" cy="{scale(b):.1f}" r="{radius}" fill="{colour}"/>')
        label = escape(item.name + (" (right axis)" if item.axis == "right" and has_right else ""))
        out.append(f'<rect x="{legend_x}" y="{top + 6}" width="10" height="10" fill="{colour}"/>')
        out.append(
            f'<text x="{legend_x + 14}" y="{top + 15}" class="legend" stroke="#fff" stroke-width="3" '
            f'paint-order="stroke">{label}</text>'
        )
        legend_x += 24 + 7 * len(label)
    return "\n".join([*out, "</svg>"])


@dataclass
class Lane:
    """One row of a timeline: a label and its shaded spans (e.g. the days one flag held, by severity)."""

    label: str
    spans: list[Region]


LANE_HEIGHT = 22


def timeline(title: str, lanes: list[Lane], start_ms: int, end_ms: int, *, empty: str = "nothing to show") -> str:
    """Labelled lanes of coloured time spans as one `<svg>` element; says ``empty`` when there are no lanes."""
    label_width = min(max((7 * len(lane.label) for lane in lanes), default=0) + 16, 220)
    left_x, right_x, top = max(MARGIN_AXIS, label_width), WIDTH - MARGIN_SIDE, MARGIN_TOP
    bottom = top + max(len(lanes), 2) * LANE_HEIGHT
    height = bottom + MARGIN_BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="{MARGIN_SIDE}" y="18" class="chart-title">{escape(title)}</text>',
        f'<rect x="{left_x}" y="{top}" width="{right_x - left_x}" height="{bottom - top}" class="frame"/>',
    ]
    if not lanes:
        out.append(
            f'<text x="{(left_x + right_x) / 2}" y="{(top + bottom) / 2 + 5}" class="empty">{escape(empty)}</text>'
        )
        return "\n".join([*out, "</svg>"])

    def x(ms: float) -> float:
        return left_x + (ms - start_ms) / max(end_ms - start_ms, 1) * (right_x - left_x)

    for index, lane in enumerate(lanes):
        y = top + index * LANE_HEIGHT
        if index:
            out.append(f'<line x1="{left_x}" x2="{right_x}" y1="{y}" y2="{y}" class="grid"/>')
        out.append(
            f'<text x="{left_x - 6}" y="{y + LANE_HEIGHT / 2 + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(lane.label)}</text>"
        )
        for span in lane.spans:
            x0, x1 = max(x(span.start_ms), left_x), min(x(span.end_ms), right_x)
            if x1 > x0:
                out.append(
                    f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1.0):.1f}" height="{LANE_HEIGHT - 8}" '
                    f'fill="{span.colour}"><title>{escape(span.label)}</title></rect>'
                )
    out += _day_ticks(x, start_ms, end_ms, bottom + 18)
    return "\n".join([*out, "</svg>"])
