"""The wellness numerics (monitor/wellness.py) on hand-made check-ins: the Hooper index against its baseline, the
left/right soreness rule with its boundaries, the [wellness] thresholds, and the body map's sides."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
from scipy import stats

from dashboards.bodymap import body_map, heat_colour
from dashboards.bodymap_geometry import MIDLINE, shape, shapes
from ingest.regions import REGION_NAMES, REGIONS, muscle_group, region
from monitor.asymmetry import predictive_z
from monitor.service.checkin.bodymap import figures_html
from monitor.thresholds import load_thresholds
from monitor.wellness import (
    SIDED_GROUPS,
    WellnessInputs,
    binomial_tail,
    hooper_evidence,
    hooper_series,
    soreness_asymmetry,
)

NAN = math.nan


def test_hooper_index_needs_all_four_items():
    items = {k: np.array([[4.0, 4.0, NAN]]) for k in ("sleep_quality", "fatigue", "soreness", "stress")}
    items["stress"] = np.array([[7.0, NAN, 5.0]])
    w = WellnessInputs(items, np.zeros((1, 3, len(REGION_NAMES)), np.uint8), np.full((1, 3), NAN))
    np.testing.assert_array_equal(w.hooper_index, [[19.0, NAN, NAN]])
    np.testing.assert_array_equal(w.checked_in, [[True, False, False]])


def test_hooper_series_normal_range_score_and_the_range_boundary():
    # 30 baseline check-ins alternating 14 and 18 (mean 16, SD 2.034), then a week of 20s
    base = np.tile([14.0, 18.0], 15)
    x = np.concatenate([base, np.full(7, 20.0)])[None]
    h = hooper_series(x, window_days=7, baseline_days=30, flag_min_baseline_checkins=28, cusum_k=1.25)
    t = 36
    sd = base.std(ddof=1)
    assert h.baseline.n[0, t] == 30 and h.baseline.mean[0, t] == pytest.approx(16.0)
    assert h.upper[0, t] == pytest.approx(16.0 + 0.5 * sd)
    assert h.z[0, t] == pytest.approx(float(predictive_z(20.0, 16.0, sd, 30)))
    # flags (and the CUSUM) start once the baseline before the week holds 28 check-ins: day 34 (days 0–27)
    assert np.isnan(h.z[0, 33]) and h.cusum[0, 33] == 0
    total = 0.0
    for day in (34, 35, 36):
        values = base[: day - 6]
        z = float(predictive_z(20.0, values.mean(), max(values.std(ddof=1), 1.0), values.size))
        total = max(0.0, total + z - 1.25)
    assert h.cusum[0, t] == pytest.approx(total)
    assert h.above[0, t]
    # the SD floor: a baseline that never varies uses 1 point
    flat = hooper_series(np.concatenate([np.full(30, 16.0), [16.5]])[None], baseline_days=30, window_days=1)
    assert flat.upper[0, 30] == pytest.approx(16.5)  # 16 + 0.5 × 1
    assert not flat.above[0, 30]  # exactly at the upper bound is inside the range


def test_hooper_evidence_boundaries():
    x = np.concatenate([np.tile([14.0, 18.0], 15), np.full(7, 20.0)])[None]
    h = hooper_series(x, window_days=7, baseline_days=30, flag_min_baseline_checkins=28)
    t = 36
    assert hooper_evidence(h, h.cusum[0, t], np.inf)[0, t] == False  # noqa: E712 — CUSUM exactly at h: not above
    assert hooper_evidence(h, np.nextafter(h.cusum[0, t], 0), np.inf)[0, t]
    assert hooper_evidence(h, np.inf, h.jump[0, t])[0, t]  # the jump score exactly at the bound counts
    assert not hooper_evidence(h, np.inf, np.nextafter(h.jump[0, t], np.inf))[0, t]


def test_flags_wait_for_the_baseline_check_ins():
    x = np.concatenate([np.tile([14.0, 18.0], 14), [17.0], np.full(7, 25.0)])[None]  # 27 then 28 baseline check-ins
    h = hooper_series(x, window_days=7, baseline_days=60, flag_min_baseline_checkins=28)
    assert not h.flag_ok[0, 33] and h.flag_ok[0, 35]  # baseline (days before the week) 27 → 28 check-ins
    assert np.isnan(h.z[0, 33]) and np.isfinite(h.z[0, 35])


def test_binomial_tail_by_hand():
    assert binomial_tail(np.array(2), np.array(3), np.array(0.5)) == pytest.approx(0.5)  # 3/8 + 1/8
    assert binomial_tail(np.array(0), np.array(3), np.array(0.5)) == 1.0
    assert binomial_tail(np.array(3), np.array(3), np.array(0.1)) == pytest.approx(0.001)


def _soreness(days: int, sore: dict[tuple[int, str], int]) -> np.ndarray:
    grid = np.zeros((1, days, len(REGION_NAMES)), np.uint8)
    for (t, name), rating in sore.items():
        grid[0, t, REGION_NAMES.index(name)] = rating
    return grid


def test_one_sided_soreness_against_the_athletes_own_rate():
    days = 40
    checked = np.ones((1, days), bool)
    sore = _soreness(days, {(38, "calf_r"): 4, (39, "calf_r"): 5, (39, "calf_l"): 3})  # 39: right 2 points above
    rate = 0.5 / 31  # Jeffreys: (0 + ½)/(30 + 1), 30 baseline check-ins without one
    expected = stats.binom.sf(1, 7, rate)  # 2 or more of the week's 7 check-ins

    def rule(**kwargs):
        return soreness_asymmetry(sore, checked, window_days=7, baseline_days=30, min_baseline_checkins=28, **kwargs)

    at = rule(max_p=expected)  # exactly at the bound
    assert at.unusual[0, 39] and SIDED_GROUPS[at.group[0, 39]] == "calf" and at.side[0, 39] == -1
    assert at.sorer_checkins[0, 39] == 2 and at.week_checkins[0, 39] == 7
    assert at.p[0, 39] == pytest.approx(expected)
    assert at.mean_difference[0, 39] == pytest.approx(-(4 + 2) / 7)
    assert not at.unusual[0, 38]  # one one-sided check-in so far
    assert not rule(max_p=np.nextafter(expected, 0)).unusual[0, 39]
    assert not rule(max_p=1.0, min_checkins=3).unusual[0, 39]  # two one-sided check-ins, three needed
    assert not rule(max_p=1.0, diff_points=2.5).unusual[0, 39]  # day 39 is 2 points apart: no longer one-sided


def test_a_side_sore_as_often_in_the_baseline_is_not_unusual_and_less_than_two_points_is_not_one_sided():
    days = 40
    checked = np.ones((1, days), bool)

    def rule(sore: dict, **kwargs):
        kwargs = {"window_days": 7, "baseline_days": 30, "min_baseline_checkins": 28, **kwargs}
        return soreness_asymmetry(_soreness(days, sore), checked, **kwargs)

    habitual = {(t, "hamstring_l"): 4 for t in range(0, 33, 3)}  # left hamstring every third day, baseline included
    habitual |= {(38, "hamstring_l"): 4, (39, "hamstring_l"): 4}
    assert not rule(habitual).unusual[0, 39]  # 2 of 7 at a baseline rate of 10 in 30: p ≈ 0.7
    assert rule(habitual, max_p=1.0).sorer_checkins[0, 39] == 2
    nearly = {(38, "calf_r"): 4, (38, "calf_l"): 3, (39, "calf_r"): 4, (39, "calf_l"): 3}  # 1 point: bilateral
    assert not rule(nearly, max_p=1.0).unusual.any()
    both = {(38, "calf_r"): 4, (39, "calf_l"): 4}  # each side once: neither more often
    assert not rule(both, max_p=1.0).unusual.any()
    assert not rule({(38, "calf_r"): 4, (39, "calf_r"): 4}, min_baseline_checkins=31).unusual.any()  # 30 < 31


def test_the_most_unusual_group_speaks():
    days = 40
    checked = np.ones((1, days), bool)
    sore = {(37, "quadriceps_l"): 5, (38, "quadriceps_l"): 5, (39, "quadriceps_l"): 5}  # three of them
    sore |= {(38, "calf_r"): 4, (39, "calf_r"): 4}  # two of them: a larger tail
    s = soreness_asymmetry(_soreness(days, sore), checked, window_days=7, baseline_days=30, max_p=0.01)
    assert SIDED_GROUPS[s.group[0, 39]] == "quadriceps" and s.side[0, 39] == 1 and s.sorer_checkins[0, 39] == 3


def test_wellness_thresholds_are_checked():
    th = load_thresholds()
    assert th.wellness.use == "family" and th.wellness.soreness_max_p == 0.0001
    for text, message in (
        ('use = "both"', "wellness.use must be one of family, confirmation, off"),
        ("soreness_max_p = 0", "0 < wellness.soreness_max_p ≤ 1"),
        ("jump_checkins = 0", "wellness.jump_checkins ≥ 1"),
        ("candidate_days = 0", "wellness.candidate_days must be ≥ 1 day"),
        ("cusum_h = -1", "wellness.cusum_h must be a number ≥ 0"),
    ):
        path = _toml(text)
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            load_thresholds(path)
    assert dataclasses.asdict(load_thresholds(_toml('use = "confirmation"')).wellness)["use"] == "confirmation"


def _toml(line: str):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "th.toml"
    path.write_text(f"[wellness]\n{line}\n")
    return path


def test_pod_muscles_map_to_their_belly_region():
    assert muscle_group("gastrocnemius medialis") == "calf"  # not the Achilles tendon
    assert muscle_group("soleus") == "soleus"
    assert muscle_group("biceps femoris") == "hamstring"
    assert muscle_group("unspecified") is None


def test_body_map_sides_colours_and_candidates():
    # front view: the athlete faces the reader, so the athlete's left is on the reader's right
    assert shape(region("quadriceps_l")).cx > MIDLINE > shape(region("quadriceps_r")).cx
    # back view: the athlete's left is on the reader's left
    assert shape(region("calf_l")).cx < MIDLINE < shape(region("calf_r")).cx
    assert shape(region("lumbar")).cx == MIDLINE
    assert heat_colour(0) == "#f6f8fa" and heat_colour(1) == "#f2cc0c" and heat_colour(10) == "#d44a3a"
    svg = body_map({"calf_r": 10, "lumbar": 1}, candidates=["calf_r"], caption="a <b> caption")
    calf = next(e for e in svg.split("<ellipse")[1:] if 'data-region="calf_r"' in e)
    assert 'fill="#d44a3a"' in calf and 'stroke="#1f2328"' in calf and "candidate region" in calf
    other = next(e for e in svg.split("<ellipse")[1:] if 'data-region="calf_l"' in e)
    assert 'fill="#f6f8fa"' in other and "not sore" in other
    assert svg.count("<ellipse") == len(REGION_NAMES)
    assert "a &lt;b&gt; caption" in svg and "<b>" not in svg
    # the labels follow the sides: front R … L, back L … R
    assert re.findall(r'class="tick">([LR])<', svg) == ["R", "L", "L", "R"]


def _drawn(markup: str) -> list[list[tuple[str, float, float, float, float]]]:
    """Per figure (one `<figure>` or one view group each), its ellipses as (region, cx, cy, rx, ry)."""
    out = []
    for figure in re.split(r'<figure>|<g transform="translate', markup)[1:]:
        tags = [dict(re.findall(r'([a-z-]+)="([^"]*)"', tag)) for tag in re.findall(r"<ellipse [^>]*>", figure)]
        out.append([(a["data-region"], *(float(a[k]) for k in ("cx", "cy", "rx", "ry"))) for a in tags])
    return out


@pytest.mark.parametrize("renderer", ["report", "checkin"])
def test_both_body_maps_draw_every_region_once_from_the_one_geometry(renderer):
    markup = body_map({}) if renderer == "report" else str(figures_html())
    front, back = _drawn(markup)
    assert sorted(name for name, *_ in front + back) == sorted(REGION_NAMES)  # every region once
    for view, drawn in (("front", front), ("back", back)):
        assert {name for name, *_ in drawn} == {r.name for r in REGIONS if r.view == view}
        # the shapes are the geometry's, in its drawing order (the piriformis over the gluteus maximus)
        assert drawn == [(s.region.name, s.cx, s.cy, s.rx, s.ry) for s in shapes(view)]
    # the athlete's left on the viewer's right in front, on the viewer's left behind
    assert dict((n, cx) for n, cx, *_ in front)["quadriceps_l"] > MIDLINE
    assert dict((n, cx) for n, cx, *_ in back)["calf_l"] < MIDLINE
    if renderer == "checkin":  # each tappable region is a labelled button
        for name in REGION_NAMES:
            label = region(name).label
            assert f'role="button" aria-pressed="false" aria-label="{label}"><title>{label}</title>' in markup
