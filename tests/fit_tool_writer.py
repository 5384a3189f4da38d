"""FIT run files for tests, written with the independent encoder `fit-tool` (PyPI fit_tool), not our decoder.

`write_run_fit(path, start, hr_bpm)` writes a complete activity: file_id, timer start event, one record per
sample (timestamp, heart_rate, distance, speed), timer stop event, lap, session and activity messages. The record
message is defined once and re-encoded per sample (building a fit_tool RecordMessage per sample costs ~1 ms, so a
one-hour run is written in ~0.1 s instead of ~3 s).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from fit_tool.data_message import DataMessage
from fit_tool.definition_message import DefinitionMessage
from fit_tool.fit_file_header import FitFileHeader
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer, Sport
from fit_tool.record import Record
from fit_tool.utils.crc import crc16

_SPORTS = {"running": Sport.RUNNING, "cycling": Sport.CYCLING, "generic": Sport.GENERIC}


class _Body:
    """Definition and data records, each message defined before its first use."""

    def __init__(self) -> None:
        self.data = bytearray()

    def add(self, message: DataMessage, define: bool = True) -> None:
        if define:
            definition = DefinitionMessage.from_data_message(message)
            message.set_definition_message(definition)
            self.data += Record.from_message(definition).to_bytes()
        self.data += Record.from_message(message).to_bytes()

    def file(self) -> bytes:
        header = FitFileHeader(records_size=len(self.data), gen_crc=True).to_bytes()
        content = header + bytes(self.data)
        return content + struct.pack("<H", crc16(content))


def _event(time_ms: int, kind: EventType) -> EventMessage:
    event = EventMessage()
    event.timestamp, event.event, event.event_type = time_ms, Event.TIMER, kind
    return event


def write_run_fit(
    path: str | Path,
    start: dt.datetime,
    hr_bpm: np.ndarray,
    *,
    sport: str = "running",
    time_s: np.ndarray | None = None,
    speed_mps: float | np.ndarray = 3.0,
    serial_number: int = 0x2A2A,
    session_fields: Mapping[str, float] | None = None,
) -> Path:
    """Write one activity with a record per HR sample and return the path.

    ``start``: aware datetime, whole seconds (FIT timestamps are seconds). ``hr_bpm``: beats/min per record, NaN =
    no heart_rate in that record. ``time_s``: whole seconds since ``start`` per record (default 0, 1, 2, … = 1 Hz;
    gaps make pauses). ``speed_mps``: per record or constant; distance is its cumulative sum over the intervals.
    ``session_fields``: extra SessionMessage attributes (fit_tool names, e.g. ``total_training_effect``). The
    file_id's serial number and time created (= start) make the activity's identity.
    """
    if start.tzinfo is None or start.microsecond:
        raise ValueError("start must be timezone-aware and whole seconds")
    hr = np.asarray(hr_bpm, dtype=float)
    t_s = np.arange(len(hr), dtype=np.int64) if time_s is None else np.asarray(time_s, dtype=np.int64)
    speed = np.broadcast_to(np.asarray(speed_mps, dtype=float), hr.shape)
    distance_m = np.concatenate([[0.0], np.cumsum(speed[:-1] * np.diff(t_s))])
    start_ms = int(start.timestamp()) * 1000
    end_ms = start_ms + int(t_s[-1]) * 1000
    elapsed_s = float(t_s[-1])

    body = _Body()
    file_id = FileIdMessage()
    file_id.type, file_id.manufacturer, file_id.product = FileType.ACTIVITY, Manufacturer.DEVELOPMENT.value, 1
    file_id.serial_number, file_id.time_created = serial_number, start_ms
    body.add(file_id)
    body.add(_event(start_ms, EventType.START))
    record = RecordMessage()
    for i in range(len(hr)):
        record.timestamp = start_ms + int(t_s[i]) * 1000
        record.heart_rate = None if not np.isfinite(hr[i]) else round(float(hr[i]))
        record.distance = float(distance_m[i])
        record.speed = float(speed[i])
        body.add(record, define=i == 0)
    body.add(_event(end_ms, EventType.STOP_ALL))
    present = hr[np.isfinite(hr)]
    for summary in (LapMessage(), SessionMessage()):
        summary.timestamp, summary.start_time = end_ms, start_ms
        summary.total_elapsed_time = summary.total_timer_time = elapsed_s
        summary.total_distance = float(distance_m[-1])
        summary.sport = _SPORTS[sport]
        if len(present):
            summary.avg_heart_rate, summary.max_heart_rate = round(float(present.mean())), int(present.max())
        if isinstance(summary, SessionMessage):
            for name, value in (session_fields or {}).items():
                setattr(summary, name, value)
        body.add(summary)
    activity = ActivityMessage()
    activity.timestamp, activity.total_timer_time, activity.num_sessions = end_ms, elapsed_s, 1
    body.add(activity)
    path = Path(path)
    path.write_bytes(body.file())
    return path
