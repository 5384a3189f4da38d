"""Plain-language reasons and window texts of the flags raised by ``monitor.signals``.

Each factory returns ``reason(row, t, act, since, days) -> str`` for one signal: the value against its threshold
with units and window, since when, the data behind it and a suggested action. Descriptive, never diagnostic: no
injury-risk language for load ratios or asymmetry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from monitor.thresholds import Thresholds
from monitor.wellness import SIDED_GROUPS

if TYPE_CHECKING:
    from monitor.evidence import WindowEvidence
    from monitor.indicators import Indicators

Reason = Callable[[int, int, bool, dt.date, int], str]

ACWR_NAMES = {
    "ewma": "EWMA {a}d/{c}d",
    "coupled": "rolling {a}d/{c}d, coupled",
    "uncoupled": "rolling {a}d vs the {u}d before, uncoupled",
}
ASYMMETRY_METRICS = {"gct": "ground-contact time", "muscle": "muscle load", "pedal": "pedal power"}
CAVEAT = "A descriptive load-change indicator, not an injury-risk estimate."


def _num(value: float, spec: str, missing: str = "not available") -> str:
    """``value`` formatted with ``spec``, or ``missing`` when it is NaN or infinite: no "nan" in a reason."""
    return format(float(value), spec) if np.isfinite(value) else missing


def _named(name: str, value: float, spec: str, needs: str) -> str:
    """`CTL 250`, or `CTL not yet available (needs 42 days of load)` while its data is insufficient."""
    return f"{name} {value:{spec}}" if np.isfinite(value) else f"{name} not yet available (needs {needs})"


def _since(since: dt.date, days: int) -> str:
    return f"since {since.isoformat()} ({days} day{'s' if days != 1 else ''})"


def _load_unit(ind: Indicators, row: int) -> str:
    source = ind.inputs.load_source[row] if ind.inputs.load_source else None
    return {"srpe": "AU (sRPE)", "trimp": "AU (TRIMP)"}.get(source or "", "AU")


def known_days(ind: Indicators, th: Thresholds, row: int, t: int) -> str:
    """`load known on 7 of the last 7 days and 26 of 28`: logged, marked rest or device-confirmed days."""
    lt = th.load
    return (
        f"load known on {int(ind.load_known_7d[row, t])} of the last {lt.acute_days} days and "
        f"{int(ind.load_known_28d[row, t])} of {lt.chronic_days}"
    )


def typical_day(ind: Indicators, th: Thresholds, row: int, t: int) -> str:
    """`your typical training day 310 AU (sRPE; geometric mean of 31 training days among 80 known days in the 84
    days before the week)`."""
    lt = th.load
    tr = ind.training
    return (
        f"your typical training day {_num(ind.typical_load[row, t], ',.0f')} {_load_unit(ind, row)} (geometric mean "
        f"of {int(tr.training_days[row, t])} training days among {int(tr.known_days[row, t])} known days in the "
        f"{lt.typical_days} days before the week)"
    )


def heavy_week(ind: Indicators, th: Thresholds, row: int, t: int) -> str:
    """The confirmation of the ratio flags: the 7-day load on the athlete's own scale."""
    lt = th.load
    return (
        f"confirmed by a heavy week on your own scale: the last {lt.acute_days} days held "
        f"{_num(ind.load_units_7d[row, t], '.1f')} typical training days (at least {lt.heavy_week_units:g}; each day "
        f"counted at most {lt.typical_day_cap:g}), {typical_day(ind, th, row, t)}; {known_days(ind, th, row, t)}"
    )


def acwr_window(th: Thresholds) -> str:
    lt = th.load
    return ACWR_NAMES[lt.acwr_variant].format(a=lt.acute_days, c=lt.chronic_days, u=lt.chronic_days - lt.acute_days)


def acwr(ind: Indicators, th: Thresholds) -> Reason:
    lt = th.load

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        value, load7 = ind.acwr[row, t], ind.load_7d[row, t]
        level = f"at or above {lt.acwr_act:g} (act)" if act else f"at or above {lt.acwr_watch:g} (watch)"
        ctl = _named("CTL", ind.ctl[row, t], ".0f", f"{lt.pmc_min_days} days of load")
        atl = _named("ATL", ind.atl[row, t], ".0f", f"{lt.atl_days} days of load")
        return (
            f"Acute:chronic load ratio ({acwr_window(th)}) {_num(value, '.2f')} is {level}, {_since(since, days)}; "
            f"{_named('7-day load', load7, ',.0f', f'{lt.acute_days} days of load')} {_load_unit(ind, row)}, "
            f"{ctl}, {atl}; {heavy_week(ind, th, row, t)}. {CAVEAT} Check how fast load was increased and plan the "
            "next days."
        )

    return reason


def monotony(ind: Indicators, th: Thresholds) -> Reason:
    lt = th.load

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        threshold = lt.monotony_act if act else lt.monotony_watch
        return (
            f"Training monotony {_num(ind.monotony[row, t], '.2f')} (mean ÷ SD of the last {lt.monotony_days} daily "
            f"loads, rest days = 0) is at or above {threshold:g} (Foster: high), {_since(since, days)}; weekly load "
            f"{_num(ind.load_7d[row, t], ',.0f')} {_load_unit(ind, row)}, strain {_num(ind.strain[row, t], ',.0f')}; "
            f"{heavy_week(ind, th, row, t)}. Alternate hard and easy days or add a rest day."
        )

    return reason


def strain(ind: Indicators, th: Thresholds) -> Reason:
    lt = th.load

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        value, base = ind.strain[row, t], ind.strain_baseline[row, t]
        factor = lt.strain_ratio_act if act else lt.strain_ratio_watch
        ratio = value / base if np.isfinite(base) and base > 0 else np.nan
        return (
            f"7-day strain {_num(value, ',.0f')} (weekly load × monotony) is {_num(ratio, '.2f')} × your usual "
            f"{_num(base, ',.0f')} (mean over the {lt.strain_baseline_days} days before this week), at or above "
            f"{factor:g} × = {_num(factor * base, ',.0f')}, {_since(since, days)}; {heavy_week(ind, th, row, t)}. "
            f"{'Reduce load now.' if act else 'Watch recovery.'}"
        )

    return reason


def surge_window(tiers: list[tuple[int, float]], strongest: np.ndarray) -> Callable[[int, int], str]:
    """`each of the last 4 days vs 1.9 × your typical training day` for the tier that speaks for the flag."""

    def window(row: int, t: int) -> str:
        days, factor = tiers[int(strongest[row, t])]
        return f"each of the last {days} days vs {factor:g} × your typical training day"

    return window


def surge(ind: Indicators, th: Thresholds, tiers: list[tuple[int, float]], strongest: np.ndarray) -> Reason:
    lt = th.load

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        n, _ = tiers[int(strongest[row, t])]
        lowest, needed, typical = ind.lowest_load[n][row, t], ind.heavy_load[n][row, t], ind.typical_load[row, t]
        return (
            f"Each of the last {n} training days held at least {_num(needed / typical, '.2f')} × "
            f"{typical_day(ind, th, row, t)}: the lightest of them {_num(lowest, ',.0f')} {_load_unit(ind, row)} = "
            f"{_num(lowest / typical, '.2f')} ×, at or above {_num(needed, ',.0f')}, {_since(since, days)}; "
            f"{known_days(ind, th, row, t)}. Heavier days need fewer of them "
            f"({', '.join(f'{d} days at {f:g} ×' for d, f in tiers)}, or e^({lt.heavy_sds:g} SD) of your training "
            f"days when lower; at most {lt.heavy_slack_days} rest or unknown day between). {CAVEAT} Check that the "
            "jump was planned and watch recovery."
        )

    return reason


def hrv(ind: Indicators, th: Thresholds, rhr_high: np.ndarray, confirmed: np.ndarray) -> Reason:
    rt = th.recovery

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        week, n7 = ind.hrv_week.mean[row, t], ind.hrv_week.n[row, t]
        mean, sd, nb = ind.hrv_base.mean[row, t], ind.hrv_base.sd[row, t], ind.hrv_base.n[row, t]
        text = (
            f"{rt.window_days}-day mean ln rMSSD {_num(week, '.2f')} is below your normal range (lower bound "
            f"{_num(ind.hrv_lower[row, t], '.2f')} = {rt.baseline_days}-day mean {_num(mean, '.2f')} − "
            f"{rt.range_sd:g} SD, SD {_num(sd, '.2f')}) "
            f"{_since(since, days)}; {n7} of {rt.window_days} mornings, baseline {nb} mornings. "
        )
        # the flag stays up while the 7-day mean is below the range: name the last day the evidence confirmed it
        confirmed_on = t - int(np.argmax(confirmed[row, t - days + 1 : t + 1][::-1]))
        if confirmed_on == t:
            text += f"Confirmed by the recent mornings: {_hrv_evidence(ind, th, row, t)}."
        else:
            until = _date_of(ind, confirmed_on)
            text += (
                f"Confirmed on {until}: {_hrv_evidence(ind, th, row, confirmed_on, until)}. The flag stays up while "
                f"the {rt.window_days}-day mean is below the range."
            )
        if ind.rhr_ok[row, t]:
            relation = "above" if rhr_high[row, t] else "within"
            text += (
                f" {rt.window_days}-day resting HR {_num(ind.rhr_week.mean[row, t], '.1f')} bpm is {relation} its "
                f"normal range (upper bound {_num(ind.rhr_upper[row, t], '.1f')} bpm)."
            )
        if act:
            below = f"the {rt.window_days}-day mean is more than {rt.act_sd:g} SD below your mean"
            if ind.hrv_evidence.score[row, t] <= -rt.act_z:
                why = f"evidence of {rt.act_z:g} SD or more and {below}"
            else:
                why = f"{below} and resting HR is up too (CUSUM {ind.rhr_cusum[row, t]:.1f} > {rt.rhr_cusum_h:g})"
            return text + f" Act: {why}; reduce intensity and check in."
        return text + " Watch: keep intensity moderate and re-check tomorrow."

    return reason


def _date_of(ind: Indicators, t: int) -> str:
    return str(ind.inputs.days[t].astype("datetime64[D]"))


def _hrv_evidence(ind: Indicators, th: Thresholds, row: int, t: int, until: str | None = None) -> str:
    """The evidence of day ``t`` (``until``: that day's date, when it is not today)."""
    rt, e = th.recovery, ind.hrv_evidence
    parts = []
    if e.score[row, t] <= -rt.evidence_z:
        mornings, mean = _mornings(e, row, t, until), _hrv_mean(ind, row, t)
        parts.append(
            f"{mornings} average ln rMSSD {mean:.2f}, {-e.score[row, t]:.1f} SD below your {rt.baseline_days}-day mean "
            f"(day-to-day SD {_num(ind.hrv_noise.sd[row, t], '.2f')} from "
            f"{ind.hrv_noise.n[row, t]} mornings in {rt.noise_days} days; watch from {rt.evidence_z:g} SD, act from "
            f"{rt.act_z:g} SD: fewer mornings are needed when they are further down)"
        )
    j = ind.joint_evidence
    if j.score[row, t] >= rt.joint_evidence_z:
        rho = _num(ind.hrv_rhr_correlation[row, t], "+.2f")
        parts.append(
            f"HRV down and resting HR up together: the joint score of {_mornings(j, row, t, until)} "
            f"{j.score[row, t]:.1f} (≥ {rt.joint_evidence_z:g}; your HRV–HR correlation {rho})"
        )
    parts += _wellness_confirmation(ind, th, row, t)
    return " and ".join(parts) or "no"


def _hrv_mean(ind: Indicators, row: int, t: int) -> float:
    """The mean ln rMSSD of the evidence's window (its mean deviation in the day-to-day SD)."""
    return float(ind.hrv_base.mean[row, t] + ind.hrv_noise.sd[row, t] * ind.hrv_evidence.mean[row, t])


def _mornings(e: WindowEvidence, row: int, t: int, until: str | None) -> str:
    """The window of the evidence: "the last 3 mornings", "the 5 mornings of the last 6 days", "… up to DATE"."""
    k, days = int(e.readings[row, t]), int(e.days[row, t])
    if until is None:
        return f"the last {k} mornings" if k == days else f"the {k} mornings of the last {days} days"
    return f"the {k} mornings" + ("" if k == days else f" of the {days} days") + f" up to {until}"


def _wellness_confirmation(ind: Indicators, th: Thresholds, row: int, t: int) -> list[str]:
    """The Hooper evidence, when check-ins confirm recovery flags (``use = "confirmation"``) and it holds."""
    wt, h = th.wellness, ind.hooper
    if h is None or wt.use != "confirmation" or not h.above[row, t]:
        return []
    evidence = hooper_evidence(ind, th, row, t, wt.confirm_cusum_h)
    if evidence == "no":
        return []
    return [f"worse morning wellness: Hooper index above its normal range, {evidence}"]


def rhr(ind: Indicators, th: Thresholds) -> Reason:
    rt = th.recovery

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        mean, sd = ind.rhr_base.mean[row, t], ind.rhr_base.sd[row, t]
        return (
            f"{rt.window_days}-day resting HR {_num(ind.rhr_week.mean[row, t], '.1f')} bpm is above your normal range "
            f"(upper bound {_num(ind.rhr_upper[row, t], '.1f')} bpm = {rt.baseline_days}-day mean {_num(mean, '.1f')} "
            f"+ max({rt.range_sd:g} SD, {rt.rhr_margin_se:g} SE), SD {_num(sd, '.1f')} bpm), confirmed by the recent "
            f"mornings (CUSUM {_num(ind.rhr_cusum[row, t], '.1f')} > {rt.rhr_cusum_h:g} baseline SDs), "
            f"{_since(since, days)}. Ask about sleep, illness and stress."
        )

    return reason


def _side(si: float) -> str:
    return "left larger" if si > 0 else "right larger"


def asymmetry_level(ind: Indicators, th: Thresholds, metric: str) -> Reason:
    at = th.asymmetry

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        s = ind.asymmetry[metric]
        si, n = s.week.mean[row, t], s.week.n[row, t]
        threshold = at.act_pct if act else at.watch_pct
        text = (
            f"{ASYMMETRY_METRICS[metric].capitalize()} symmetry index {_num(si, '+.1f')} % ({_side(si)}; mean of {n} "
            f"sessions in {at.window_days} days) is beyond ±{threshold:g} % ({'act' if act else 'watch'}), "
            f"{_since(since, days)}."
        )
        if s.baseline_ok[row, t]:
            mean, sd = s.baseline.mean[row, t], s.baseline.sd[row, t]
            text += f" Your {at.baseline_days}-day baseline is {_num(mean, '+.1f')} ± {_num(sd, '.1f')} %."
        return text + (" Assess the athlete in person." if act else " Look at technique and recent niggles.")

    return reason


def shift_window(ind: Indicators, th: Thresholds, metrics: list[str], which: np.ndarray) -> Callable[[int, int], str]:
    at = th.asymmetry

    def window(row: int, t: int) -> str:
        s = ind.asymmetry[metrics[int(which[row, t])]]
        name = ASYMMETRY_METRICS[metrics[int(which[row, t])]]
        if s.cusum_alarm[row, t]:
            return f"CUSUM (baseline SDs) of {name} SI vs {at.baseline_days}d baseline"
        return f"{name} SI of the last {at.jump_sessions} session days (normal score) vs {at.baseline_days}d baseline"

    return window


def shift(ind: Indicators, th: Thresholds, metrics: list[str], which: np.ndarray) -> Reason:
    at = th.asymmetry

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        metric = metrics[int(which[row, t])]
        s = ind.asymmetry[metric]
        week, mean, sd = s.week.mean[row, t], s.baseline.mean[row, t], s.baseline.sd[row, t]
        stat = max(s.cusum_up[row, t], s.cusum_down[row, t])
        if s.cusum_alarm[row, t]:
            evidence = f"CUSUM {_num(stat, '.1f')} > {at.cusum_h:g} baseline SDs"
        else:
            last = f"the last {at.jump_sessions} session days" if at.jump_sessions > 1 else "the last session day"
            evidence = (
                f"a large shift at once: the SI of {last} is {_num(abs(s.jump_z[row, t]), '.1f')} SD from your "
                f"baseline (≥ {at.jump_z:g})"
            )
        others = [ASYMMETRY_METRICS[m] for m in metrics if m != metric and ind.asymmetry[m].shift_alarm[row, t]]
        text = (
            f"{ASYMMETRY_METRICS[metric].capitalize()} symmetry index moved to {_num(week, '+.1f')} % over the last "
            f"{at.window_days} days from your baseline {_num(mean, '+.1f')} ± {_num(sd, '.1f')} % "
            f"({s.baseline.n[row, t]} sessions in the {at.baseline_days} days before): a shift of "
            f"{_num(week - mean, '+.1f')} points, {evidence}, {_since(since, days)}."
        )
        if others:
            text += " Also shifted: " + ", ".join(others) + "."
        return text + " A change in how the athlete moves: ask about pain, shoes, bike fit."

    return reason


# --- wellness ---------------------------------------------------------------------------------------------------

HOOPER_LABELS = {"sleep_quality": "sleep", "fatigue": "fatigue", "soreness": "soreness", "stress": "stress"}


def _items_week(ind: Indicators, th: Thresholds, row: int, t: int) -> str:
    """The 7-day mean of each Hooper item against its mean in the baseline window ("fatigue 5.3 (usually 4.1)")."""
    w, wt = ind.inputs.wellness, th.wellness
    if w is None:
        return ""
    lo, base_lo, base_hi = (
        max(0, t - wt.window_days + 1),
        max(0, t - wt.window_days - wt.baseline_days + 1),
        max(0, t - wt.window_days + 1),
    )
    parts = []
    for item, label in HOOPER_LABELS.items():
        week, base = w.items[item][row, lo : t + 1], w.items[item][row, base_lo:base_hi]
        if np.isfinite(week).any() and np.isfinite(base).any():
            parts.append(f"{label} {np.nanmean(week):.1f} (usually {np.nanmean(base):.1f})")
    return ", ".join(parts)


def hooper_evidence(ind: Indicators, th: Thresholds, row: int, t: int, cusum_h: float) -> str:
    """Why the Hooper index counts as risen: its CUSUM and/or the last check-ins together."""
    h, wt = ind.hooper, th.wellness
    if h is None:
        return "no"
    parts = []
    if h.cusum[row, t] > cusum_h:
        parts.append(f"CUSUM {h.cusum[row, t]:.1f} > {cusum_h:g} baseline SDs")
    if h.jump[row, t] >= wt.jump_z:
        parts.append(
            f"the last {wt.jump_checkins} check-ins {h.jump[row, t]:.1f} SD above your baseline (≥ {wt.jump_z:g})"
        )
    return " and ".join(parts) or "no"


def wellness(ind: Indicators, th: Thresholds) -> Reason:
    wt = th.wellness

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        h = ind.hooper
        if h is None:
            return ""
        week, n7 = h.week.mean[row, t], h.week.n[row, t]
        mean, sd, nb = h.baseline.mean[row, t], h.baseline.sd[row, t], h.baseline.n[row, t]
        items = _items_week(ind, th, row, t)
        return (
            f"{wt.window_days}-day mean Hooper index {_num(week, '.1f')} (sleep + fatigue + soreness + stress, each "
            f"1–7, higher = worse) is above your normal range (upper bound {_num(h.upper[row, t], '.1f')} = "
            f"{wt.baseline_days}-day mean {_num(mean, '.1f')} + {wt.range_sd:g} SD, SD {_num(sd, '.1f')}), "
            f"{_since(since, days)}; {n7} of {wt.window_days} mornings checked in, baseline {nb} check-ins. "
            f"Confirmed by the recent check-ins: {hooper_evidence(ind, th, row, t, wt.cusum_h)}."
            + (f" This week: {items}." if items else "")
            + " Ask about sleep, stress and soreness; keep intensity moderate."
        )

    return reason


def soreness_window(th: Thresholds) -> str:
    wt = th.wellness
    return f"one-sided soreness check-ins in {wt.soreness_window_days}d vs the {wt.baseline_days}d before (binomial)"


def soreness(ind: Indicators, th: Thresholds) -> Reason:
    wt = th.wellness

    def reason(row: int, t: int, act: bool, since: dt.date, days: int) -> str:
        s = ind.soreness
        if s is None:
            return ""
        g = int(s.group[row, t])
        group = SIDED_GROUPS[g]
        left = s.side[row, t] > 0
        sorer, other = ("left", "right") if left else ("right", "left")
        k, n, mean = s.sorer_checkins[row, t], s.week_checkins[row, t], s.mean_difference[row, t]
        return (
            f"Soreness of the {group.replace('_', ' ')}: the {sorer} side was rated at least "
            f"{wt.soreness_diff_points:g} points (of 10) above the {other} on {k} of {n} check-ins in "
            f"{wt.soreness_window_days} days (mean left − right {_num(mean, '+.1f')} points), {_since(since, days)}; "
            f"that many by chance at your own rate of the {wt.baseline_days} days before has p = "
            f"{_num(s.p[row, t], '.1g')} (≤ {wt.soreness_max_p:g}). Candidate region {group}_{'l' if left else 'r'}: "
            "ask where and when it hurts."
        )

    return reason
