"""A decoded FIT activity → the data model's point batches (`session`, `hr`, `rr`, `motion`, `run_dynamics`,
`power`, `stride`).

Records sharing a timestamp are merged (the last value of each field wins, as the stores would do). Batches
never hold NaN: rows are grouped by which fields they have, and a row with no field is not written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ingest import model
from ingest.fit.streams import cadence_column, pedal_balance, power_column, zero_as_missing
from ingest.model import RR, SESSION
from ingest.store.base import PointBatch

if TYPE_CHECKING:
    from ingest.fit.activity import FitActivity

STRIDE_METRICS = {
    "contact_time_ms": "gct_ms",
    "impact_g": "impact_g",
    "braking_g": "braking_g",
    "footstrike_type": "footstrike_type",
    "pronation_deg": "pronation_deg",
}
"""Per-foot developer metrics → `stride` field names."""


def merge_by_time(time_ms: np.ndarray, fields: Mapping[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One row per distinct timestamp (sorted); each field keeps its last finite value at that time."""
    times = np.unique(time_ms)
    if len(times) == len(time_ms) and np.all(times == time_ms):
        return time_ms, dict(fields)
    merged = {}
    for name, column in fields.items():
        present = np.isfinite(column)
        t, v = time_ms[present][::-1], column[present][::-1]
        _, first_of_reversed = np.unique(t, return_index=True)
        out = np.full(len(times), np.nan)
        out[np.searchsorted(times, t[first_of_reversed])] = v[first_of_reversed]
        merged[name] = out
    return times, merged


def sparse_batches(
    measurement: str, tags: Mapping[str, str], time_ms: np.ndarray, fields: Mapping[str, np.ndarray]
) -> list[PointBatch]:
    """Batches of one measurement and tag set from float columns with NaN = missing (one batch per field set)."""
    if not len(time_ms) or not fields:
        return []
    time_ms, fields = merge_by_time(np.asarray(time_ms, np.int64), fields)
    names = list(fields)
    present = np.stack([np.isfinite(fields[n]) for n in names], axis=1)
    codes = present @ (1 << np.arange(len(names), dtype=np.int64))
    declared = model.measurement(measurement)
    batches = []
    for code in np.unique(codes):
        if code == 0:
            continue
        rows = codes == code
        columns = {}
        for j, name in enumerate(names):
            if code >> j & 1:
                columns[name] = fields[name][rows]
        batches.append(declared.batch(tags, time_ms[rows], columns))  # integer fields rounded, as the model says
    return batches


def session_batches(activity: FitActivity, athlete: str) -> list[PointBatch]:
    """One `session` point per FIT session, at its start, tagged with its sport."""
    batches = []
    for session in activity.sessions:
        columns = {name: [value] for name, value in session.fields.items()}
        tags = {"athlete": athlete, "source": activity.source, "sport": session.sport}
        batches.append(SESSION.batch(tags, [session.start_ms], columns))
    return batches


def stream_batches(activity: FitActivity, athlete: str) -> list[PointBatch]:
    """The per-record and per-beat streams."""
    tags = {"athlete": athlete, "device": activity.device, "source": activity.source}
    records, cols = activity.records, activity.records.columns
    t = records.time_ms
    cadence = cadence_column(records, activity.running)
    speed = np.where(np.isfinite(cols["enhanced_speed"]), cols["enhanced_speed"], cols["speed"])
    left, unknown = pedal_balance(cols["left_right_balance"])
    batches = sparse_batches("hr", tags, t, {"bpm": zero_as_missing(cols["heart_rate"])})
    if len(activity.beats.time_ms):
        batches.append(RR.batch(tags, activity.beats.time_ms, {"rr_ms": activity.beats.rr_ms}))
    motion = {
        "speed_mps": speed,
        "distance_m": cols["distance"],
        "cadence_spm": np.where(activity.running, cadence, np.nan),
        "cadence_rpm": np.where(activity.running, np.nan, cadence),
    }
    batches += sparse_batches("motion", tags, t, motion)
    dynamics = {
        "gct_ms": cols["stance_time"],
        "gct_balance_left_pct": cols["stance_time_balance"],
        "stance_time_pct": cols["stance_time_percent"],
        "vertical_oscillation_mm": cols["vertical_oscillation"],
        "vertical_ratio_pct": cols["vertical_ratio"],
        "step_length_mm": cols["step_length"],
    }
    batches += sparse_batches("run_dynamics", tags, t, {k: zero_as_missing(v) for k, v in dynamics.items()})
    power = {
        "power_w": power_column(records, activity.running),
        "pedal_balance_left_pct": left,
        "pedal_balance_side_unknown_pct": unknown,
    }
    batches += sparse_batches("power", tags, t, power)
    for side in ("left", "right"):
        stride = {
            f: zero_as_missing(records.dev[(m, side)]) for m, f in STRIDE_METRICS.items() if (m, side) in records.dev
        }
        batches += sparse_batches("stride", {**tags, "side": side}, t, stride)
    return batches


def activity_points(activity: FitActivity, athlete: str) -> list[PointBatch]:
    """Every point of the activity except the `activity` identity record."""
    return session_batches(activity, athlete) + stream_batches(activity, athlete)
