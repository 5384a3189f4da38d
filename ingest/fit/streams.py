"""Pure column functions: FIT record messages → numpy columns, pedal balance bits, beat times from `hrv` messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.fit.decode import FIT_EPOCH_S, DevField

RECORD_FIELDS = (
    "heart_rate",
    "speed",
    "enhanced_speed",
    "distance",
    "cadence",
    "fractional_cadence",
    "power",
    "left_right_balance",
    "stance_time",
    "stance_time_balance",
    "stance_time_percent",
    "vertical_oscillation",
    "vertical_ratio",
    "step_length",
)
"""Record fields read, by their FIT profile names; values are scaled (ms, mm, %, m/s, m) and NaN when absent."""

RR_GAP_MS = 3000
"""RR values above this (below 20 bpm) are gaps or pauses, not beats: they advance the beat clock but are not
stored as beats."""
REANCHOR_S = 30.0
"""A beat clock more than this far behind the file's own timestamps is moved forward (beats not recorded)."""

_LRB_RIGHT = 0x80
_LRB_PERCENT = 0x7F


@dataclass
class Records:
    """Record messages column-wise, sorted by time: `time_ms` int64, one float64 column per field (NaN = none)."""

    time_ms: np.ndarray
    columns: dict[str, np.ndarray]
    dev: dict[tuple[str, str | None], np.ndarray]
    """(metric, side) → column of the preferred developer field for it, e.g. ('contact_time_ms', 'left')."""

    def __len__(self) -> int:
        return len(self.time_ms)


@dataclass
class Beats:
    """Beats rebuilt from `hrv` messages: `time_ms` of each beat, the interval ending there, gap values skipped."""

    time_ms: np.ndarray
    rr_ms: np.ndarray
    gap_time_ms: np.ndarray
    """End time of each gap value (RR above `RR_GAP_MS`)."""
    reanchored: int


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def float_column(values: Sequence[Any]) -> np.ndarray:
    """Values as float64, None and non-numbers as NaN (the first element of an array value)."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        out = np.full(len(values), np.nan)
        for i, value in enumerate(values):
            value = _scalar(value)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[i] = value
        return out


def record_columns(records: Sequence[Mapping[str, Any]], dev_fields: Mapping[int, DevField]) -> Records:
    """Columns of the records that carry a timestamp, sorted by time (stable)."""
    stamped = [r for r in records if isinstance(r.get("timestamp"), int)]
    order = np.argsort(np.array([r["timestamp"] for r in stamped], np.int64), kind="stable")
    stamped = [stamped[i] for i in order]
    time_ms = (np.array([r["timestamp"] for r in stamped], np.int64) + FIT_EPOCH_S) * 1000
    columns = {name: float_column([r.get(name) for r in stamped]) for name in RECORD_FIELDS}
    dev: dict[tuple[str, str | None], np.ndarray] = {}
    for key, target in sorted(dev_fields.items(), key=lambda item: item[1].rank):
        slot = (target.metric, target.side)
        if slot in dev:
            continue
        values = float_column([(r.get("developer_fields") or {}).get(key) for r in stamped])
        invalid = (values == target.invalid) | ~np.isfinite(values)
        values = np.where(invalid, np.nan, values / target.scale - target.offset)
        if np.isfinite(values).any():
            dev[slot] = values
    return Records(time_ms, columns, dev)


def cadence_column(records: Records, running: np.ndarray) -> np.ndarray:
    """Cadence per record: steps/min where `running` (2 × (cadence + fractional cadence)), else rpm."""
    cols = records.columns
    fraction = np.nan_to_num(cols["fractional_cadence"])
    return np.where(running, 2.0 * (cols["cadence"] + fraction), cols["cadence"])


def power_column(records: Records, running: np.ndarray) -> np.ndarray:
    """Power per record: `record.power`, else a running-power developer field; 0 W means 'missing' when running."""
    power = records.columns["power"]
    developer = records.dev.get(("power_w", None))
    if developer is not None:
        power = np.where(np.isfinite(power), power, developer)
    return np.where(running & (power == 0), np.nan, power)


def zero_as_missing(values: np.ndarray) -> np.ndarray:
    """Running-dynamics convention: 0 means 'no value' (pauses, sensor not yet locked), not zero."""
    return np.where(values == 0, np.nan, values)


def pedal_balance(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FIT `left_right_balance` bytes → (left share %, share % of an unknown side), NaN where not applicable.

    Bit 0x80 set: the low 7 bits are the right pedal's share, so left = 100 − that. Bit clear: the FIT profile
    says the side is unknown (Wahoo writes plain 0–100 this way). Shares above 100 % are invalid.
    """
    valid = np.isfinite(raw)
    bits = np.where(valid, raw, 0).astype(np.int64)
    share = (bits & _LRB_PERCENT).astype(np.float64)
    valid &= share <= 100
    right_flag = (bits & _LRB_RIGHT) != 0
    left = np.where(valid & right_flag, 100.0 - share, np.nan)
    unknown = np.where(valid & ~right_flag, share, np.nan)
    return left, unknown


def symmetry_index(balance_left_pct: float) -> float:
    """Symmetry index from a left share B in %: SI = 4·(B − 50) (positive = left larger, data-model convention)."""
    return 4.0 * (balance_left_pct - 50.0)


def nanmean(values: np.ndarray) -> float | None:
    """Mean of the finite values, None if there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def hrv_values(hrv_messages: Sequence[Mapping[str, Any]]) -> list[list[float]]:
    """The valid RR values (s) of each `hrv` message: up to 5 each, 0xFFFF (None) and non-positive dropped."""
    out = []
    for message in hrv_messages:
        values = message.get("time")
        values = values if isinstance(values, list) else [values]
        out.append([float(v) for v in values if isinstance(v, int | float) and v > 0])
    return out


def beat_times(
    values_s: Sequence[Sequence[float]], refs_s: Sequence[int | None], anchor_s: int, gap_ms: int = RR_GAP_MS
) -> Beats:
    """Beat times from RR sums anchored at `anchor_s` (FIT seconds), one list of RR values per `hrv` message.

    `refs_s[i]` is the FIT timestamp of the last timestamped message before message i. If the beat clock has
    fallen more than `REANCHOR_S` behind it (beats were not recorded), the clock jumps forward to it. Values
    above `gap_ms` advance the clock but are not beats (their end times are returned as `gap_time_ms`).
    """
    clock_ms = (anchor_s + FIT_EPOCH_S) * 1000
    times: list[int] = []
    rrs: list[int] = []
    gaps: list[int] = []
    reanchored = 0
    for values, ref in zip(values_s, refs_s):
        if ref is not None and (ref + FIT_EPOCH_S) * 1000 - clock_ms > REANCHOR_S * 1000:
            clock_ms = (ref + FIT_EPOCH_S) * 1000
            reanchored += 1
        for value in values:
            rr = round(value * 1000)
            clock_ms += rr
            if rr > gap_ms:
                gaps.append(clock_ms)
                continue
            times.append(clock_ms)
            rrs.append(rr)
    return Beats(np.array(times, np.int64), np.array(rrs, np.float64), np.array(gaps, np.int64), reanchored)
