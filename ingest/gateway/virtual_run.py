"""`ingest --virtual`: a virtual squad on a ChaosAir, the real gateway, scheduled chaos, and a ground-truth report.

Time is real: sensors notify at their nominal rates and faults last real seconds, so watchdogs, backoff and
reconnects run exactly as they would against hardware. The report compares, per athlete and sensor, the samples
the sensors **delivered** (notifications that reached the gateway's radio while a link was up, counted on the
link) with the points **stored** (counted back from the store after the gateway shut down and drained).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.gateway.chaos import ChaosEvent, OutageStore, malformed_payload, plan_chaos
from ingest.gateway.config import DeviceSpec, GatewaySettings, SquadConfig
from ingest.gateway.gateway import Gateway
from ingest.gateway.profiles import PROFILES
from ingest.gateway.spool import Spool
from ingest.store.base import Store
from ingest.timeline import wall_clock_ms
from ingest.virtual.chaos_air import ChaosAir
from ingest.virtual.ownership import check_simulated, claim_simulated
from ingest.virtual.squad import VirtualSensor, VirtualSquad

logger = logging.getLogger(__name__)

RECOVERY_BUDGET_S = 10.0
GENERATOR = "ingest --virtual"
COUNT_FIELDS = {"hr": "bpm", "rr": "rr_ms", "rsc": "speed_mps", "power": "power_w", "acc": "x_mg", "stride": "seq"}


@dataclass
class OutageControl:
    """How a store outage is made: ``begin``/``end`` run in a worker thread (e.g. stop and start influxd)."""

    begin: Callable[[], None]
    end: Callable[[], None]


def virtual_settings(sensors: int, telemetry_interval_s: float) -> GatewaySettings:
    """Gateway settings for the in-process stack: one virtual adapter with room for every sensor, short timeouts.

    Connects are only attempted right after an advertisement, so the connect timeout mostly bounds GATT setup,
    which a loaded event loop (the peers share it) can slow down; 5 s avoids cascades of retried setups.
    """
    return GatewaySettings(
        id="virtual",
        adapter_slots=max(7, sensors),
        watchdog_periods=3.0,
        watchdog_min_s=2.0,
        connect_timeout_s=5.0,
        connect_attempts=2,
        telemetry_interval_s=telemetry_interval_s,
        backoff_max_s=2.0,
    )


async def run_virtual_ingest(
    *,
    athletes: int,
    duration_s: float,
    chaos: Sequence[str],
    store: Store,
    spool_path: Path,
    seed: int = 7,
    with_acc: bool = False,
    outage: OutageControl | None = None,
    store_outage_s: float | None = None,
    telemetry_interval_s: float = 1.0,
    settle_s: float = 5.0,
    stop: asyncio.Event | None = None,
    observer: Callable[[Gateway], Awaitable[None]] | None = None,
    advertising_interval_ms: float = 100.0,
    athlete_ids: Sequence[str] | None = None,
    reset_athletes: bool = True,
    with_power: bool = False,
) -> dict[str, Any]:
    """Run the squad for ``duration_s`` seconds (or until ``stop``) with ``chaos``; return the JSON report.

    ``observer`` (benchmarks) runs as a task next to the gateway from the start and is cancelled at the end.
    ``athlete_ids`` names the athletes (default `sim-01`…); ``reset_athletes`` first deletes their stored data and
    marks them as simulated. Either way an ID holding data no simulation created stops the run before anything is
    written (`ingest.virtual.ownership`, NotSimulatedError).
    """
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    run_start_ms = wall_clock_ms() - 5000
    air = ChaosAir(advertising_interval_ms=advertising_interval_ms)
    await air.start()
    squad = VirtualSquad(air, athletes, rng, with_acc=with_acc, athlete_ids=athlete_ids, with_power=with_power)
    ids = [athlete.athlete_id for athlete in squad.athletes]
    try:
        if reset_athletes:
            await asyncio.to_thread(claim_simulated, store, ids, GENERATOR, run_start_ms)
        else:
            await asyncio.to_thread(check_simulated, store, ids, GENERATOR)
    except BaseException:
        await air.close()
        raise
    gateway_store: Store = store
    if "store-outage" in chaos and outage is None:
        wrapped = OutageStore(store)
        gateway_store = wrapped  # type: ignore[assignment]
        outage = OutageControl(lambda: setattr(wrapped, "down", True), lambda: setattr(wrapped, "down", False))
    sensors = squad.sensors
    config = SquadConfig(
        virtual_settings(len(sensors), telemetry_interval_s),
        tuple(
            DeviceSpec(s.athlete, s.profile, address=s.address, side=s.side, label=s.name, period_s=None)
            for s in sensors
        ),
    )
    plan = plan_chaos(chaos, [s.name for s in sensors], duration_s, rng)
    if store_outage_s is not None:
        plan = [ChaosEvent(e.kind, e.at_s, e.target, store_outage_s) if e.kind == "store-outage" else e for e in plan]
    spool = Spool(spool_path)
    gateway = Gateway(
        config, gateway_store, spool, client_kwargs=air.client_kwargs(), scanner_kwargs=air.scanner_kwargs()
    )
    stop_gateway, stop_drive = asyncio.Event(), asyncio.Event()
    outage_log: list[dict[str, float]] = []
    try:
        await squad.start()
        gateway_task = asyncio.create_task(gateway.run(stop_gateway), name="gateway")
        drive_task = asyncio.create_task(squad.drive(stop_drive), name="drive")
        t0 = time.monotonic()
        chaos_task = asyncio.create_task(_run_chaos(plan, air, squad, outage, t0, rng, outage_log), name="chaos")
        observer_task = asyncio.create_task(observer(gateway)) if observer is not None else None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(duration_s):
                await (stop or asyncio.Event()).wait()
        stop_drive.set()
        await drive_task
        if stop is not None and stop.is_set():
            chaos_task.cancel()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(chaos_task), timeout=30.0)
        if not chaos_task.done():
            chaos_task.cancel()
        if outage is not None and any(e.kind == "store-outage" for e in plan) and not chaos_task.done():
            await asyncio.to_thread(outage.end)
        await _settle(gateway, sensors, settle_s)
        if observer_task is not None:
            observer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await observer_task
        stop_gateway.set()
        await gateway_task
    finally:
        stop_drive.set()
        stop_gateway.set()
        air.chaos_link.unreachable.clear()
        await squad.stop()
        await air.close()
        spool_left = spool.pending_points
        spool.close()
    report = await asyncio.to_thread(_report, squad, gateway, store, run_start_ms, plan, outage_log)
    report.update(
        athletes_n=athletes,
        duration_s=duration_s,
        chaos=list(chaos),
        store=store.url,
        spool_left_points=spool_left,
        elapsed_s=round(time.perf_counter() - started, 2),
    )
    return report


async def _run_chaos(
    plan: list[ChaosEvent],
    air: ChaosAir,
    squad: VirtualSquad,
    outage: OutageControl | None,
    t0: float,
    rng: np.random.Generator,
    outage_log: list[dict[str, float]],
) -> None:
    by_name = {sensor.name: sensor for sensor in squad.sensors}

    async def fire(event: ChaosEvent) -> None:
        await asyncio.sleep(max(0.0, t0 + event.at_s - time.monotonic()))
        if event.kind == "store-outage":
            if outage is None:
                return
            began = time.monotonic()
            await asyncio.to_thread(outage.begin)
            try:
                await asyncio.sleep(event.duration_s)
            finally:
                await asyncio.to_thread(outage.end)
            outage_log.append({"at_s": round(began - t0, 2), "duration_s": round(time.monotonic() - began, 2)})
            return
        sensor = by_name[event.target]
        if event.kind == "malformed":
            assert sensor.valid_payload is not None and sensor.decode is not None
            await sensor.send_raw(malformed_payload(sensor.valid_payload(), sensor.decode, rng))
            return
        controller = air.controller_of(sensor.peer.device)
        if event.kind == "out-of-range":
            sensor.faults.append(event.kind)
            sensor.reachable_again.append(await air.out_of_range(controller, event.duration_s))
            return
        injected = time.monotonic()
        dropped = await (air.link_loss(controller) if event.kind == "link-loss" else air.half_open(controller))
        if dropped:
            sensor.faults.append(event.kind)
            sensor.reachable_again.append(injected)
        else:
            sensor.faults.append(f"{event.kind} (not connected)")

    await asyncio.gather(*(fire(event) for event in plan))


async def _settle(gateway: Gateway, sensors: list[VirtualSensor], timeout_s: float) -> None:
    """Wait until the gateway has received every notification the link delivered."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        behind = [
            s
            for s, session in zip(sensors, gateway.sessions)
            if session.recorder.stats.notifications < s.counter.notifications_delivered
        ]
        if not behind:
            return
        await asyncio.sleep(0.05)
    logger.warning("gateway still behind on %d sensors after %.1f s", len(behind), timeout_s)


def _count(store: Store, measurement: str, athlete: str, device: str, start_ms: int) -> int:
    frame = store.read(measurement, athlete, [COUNT_FIELDS[measurement]], start_ms=start_ms, tags={"device": device})
    return len(frame.time_ms)


def _report(
    squad: VirtualSquad,
    gateway: Gateway,
    store: Store,
    start_ms: int,
    plan: list[ChaosEvent],
    outage_log: list[dict[str, float]],
) -> dict[str, Any]:
    sessions = {session.spec.key: session for session in gateway.sessions}
    athletes = []
    ok = True
    worst_recovery = 0.0
    for athlete in squad.athletes:
        entries: dict[str, Any] = {}
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
            recovered = all(r is not None and r <= RECOVERY_BUDGET_S for r in recoveries)
            recovery_max = max((r for r in recoveries if r is not None), default=None)
            if recovery_max is not None:
                worst_recovery = max(worst_recovery, recovery_max)
            delivered = sensor.counter.samples_delivered
            malformed_ok = stats.malformed == sensor.counter.malformed_delivered
            ok = ok and stored == delivered and malformed_ok and recovered
            entries[sensor.label] = {
                "device": sensor.name,
                "delivered": delivered,
                "stored": stored,
                "malformed_rejected": stats.malformed,
                "malformed_delivered": sensor.counter.malformed_delivered,
                "sequence_gaps": stats.sequence_gaps if sensor.profile == "muscle_load" else None,
                "reconnects": session.stats.reconnects,
                "watchdog_trips": session.stats.watchdog_trips,
                "recovery_s_max": None if recovery_max is None else round(recovery_max, 3),
                "recovered": recovered,
                "faults": sensor.faults,
            }
        athletes.append({"athlete": athlete.athlete_id, "sensors": entries})
    final = gateway.snapshots[-1].fields if gateway.snapshots else {}
    return {
        "ok": ok,
        "recovery_s_max": round(worst_recovery, 3),
        "chaos_events": [
            {"kind": e.kind, "at_s": round(e.at_s, 2), "target": e.target, "duration_s": round(e.duration_s, 2)}
            for e in plan
        ],
        "store_outages": outage_log,
        "gateway": {
            **final,
            "drained": gateway.drained,
            "store_write_latency": gateway.writer.stats.latency_percentiles(),
            "store_outages": gateway.writer.stats.outages,
        },
        "athletes": athletes,
    }
