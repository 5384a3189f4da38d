"""The soreness body map as an inline SVG heat map: front and back, every region of ``ingest.regions`` coloured by
a value 0–10 (e.g. its highest rating in the last two weeks), candidate regions outlined.

Sides are the athlete's: in the front view the athlete faces the reader, so the athlete's left is on the reader's
right; in the back view it is on the reader's left. Each view is labelled L and R accordingly. No scripts; each
region carries a `<title>` with its label and value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from html import escape

from ingest.regions import REGIONS, Region

VIEW_WIDTH, VIEW_HEIGHT = 200, 410
MIDLINE = VIEW_WIDTH / 2
NOT_SORE = "#f6f8fa"
OUTLINE = "#8c959f"
CANDIDATE = "#1f2328"
PLACES: dict[str, tuple[float, float, float, float]] = {
    # group: (distance of the sided region's centre from the midline, centre y, x radius, y radius) on its view
    "calf": (19, 318, 11, 22),
    "soleus": (19, 348, 9, 10),
    "achilles": (18, 372, 5, 10),
    "plantar_fascia": (18, 396, 10, 6),
    "tibialis_anterior": (16, 330, 7, 28),
    "peroneals": (29, 330, 4, 24),
    "hamstring": (20, 258, 13, 32),
    "quadriceps": (20, 248, 13, 34),
    "adductor": (7, 232, 5, 20),
    "hip_flexor": (17, 198, 9, 8),
    "tfl_itb": (33, 238, 4, 30),
    "glute_max": (19, 210, 15, 14),
    "glute_med": (30, 190, 10, 8),
    "piriformis": (12, 194, 6, 4),
    "quadratus_lumborum": (14, 165, 6, 12),
    "shoulder": (46, 96, 11, 11),
    "upper_trap": (22, 84, 14, 7),
    "cervical": (0, 66, 6, 10),
    "thoracic": (0, 118, 7, 26),
    "lumbar": (0, 166, 7, 13),
    "abdominals": (0, 165, 17, 24),
}
"""Where each region group is drawn (ingest/regions.py sets the view); midline groups have distance 0."""
BODY = (
    '<circle cx="100" cy="38" r="20"/>'
    '<path d="M92 56h16v14h-16z"/>'
    '<path d="M56 84q44-18 88 0l8 8-10 108h-84l-10-108z"/>'
    '<path d="M52 90l-16 58-6 62 10 2 10-58 14-48z"/>'
    '<path d="M148 90l16 58 6 62-10 2-10-58-14-48z"/>'
    '<path d="M66 198h33l-3 100-4 92h-16l-6-92z"/>'
    '<path d="M101 198h33l-4 100-6 92h-16l-4-92z"/>'
)
"""A plain standing figure (head, neck, trunk, arms, legs) in a 200 × 410 box; drawn the same for both views."""


def heat_colour(value: float) -> str:
    """0 (not sore) → light grey; 1–10 → from yellow (#f2cc0c) to red (#d44a3a), linearly in RGB."""
    if not value > 0:
        return NOT_SORE
    share = (min(value, 10.0) - 1.0) / 9.0
    low, high = (0xF2, 0xCC, 0x0C), (0xD4, 0x4A, 0x3A)
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(low, high))


def region_centre(region: Region) -> tuple[float, float]:
    """The centre (x, y) of ``region`` in its view's box, the athlete's sides as seen in that view."""
    dx, y, _, _ = PLACES[region.group]
    if region.side is None:
        return MIDLINE, y
    readers_left = (region.side == "r") if region.view == "front" else (region.side == "l")
    return (MIDLINE - dx if readers_left else MIDLINE + dx), y


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
    for index, view in enumerate(("front", "back")):
        ox, oy = 20 + index * (VIEW_WIDTH + 20), 30
        left_label, right_label = ("R", "L") if view == "front" else ("L", "R")
        out.append(f'<g transform="translate({ox},{oy})">')
        out.append(f'<g fill="#eaeef2" stroke="{OUTLINE}" stroke-width="1">{BODY}</g>')
        out.append(f'<text x="{MIDLINE}" y="{VIEW_HEIGHT + 14}" text-anchor="middle" class="tick">{view}</text>')
        out.append(f'<text x="8" y="14" class="tick">{left_label}</text>')
        out.append(f'<text x="{VIEW_WIDTH - 8}" y="14" text-anchor="end" class="tick">{right_label}</text>')
        for region in (r for r in REGIONS if r.view == view):
            x, y = region_centre(region)
            _, _, rx, ry = PLACES[region.group]
            value = float(values.get(region.name, 0.0) or 0.0)
            candidate = region.name in candidates
            stroke = (
                f'stroke="{CANDIDATE}" stroke-width="2.5"' if candidate else f'stroke="{OUTLINE}" stroke-width=".6"'
            )
            label = f"{region.label}: {'not sore' if not value > 0 else f'{value:g}/10'}"
            label += " (candidate region)" if candidate else ""
            out.append(
                f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{rx}" ry="{ry}" fill="{heat_colour(value)}" {stroke} '
                f'data-region="{escape(region.name)}"><title>{escape(label)}</title></ellipse>'
            )
        out.append("</g>")
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
