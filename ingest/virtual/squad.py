"""A virtual squad on a ChaosAir: per athlete a strap, a footpod, left/right muscle-load pods (and optionally a
Polar H10-like sensor and a power meter), driven in real time by the running simulator.

The H10-like sensor streams ACC at the rate a client started (50 Hz by default), ECG whenever a client starts it,
and heart rate to subscribers; its ECG R peaks and heart-rate RR come from the same simulated beats as the
athlete's strap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ingest.ble.cycling_power import (
    CyclingPowerMeasurement,
    decode_cycling_power_measurement,
    encode_cycling_power_measurement,
)
from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import decode_heart_rate_measurement
from ingest.ble.muscle_load import Side, decode_stride_frame, encode_stride_frame
from ingest.ble.polar_pmd import ECG_FRAME_SAMPLES, PMD_EPOCH_UNIX_NS, decode_acc_frame, encode_acc_frame
from ingest.ble.rsc import decode_rsc_measurement, encode_rsc_measurement
from ingest.virtual.chaos_air import ChaosAir
from ingest.virtual.ecg_waveform import ECG_SAMPLE_RATE_HZ
from ingest.virtual.footpod import VirtualFootpod
from ingest.virtual.hr_strap import VirtualHeartRateStrap
from ingest.virtual.muscle_pod import VirtualMusclePod
from ingest.virtual.peripheral import VirtualPeripheral
from ingest.virtual.physiology import make_squad
from ingest.virtual.pmd_sensor import VirtualPmdSensor
from ingest.virtual.power_meter import VirtualPowerMeter
from ingest.virtual.running import RunnerProfile, RunningSession, SensorClock

logger = logging.getLogger(__name__)

FOOTPOD_PERIOD_S = 0.5
POWER_PERIOD_S = 1.0
ACC_FRAME_SAMPLES = 10


class StrapDelivery:
    """Delivery counters for the existing heart-rate strap (samples = HR values + RR intervals)."""

    def __init__(self) -> None:
        self.notifications_delivered = 0
        self.samples_delivered = 0
        self.malformed_delivered = 0

    def record_delivery(self, payload: bytes) -> None:
        self.notifications_delivered += 1
        try:
            self.samples_delivered += 1 + len(decode_heart_rate_measurement(payload).rr_ticks)
        except DecodeError:
            self.malformed_delivered += 1


@dataclass
class VirtualSensor:
    """One sensor of the squad with its ground truth."""

    athlete: str
    label: str
    profile: str
    name: str
    address: str
    peer: VirtualPeripheral | VirtualHeartRateStrap
    counter: VirtualPeripheral | StrapDelivery
    side: str | None = None
    faults: list[str] = field(default_factory=list)
    reachable_again: list[float] = field(default_factory=list)
    valid_payload: Callable[[], bytes] | None = None
    decode: Callable[[bytes], object] | None = None

    async def send_raw(self, payload: bytes) -> bool:
        if isinstance(self.peer, VirtualHeartRateStrap):
            return await self.peer.send_raw(payload)
        return await self.peer.notify(payload)


@dataclass
class VirtualAthlete:
    athlete_id: str
    runner: RunnerProfile
    session: RunningSession
    sensors: list[VirtualSensor]


def _address(kind: int, index: int) -> str:
    return f"C0:00:00:{kind:02X}:{index // 256:02X}:{index % 256:02X}"


class VirtualSquad:
    """Builds the peers; ``drive`` streams every sensor in real time until stopped."""

    def __init__(
        self,
        air: ChaosAir,
        athletes: int,
        rng: np.random.Generator,
        *,
        with_acc: bool = False,
        day: int = 0,
        athlete_ids: Sequence[str] | None = None,
        with_power: bool = False,
    ) -> None:
        if not 1 <= athletes <= 99:
            raise ValueError(f"--athletes {athletes}: expected 1-99")
        self.air = air
        self.rng = rng
        self.day = day
        self.athletes: list[VirtualAthlete] = []
        hearts = make_squad(athletes, 28, rng)
        for index, heart in enumerate(hearts):
            athlete_id = athlete_ids[index] if athlete_ids else f"sim-{index + 1:02d}"
            runner = RunnerProfile(
                athlete_id,
                speed_mps=float(rng.uniform(3.0, 4.2)),
                cadence_spm=float(rng.uniform(164, 182)),
                gct_ms=float(rng.uniform(220, 265)),
                asymmetry_side="right" if index % 4 == 2 else None,
                asymmetry_gct_pct=8.0 if index % 4 == 2 else 0.0,
                fatigue_pct_per_min=float(rng.uniform(0.1, 0.6)),
            )
            session = RunningSession(runner, heart, np.random.default_rng(rng.integers(1 << 31)), day=day)
            number = index + 1
            sensors = [
                self._strap(athlete_id, _address(1, number), f"HRM-{athlete_id}"),
                self._footpod(athlete_id, _address(2, number), f"FP-{athlete_id}"),
                self._pod(athlete_id, _address(3, number), f"MLP-{number:02d}L", "left"),
                self._pod(athlete_id, _address(4, number), f"MLP-{number:02d}R", "right"),
            ]
            if with_acc:
                sensors.append(self._acc(athlete_id, _address(5, number), f"Polar ACC {number:02d}"))
            if with_power:
                sensors.append(self._power(athlete_id, _address(6, number), f"KICKR {number:02d}"))
            self.athletes.append(VirtualAthlete(athlete_id, runner, session, sensors))

    @property
    def sensors(self) -> list[VirtualSensor]:
        return [sensor for athlete in self.athletes for sensor in athlete.sensors]

    def _strap(self, athlete: str, address: str, name: str) -> VirtualSensor:
        strap = VirtualHeartRateStrap(self.air, name, address, max_payload=20)
        return VirtualSensor(
            athlete, "strap", "heart_rate", name, address, strap, StrapDelivery(),
            valid_payload=lambda: bytes.fromhex("1e3d0100ef03f903"), decode=decode_heart_rate_measurement,
        )  # fmt: skip

    def _footpod(self, athlete: str, address: str, name: str) -> VirtualSensor:
        pod = VirtualFootpod(self.air, name, address)
        valid = encode_rsc_measurement(3.2, 170, running=True, stride_length_m=1.1, total_distance_m=42.0)
        return VirtualSensor(
            athlete, "footpod", "rsc", name, address, pod, pod,
            valid_payload=lambda: valid, decode=decode_rsc_measurement,
        )  # fmt: skip

    def _pod(self, athlete: str, address: str, name: str, side: Side) -> VirtualSensor:
        pod = VirtualMusclePod(self.air, name, address, side)
        valid = encode_stride_frame(1, side, 1000, gct_ms=240, emg_rms_pct_mvc=30.0, impact_g=7.0)
        return VirtualSensor(
            athlete, f"pod_{side}", "muscle_load", name, address, pod, pod, side=side,
            valid_payload=lambda: valid, decode=decode_stride_frame,
        )  # fmt: skip

    def _acc(self, athlete: str, address: str, name: str) -> VirtualSensor:
        sensor = VirtualPmdSensor(self.air, name, address)
        valid = encode_acc_frame(10**15, [[0, 1000, 0]] * 4)
        return VirtualSensor(
            athlete, "acc", "pmd_acc", name, address, sensor, sensor,
            valid_payload=lambda: valid, decode=decode_acc_frame,
        )  # fmt: skip

    def _power(self, athlete: str, address: str, name: str) -> VirtualSensor:
        meter = VirtualPowerMeter(self.air, name, address)
        valid = encode_cycling_power_measurement(CyclingPowerMeasurement(power_w=200))
        return VirtualSensor(
            athlete, "power", "cycling_power", name, address, meter, meter,
            valid_payload=lambda: valid, decode=decode_cycling_power_measurement,
        )  # fmt: skip

    async def start(self) -> None:
        """Power on and advertise every peer; register its delivery tap on the link."""
        link = self.air.chaos_link
        for sensor in self.sensors:
            await sensor.peer.start()
            tap = _tap(sensor.peer.data_handle, sensor.counter.record_delivery)
            link.add_tap(self.air.controller_of(sensor.peer.device), tap)

    async def stop(self) -> None:
        for sensor in self.sensors:
            with contextlib.suppress(Exception):
                await sensor.peer.stop()

    async def drive(self, stop: asyncio.Event) -> None:
        """Stream every sensor in real time until ``stop`` is set."""
        t0 = asyncio.get_running_loop().time()
        tasks = []
        for athlete in self.athletes:
            for sensor in athlete.sensors:
                tasks.append(asyncio.create_task(self._drive_one(athlete, sensor, t0), name=f"drive {sensor.name}"))
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                    logger.error("virtual sensor failed: %r", result)

    async def _drive_one(self, athlete: VirtualAthlete, sensor: VirtualSensor, t0: float) -> None:
        loop = asyncio.get_running_loop()
        session = athlete.session
        peer = sensor.peer

        async def at(t_s: float) -> None:
            await asyncio.sleep(max(0.0, t0 + t_s - loop.time()))

        if isinstance(peer, VirtualHeartRateStrap):
            second = 0
            while True:
                second += 1
                await at(second)
                bpm, rr = session.heart_second(second)
                await peer.send(bpm, rr)
        elif isinstance(peer, VirtualFootpod):
            tick = 0
            while True:
                tick += 1
                await at(tick * FOOTPOD_PERIOD_S)
                speed, cadence, step = session.footpod(tick * FOOTPOD_PERIOD_S)
                await peer.send(speed, cadence, step, FOOTPOD_PERIOD_S)
        elif isinstance(peer, VirtualMusclePod):
            clock = SensorClock(float(self.rng.uniform(1e5, 1e7)), float(self.rng.uniform(-80, 80)))
            for stride in session.strides(peer.side):
                await at(stride.t_s + stride.gct_ms / 1000.0)
                await peer.send_stride(stride, round(clock.at(stride.t_s)))
        elif isinstance(peer, VirtualPowerMeter):
            # an indoor trainer: steady spin with a slight left bias, one notification a second
            tick = 0
            left_pct = float(self.rng.uniform(48.0, 53.0))
            while True:
                tick += 1
                await at(tick * POWER_PERIOD_S)
                power = round(180 + 40 * np.sin(tick / 20) + self.rng.normal(0, 8))
                cadence_rpm = 88 + self.rng.normal(0, 2)
                await peer.send(power, cadence_rpm, 9.0, left_pct + self.rng.normal(0, 0.5), POWER_PERIOD_S)
        elif isinstance(peer, VirtualPmdSensor):
            start_ns = time.time_ns() - PMD_EPOCH_UNIX_NS + int(self.rng.uniform(-3e9, 3e9))
            clock = SensorClock(start_ns / 1e6, float(self.rng.uniform(-60, 60)))
            await asyncio.gather(
                _drive_acc(peer, session, clock, at), _drive_ecg(peer, session, clock, at), _drive_hr(peer, session, at)
            )


async def _drive_acc(
    peer: VirtualPmdSensor, session: RunningSession, clock: SensorClock, at: Callable[[float], Awaitable[None]]
) -> None:
    """ACC frames of ``ACC_FRAME_SAMPLES`` at the started rate (50 Hz until a client picks another)."""
    origin, frame, rate = 0.0, 0, peer.acc_sample_rate_hz
    while True:
        if peer.acc_sample_rate_hz != rate:
            origin, frame, rate = origin + frame * ACC_FRAME_SAMPLES / rate, 0, peer.acc_sample_rate_hz
        frame += 1
        t_last = origin + frame * ACC_FRAME_SAMPLES / rate
        await at(t_last)
        times = t_last - (ACC_FRAME_SAMPLES - 1 - np.arange(ACC_FRAME_SAMPLES)) / rate
        samples = session.acc_mg(times)
        await peer.send_frame(round(clock.at(t_last) * 1e6), samples.tolist())


async def _drive_ecg(
    peer: VirtualPmdSensor, session: RunningSession, clock: SensorClock, at: Callable[[float], Awaitable[None]]
) -> None:
    """ECG frames of 73 samples at 130 Hz while a client has ECG started, R peaks on the session's beats."""
    period = ECG_FRAME_SAMPLES / ECG_SAMPLE_RATE_HZ
    frame = 0
    while True:
        frame += 1
        t_last = frame * period
        await at(t_last)
        if peer.ecg_streaming:
            times = t_last - (ECG_FRAME_SAMPLES - 1 - np.arange(ECG_FRAME_SAMPLES)) / ECG_SAMPLE_RATE_HZ
            await peer.send_ecg_frame(round(clock.at(t_last) * 1e6), session.ecg_uv(times).tolist())


async def _drive_hr(peer: VirtualPmdSensor, session: RunningSession, at: Callable[[float], Awaitable[None]]) -> None:
    """Heart rate and RR once a second, the same beats as the athlete's strap (sent only to subscribers)."""
    second = 0
    while True:
        second += 1
        await at(second)
        bpm, rr = session.heart_second(second)
        await peer.send_heart_rate(bpm, rr)


def _tap(handle: int, record: Callable[[bytes], None]) -> Callable[[int, bytes], None]:
    def tap(attribute_handle: int, value: bytes) -> None:
        if attribute_handle == handle:
            record(value)

    return tap
