"""Timestamps for streamed samples: host clocks and beat times rebuilt from RR sums."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Sequence

import numpy as np

DAY_MS = 86_400_000
_EPOCH_DAY = dt.date(1970, 1, 1)
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?(?:Z|[+-]\d\d:?\d\d)?", re.I | re.ASCII)
ISO_TIME_FORMAT = "YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM], UTC without an offset"

Clock = Callable[[], int]
"""Returns the current time in integer milliseconds since the Unix epoch."""


def iso_utc(time_ms: int) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` (whole seconds) of a time in ms."""
    return dt.datetime.fromtimestamp(time_ms // 1000, dt.UTC).isoformat().replace("+00:00", "Z")


def parse_iso_ms(text: str) -> int:
    """An ISO 8601 date and time (`2024-03-04T09:30`, `2024-03-04 09:30:15+02:00`, `…Z`) → epoch ms; a time
    without an offset is UTC. ValueError naming the text for anything else (a date alone, other layouts)."""
    stripped = text.strip()
    parsed = None
    if _ISO_TIME.fullmatch(stripped):
        try:
            parsed = dt.datetime.fromisoformat(stripped.upper().replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValueError(f"{text[:40]!r} is not a date and time ({ISO_TIME_FORMAT})")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return (parsed - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)


def day_start_ms(day: dt.date) -> int:
    """00:00 UTC of ``day`` in epoch milliseconds."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def ms_day(time_ms: int) -> dt.date:
    """The UTC day of a time in epoch milliseconds."""
    return _EPOCH_DAY + dt.timedelta(days=int(time_ms) // DAY_MS)


def strictly_after(times_ms: np.ndarray, last_ms: int) -> np.ndarray:
    """The times raised as little as needed to be strictly increasing and after ``last_ms`` (the same series and
    timestamp would overwrite a stored point)."""
    times = np.asarray(times_ms, np.int64)
    step = np.arange(times.size, dtype=np.int64)
    return np.maximum.accumulate(np.maximum(times - step, last_ms + 1)) + step


def wall_clock_ms() -> int:
    """The host's wall clock, for live sensors."""
    return time.time_ns() // 1_000_000


class NotificationClock:
    """Virtual time for replayed or simulated straps: each call is one notification period later.

    A heart-rate strap notifies about once a second; a virtual strap sends faster than real time, so the
    gateway reads this clock instead of the wall clock to place the samples on the simulated timeline.
    """

    def __init__(self, start_ms: int, period_ms: int = 1000) -> None:
        self._next_ms = int(start_ms)
        self.period_ms = int(period_ms)

    def __call__(self) -> int:
        now = self._next_ms
        self._next_ms += self.period_ms
        return now


class BeatTimeline:
    """Places RR intervals on the host timeline.

    The first notification's last beat is put at its arrival time and earlier beats are back-dated by their RR
    sums; later beats follow by RR sums, so the spacing of beats is exact. When the sum drifts from the arrival
    clock by more than `max_drift_ms` (lost notifications, a link gap), the timeline re-anchors to arrival.
    Times are strictly increasing integer milliseconds.
    """

    def __init__(self, max_drift_ms: float = 3000.0) -> None:
        self.max_drift_ms = max_drift_ms
        self._last_beat_ms: float | None = None
        self._last_emitted_ms = -(2**62)
        self.reanchors = 0

    def place(self, rr_ms: Sequence[float], arrival_ms: int) -> np.ndarray:
        """Beat times (int64 ms) for the RR intervals of one notification that arrived at `arrival_ms`."""
        rr = np.asarray(rr_ms, dtype=np.float64)
        if rr.size == 0:
            return np.empty(0, np.int64)
        offsets = np.cumsum(rr)
        if self._last_beat_ms is None or abs(self._last_beat_ms + offsets[-1] - arrival_ms) > self.max_drift_ms:
            if self._last_beat_ms is not None:
                self.reanchors += 1
            beats = arrival_ms - (offsets[-1] - offsets)
        else:
            beats = self._last_beat_ms + offsets
        self._last_beat_ms = float(beats[-1])
        times = np.rint(beats).astype(np.int64)
        times = strictly_after(times, self._last_emitted_ms)
        self._last_emitted_ms = int(times[-1])
        return times
