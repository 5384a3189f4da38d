"""The soreness body map: each region of the vocabulary (ingest/regions.py) as a shape on a front or back figure.

Coordinates are in a 100 × 230 box per figure. Shapes are given for the half drawn on the viewer's left and
mirrored for the other: on the front figure the viewer's left is the athlete's right, on the back figure their left.
Midline regions sit on the centre line.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup, escape

from ingest.regions import REGIONS, Region, View

# group → (cx, cy, rx, ry) on the viewer's left half (cx < 50), or centred (cx = 50) for midline groups
_SHAPES: dict[str, tuple[float, float, float, float]] = {
    # front
    "shoulder": (29, 45, 7, 6),
    "abdominals": (50, 82, 10, 15),
    "hip_flexor": (42, 103, 5, 5),
    "tfl_itb": (32, 120, 3.5, 13),
    "quadriceps": (39.5, 132, 6, 16),
    "adductor": (46.5, 124, 2.5, 10),
    "tibialis_anterior": (41, 177, 3, 14),
    "peroneals": (35.5, 180, 2.2, 11),
    # back
    "cervical": (50, 30, 3, 5),
    "upper_trap": (39, 39, 8, 4),
    "thoracic": (50, 60, 4, 14),
    "lumbar": (50, 86, 4, 8),
    "quadratus_lumborum": (42.5, 87, 3, 7),
    "glute_med": (36, 99, 5.5, 5),
    "glute_max": (42, 111, 7, 8),
    "piriformis": (43, 103, 4, 2.5),
    "hamstring": (40, 140, 6, 16),
    "calf": (40, 172, 5, 10),
    "soleus": (40, 187, 4, 5),
    "achilles": (41, 201, 2, 5),
    "plantar_fascia": (41, 219, 4, 3),
}
_DRAW_ORDER = ("glute_max", "piriformis")  # the small shape over the large one
SILHOUETTE = (
    # (kind, attributes): a plain figure drawn under the regions
    ("circle", {"cx": 50, "cy": 13, "r": 10}),
    ("rect", {"x": 31, "y": 34, "width": 38, "height": 70, "rx": 10}),
    ("rect", {"x": 18, "y": 38, "width": 9, "height": 62, "rx": 4}),
    ("rect", {"x": 73, "y": 38, "width": 9, "height": 62, "rx": 4}),
    ("rect", {"x": 32, "y": 98, "width": 17, "height": 125, "rx": 6}),
    ("rect", {"x": 51, "y": 98, "width": 17, "height": 125, "rx": 6}),
)


@dataclass(frozen=True)
class Shape:
    """One region's ellipse on a figure."""

    region: Region
    cx: float
    cy: float
    rx: float
    ry: float


def _viewer_left(view: View) -> str:
    return "r" if view == "front" else "l"


def shapes(view: View) -> list[Shape]:
    """The shapes of one figure, every region of that view once, in drawing order."""
    out = []
    for r in REGIONS:
        if r.view != view:
            continue
        cx, cy, rx, ry = _SHAPES[r.group]
        if r.side is not None and r.side != _viewer_left(view):
            cx = 100 - cx
        out.append(Shape(r, cx, cy, rx, ry))
    rank = {group: i for i, group in enumerate(_DRAW_ORDER)}
    return sorted(out, key=lambda s: rank.get(s.region.group, -1))


FIGURES: tuple[tuple[View, str, str], ...] = (
    ("front", "Front", "as you face it: your right side is on the left"),
    ("back", "Back", "seen from behind: your left side is on the left"),
)


_BODY = (
    '<g class="body" aria-hidden="true"><circle cx="50" cy="13" r="10"/>'
    '<rect x="31" y="34" width="38" height="70" rx="10"/><rect x="18" y="38" width="9" height="62" rx="4"/>'
    '<rect x="73" y="38" width="9" height="62" rx="4"/><rect x="32" y="98" width="17" height="125" rx="6"/>'
    '<rect x="51" y="98" width="17" height="125" rx="6"/></g>'
)


@functools.cache
def figures_html() -> Markup:
    """Both figures as inline SVG, each region a focusable button (built once: the page's largest part)."""
    out = []
    for view, title, hint in FIGURES:
        out.append(
            f'<figure><svg viewBox="0 0 100 230" width="150" height="345" role="group" '
            f'aria-label="{title} of the body, {hint}">{_BODY}'
        )
        for s in shapes(view):
            label = escape(s.region.label)
            out.append(
                f'<ellipse class="region" data-region="{s.region.name}" cx="{s.cx:g}" cy="{s.cy:g}" rx="{s.rx:g}" '
                f'ry="{s.ry:g}" tabindex="0" role="button" aria-pressed="false" aria-label="{label}">'
                f"<title>{label}</title></ellipse>"
            )
        out.append(f'</svg><figcaption>{title} <span class="hint">({hint})</span></figcaption></figure>')
    return Markup("\n".join(out))


@functools.lru_cache(maxsize=64)
def _region_list(ratings: tuple[tuple[str, str], ...]) -> Markup:
    chosen = dict(ratings)
    out = []
    for view, title, _ in FIGURES:
        out.append(f"<h3>{title}</h3>")
        for r in REGIONS:
            if r.view != view:
                continue
            options = "".join(
                f"<option{' selected' if chosen.get(r.name) == str(v) else ''}>{v}</option>" for v in range(1, 11)
            )
            out.append(
                f'<p class="region-row" id="row-{r.name}"><label for="region-{r.name}">{escape(r.label)}</label>'
                f'<select id="region-{r.name}" name="region_{r.name}" data-region-select="{r.name}">'
                f'<option value="0">not sore</option>{options}</select></p>'
            )
    return Markup("\n".join(out))


def region_list_html(sent: Mapping[str, str]) -> Markup:
    """A select (not sore, 1–10) per region, grouped by figure, with the ratings of a form sent back selected."""
    ratings = tuple(sorted((k.removeprefix("region_"), v) for k, v in sent.items() if k.startswith("region_")))
    return _region_list(ratings)
