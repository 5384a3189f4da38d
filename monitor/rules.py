"""The flag engine: daily indicators of many athletes → signals → explainable flags → the IDN recommendation.

Everything is computed for every athlete (rows) and day (columns) at once, so a whole history can be replayed to
measure how early and how often the rules fire (tests/test_cohorts.py): ``monitor.indicators`` computes the daily
indicators, ``monitor.signals`` the signals; ``flags_on`` here turns one day's column into ``monitor.flags.Flag``
objects with plain-language reasons. Rules, defaults and their rationale: docs/analytics.md. Thresholds come from
``monitor.thresholds`` (TOML). The IDN recommendation is itself a combination: any ``act`` flag, or ``watch`` flags
from two families within 7 days.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from monitor.flags import Flag
from monitor.indicators import Indicators, day_of
from monitor.rolling import rolling_sum
from monitor.signals import FAMILIES, SIGNALS, SignalSeries, run_length
from monitor.thresholds import Thresholds

# --- flags and the IDN recommendation -------------------------------------------------------------------------


def _date(day: np.datetime64) -> dt.date:
    return day_of(day).astype(dt.date)


def flags_on(signals: dict[str, SignalSeries], ind: Indicators, row: int, t: int) -> list[Flag]:
    """The flags raised for athlete ``row`` on day index ``t``, in the order of ``SIGNALS``."""
    flags = []
    for name in SIGNALS:
        s = signals.get(name)
        if s is None or not s.flagged[row, t]:
            continue
        act = bool(s.act[row, t])
        run = int(run_length(s.condition[row, : t + 1])[-1])
        since = _date(ind.inputs.days[t - run + 1])
        flags.append(
            Flag(
                athlete=ind.inputs.athletes[row],
                signal=name,
                family=s.family,
                severity="act" if act else "watch",
                value=float(s.value[row, t]),
                threshold=float((s.threshold_act if act else s.threshold_watch)[row, t]),
                window=s.window(row, t),
                since=since,
                reason=s.reason(row, t, act, since, run),
            )
        )
    return flags


def idn_series(signals: dict[str, SignalSeries], th: Thresholds) -> np.ndarray:
    """``recommend_idn_visit`` for every athlete and day: any ``act`` flag that day, or flags (any severity)
    from at least ``min_watch_families`` families within the last ``watch_window_days`` days."""
    any_act = np.any([s.act for s in signals.values()], axis=0)
    families = []
    for family in FAMILIES:
        members = [s.flagged for s in signals.values() if s.family == family]
        if members:
            recent = rolling_sum(np.any(members, axis=0).astype(float), th.idn.watch_window_days) > 0
            families.append(recent)
    n_families = np.sum(families, axis=0) if families else np.zeros_like(any_act, int)
    return any_act | (n_families >= th.idn.min_watch_families)


def idn_reasons(
    signals: dict[str, SignalSeries],
    ind: Indicators,
    th: Thresholds,
    row: int,
    t: int,
    flags: list[Flag] | None = None,
) -> list[str]:
    """Why the IDN rule fired (empty when it did not): the act flags, else the recent flags of each family.
    ``flags`` are that day's flags when the caller has them already (``flags_on``)."""
    flags = flags_on(signals, ind, row, t) if flags is None else flags
    acts = [f for f in flags if f.severity == "act"]
    if acts:
        return [f"act: {f.signal} — {f.reason}" for f in acts]
    lo = max(0, t - th.idn.watch_window_days + 1)
    recent: dict[str, list[str]] = {}
    for name, s in signals.items():
        days = np.flatnonzero(s.flagged[row, lo : t + 1])
        if days.size:
            last = lo + int(days[-1])
            recent.setdefault(s.family, []).append(f"{name} (last {_date(ind.inputs.days[last]).isoformat()})")
    if len(recent) < th.idn.min_watch_families:
        return []
    return [f"watch ({family}): " + ", ".join(items) for family, items in recent.items()]
