"""The regions an IDN recommendation names: where the athlete is sore, plus where the asymmetry signals point.

Candidates for one athlete and day, in this order (docs/analytics.md §4, "Candidate regions"):

1. **Sore regions**: every region rated at least ``wellness.candidate_min_rating`` (of 10) on a check-in of the
   last ``wellness.candidate_days`` days, the highest rating first.
2. **One-sided soreness** (``asymmetry_soreness`` raised in the IDN window): the sorer side of that region group.
3. **Muscle-load asymmetry** (``asymmetry_muscle``, or ``asymmetry_shift`` of the muscle-load SI, in the IDN
   window): the region of the pods' muscle (``ingest.regions.muscle_group``: the muscle belly's group) on the
   side carrying more load (sign of the 7-day muscle SI on the last day it was raised; positive = left). Without a
   recorded pod muscle (sessions' `muscle` field) no region is named for it.
4. **Gait or pedalling asymmetry** (``asymmetry_gct``, ``asymmetry_power`` or their shift): ``lumbar``, the
   segmental level of IDN for the legs (the lumbosacral segments that innervate them; docs/visits.md). Only a
   candidate for the therapist's segmental treatment, not a finding that the back is involved.

A region named by several sources appears once with every reason. Descriptive: a candidate is where to look.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.regions import REGION_NAMES, muscle_group
from monitor.indicators import Indicators
from monitor.reasons import ASYMMETRY_METRICS
from monitor.signals import ASYMMETRY_SIGNAL, SignalSeries, soreness_group
from monitor.thresholds import Thresholds

SEGMENTAL_REGION = "lumbar"
"""The region a gait (ground-contact) or pedalling asymmetry names: the lumbosacral segments of the legs."""
_SEGMENTAL = ("gct", "pedal")  # the asymmetry metrics that name the segmental level


@dataclass(frozen=True)
class Candidate:
    """One candidate region and why it is named (plain language)."""

    region: str
    why: str


def _last_flag_day(s: SignalSeries | None, row: int, lo: int, t: int, extra: np.ndarray | None = None) -> int | None:
    if s is None:
        return None
    hit = s.flagged[row, lo : t + 1] if extra is None else s.flagged[row, lo : t + 1] & extra[row, lo : t + 1]
    days = np.flatnonzero(hit)
    return lo + int(days[-1]) if days.size else None


def candidate_regions(
    ind: Indicators, signals: dict[str, SignalSeries], th: Thresholds, row: int, t: int
) -> list[Candidate]:
    """The candidate regions of athlete ``row`` on day index ``t`` (module docstring)."""
    wt = th.wellness
    found: dict[str, list[str]] = {}
    w = ind.inputs.wellness
    if w is not None:
        lo = max(0, t - wt.candidate_days + 1)
        sore = w.soreness[row, lo : t + 1].astype(int)  # (days, regions)
        top = sore.max(axis=0)
        for r in np.argsort(-top, kind="stable"):
            if top[r] < max(wt.candidate_min_rating, 1):
                break
            rated = lo + int(np.flatnonzero(sore[:, r] == top[r])[-1])
            found.setdefault(REGION_NAMES[r], []).append(f"sore, rated {top[r]}/10 on {_iso(ind, rated)}")
    lo = max(0, t - th.idn.watch_window_days + 1)
    day = _last_flag_day(signals.get("asymmetry_soreness"), row, lo, t)
    if day is not None and (found_group := soreness_group(ind, row, day)) is not None:
        group, side = found_group
        found.setdefault(f"{group}_{side}", []).append(f"one-sided soreness ({_side_word(side)} sorer)")
    found_muscle = _muscle_candidate(ind, signals, row, lo, t)
    if found_muscle is not None:
        found.setdefault(found_muscle.region, []).append(found_muscle.why)
    for metric in _SEGMENTAL:
        shift = ind.asymmetry[metric].shift_alarm if metric in ind.asymmetry else None
        day_level = _last_flag_day(signals.get(ASYMMETRY_SIGNAL[metric]), row, lo, t)
        day_shift = _last_flag_day(signals.get("asymmetry_shift"), row, lo, t, shift) if shift is not None else None
        if day_level is not None or day_shift is not None:
            found.setdefault(SEGMENTAL_REGION, []).append(f"segmental level of a {ASYMMETRY_METRICS[metric]} asymmetry")
    return [Candidate(region, "; ".join(why)) for region, why in found.items()]


def muscle_asymmetry_flagged(
    ind: Indicators, signals: dict[str, SignalSeries], row: int | slice = slice(None)
) -> np.ndarray:
    """Days (of athlete ``row``, default every athlete) with a muscle-load asymmetry flag: `asymmetry_muscle`, or
    `asymmetry_shift` with the muscle SI among the shifted metrics. The pods' muscle then names a candidate."""
    level = signals.get("asymmetry_muscle")
    flagged = np.zeros(ind.inputs.load[row].shape, bool) if level is None else level.flagged[row]
    if "muscle" in ind.asymmetry:
        flagged = flagged | (signals["asymmetry_shift"].flagged[row] & ind.asymmetry["muscle"].shift_alarm[row])
    return flagged


def _muscle_candidate(ind: Indicators, signals: dict[str, SignalSeries], row: int, lo: int, t: int) -> Candidate | None:
    series = ind.asymmetry.get("muscle")
    muscle = ind.inputs.pod_muscle[row] if row < len(ind.inputs.pod_muscle) else None
    if series is None or not muscle or (group := muscle_group(muscle)) is None:
        return None
    days = np.flatnonzero(muscle_asymmetry_flagged(ind, signals, row)[lo : t + 1])
    if not days.size:
        return None
    si = series.week.mean[row, lo + int(days[-1])]
    if not np.isfinite(si) or si == 0:
        return None
    side = "l" if si > 0 else "r"
    return Candidate(f"{group}_{side}", f"muscle-load asymmetry of the {muscle} ({_side_word(side)} carries more)")


def _side_word(side: str) -> str:
    return "left" if side == "l" else "right"


def _iso(ind: Indicators, t: int) -> str:
    return str(np.datetime64(ind.inputs.days[t], "D"))


def candidate_text(candidates: list[Candidate]) -> str:
    """One line for the recommendation: "candidate regions: calf_r (sore, rated 5/10 on …), lumbar (…)"."""
    if not candidates:
        return "candidate regions: none named (no sore region and no asymmetry pointing to one)"
    return "candidate regions: " + ", ".join(f"{c.region} ({c.why})" for c in candidates)
