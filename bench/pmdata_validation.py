"""Descriptive check on real outcomes: PMData sRPE logs (16 people) and their weekly injury reports.

For every injury onset (a body part reported injured that was not reported in the 14 days before) this counts
whether a `load` flag (acwr_spike, monotony_high, strain_high; default thresholds) was raised on any of the 14
days before, and compares that with how often any 14-day window of the same people holds a load flag (the
chance level). Descriptive only: the thresholds were **not** tuned on this data, and ACWR is not an injury
predictor (Impellizzeri 2020). Numbers go to docs/validation.md.

    python bench/pmdata_validation.py [--data ../shared/data/pmdata]
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np

from monitor.load import rolling_sum
from monitor.rules import compute_indicators, daily_inputs, evaluate_signals
from monitor.thresholds import load_thresholds

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pmdata"
LOAD_SIGNALS = ("acwr_spike", "monotony_high", "strain_high")
WINDOW_DAYS = 14


def _day(timestamp: str) -> dt.date:
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).date()


def read_srpe(path: Path) -> dict[dt.date, float]:
    """Daily sRPE load (RPE × minutes) per UTC day of the session's end; sessions without RPE/duration skipped."""
    loads: dict[dt.date, float] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            try:
                load = float(row["perceived_exertion"]) * float(row["duration_min"])
            except (TypeError, ValueError):
                continue
            day = _day(row["end_date_time"])
            loads[day] = loads.get(day, 0.0) + load
    return loads


def read_injury_onsets(path: Path, quiet_days: int = WINDOW_DAYS) -> list[tuple[dt.date, str]]:
    """(day, body part) of each injury onset: a part reported that was not reported in the ``quiet_days`` before
    (reports are weekly or more often and repeat an ongoing injury, sometimes flipping on and off)."""
    onsets: list[tuple[dt.date, str]] = []
    last_seen: dict[str, dt.date] = {}
    if not path.is_file():
        return onsets
    with path.open(newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["effective_time_frame"])
    for row in rows:
        text = (row.get("injuries") or "").strip()
        day = _day(row["effective_time_frame"])
        for part in sorted(ast.literal_eval(text)) if text.startswith("{") else []:
            if part not in last_seen or (day - last_seen[part]).days > quiet_days:
                onsets.append((day, part))
            last_seen[part] = day
    return onsets


def person_result(person: Path, th) -> dict | None:
    loads = read_srpe(person / "pmsys" / "srpe.csv")
    onsets = read_injury_onsets(person / "pmsys" / "injury.csv")
    if not loads:
        return {"person": person.name, "sessions_days": 0, "onsets": len(onsets), "usable": False}
    first = min(loads)
    last = max([max(loads), *(d for d, _ in onsets)])
    n = (last - first).days + 1
    load = np.full((1, n), np.nan)
    for day, value in loads.items():
        load[0, (day - first).days] = value
    nothing = np.full((1, n), np.nan)
    inputs = daily_inputs([person.name], np.datetime64(first, "D"), load, nothing, nothing, {})
    ind = compute_indicators(inputs, th)
    signals = evaluate_signals(ind, th)
    flagged = np.any([signals[s].flagged[0] for s in LOAD_SIGNALS], axis=0)
    before = rolling_sum(flagged.astype(float)[None, :], WINDOW_DAYS, lag=1)[0] > 0  # days t−14 .. t−1
    evaluable = ind.load_days[0] >= th.load.chronic_days + WINDOW_DAYS  # ratios exist over the whole window
    hits = []
    for day, part in onsets:
        t = (day - first).days
        if 0 <= t < n and evaluable[t]:
            hits.append({"day": day.isoformat(), "part": part, "load_flag_in_14d_before": bool(before[t])})
    return {
        "person": person.name,
        "sessions_days": len(loads),
        "days": n,
        "onsets": len(onsets),
        "onsets_evaluable": len(hits),
        "onsets_with_load_flag": sum(h["load_flag_in_14d_before"] for h in hits),
        "flag_days": int(flagged.sum()),
        "windows_evaluable": int(evaluable.sum()),
        "windows_with_load_flag": int((before & evaluable).sum()),
        "flags_by_signal": {s: int(signals[s].flagged[0].sum()) for s in LOAD_SIGNALS},
        "injuries": hits,
        "usable": True,
    }


def validate(data: Path = DEFAULT_DATA) -> dict:
    th = load_thresholds()
    people = [person_result(p, th) for p in sorted(data.iterdir()) if (p / "pmsys" / "srpe.csv").is_file()]
    used = [p for p in people if p["usable"]]
    onsets = sum(p.get("onsets_evaluable", 0) for p in used)
    with_flag = sum(p.get("onsets_with_load_flag", 0) for p in used)
    windows = sum(p.get("windows_evaluable", 0) for p in used)
    windows_flag = sum(p.get("windows_with_load_flag", 0) for p in used)
    return {
        "people": len(people),
        "people_with_sessions": len(used),
        "injury_onsets": sum(p["onsets"] for p in people),
        "injury_onsets_evaluable": onsets,
        "onsets_with_load_flag_14d_before": with_flag,
        "share_with_load_flag": round(with_flag / onsets, 3) if onsets else None,
        "chance_share_of_14d_windows_with_load_flag": round(windows_flag / windows, 3) if windows else None,
        "per_person": people,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    result = validate(args.data)
    for p in result["per_person"]:
        if p["usable"]:
            print(
                f"{p['person']}: {p['sessions_days']:3d} training days over {p['days']:3d}, injury onsets "
                f"{p['onsets']:2d} ({p['onsets_evaluable']} evaluable, {p['onsets_with_load_flag']} with a load flag "
                f"in the 14 days before), load-flag days {p['flag_days']} {p['flags_by_signal']}"
            )
        else:
            print(f"{p['person']}: no usable sRPE sessions, injury onsets {p['onsets']}")
    print(json.dumps({k: v for k, v in result.items() if k != "per_person"}))


if __name__ == "__main__":
    main()
