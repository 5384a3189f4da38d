"""The check-in's soreness body map: each region of the vocabulary (ingest/regions.py) as a tappable shape on a
front or back figure, and the list of selects that works without scripts.

The figure and the shapes are the report's (dashboards/bodymap_geometry.py): on the front figure the viewer's left
is the athlete's right, on the back figure their left.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from markupsafe import Markup, escape

from dashboards.bodymap_geometry import HEIGHT, SILHOUETTE, WIDTH, shapes
from ingest.regions import REGIONS, View

FIGURES: tuple[tuple[View, str, str], ...] = (
    ("front", "Front", "as you face it: your right side is on the left"),
    ("back", "Back", "seen from behind: your left side is on the left"),
)


_BODY = f'<g class="body" aria-hidden="true">{SILHOUETTE}</g>'


@functools.cache
def figures_html() -> Markup:
    """Both figures as inline SVG, each region a focusable button (built once: the page's largest part)."""
    out = []
    for view, title, hint in FIGURES:
        out.append(
            f'<figure><svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH * 1.5:g}" height="{HEIGHT * 1.5:g}" '
            f'role="group" aria-label="{title} of the body, {hint}">{_BODY}'
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
