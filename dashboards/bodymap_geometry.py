"""The body map's one geometry: a plain standing figure and an ellipse for every region of ``ingest.regions`` on its
front or back view. The report's heat map (dashboards/bodymap.py) and the check-in's tappable map
(monitor/service/checkin/bodymap.py) both draw from it.

Coordinates are in a ``WIDTH`` × ``HEIGHT`` box per view (renderers scale it). Sides are the athlete's: on the
front view the athlete faces the viewer, so the athlete's right is on the viewer's left; on the back view the
athlete's left is on the viewer's left. Midline regions sit on the centre line.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.regions import REGIONS, Region, Side, View

VIEWS: tuple[View, ...] = ("front", "back")
WIDTH, HEIGHT = 100, 230
MIDLINE = WIDTH / 2
_PLACES: dict[str, tuple[float, float, float, float]] = {
    # group: (distance of a sided region's centre from the midline (0 for midline groups), centre y, x radius,
    # y radius) on its view
    # front
    "shoulder": (21, 45, 7, 6),
    "abdominals": (0, 82, 10, 15),
    "hip_flexor": (8, 103, 5, 5),
    "tfl_itb": (18, 120, 3.5, 13),
    "quadriceps": (10.5, 132, 6, 16),
    "adductor": (3.5, 124, 2.5, 10),
    "tibialis_anterior": (9, 177, 3, 14),
    "peroneals": (14.5, 180, 2.2, 11),
    # back
    "cervical": (0, 30, 3, 5),
    "upper_trap": (11, 39, 8, 4),
    "thoracic": (0, 60, 4, 14),
    "lumbar": (0, 86, 4, 8),
    "quadratus_lumborum": (7.5, 87, 3, 7),
    "glute_med": (14, 99, 5.5, 5),
    "glute_max": (8, 111, 7, 8),
    "piriformis": (7, 103, 4, 2.5),
    "hamstring": (10, 140, 6, 16),
    "calf": (10, 172, 5, 10),
    "soleus": (10, 187, 4, 5),
    "achilles": (9, 201, 2, 5),
    "plantar_fascia": (9, 219, 4, 3),
}
_DRAW_LAST = ("glute_max", "piriformis")  # drawn after the others, in this order: each over the shapes it overlaps
SILHOUETTE = (
    '<circle cx="50" cy="13" r="10"/>'
    '<rect x="31" y="34" width="38" height="70" rx="10"/>'
    '<rect x="18" y="38" width="9" height="62" rx="4"/><rect x="73" y="38" width="9" height="62" rx="4"/>'
    '<rect x="32" y="98" width="17" height="125" rx="6"/><rect x="51" y="98" width="17" height="125" rx="6"/>'
)
"""The figure under the regions (head, trunk, arms, legs) as SVG elements, the same for both views."""


@dataclass(frozen=True)
class Shape:
    """One region's ellipse on its view: centre (``cx``, ``cy``) and radii (``rx``, ``ry``) in the view's box."""

    region: Region
    cx: float
    cy: float
    rx: float
    ry: float


def viewers_left(view: View) -> Side:
    """The athlete's side drawn on the viewer's left of ``view``: right on the front, left on the back."""
    return "r" if view == "front" else "l"


def shape(region: Region) -> Shape:
    """The ellipse of ``region`` on its view, the athlete's side placed as seen in that view."""
    dx, cy, rx, ry = _PLACES[region.group]
    if region.side is None:
        return Shape(region, MIDLINE, cy, rx, ry)
    return Shape(region, MIDLINE - dx if region.side == viewers_left(region.view) else MIDLINE + dx, cy, rx, ry)


def shapes(view: View) -> list[Shape]:
    """The shapes of one view, every region of that view once, in drawing order (the vocabulary's order, then
    the groups of ``_DRAW_LAST``: the small piriformis over the gluteus maximus over the gluteus medius)."""
    rank = {group: i for i, group in enumerate(_DRAW_LAST)}
    return sorted((shape(r) for r in REGIONS if r.view == view), key=lambda s: rank.get(s.region.group, -1))
