"""Heart Rate Measurement (0x2A37) notifications of one strap → `hr` and `rr` points."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import decode_heart_rate_measurement
from ingest.buffer import PointBuffer
from ingest.model import HR, RR
from ingest.timeline import BeatTimeline, Clock

log = logging.getLogger(__name__)


@dataclass
class StreamStats:
    """What one strap's stream produced."""

    notifications: int = 0
    malformed: int = 0
    hr_samples: int = 0
    rr_samples: int = 0
    rr_zero_skipped: int = 0
    """RR intervals of 0 ticks left out (their notification's bpm and other intervals are kept)."""

    @property
    def samples(self) -> int:
        return self.hr_samples + self.rr_samples


class HeartRateRecorder:
    """Decodes notifications, timestamps them and queues them in a `PointBuffer`.

    Beat times come from RR sums (`BeatTimeline`); the HR value is stamped with the notification's arrival time.
    A malformed payload is counted (the count is reported), logged at debug level and skipped; the stream goes on.
    An RR interval of 0 ticks is counted in ``stats.rr_zero_skipped``, logged at debug level and skipped; the
    notification's bpm and its other intervals are stored.
    """

    def __init__(self, athlete: str, device: str, buffer: PointBuffer, clock: Clock, source: str = "ble") -> None:
        self.tags = {"athlete": athlete, "device": device, "source": source}
        self.buffer = buffer
        self.clock = clock
        self.timeline = BeatTimeline()
        self.stats = StreamStats()
        self._last_hr_ms = -(2**62)

    def on_notification(self, _characteristic: object, data: bytearray) -> None:
        """bleak notification callback."""
        arrival_ms = self.clock()
        self.stats.notifications += 1
        try:
            measurement = decode_heart_rate_measurement(bytes(data))
        except DecodeError as exc:
            self.stats.malformed += 1
            log.debug("%s (%s): skipped malformed notification: %s", self.tags["device"], self.tags["athlete"], exc)
            return
        if measurement.rr_zero:
            self.stats.rr_zero_skipped += measurement.rr_zero
            log.debug(
                "%s (%s): skipped %d RR interval(s) of 0",
                self.tags["device"],
                self.tags["athlete"],
                measurement.rr_zero,
            )
        hr_ms = max(arrival_ms, self._last_hr_ms + 1)
        self._last_hr_ms = hr_ms
        fields = {"bpm": np.array([measurement.bpm], np.int64)}
        if measurement.contact_detected is not None:
            fields["contact"] = np.array([measurement.contact_detected])
        if measurement.energy_kj is not None:
            fields["energy_kj"] = np.array([measurement.energy_kj], np.int64)
        self.buffer.add(HR.name, self.tags, np.array([hr_ms], np.int64), fields)
        self.stats.hr_samples += 1
        if measurement.rr_ticks:
            rr_ms = np.asarray(measurement.rr_ms, np.float64)
            beats_ms = self.timeline.place(rr_ms, arrival_ms)
            self.buffer.add(RR.name, self.tags, beats_ms, {"rr_ms": rr_ms})
            self.stats.rr_samples += len(rr_ms)
