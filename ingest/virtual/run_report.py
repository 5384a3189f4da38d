"""The ground-truth report of a virtual ingest run: per sensor, samples delivered on the link vs points stored."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from ingest.gateway.gateway import Gateway
from ingest.gateway.profiles import PROFILES
from ingest.store.base import Store
from ingest.virtual.chaos import ChaosEvent
from ingest.virtual.squad import VirtualSquad

RECOVERY_BUDGET_S = 10.0
COUNT_FIELDS = {"hr": "bpm", "rr": "rr_ms", "rsc": "speed_mps", "power": "power_w", "acc": "x_mg", "stride": "seq"}


@dataclass(frozen=True)
class SensorReport:
    """One sensor: samples delivered vs stored, malformed notifications, reconnects and recovery after faults."""

    device: str
    delivered: int
    stored: int
    malformed_rejected: int
    malformed_delivered: int
    sequence_gaps: int | None  # muscle-load pods only
    reconnects: int
    watchdog_trips: int
    recovery_s_max: float | None  # slowest fault → first data after reconnect, s; None without faults
    recovered: bool  # every fault recovered within RECOVERY_BUDGET_S
    faults: list[str]


@dataclass(frozen=True)
class AthleteReport:
    athlete: str
    sensors: dict[str, SensorReport]  # by sensor label (strap, footpod, pod_left, …)


@dataclass(frozen=True)
class StoreOutage:
    at_s: float
    duration_s: float


@dataclass(frozen=True)
class GatewayReport:
    """The gateway's last telemetry snapshot, whether its spool drained, write latency and outages it saw."""

    telemetry: dict[str, int | float | bool]
    drained: bool
    store_write_latency: dict[str, Any]
    store_outages: int


@dataclass(frozen=True)
class VirtualRunReport:
    """``ok``: every delivered sample stored exactly once, every malformed one rejected, every fault recovered."""

    ok: bool
    recovery_s_max: float
    chaos_events: list[ChaosEvent]  # times rounded to 10 ms
    store_outages: list[StoreOutage]
    gateway: GatewayReport
    athletes: list[AthleteReport]
    athletes_n: int
    duration_s: float
    chaos: list[str]
    store: str
    spool_left_points: int
    elapsed_s: float

    def to_json(self) -> dict[str, Any]:
        """The `ingest --virtual --json` document (the gateway's telemetry fields inline in ``gateway``)."""
        document = asdict(self)
        gateway = document["gateway"]
        document["gateway"] = {**gateway.pop("telemetry"), **gateway}
        return document


def _count(store: Store, measurement: str, athlete: str, device: str, start_ms: int) -> int:
    frame = store.read(measurement, athlete, [COUNT_FIELDS[measurement]], start_ms=start_ms, tags={"device": device})
    return len(frame.time_ms)


def _sensor_reports(squad: VirtualSquad, gateway: Gateway, store: Store, start_ms: int) -> list[AthleteReport]:
    sessions = {session.spec.key: session for session in gateway.sessions}
    athletes = []
    for athlete in squad.athletes:
        entries: dict[str, SensorReport] = {}
        for sensor in athlete.sensors:
            session = sessions[sensor.name]
            stats = session.recorder.stats
            stored = sum(
                _count(store, m, athlete.athlete_id, sensor.name, start_ms)
                for m in PROFILES[sensor.profile].measurements
            )
            recoveries = []
            for reachable in sensor.reachable_again:
                later = [t for t in session.stats.first_data_after_connect if t >= reachable]
                recoveries.append(min(later) - reachable if later else None)
            recovery_max = max((r for r in recoveries if r is not None), default=None)
            entries[sensor.label] = SensorReport(
                device=sensor.name,
                delivered=sensor.counter.samples_delivered,
                stored=stored,
                malformed_rejected=stats.malformed,
                malformed_delivered=sensor.counter.malformed_delivered,
                sequence_gaps=stats.sequence_gaps if sensor.profile == "muscle_load" else None,
                reconnects=session.stats.reconnects,
                watchdog_trips=session.stats.watchdog_trips,
                recovery_s_max=None if recovery_max is None else round(recovery_max, 3),
                recovered=all(r is not None and r <= RECOVERY_BUDGET_S for r in recoveries),
                faults=sensor.faults,
            )
        athletes.append(AthleteReport(athlete.athlete_id, entries))
    return athletes


def build_report(
    squad: VirtualSquad,
    gateway: Gateway,
    store: Store,
    start_ms: int,
    plan: list[ChaosEvent],
    outage_log: list[StoreOutage],
    *,
    chaos: list[str],
    duration_s: float,
    spool_left_points: int,
    started_perf_s: float,
) -> VirtualRunReport:
    """Count every sensor's points back from ``store`` (from ``start_ms``) and compare with what was delivered."""
    athletes = _sensor_reports(squad, gateway, store, start_ms)
    sensors = [sensor for athlete in athletes for sensor in athlete.sensors.values()]
    ok = all(s.stored == s.delivered and s.malformed_rejected == s.malformed_delivered and s.recovered for s in sensors)
    worst_recovery = max((s.recovery_s_max for s in sensors if s.recovery_s_max is not None), default=0.0)
    return VirtualRunReport(
        ok=ok,
        recovery_s_max=round(worst_recovery, 3),
        chaos_events=[ChaosEvent(e.kind, round(e.at_s, 2), e.target, round(e.duration_s, 2)) for e in plan],
        store_outages=outage_log,
        gateway=GatewayReport(
            telemetry=dict(gateway.snapshots[-1].fields) if gateway.snapshots else {},
            drained=gateway.drained,
            store_write_latency=gateway.writer.stats.latency_percentiles(),
            store_outages=gateway.writer.stats.outages,
        ),
        athletes=athletes,
        athletes_n=len(squad.athletes),
        duration_s=duration_s,
        chaos=chaos,
        store=store.url,
        spool_left_points=spool_left_points,
        elapsed_s=round(time.perf_counter() - started_perf_s, 2),
    )
