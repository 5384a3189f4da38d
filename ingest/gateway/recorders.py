"""Per-profile recorders: subscribe on a connected client, decode notifications, timestamp, append to the spool.

Every recorder lives as long as its configured sensor, across reconnects, so timelines, clock fits and sequence
counters carry over. A malformed notification is counted (the count is reported), logged at debug level and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from bleak import BleakClient

from ingest.ble.cycling_power import RevolutionRate, decode_cycling_power_measurement
from ingest.ble.errors import DecodeError
from ingest.ble.muscle_load import TIMESTAMP_MODULUS, decode_stride_frame, sequence_gap
from ingest.ble.polar_pmd import (
    OP_START,
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    SETTING_FACTOR,
    SETTING_RANGE,
    SETTING_RESOLUTION,
    SETTING_SAMPLE_RATE,
    STATUS_ALREADY_IN_STATE,
    TYPE_ACC,
    TYPE_ECG,
    decode_acc_frame,
    decode_ecg_frame,
    decode_pmd_control_response,
    decode_pmd_settings,
    encode_pmd_start,
)
from ingest.ble.rsc import decode_rsc_measurement
from ingest.gateway.clock_sync import SensorClockMapper, Unwrapper
from ingest.gateway.config import DeviceSpec
from ingest.gateway.profiles import PROFILES
from ingest.heart_rate_stream import HeartRateRecorder
from ingest.model import ACC, ECG, POWER, RSC, STRIDE
from ingest.timeline import Clock, strictly_after

logger = logging.getLogger(__name__)


class SampleSink(Protocol):
    """Where samples go (the spool): returns False when a chunk was refused."""

    def add(
        self, measurement: str, tags: Mapping[str, str], time_ms: np.ndarray, fields: Mapping[str, np.ndarray]
    ) -> bool: ...


class SetupError(Exception):
    """The sensor refused to start streaming (e.g. a PMD control point error)."""


@dataclass
class RecorderStats:
    notifications: int = 0
    malformed: int = 0
    samples: int = 0
    refused: int = 0
    sequence_gaps: int = 0
    rr_zero_skipped: int = 0


class Recorder:
    """Base recorder: ``start`` subscribes, ``on_notification`` decodes one payload."""

    def __init__(self, spec: DeviceSpec, sink: SampleSink, clock: Clock) -> None:
        self.spec = spec
        self.sink = sink
        self.clock = clock
        self.profile = PROFILES[spec.profile]
        self.tags = {"athlete": spec.athlete, "device": spec.key, "source": "ble"}
        self.stats = RecorderStats()
        self._last_ms: dict[str, int] = {}

    async def start(self, client: BleakClient, timeout_s: float) -> None:
        await client.start_notify(self.profile.data_uuid, self.on_notification)

    def on_notification(self, _characteristic: object, data: bytearray) -> None:
        arrival_ms = self.clock()
        self.stats.notifications += 1
        try:
            self.handle(bytes(data), arrival_ms)
        except DecodeError as exc:
            self.stats.malformed += 1
            logger.debug("%s (%s): skipped malformed notification: %s", self.spec.key, self.spec.athlete, exc)

    def handle(self, payload: bytes, arrival_ms: int) -> None:
        raise NotImplementedError

    def emit(self, measurement: str, tags: Mapping[str, str], times: np.ndarray, fields: dict[str, np.ndarray]) -> None:
        """Make times strictly increasing per series (same series + time would overwrite), then spool."""
        times = strictly_after(times, self._last_ms.get(measurement, -(2**62)))
        if self.sink.add(measurement, tags, times, fields):
            self._last_ms[measurement] = int(times[-1])
            self.stats.samples += len(times)
        else:
            self.stats.refused += len(times)


class _BufferAdapter:
    """Lets the existing HeartRateRecorder write into a SampleSink and counts refusals."""

    def __init__(self, sink: SampleSink, stats: RecorderStats) -> None:
        self.sink = sink
        self.stats = stats

    def add(self, measurement: str, tags: Mapping[str, str], time_ms: np.ndarray, fields: Mapping[str, np.ndarray]):
        if not self.sink.add(measurement, tags, time_ms, fields):
            self.stats.refused += len(time_ms)


class HeartRateProfileRecorder(Recorder):
    """0x2A37 → ``hr`` and ``rr`` (beats rebuilt from RR sums by ``BeatTimeline``)."""

    def __init__(self, spec: DeviceSpec, sink: SampleSink, clock: Clock) -> None:
        super().__init__(spec, sink, clock)
        self.inner = HeartRateRecorder(spec.athlete, spec.key, _BufferAdapter(sink, self.stats), clock)  # type: ignore[arg-type]

    def on_notification(self, characteristic: object, data: bytearray) -> None:
        self.inner.on_notification(characteristic, data)
        inner = self.inner.stats
        self.stats.notifications = inner.notifications
        self.stats.malformed = inner.malformed
        self.stats.samples = inner.samples - self.stats.refused
        self.stats.rr_zero_skipped = inner.rr_zero_skipped


class RSCRecorder(Recorder):
    """0x2A53 → ``rsc``, stamped on arrival."""

    def handle(self, payload: bytes, arrival_ms: int) -> None:
        m = decode_rsc_measurement(payload)
        fields = {
            "speed_mps": np.array([m.speed_mps]),
            "cadence_spm": np.array([m.cadence_spm], np.int64),
            "running": np.array([m.running]),
        }
        if m.stride_length_m is not None:
            fields["stride_length_m"] = np.array([m.stride_length_m])
        if m.total_distance_m is not None:
            fields["total_distance_m"] = np.array([m.total_distance_m])
        self.emit(RSC.name, self.tags, np.array([arrival_ms]), fields)


class CyclingPowerRecorder(Recorder):
    """0x2A63 → ``power`` with cadence and wheel speed from revolution deltas, stamped on arrival."""

    def __init__(self, spec: DeviceSpec, sink: SampleSink, clock: Clock) -> None:
        super().__init__(spec, sink, clock)
        self.cadence = RevolutionRate.crank_cadence()
        self.speed = RevolutionRate.cps_wheel_speed()

    def handle(self, payload: bytes, arrival_ms: int) -> None:
        m = decode_cycling_power_measurement(payload)
        fields = {"power_w": np.array([m.power_w], np.int64)}
        if m.pedal_balance_left_pct is not None:
            fields["pedal_balance_left_pct"] = np.array([m.pedal_balance_left_pct])
        if m.crank_revolutions is not None and m.last_crank_event_ticks is not None:
            rpm = self.cadence.update(m.crank_revolutions, m.last_crank_event_ticks)
            if rpm is not None:
                fields["cadence_rpm"] = np.array([rpm])
        if m.wheel_revolutions is not None and m.last_wheel_event_ticks is not None:
            speed = self.speed.update(m.wheel_revolutions, m.last_wheel_event_ticks)
            if speed is not None:
                fields["speed_mps"] = np.array([speed])
        self.emit(POWER.name, self.tags, np.array([arrival_ms]), fields)


class PmdRecorder(Recorder):
    """Starts one PMD measurement on every connect; sample times come from the sensor clock (the frame timestamp is
    the last sample's, earlier ones at 1/fs), mapped to host time with drift estimation."""

    measurement_type = TYPE_ACC
    label = "ACC"

    def __init__(self, spec: DeviceSpec, sink: SampleSink, clock: Clock, sample_rate_hz: int = 50) -> None:
        super().__init__(spec, sink, clock)
        self.sample_rate_hz = sample_rate_hz
        self.factor = 1.0
        self.mapper = SensorClockMapper()
        self._responses: asyncio.Queue[bytes] = asyncio.Queue()

    def start_settings(self) -> dict[int, int]:
        raise NotImplementedError

    async def start(self, client: BleakClient, timeout_s: float) -> None:
        self._responses = asyncio.Queue()
        await client.start_notify(PMD_CONTROL_POINT_UUID, lambda _c, data: self._responses.put_nowait(bytes(data)))
        await client.start_notify(PMD_DATA_UUID, self.on_notification)
        request = encode_pmd_start(self.measurement_type, self.start_settings())
        await client.write_gatt_char(PMD_CONTROL_POINT_UUID, request, response=True)
        async with asyncio.timeout(timeout_s):
            while True:
                response = decode_pmd_control_response(await self._responses.get())
                if response.opcode == OP_START and response.measurement_type == self.measurement_type:
                    break
        if not response.ok and response.status != STATUS_ALREADY_IN_STATE:  # already started after a reconnect
            raise SetupError(f"{self.spec.key}: PMD {self.label} start refused: {response.status_name}")
        factor = decode_pmd_settings(response.parameters).get(SETTING_FACTOR) if response.ok else None
        if factor:
            self.factor = float(factor[0])

    def sample_times(self, timestamp_ns: int, n: int, arrival_ms: int) -> np.ndarray:
        """Host times (ms) of the ``n`` samples of a frame whose last sample the sensor stamped ``timestamp_ns``."""
        last_ms = timestamp_ns / 1e6
        self.mapper.observe(last_ms, arrival_ms)
        sensor_ms = last_ms - (n - 1 - np.arange(n)) * 1000.0 / self.sample_rate_hz
        return np.rint(self.mapper.to_host(sensor_ms)).astype(np.int64)


class PmdAccRecorder(PmdRecorder):
    """PMD ACC frames → ``acc`` in mG (50 Hz, 16 bit, ±8 G)."""

    def start_settings(self) -> dict[int, int]:
        return {SETTING_SAMPLE_RATE: self.sample_rate_hz, SETTING_RESOLUTION: 16, SETTING_RANGE: 8}

    def handle(self, payload: bytes, arrival_ms: int) -> None:
        frame = decode_acc_frame(payload, self.factor)
        if not frame.samples:
            return
        times = self.sample_times(frame.timestamp_ns, len(frame.samples), arrival_ms)
        samples = np.asarray(frame.samples, dtype=np.float64)
        fields = {"x_mg": samples[:, 0], "y_mg": samples[:, 1], "z_mg": samples[:, 2]}
        self.emit(ACC.name, self.tags, times, fields)


class PmdEcgRecorder(PmdRecorder):
    """PMD ECG frames (H10: 130 Hz, 14 bit) → ``ecg`` in µV, one point per sample."""

    measurement_type = TYPE_ECG
    label = "ECG"

    def __init__(self, spec: DeviceSpec, sink: SampleSink, clock: Clock, sample_rate_hz: int = 130) -> None:
        super().__init__(spec, sink, clock, sample_rate_hz)

    def start_settings(self) -> dict[int, int]:
        return {SETTING_SAMPLE_RATE: self.sample_rate_hz, SETTING_RESOLUTION: 14}

    def handle(self, payload: bytes, arrival_ms: int) -> None:
        frame = decode_ecg_frame(payload)
        times = self.sample_times(frame.timestamp_ns, len(frame.samples_uv), arrival_ms)
        self.emit(ECG.name, self.tags, times, {"ecg_uv": np.asarray(frame.samples_uv, dtype=np.int64)})


class MuscleLoadRecorder(Recorder):
    """Stride frames → ``stride`` points tagged with ``side``; the pod clock is mapped to host time."""

    def __init__(self, spec: DeviceSpec, sink: SampleSink, clock: Clock) -> None:
        super().__init__(spec, sink, clock)
        self.mapper = SensorClockMapper()
        self.unwrap = Unwrapper(TIMESTAMP_MODULUS)
        self.last_sequence: int | None = None

    def handle(self, payload: bytes, arrival_ms: int) -> None:
        frame = decode_stride_frame(payload)
        if self.spec.side is not None and frame.side != self.spec.side:
            raise DecodeError(f"stride frame: side {frame.side}, but {self.spec.key} is configured as {self.spec.side}")
        if self.last_sequence is not None:
            if frame.sequence == self.last_sequence:
                return  # a repeated frame
            self.stats.sequence_gaps += sequence_gap(self.last_sequence, frame.sequence)
        self.last_sequence = frame.sequence
        contact_ms = self.unwrap(frame.sensor_ms)
        self.mapper.observe(contact_ms + (frame.gct_ms or 0), arrival_ms)
        tags = {**self.tags, "side": frame.side, "muscle": frame.muscle}
        fields: dict[str, np.ndarray] = {
            "seq": np.array([frame.sequence], np.int64),
            "sensor_ms": np.array([frame.sensor_ms], np.int64),
        }
        if frame.gct_ms is not None:
            fields["gct_ms"] = np.array([frame.gct_ms], np.int64)
        if frame.emg_rms_pct_mvc is not None:
            fields["emg_rms_pct_mvc"] = np.array([frame.emg_rms_pct_mvc])
        if frame.impact_g is not None:
            fields["impact_g"] = np.array([frame.impact_g])
        self.emit(STRIDE.name, tags, np.array([round(self.mapper.to_host(contact_ms))]), fields)


RECORDERS: dict[str, type[Recorder]] = {
    "heart_rate": HeartRateProfileRecorder,
    "rsc": RSCRecorder,
    "cycling_power": CyclingPowerRecorder,
    "pmd_acc": PmdAccRecorder,
    "pmd_ecg": PmdEcgRecorder,
    "muscle_load": MuscleLoadRecorder,
}


def make_recorder(spec: DeviceSpec, sink: SampleSink, clock: Clock) -> Recorder:
    """The recorder for a configured sensor's profile."""
    return RECORDERS[spec.profile](spec, sink, clock)
