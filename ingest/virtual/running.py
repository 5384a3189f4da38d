"""Running athlete simulator for the virtual gateway peers: strides per leg, footpod values, heart rate, ACC, ECG.

Deterministic given the ``numpy.random.Generator``; no I/O. Asymmetry: from ``asymmetry_from_day`` on, the
``asymmetry_side`` leg's ground-contact time is ``asymmetry_gct_pct`` % longer (e.g. right +8 %). Fatigue: GCT and
EMG RMS rise by ``fatigue_pct_per_min`` (EMG 1.5×) per minute of the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ingest.ble.muscle_load import Side
from ingest.virtual.ecg_waveform import ecg_uv
from ingest.virtual.physiology import AthleteProfile, session_hr

GRAVITY_MG = 1000.0


@dataclass(frozen=True)
class RunnerProfile:
    """Running parameters of one simulated athlete."""

    athlete_id: str
    speed_mps: float = 3.3
    cadence_spm: float = 172.0
    gct_ms: float = 245.0
    emg_pct_mvc: float = 38.0
    impact_g: float = 7.5
    asymmetry_side: Side | None = None
    asymmetry_gct_pct: float = 0.0
    asymmetry_from_day: int = 0
    fatigue_pct_per_min: float = 0.0

    def gct_factor(self, side: Side, day: int) -> float:
        """Multiplier of the base GCT for ``side`` on ``day`` (the injected asymmetry)."""
        if self.asymmetry_side == side and day >= self.asymmetry_from_day:
            return 1.0 + self.asymmetry_gct_pct / 100.0
        return 1.0


@dataclass(frozen=True)
class StrideEvent:
    """One ground contact of one foot; ``t_s`` is the initial contact in seconds since the session start."""

    side: Side
    index: int
    t_s: float
    gct_ms: float
    emg_rms_pct_mvc: float
    impact_g: float


class RunningSession:
    """One run of one athlete: stride events per leg, footpod values, per-second heart rate and RR, ACC samples."""

    def __init__(
        self,
        runner: RunnerProfile,
        heart: AthleteProfile,
        rng: np.random.Generator,
        *,
        day: int = 0,
        duration_s: float = 600.0,
        workload: float = 0.65,
    ) -> None:
        self.runner = runner
        self.day = day
        self.rng = rng
        self.step_period_s = 60.0 / runner.cadence_spm
        seconds = int(np.ceil(duration_s)) + 5
        hr, rr = session_hr(heart, np.full(seconds, workload), rng)
        self.hr_bpm = np.rint(hr).astype(int)
        beats_s = np.cumsum(rr) / 1000.0
        self.beats_s = beats_s
        """Beat (R peak) times in s from the start of the session: the strap's RR end at them, the ECG peaks there."""
        second = np.floor(beats_s).astype(int)
        bounds = np.searchsorted(second, np.arange(seconds + 1))
        self._rr_by_second = [rr[bounds[i] : bounds[i + 1]] for i in range(seconds)]
        self._seeds = {side: int(rng.integers(1 << 31)) for side in ("left", "right", "acc", "pod")}

    def heart_second(self, second: int) -> tuple[int, list[float]]:
        """HR (bpm) and the RR intervals (ms) ending in second ``second`` of the session (wraps when past the end)."""
        index = second % len(self._rr_by_second)
        return int(self.hr_bpm[index]), self._rr_by_second[index].tolist()

    def strides(self, side: Side) -> Iterator[StrideEvent]:
        """Endless ground contacts of one foot: left on even steps, right on odd steps."""
        rng = np.random.default_rng(self._seeds[side])
        runner = self.runner
        offset = 0 if side == "left" else 1
        factor = runner.gct_factor(side, self.day)
        index = 0
        while True:
            t_s = (2 * index + offset + 1) * self.step_period_s + rng.normal(0.0, 0.01 * self.step_period_s)
            fatigue = runner.fatigue_pct_per_min / 100.0 * t_s / 60.0
            yield StrideEvent(
                side=side,
                index=index,
                t_s=float(t_s),
                gct_ms=float(runner.gct_ms * factor * (1 + fatigue) * (1 + rng.normal(0.0, 0.02))),
                emg_rms_pct_mvc=float(max(runner.emg_pct_mvc * (1 + 1.5 * fatigue) * (1 + rng.normal(0.0, 0.05)), 0)),
                impact_g=float(max(runner.impact_g * (1 + rng.normal(0.0, 0.08)), 0.1)),
            )
            index += 1

    def footpod(self, t_s: float) -> tuple[float, int, float]:
        """Speed (m/s), cadence (steps/min) and step length (m) at ``t_s``."""
        speed = self.runner.speed_mps * (1 + 0.03 * np.sin(2 * np.pi * t_s / 47.0))
        cadence = self.runner.cadence_spm * (1 + 0.01 * np.sin(2 * np.pi * t_s / 31.0))
        return float(speed), round(cadence), float(speed * 60.0 / cadence)

    def acc_mg(self, t_s: np.ndarray) -> np.ndarray:
        """Chest accelerometer samples (n × 3, mG) at times ``t_s``: vertical bounce at step rate plus noise."""
        rng = np.random.default_rng(self._seeds["acc"] + int(t_s[0] * 1000) if len(t_s) else 0)
        phase = 2 * np.pi * t_s / self.step_period_s
        x = 120 * np.sin(phase / 2) + rng.normal(0, 15, len(t_s))
        y = GRAVITY_MG + 700 * np.sin(phase) + rng.normal(0, 25, len(t_s))
        z = 200 * np.cos(phase) + rng.normal(0, 15, len(t_s))
        return np.stack([x, y, z], axis=1)

    def ecg_uv(self, t_s: np.ndarray) -> np.ndarray:
        """Chest ECG samples (µV) at times ``t_s`` with R peaks on the session's beats (wraps like ``heart_second``)."""
        period_s = float(len(self._rr_by_second))
        rng = np.random.default_rng(self._seeds["acc"] + 1 + (int(t_s[0] * 1000) if len(t_s) else 0))
        return ecg_uv(np.mod(t_s, period_s), self.beats_s, rng)


@dataclass(frozen=True)
class SensorClock:
    """A sensor's own clock: ``offset`` plus elapsed host time scaled by ``1 + drift_ppm / 1e6``."""

    offset_ms: float
    drift_ppm: float

    def at(self, elapsed_s: float) -> float:
        """Sensor time in ms after ``elapsed_s`` host seconds."""
        return self.offset_ms + elapsed_s * 1000.0 * (1 + self.drift_ppm / 1e6)
