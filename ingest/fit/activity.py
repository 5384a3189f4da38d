"""One FIT activity file → identity, per-session summaries and streams (pure: bytes in, values out).

Conventions (documented in docs/data-model.md):
- identity: the `file_id` message (manufacturer, product, serial number, time created), hashed;
- a session covers its records from its start to the next session's start (the last one to the end);
- duration is the session's timer time (pauses excluded), totals and HR averages come from the session message
  when the device wrote them, otherwise from the records;
- asymmetry comes from the records, one rule for every device: GCT balance = mean of the non-zero
  `stance_time_balance` samples (Garmin: left foot's share, %), else from per-foot footpod contact times;
  pedal balance = mean left share of the samples with a known side while pedalling (cadence > 0, as
  GoldenCheetah does).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.activity import FileDecodeError
from ingest.fit.decode import FIT_EPOCH_S, FitMessages, decode_messages, enum_name
from ingest.fit.points import activity_points
from ingest.fit.streams import (
    Beats,
    Records,
    beat_times,
    cadence_column,
    hrv_values,
    nanmean,
    pedal_balance,
    power_column,
    record_columns,
    symmetry_index,
    zero_as_missing,
)
from ingest.store.base import PointBatch

SOURCE = "fit"
_ACTIVITY_FILE = 4
_SPORT_TAGS = {"running": "run", "cycling": "ride", "swimming": "swim", "generic": "other"}
_GARMIN_MANUFACTURERS = {1, 13, 15}  # garmin, dynastream_oem, dynastream: product is a garmin_product
DEVICE_LOAD_FIELDS = {
    "total_training_effect": "device_training_effect",
    "total_anaerobic_training_effect": "device_anaerobic_training_effect",
    "training_load_peak": "device_training_load",
    "training_stress_score": "device_tss",
    "intensity_factor": "device_intensity_factor",
}
"""The recording device's own load figures in the FIT session message → `session` fields (for comparison)."""


def fit_ms(fit_seconds: int | float) -> int:
    """FIT timestamp (s since 1989-12-31 UTC) → Unix epoch milliseconds."""
    return round((fit_seconds + FIT_EPOCH_S) * 1000)


def iso_utc(time_ms: int) -> str:
    return dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")


def sport_tag(sport: str | None, sub_sport: str | None) -> str:
    """Data-model `sport` tag: run, ride, swim, strength, other, else FIT's own sport name."""
    if sport == "training" and sub_sport == "strength_training":
        return "strength"
    return _SPORT_TAGS.get(sport or "generic", sport or "other")


@dataclass
class FitSession:
    """One session of the file: the `session` point's tags, time and fields, and the slice of its records."""

    start_ms: int
    sport: str
    records: slice
    fields: dict[str, float | int | str]


@dataclass
class FitActivity:
    """A decoded FIT activity: identity, sessions, record columns and beats (see `ingest.activity`)."""

    activity_id: str
    time_ms: int
    device: str
    sessions: list[FitSession]
    records: Records
    beats: Beats
    running: np.ndarray
    """Per record: True inside a running session (cadence in steps/min, power 0 = missing)."""
    data_records: int
    source: str = SOURCE

    @property
    def samples(self) -> int:
        """Number of record messages."""
        return len(self.records)

    def batches(self, athlete: str) -> list[PointBatch]:
        """The `session` points and the streams (see `ingest.fit.points`)."""
        return activity_points(self, athlete)

    def summary(self) -> dict[str, Any]:
        """The file-level summary reported by the importer (see `file_summary`)."""
        return file_summary(self)


def _identity(file_id: dict[str, Any], data: bytes) -> tuple[str, int | None]:
    parts = [file_id.get(k) for k in ("manufacturer", "product", "serial_number", "time_created")]
    if parts[2] is None and parts[3] is None:
        return "fit:c" + hashlib.sha256(data).hexdigest()[:19], None
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:20]
    created = parts[3]
    return "fit:" + digest, created if isinstance(created, int) else None


def _device(file_id: dict[str, Any]) -> str:
    manufacturer, product = file_id.get("manufacturer"), file_id.get("product")
    if manufacturer in _GARMIN_MANUFACTURERS and product is not None:
        return enum_name("garmin_product", product) or "garmin"
    name = enum_name("manufacturer", manufacturer) or "unknown"
    return f"{name}-{product}" if product else name


def _session_messages(fit: FitMessages, records: Records) -> list[dict[str, Any]]:
    sessions = [s for s in fit.get("session_mesgs") if isinstance(s.get("start_time"), int)]
    if sessions:
        return sorted(sessions, key=lambda s: s["start_time"])
    if not len(records):
        raise FileDecodeError("no activity data (neither session nor record messages)")
    sport = (fit.get("sport_mesgs") or [{}])[0]
    start_s = int(records.time_ms[0] // 1000 - FIT_EPOCH_S)
    return [{"start_time": start_s, "sport": sport.get("sport"), "sub_sport": sport.get("sub_sport")}]


def _put(fields: dict[str, float | int | str], name: str, value: float | int | None) -> None:
    if value is not None and np.isfinite(value):
        fields[name] = value


def _session_fields(message: dict[str, Any], activity: FitActivity, index: int) -> dict:
    session = activity.sessions[index]
    part = session.records
    cols = activity.records.columns
    time_ms = activity.records.time_ms[part]
    fields: dict[str, float | int | str] = {}
    sub_sport = enum_name("sub_sport", message.get("sub_sport"))
    if sub_sport:
        fields["sub_sport"] = sub_sport
    span_s = (time_ms[-1] - time_ms[0]) / 1000 if len(time_ms) else None
    _put(fields, "duration_s", _number(message.get("total_timer_time"), span_s))
    _put(fields, "elapsed_s", _number(message.get("total_elapsed_time"), span_s))
    distance = cols["distance"][part]
    covered = np.nanmax(distance) - np.nanmin(distance) if _any(distance) else None
    _put(fields, "distance_m", _number(message.get("total_distance"), covered))
    hr = zero_as_missing(cols["heart_rate"][part])
    _put(fields, "avg_hr_bpm", _number(message.get("avg_heart_rate"), nanmean(hr)))
    _put(fields, "max_hr_bpm", _number(message.get("max_heart_rate"), np.nanmax(hr) if _any(hr) else None))
    power = power_column(activity.records, activity.running)[part]
    _put(fields, "avg_power_w", _number(message.get("avg_power"), nanmean(power)))
    _put(fields, "cadence_spm", nanmean(zero_as_missing(cadence_column(activity.records, activity.running)[part])))
    _put(fields, "gct_ms", nanmean(zero_as_missing(cols["stance_time"][part])))
    add_asymmetry(fields, activity, part)
    for fit_name, name in DEVICE_LOAD_FIELDS.items():
        _put(fields, name, _number(message.get(fit_name), None))
    lo = session.start_ms if index else -(2**62)
    hi = activity.sessions[index + 1].start_ms if index + 1 < len(activity.sessions) else 2**62
    beats, gaps = activity.beats.time_ms, activity.beats.gap_time_ms
    fields["rr_count"] = int(((beats >= lo) & (beats < hi)).sum())
    if n_gaps := int(((gaps >= lo) & (gaps < hi)).sum()):
        fields["rr_gap_count"] = n_gaps
    return fields


def add_asymmetry(fields: dict, activity: FitActivity, part: slice) -> None:
    """GCT balance, per-foot GCT and SI from one source; pedal balance (left, or side unknown) and SI; over `part`.

    GCT: the running-dynamics balance when recorded (`gct_source` = running_dynamics), else the per-foot
    footpod contact times (`gct_source` = footpods, balance = 100·L/(L+R)). The two sources can disagree on
    the side, so they are never mixed in one summary; the footpod values stay in the `stride` stream.
    """
    cols, dev = activity.records.columns, activity.records.dev
    balance = nanmean(zero_as_missing(cols["stance_time_balance"][part]))
    if balance is not None:
        fields["gct_source"] = "running_dynamics"
    else:
        contact = [dev.get(("contact_time_ms", side)) for side in ("left", "right")]
        means = [None if c is None else nanmean(zero_as_missing(c[part])) for c in contact]
        if means[0] is not None and means[1] is not None:
            fields["gct_source"] = "footpods"
            fields["gct_left_ms"], fields["gct_right_ms"] = means
            balance = 100.0 * means[0] / (means[0] + means[1])
    if balance is not None:
        fields["gct_balance_left_pct"] = balance
        fields["gct_symmetry_index_pct"] = symmetry_index(balance)
    left, unknown = pedal_balance(cols["left_right_balance"][part])
    cadence = cols["cadence"][part]
    pedalling = cadence > 0 if _any(cadence) else np.ones(len(cadence), bool)
    pedal = nanmean(left[pedalling])
    if pedal is not None:
        fields["pedal_balance_left_pct"] = pedal
        fields["pedal_symmetry_index_pct"] = symmetry_index(pedal)
    elif (share := nanmean(unknown[pedalling])) is not None:
        fields["pedal_balance_side_unknown_pct"] = share


def _any(values: np.ndarray) -> bool:
    return bool(np.isfinite(values).any())


def _number(preferred: Any, fallback: float | None) -> float | None:
    if isinstance(preferred, int | float) and not isinstance(preferred, bool):
        return float(preferred)
    return None if fallback is None else float(fallback)


def decode_fit(data: bytes) -> FitActivity:
    """Decode a whole FIT activity file; raise `FileDecodeError` with a one-line reason if it cannot be imported."""
    fit = decode_messages(data)
    file_ids = fit.get("file_id_mesgs")
    if not file_ids:
        raise FileDecodeError("no file_id message: not a FIT activity file")
    file_id = file_ids[0]
    if file_id.get("type") not in (None, _ACTIVITY_FILE):
        kind = enum_name("file", file_id.get("type"))
        raise FileDecodeError(f"unsupported FIT file type '{kind}': only activity files are imported")
    records = record_columns(fit.get("record_mesgs"), fit.dev_fields)
    messages = _session_messages(fit, records)
    activity_id, created = _identity(file_id, data)
    starts_ms = np.array([fit_ms(m["start_time"]) for m in messages], np.int64)
    owner = np.clip(np.searchsorted(starts_ms, records.time_ms, side="right") - 1, 0, None)
    sports = [enum_name("sport", m.get("sport")) for m in messages]
    running = np.array([sport == "running" for sport in sports], bool)[owner]
    beats = beat_times(hrv_values(fit.get("hrv_mesgs")), fit.hrv_refs, int(messages[0]["start_time"]))
    activity = FitActivity(
        activity_id=activity_id,
        time_ms=fit_ms(created) if created is not None else int(starts_ms[0]),
        device=_device(file_id),
        sessions=[],
        records=records,
        beats=beats,
        running=running,
        data_records=fit.data_records,
    )
    bounds = np.searchsorted(owner, np.arange(len(messages) + 1), side="left")
    for i, message in enumerate(messages):
        sport = sport_tag(sports[i], enum_name("sub_sport", message.get("sub_sport")))
        activity.sessions.append(FitSession(int(starts_ms[i]), sport, slice(int(bounds[i]), int(bounds[i + 1])), {}))
    for index, message in enumerate(messages):
        activity.sessions[index].fields = _session_fields(message, activity, index)
    return activity


def file_summary(activity: FitActivity) -> dict[str, Any]:
    """File-level summary: single sport or 'multisport', totals over sessions, asymmetry over all records."""
    sessions = activity.sessions
    sports = {s.sport for s in sessions}
    fields: dict[str, Any] = {}
    add_asymmetry(fields, activity, slice(None))
    durations = [_numeric(s, "duration_s") for s in sessions]
    weighted = [(v, d or 0.0) for s, d in zip(sessions, durations) if (v := _numeric(s, "avg_hr_bpm")) is not None]
    weight = sum(w for _, w in weighted)
    avg_hr = sum(v * w for v, w in weighted) / weight if weight else (weighted[0][0] if weighted else None)
    return {
        "sport": sports.pop() if len(sports) == 1 else "multisport",
        "start": iso_utc(sessions[0].start_ms),
        "duration_s": _sum(durations),
        "distance_m": _sum([s.fields.get("distance_m") for s in sessions]),
        "avg_hr_bpm": avg_hr,
        "rr_count": len(activity.beats.time_ms),
        "gct_balance_left_pct": fields.get("gct_balance_left_pct"),
        "gct_symmetry_index_pct": fields.get("gct_symmetry_index_pct"),
        "pedal_balance_left_pct": fields.get("pedal_balance_left_pct"),
        "sessions": len(sessions),
    }


def _numeric(session: FitSession, name: str) -> float | None:
    """A numeric field of the session as stored (None if absent)."""
    value = session.fields.get(name)
    if isinstance(value, str):
        raise TypeError(f"session field {name} is text, not a number: {value!r}")
    return value


def _sum(values: list) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) if present else None
