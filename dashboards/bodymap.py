"""The soreness body map as an inline SVG heat map: front and back, every region of ``ingest.regions`` coloured by
a value 0–10 (e.g. its highest rating in the last two weeks), candidate regions outlined.

The figure and the region shapes are the check-in's (dashboards/bodymap_geometry.py), scaled by ``SCALE``. Sides
are the athlete's: in the front view the athlete faces the reader, so the athlete's left is on the reader's right;
in the back view it is on the reader's left. Each view is labelled L and R accordingly. No scripts; each region
carries a `<title>` with its label and value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from html import escape

from dashboards.bodymap_geometry import HEIGHT, SILHOUETTE, VIEWS, WIDTH, shapes, viewers_left

SCALE = 2
"""Report units per unit of the geometry's box."""
VIEW_WIDTH, VIEW_HEIGHT = WIDTH * SCALE, HEIGHT * SCALE
NOT_SORE = "#f6f8fa"
OUTLINE = "#8c959f"
CANDIDATE = "#1f2328"


def heat_colour(value: float) -> str:
    """0 (not sore) → light grey; 1–10 → from yellow (#f2cc0c) to red (#d44a3a), linearly in RGB."""
    if not value > 0:
        return NOT_SORE
    share = (min(value, 10.0) - 1.0) / 9.0
    low, high = (0xF2, 0xCC, 0x0C), (0xD4, 0x4A, 0x3A)
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(low, high))


def body_map(
    values: Mapping[str, float],
    *,
    title: str = "Soreness body map",
    candidates: Collection[str] = (),
    caption: str = "",
) -> str:
    """Both views as one `<svg>`: each region filled by ``heat_colour(values[name])`` (missing = 0), regions in
    ``candidates`` outlined in black, a colour scale below."""
    width, height = 2 * VIEW_WIDTH + 60, VIEW_HEIGHT + 130
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="14" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for index, view in enumerate(VIEWS):
        ox, oy = 20 + index * (VIEW_WIDTH + 20), 30
        out.append(f'<g transform="translate({ox},{oy})">')
        left_label = viewers_left(view).upper()
        right_label = "R" if left_label == "L" else "L"
        out.append(
            f'<text x="{VIEW_WIDTH / 2:g}" y="{VIEW_HEIGHT + 14:g}" text-anchor="middle" class="tick">{view}</text>'
        )
        out.append(f'<text x="8" y="14" class="tick">{left_label}</text>')
        out.append(f'<text x="{VIEW_WIDTH - 8:g}" y="14" text-anchor="end" class="tick">{right_label}</text>')
        # strokes in the scaled group are divided by SCALE to keep their width on the page
        out.append(f'<g transform="scale({SCALE:g})">')
        out.append(f'<g fill="#eaeef2" stroke="{OUTLINE}" stroke-width="{1 / SCALE:g}">{SILHOUETTE}</g>')
        for s in shapes(view):
            value = float(values.get(s.region.name, 0.0) or 0.0)
            candidate = s.region.name in candidates
            stroke_width = (2.5 if candidate else 0.6) / SCALE
            stroke = f'stroke="{CANDIDATE if candidate else OUTLINE}" stroke-width="{stroke_width:g}"'
            label = f"{s.region.label}: {'not sore' if not value > 0 else f'{value:g}/10'}"
            label += " (candidate region)" if candidate else ""
            out.append(
                f'<ellipse cx="{s.cx:g}" cy="{s.cy:g}" rx="{s.rx:g}" ry="{s.ry:g}" fill="{heat_colour(value)}" '
                f'{stroke} data-region="{escape(s.region.name)}"><title>{escape(label)}</title></ellipse>'
            )
        out.append("</g></g>")
    y = VIEW_HEIGHT + 78
    out.append(f'<text x="20" y="{y - 6}" class="legend">rating</text>')
    for step in range(0, 11):
        out.append(f'<rect x="{70 + step * 22}" y="{y - 18}" width="22" height="12" fill="{heat_colour(step)}"/>')
        out.append(f'<text x="{81 + step * 22}" y="{y + 6}" text-anchor="middle" class="legend">{step}</text>')
    if candidates:
        out.append(f'<text x="20" y="{y + 44}" class="legend">black outline: candidate region of the visit</text>')
    if caption:
        out.append(f'<text x="20" y="{y + 26}" class="legend">{escape(caption)}</text>')
    return "\n".join([*out, "</svg>"])
