"""Sensor clocks → host time: unwrap counters, then a running linear fit with drift, anchored on the lower envelope.

A notification arrives some time after the sensor stamped it (radio, connection interval, host). Over a window of
recent (sensor time, arrival) pairs, the slope of a least-squares fit estimates the sensor's drift (clamped to
±``max_drift_ppm``) and the offset is set so that the fit passes under every pair (the minimum latency), so a
sample is placed when it happened, not when it arrived. Two sensors mapped this way line up on the host clock.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import overload

import numpy as np

logger = logging.getLogger(__name__)


class Unwrapper:
    """Turns a wrapping counter (e.g. a u32 ms clock) into a monotonic value."""

    def __init__(self, modulus: int) -> None:
        self.modulus = modulus
        self._last: int | None = None
        self._wraps = 0

    def __call__(self, raw: int) -> int:
        if self._last is not None and raw < self._last - self.modulus // 2:
            self._wraps += 1
        elif self._last is not None and raw > self._last + self.modulus // 2 and self._wraps:
            self._wraps -= 1  # a late value from before the wrap
        self._last = raw
        return raw + self._wraps * self.modulus


class SensorClockMapper:
    """Maps sensor time (ms) to host time (ms); ``observe`` every (send time, arrival) pair, then ``to_host``."""

    def __init__(self, *, window: int = 240, max_drift_ppm: float = 1000.0, reset_after_ms: float = 5000.0) -> None:
        self.window = window
        self.max_drift = max_drift_ppm / 1e6
        self.reset_after_ms = reset_after_ms
        self._pairs: deque[tuple[float, float]] = deque(maxlen=window)
        self._slope = 1.0
        self._offset: float | None = None
        self._origin = 0.0

    @property
    def drift_ppm(self) -> float:
        """How fast the sensor clock runs against the host's, in ppm (positive: the sensor runs fast)."""
        return (1.0 / self._slope - 1.0) * 1e6

    def observe(self, sensor_ms: float, arrival_ms: float) -> None:
        """Add one pair; a jump beyond ``reset_after_ms`` from the current fit (sensor restart) starts over."""
        if self._offset is not None and abs(arrival_ms - self.to_host(sensor_ms)) > self.reset_after_ms:
            logger.info("sensor clock jumped by %.0f ms: re-synchronising", arrival_ms - self.to_host(sensor_ms))
            self._pairs.clear()
            self._offset = None
        if not self._pairs:
            self._origin = sensor_ms
        self._pairs.append((sensor_ms - self._origin, arrival_ms))
        self._fit()

    @overload
    def to_host(self, sensor_ms: float) -> float: ...
    @overload
    def to_host(self, sensor_ms: np.ndarray) -> np.ndarray: ...
    def to_host(self, sensor_ms: float | np.ndarray) -> float | np.ndarray:
        """Host time (ms since the Unix epoch) of a sensor time, or of an array of them."""
        if self._offset is None:
            raise RuntimeError("no clock pair observed yet")
        return self._offset + self._slope * (sensor_ms - self._origin)

    def _fit(self) -> None:
        pairs = np.asarray(self._pairs)
        sensor, arrival = pairs[:, 0], pairs[:, 1]
        if len(pairs) >= 8 and np.ptp(sensor) > 1000.0:
            centred = sensor - sensor.mean()
            slope = float(np.dot(centred, arrival - arrival.mean()) / np.dot(centred, centred))
            self._slope = min(max(slope, 1.0 - self.max_drift), 1.0 + self.max_drift)
        self._offset = float(np.min(arrival - self._slope * sensor))
