"""Chaos for the virtual squad: a schedule of faults spread over a run, a store that goes down, bad payloads."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.ble.errors import DecodeError
from ingest.store.base import Frame, ManyFrame, PointBatch, SeriesInfo, Store
from ingest.store.errors import StoreUnavailable

CHAOS_KINDS = ("link-loss", "half-open", "out-of-range", "store-outage", "malformed")


def parse_chaos(text: str | None) -> tuple[str, ...]:
    """``"link-loss,malformed"`` → kinds; ValueError for unknown kinds."""
    if not text:
        return ()
    kinds = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [kind for kind in kinds if kind not in CHAOS_KINDS]
    if unknown:
        raise ValueError(f"--chaos: unknown kind(s) {', '.join(unknown)}; choose from {', '.join(CHAOS_KINDS)}")
    return kinds


@dataclass(frozen=True)
class ChaosEvent:
    """One fault: ``at_s`` after the start, on ``target`` (a sensor label, or "store"), lasting ``duration_s``."""

    kind: str
    at_s: float
    target: str
    duration_s: float = 0.0


def plan_chaos(
    kinds: Sequence[str], sensors: Sequence[str], duration_s: float, rng: np.random.Generator
) -> list[ChaosEvent]:
    """Spread faults over the first ~60 % of the run so every link can recover before the end.

    Link faults hit disjoint sensors (about a fifth for link loss, a tenth each for half-open and out-of-range,
    at least one each); every sensor gets one or two malformed notifications; the store goes down once.
    """
    events: list[ChaosEvent] = []
    start, end = 0.15 * duration_s, 0.55 * duration_s
    pool = list(rng.permutation(list(sensors)))
    shares = {"link-loss": 0.2, "half-open": 0.1, "out-of-range": 0.1}
    out_of_range_s = float(np.clip(0.1 * duration_s, 2.0, 6.0))
    for kind, share in shares.items():
        if kind not in kinds:
            continue
        count = max(1, round(share * len(sensors)))
        targets, pool = pool[:count], pool[count:] or list(sensors)
        for target in targets:
            duration = out_of_range_s if kind == "out-of-range" else 0.0
            events.append(ChaosEvent(kind, float(rng.uniform(start, end)), str(target), duration))
    if "store-outage" in kinds:
        outage = float(np.clip(0.25 * duration_s, 3.0, 20.0))
        events.append(ChaosEvent("store-outage", 0.3 * duration_s, "store", outage))
    if "malformed" in kinds:
        for target in sensors:
            for _ in range(int(rng.integers(1, 3))):
                events.append(ChaosEvent("malformed", float(rng.uniform(0.1, 0.85) * duration_s), target))
    return sorted(events, key=lambda event: event.at_s)


def malformed_payload(valid: bytes, decode: Callable[[bytes], object], rng: np.random.Generator) -> bytes:
    """A truncated copy or random garbage that ``decode`` rejects with DecodeError (checked, never a valid one)."""
    while True:
        if rng.random() < 0.5 and len(valid) > 1:
            candidate = valid[: int(rng.integers(1, len(valid)))]
        else:
            candidate = rng.integers(0, 256, int(rng.integers(1, 24)), dtype=np.uint8).tobytes()
        try:
            decode(candidate)
        except DecodeError:
            return candidate


class OutageStore:
    """Wraps a store; while ``down`` every write fails like an unreachable InfluxDB (refused, or a slow timeout).

    Reads and the rest of the `Store` interface go to the wrapped store unchanged.
    """

    def __init__(self, store: Store, *, timeout_s: float = 0.5) -> None:
        self.inner = store
        self.url = store.url
        self.timeout_s = timeout_s
        self.down = False
        self.refused_writes = 0

    def write(self, batches: Iterable[PointBatch]) -> int:
        if self.down:
            self.refused_writes += 1
            if self.refused_writes % 2 == 0:
                time.sleep(self.timeout_s)
                raise StoreUnavailable(f"{self.url}: read timed out after {self.timeout_s:g} s (chaos store outage)")
            raise StoreUnavailable(f"{self.url}: HTTP 503: service unavailable (chaos store outage)")
        return self.inner.write(batches)

    def read(self, *args: Any, **kwargs: Any) -> Frame:
        return self.inner.read(*args, **kwargs)

    def read_many(self, *args: Any, **kwargs: Any) -> ManyFrame:
        return self.inner.read_many(*args, **kwargs)

    def count(self, *args: Any, **kwargs: Any) -> int:
        return self.inner.count(*args, **kwargs)

    def list_athletes(self, measurement: str | None = None) -> list[str]:
        return self.inner.list_athletes(measurement)

    def series(self, athlete: str) -> list[SeriesInfo]:
        return self.inner.series(athlete)

    def delete_athlete(self, athlete: str) -> int:
        return self.inner.delete_athlete(athlete)

    def close(self) -> None:
        self.inner.close()
