"""Decode FIT bytes into messages with Garmin's FIT SDK, and resolve developer fields.

The CRC is checked by `ingest.fit.framing` (same CRC-16, a byte table instead of the SDK's nibble loop).
Raw values are kept (no enum-to-string conversion, FIT timestamps as seconds since 1989-12-31 UTC) because
several fields are bit fields (`left_right_balance`) that the SDK's string conversion would mangle; enums are
named afterwards through `Profile`. Scale and offset are applied, components expanded and `hr` messages merged
into records as the SDK does by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, cast

from garmin_fit_sdk import BASE_TYPE_DEFINITIONS, Decoder, Profile, Stream

from ingest.activity import FileDecodeError
from ingest.fit.framing import crc_ok, normalize_compressed, scan

FIT_EPOCH_S = 631_065_600
"""1989-12-31 00:00 UTC in Unix seconds: FIT timestamps count from there."""

_RUNSCRIBE_APPS = {
    bytes([80, 32, 146, 179, 176, 221, 69, 173, 137, 179, 71, 42, 178, 6, 10, 182]),  # RunScribe Light
    bytes([193, 245, 200, 10, 90, 5, 78, 138, 151, 179, 253, 163, 78, 149, 112, 53]),  # RunScribe Plus
}
_RUNSCRIBE_METRICS = {
    "ContactTime": "contact_time_ms",
    "Impact_GS": "impact_g",
    "Braking_GS": "braking_g",
    "FootStrike": "footstrike_type",
    "Pronation": "pronation_deg",
}
_RUNSCRIBE_BY_NUMBER = {
    0: ("impact_g", "left"),
    1: ("braking_g", "left"),
    2: ("footstrike_type", "left"),
    3: ("pronation_deg", "left"),
    5: ("contact_time_ms", "left"),
    6: ("impact_g", "right"),
    7: ("braking_g", "right"),
    8: ("footstrike_type", "right"),
    9: ("pronation_deg", "right"),
    11: ("contact_time_ms", "right"),
    12: ("power_w", None),
}
"""RunScribe's developer field numbers, used when its field descriptions carry no names (fenix 3 firmware)."""
_RUNSCRIBE_NAME = re.compile(r"^RS_(ContactTime|Impact_GS|Braking_GS|FootStrike|Pronation)_([LR])$")
_POWER_NAMES = {"Power": 1, "RP_Power": 2, "RS_Power_AVG": 3}
"""Running-power developer fields (Stryd, Garmin Running Power, RunScribe), by preference."""
_NON_NUMERIC = (0x07, 0x0D)  # string, byte
_NATIVE_POWER = 7  # record.power: a developer field declaring it as its native field is running power too


@dataclass(frozen=True)
class DevField:
    """Where one developer field's values go: `metric` (a stream field name), `side` for per-foot metrics."""

    metric: str
    side: str | None
    invalid: float
    scale: float = 1.0
    offset: float = 0.0
    rank: int = 0
    """Preference among fields of the same metric and side (lower wins)."""


@dataclass
class FitMessages:
    """Decoded messages by SDK key (`record_mesgs`, `session_mesgs`, …) and the developer fields we use."""

    messages: dict[str, list[dict[str, Any]]]
    data_records: int
    dev_fields: dict[int, DevField] = field(default_factory=dict)
    hrv_refs: list[int | None] = field(default_factory=list)
    """For each `hrv` message, the FIT timestamp of the last timestamped message before it (None before any)."""

    def get(self, key: str) -> list[dict[str, Any]]:
        return self.messages.get(key) or []


def enum_name(type_name: str, value: Any) -> str | None:
    """The profile's name of an enum value (`sport` 1 → 'running'), else the value as text; None if missing."""
    if value is None:
        return None
    return str(Profile["types"].get(type_name, {}).get(value, value))


def _sdk_reason(error: Exception) -> str:
    text = str(error).removeprefix("FIT Runtime Error").strip()
    if "CRC" in text:
        return "CRC mismatch: the file is damaged"
    if isinstance(error, IndexError):
        return "truncated: the file ends inside a record"
    return f"FIT decoder error: {text or type(error).__name__}"


def decode_messages(data: bytes) -> FitMessages:
    """All messages of a FIT file (chained segments included); raise `FileDecodeError` on any damage."""
    framing = scan(data)
    if not crc_ok(data, framing):
        raise FileDecodeError("CRC mismatch: the file is damaged")
    if framing.compressed:
        data = normalize_compressed(data, framing)
    hrv_refs: list[int | None] = []
    records = 0  # data records read so far
    last_ts: int | None = None  # FIT timestamp of the last timestamped message
    hrv_num = Profile["mesg_num"]["HRV"]

    def listen(mesg_num: int, message: dict[str, Any]) -> None:
        nonlocal records, last_ts
        ts = framing.compressed.get(records)
        if ts is not None:
            message["timestamp"] = ts
        records += 1
        if mesg_num == hrv_num:
            hrv_refs.append(last_ts)
        elif isinstance(message.get("timestamp"), int):
            last_ts = message["timestamp"]

    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    messages, errors = decoder.read(
        convert_types_to_strings=False,
        convert_datetimes_to_dates=False,
        enable_crc_check=False,  # checked above, 4x faster than the SDK's per-read CRC
        mesg_listener=listen,
    )
    if errors:
        raise FileDecodeError(_sdk_reason(errors[0]))
    if records != framing.data_records:  # compressed timestamps are matched to records by their ordinal
        raise FileDecodeError(f"FIT decoder read {records} data records, the framing has {framing.data_records}")
    # the SDK's TypedDicts describe its default conversions (strings, datetimes); read raw, they are plain dicts
    decoded = FitMessages(cast(dict[str, list[dict[str, Any]]], messages), framing.data_records, hrv_refs=hrv_refs)
    decoded.dev_fields = resolve_dev_fields(
        decoded.get("developer_data_id_mesgs"), decoded.get("field_description_mesgs")
    )
    return decoded


def _dev_target(description: dict[str, Any], app_id: bytes | None) -> tuple[str, str | None, int] | None:
    name = description.get("field_name")
    name = name.strip() if isinstance(name, str) else None
    if name:
        if match := _RUNSCRIBE_NAME.match(name):
            return _RUNSCRIBE_METRICS[match[1]], "left" if match[2] == "L" else "right", 0
        if name in _POWER_NAMES:
            return "power_w", None, _POWER_NAMES[name]
    if description.get("native_mesg_num") in (None, Profile["mesg_num"]["RECORD"]):
        if description.get("native_field_num") == _NATIVE_POWER:
            return "power_w", None, 0
        if not name and app_id in _RUNSCRIBE_APPS:
            number = description.get("field_definition_number")
            target = None if number is None else _RUNSCRIBE_BY_NUMBER.get(number)
            if target:
                return target[0], target[1], 3 if target[0] == "power_w" else 0
    return None


def resolve_dev_fields(ids: list[dict[str, Any]], descriptions: list[dict[str, Any]]) -> dict[int, DevField]:
    """SDK developer-field key → target, for the fields we import (per-foot RunScribe metrics, running power)."""
    apps: dict[int, bytes] = {}
    for message in ids:
        app = message.get("application_id")
        if isinstance(app, list) and message.get("developer_data_index") is not None:
            apps[message["developer_data_index"]] = bytes(v or 0 for v in app)
    resolved: dict[int, DevField] = {}
    for description in descriptions:
        index = description.get("developer_data_index")
        target = _dev_target(description, None if index is None else apps.get(index))
        base = description.get("fit_base_type_id")
        if target is None or base is None or "key" not in description:
            continue
        definition = BASE_TYPE_DEFINITIONS.get(base & 0x1F)
        if definition is None or base & 0x1F in _NON_NUMERIC:
            continue
        invalid = float("nan") if definition["type_code"] in ("f", "d") else float(definition["invalid"])
        scale, offset = description.get("scale"), description.get("offset")
        resolved[description["key"]] = DevField(
            target[0],
            target[1],
            invalid,
            float(scale) if isinstance(scale, int | float) and scale else 1.0,
            float(offset) if isinstance(offset, int | float) else 0.0,
            target[2],
        )
    return resolved
