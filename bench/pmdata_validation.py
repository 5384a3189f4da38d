"""Descriptive check on real outcomes: PMData (16 people) injury reports against the product's flags.

The product's own path: each person's PMSys `srpe.csv` is imported with `ingest.importer.import_file` into an
embedded SQLite store in a temporary directory, the Fitbit daily resting HR is written as `readiness` points (no
importer reads Fitbit JSON; there is no HRV), and `monitor.history.catch_up` writes every day's `flag` points,
which are read back. Default thresholds; **nothing was tuned on this data**.

For every flag family and every injury onset (a body part reported injured that was not reported in the 14 days
before) it asks whether a flag of the family was raised on days −14 … −1, and compares that with **matched**
windows: every 14-day window of the same person that does not overlap any injury window (onset −14 … onset) of
that person, i.e. the expectation of a random matched window. Differences get 95 % bootstrap intervals that
resample people (2,000 resamples, seed 2026). Descriptive only: ACWR and friends are not injury predictors
(Impellizzeri 2020). Numbers go to docs/validation.md.

    python bench/pmdata_validation.py [--data ../shared/data/pmdata]   # prints JSON
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as dt
import json
import tempfile
from pathlib import Path

import numpy as np

from ingest.importer import IMPORTED, import_file
from ingest.store.base import PointBatch, Store
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS, day_start_ms, ms_day
from monitor.history import catch_up, plan_catch_up
from monitor.rolling import rolling_sum
from monitor.signals import FAMILIES, SIGNALS
from monitor.thresholds import load_thresholds

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pmdata"
WINDOW_DAYS = 14
RESAMPLES = 2000
SEED = 2026
NOT_EVALUABLE = {
    "asymmetry": "PMData has no running dynamics, muscle or pedal data: asymmetry flags cannot be evaluated",
    "wellness": "PMData's PMSys wellness reports (1-5 scales, areas without ratings) are not imported as check-ins; "
    "the wellness family is measured on the simulated cohorts whose check-in noise is fitted to them "
    "(docs/analytics.md 5b)",
}
RECOVERY_NOTE = (
    "only rhr_elevated, from the Fitbit daily resting HR (a device estimate, not a morning reading); PMData has no "
    "RR or HRV, so hrv_suppressed (and the HRV part of the joint evidence) cannot be evaluated"
)


def _day(timestamp: str) -> dt.date:
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).date()


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


def resting_hr_batch(path: Path, athlete: str) -> PointBatch | None:
    """Fitbit's daily resting HR (bpm; 0 = no estimate, skipped) as `readiness` points at the start of its day."""
    if not path.is_file():
        return None
    days, bpm = [], []
    for item in json.loads(path.read_text()):
        value = float(item["value"]["value"])
        if value > 0:
            days.append(day_start_ms(dt.date.fromisoformat(item["dateTime"][:10])))
            bpm.append(value)
    if not days:
        return None
    return PointBatch("readiness", {"athlete": athlete}, np.array(days, np.int64), {"mean_hr_bpm": np.array(bpm)})


def before_window(flagged: np.ndarray, window: int = WINDOW_DAYS) -> np.ndarray:
    """Per day t: was anything flagged on days t−window … t−1."""
    return rolling_sum(flagged.astype(float)[None, :], window, lag=1)[0] > 0


def injury_days(n_days: int, onsets: list[int], window: int = WINDOW_DAYS) -> np.ndarray:
    """Days inside any injury window (onset − window … onset) of the person."""
    mask = np.zeros(n_days, bool)
    for t in onsets:
        mask[max(t - window, 0) : max(min(t + 1, n_days), 0)] = True
    return mask


def control_days(evaluable: np.ndarray, onsets: list[int], window: int = WINDOW_DAYS) -> np.ndarray:
    """Reference days t (window t−window … t−1) that are evaluable and whose window overlaps no injury window."""
    hurt = injury_days(evaluable.size, onsets, window).astype(float)[None, :]
    return evaluable & (rolling_sum(hurt, window, lag=1)[0] == 0)


def bootstrap_difference(
    onsets: np.ndarray, hits: np.ndarray, expected: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED
) -> dict:
    """Share of onsets with a flag, the matched chance share and their difference, with 95 % percentile intervals
    from resampling people (arrays per person: evaluable onsets, onsets with a flag, expected flagged onsets at the
    person's matched chance rate)."""
    onsets, hits, expected = (np.asarray(a, float) for a in (onsets, hits, expected))
    if onsets.sum() == 0:
        return {"people": int(onsets.size), "onsets": 0}
    pick = np.random.default_rng(seed).integers(0, onsets.size, (resamples, onsets.size))
    n = onsets[pick].sum(axis=1)
    case, chance = hits[pick].sum(axis=1) / n, expected[pick].sum(axis=1) / n

    def ci(x: np.ndarray) -> list[float]:
        return [round(float(v), 3) for v in np.percentile(x, [2.5, 97.5])]

    total = onsets.sum()
    return {
        "people": int(onsets.size),
        "onsets": int(total),
        "onsets_with_flag": int(hits.sum()),
        "share_with_flag": round(float(hits.sum() / total), 3),
        "share_ci95": ci(case),
        "matched_chance_share": round(float(expected.sum() / total), 3),
        "matched_chance_ci95": ci(chance),
        "difference": round(float((hits.sum() - expected.sum()) / total), 3),
        "difference_ci95": ci(case - chance),
    }


def load_store(store: Store, data: Path) -> tuple[dict[str, list[tuple[dt.date, str]]], dict[str, str]]:
    """Import every person's sRPE log and resting HR into ``store``: injury onsets by person, import errors."""
    people: dict[str, list[tuple[dt.date, str]]] = {}
    errors: dict[str, str] = {}
    for person in sorted(p for p in data.iterdir() if (p / "pmsys" / "srpe.csv").is_file()):
        people[person.name] = read_injury_onsets(person / "pmsys" / "injury.csv")
        result = import_file(store, person / "pmsys" / "srpe.csv", person.name)
        if result.status != IMPORTED:
            errors[person.name] = result.error or result.status  # p16: no session has an RPE or duration
        rhr = resting_hr_batch(person / "fitbit" / "resting_heart_rate.json", person.name)
        if rhr is not None:
            store.write([rhr])
    return people, errors


def person_result(store: Store, athlete: str, onsets: list[tuple[dt.date, str]], th) -> dict:
    """Flags per family read back from the store, windows before each onset and the matched control windows."""
    sessions = store.read("session", athlete, ["srpe_load"])
    has_load = np.isfinite(sessions.columns["srpe_load"])
    if not has_load.any():
        return {"person": athlete, "sessions_days": 0, "onsets": len(onsets), "usable": False}
    session_days = sorted({ms_day(int(t)) for t in sessions.time_ms[has_load]})
    first = session_days[0]
    last = max([session_days[-1], *(d for d, _ in onsets)])
    n = (last - first).days + 1
    start_ms, end_ms = day_start_ms(first), day_start_ms(last) + DAY_MS
    flags = store.read("flag", athlete, ["value"], start_ms, end_ms, with_tags=("family", "signal"))
    flag_day = (flags.time_ms - start_ms) // DAY_MS
    daily = store.read("daily", athlete, ["rhr_upper_bound"], start_ms, end_ms)
    rhr_known = np.zeros(n, bool)
    rhr_known[(daily.time_ms - start_ms) // DAY_MS] = np.isfinite(daily.columns["rhr_upper_bound"])
    history = np.arange(n) + 1  # days of training data up to each day
    known_window = rolling_sum(rhr_known.astype(float)[None, :], WINDOW_DAYS, lag=1)[0] >= WINDOW_DAYS
    evaluable = {
        "load": history >= th.load.chronic_days + WINDOW_DAYS,  # the ratios exist over the whole window
        "recovery": known_window,  # a resting-HR normal range on every day of the window
    }
    onset_idx = [(d - first).days for d, _ in onsets]
    out = {"person": athlete, "sessions_days": len(session_days), "days": n, "onsets": len(onsets), "usable": True}
    out["flags_by_signal"] = {s: int(np.unique(flag_day[flags.columns["signal"] == s]).size) for s in SIGNALS}
    out["families"] = {}
    for family in FAMILIES:
        flagged = np.zeros(n, bool)
        flagged[flag_day[flags.columns["family"] == family]] = True
        ok = evaluable.get(family, np.zeros(n, bool))
        before = before_window(flagged)
        cases = [t for t in onset_idx if 0 <= t < n and ok[t]]
        controls = control_days(ok, onset_idx)
        out["families"][family] = {
            "flag_days": int(flagged.sum()),
            "evaluable_days": int(ok.sum()),
            "onsets_evaluable": len(cases),
            "onsets_with_flag": int(sum(before[t] for t in cases)),
            "windows_evaluable": int(ok.sum()),
            "windows_with_flag": int((before & ok).sum()),
            "control_windows": int(controls.sum()),
            "control_windows_with_flag": int((before & controls).sum()),
            "control_days": [(first + dt.timedelta(days=int(t))).isoformat() for t in np.flatnonzero(controls)],
        }
    out["onset_days"] = [d.isoformat() for d, _ in onsets]
    return out


def family_summary(people: list[dict], family: str) -> dict:
    """Pooled counts and the matched comparison with people-bootstrap intervals for one family."""
    rows = [p["families"][family] for p in people]
    used = [r for r in rows if r["onsets_evaluable"] and r["control_windows"]]
    onsets = np.array([r["onsets_evaluable"] for r in used])
    rate = np.array([r["control_windows_with_flag"] / r["control_windows"] for r in used])
    days = sum(p["days"] for p in people)
    summary = {
        "flag_days": sum(r["flag_days"] for r in rows),
        "person_days": days,
        "flag_day_share": round(sum(r["flag_days"] for r in rows) / days, 3) if days else None,
        "onsets_evaluable": sum(r["onsets_evaluable"] for r in rows),
        "onsets_without_control_windows": sum(r["onsets_evaluable"] for r in rows if not r["control_windows"]),
        "control_windows": sum(r["control_windows"] for r in rows),
        "matched": bootstrap_difference(onsets, np.array([r["onsets_with_flag"] for r in used]), onsets * rate),
    }
    if family == "recovery":
        summary["note"] = RECOVERY_NOTE
    return summary


def family_result(people: list[dict], family: str) -> dict:
    if family in NOT_EVALUABLE:
        return {"evaluable": False, "note": NOT_EVALUABLE[family]}
    return {"evaluable": True, **family_summary(people, family)}


def validate(data: Path = DEFAULT_DATA) -> dict:
    th = load_thresholds()
    with tempfile.TemporaryDirectory(prefix="pmdata-") as tmp:
        store = SQLiteStore(str(Path(tmp) / "pmdata.sqlite"), url=f"sqlite:///{tmp}/pmdata.sqlite")
        try:
            onsets, errors = load_store(store, data)
            as_of = max([d for o in onsets.values() for d, _ in o] + [dt.date(2020, 3, 31)])
            roster = sorted(store.list_athletes("session"))
            catch_up(store, plan_catch_up(store, as_of, athletes=roster), thresholds=th)
            people = [person_result(store, a, onsets[a], th) for a in roster]
        finally:
            store.close()
    people += [
        {"person": a, "sessions_days": 0, "onsets": len(o), "usable": False, "import": errors.get(a)}
        for a, o in onsets.items()
        if a not in roster
    ]
    used = [p for p in people if p["usable"]]
    load = [p["families"]["load"] for p in used]
    windows = sum(r["windows_evaluable"] for r in load)
    return {
        "people": len(people),
        "people_with_sessions": len(used),
        "injury_onsets": sum(p["onsets"] for p in people),
        "injury_onsets_evaluable": sum(r["onsets_evaluable"] for r in load),
        "onsets_with_load_flag_14d_before": sum(r["onsets_with_flag"] for r in load),
        "chance_share_of_14d_windows_with_load_flag": (
            round(sum(r["windows_with_flag"] for r in load) / windows, 3) if windows else None
        ),
        "bootstrap": {"resamples": RESAMPLES, "seed": SEED, "unit": "person", "interval": "95 % percentile"},
        "families": {family: family_result(used, family) for family in FAMILIES},
        "per_person": people,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-person", action="store_true", help="include every person's counts and windows")
    args = parser.parse_args()
    result = validate(args.data)
    if not args.per_person:
        result.pop("per_person")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
