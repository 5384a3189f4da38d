"""`ingest --virtual`: a virtual squad on a ChaosAir, the real gateway, scheduled chaos, and a ground-truth report.

Time is real: sensors notify at their nominal rates and faults last real seconds, so watchdogs, backoff and
reconnects run exactly as they would against hardware. The report (`ingest.virtual.run_report`) compares, per
athlete and sensor, the samples the sensors **delivered** (notifications that reached the gateway's radio while a
link was up, counted on the link) with the points **stored** (counted back from the store after the gateway shut
down and drained).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.gateway.config import DeviceSpec, GatewaySettings, SquadConfig
from ingest.gateway.gateway import Gateway
from ingest.gateway.spool import Spool
from ingest.store.base import Store
from ingest.timeline import wall_clock_ms
from ingest.virtual.chaos import ChaosEvent, OutageStore, malformed_payload, plan_chaos
from ingest.virtual.chaos_air import ChaosAir
from ingest.virtual.ownership import check_simulated, claim_simulated
from ingest.virtual.run_report import RECOVERY_BUDGET_S, StoreOutage, VirtualRunReport, build_report
from ingest.virtual.squad import VirtualSensor, VirtualSquad

__all__ = ["RECOVERY_BUDGET_S", "OutageControl", "VirtualRunConfig", "run_virtual_ingest", "virtual_settings"]

logger = logging.getLogger(__name__)

GENERATOR = "ingest --virtual"


@dataclass(frozen=True)
class VirtualRunConfig:
    """One virtual ingest run: the squad, how long, which faults, and where the gateway spools.

    ``athlete_ids`` names the athletes (default `sim-01`…); ``reset_athletes`` first deletes their stored data and
    marks them as simulated. ``store_outage_s`` overrides the planned store-outage length.
    """

    athletes: int
    duration_s: float
    spool_path: Path
    chaos: tuple[str, ...] = ()
    seed: int = 7
    with_acc: bool = False
    with_power: bool = False
    store_outage_s: float | None = None
    telemetry_interval_s: float = 1.0
    settle_s: float = 5.0
    advertising_interval_ms: float = 100.0
    athlete_ids: tuple[str, ...] | None = None
    reset_athletes: bool = True


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
    config: VirtualRunConfig,
    store: Store,
    *,
    outage: OutageControl | None = None,
    stop: asyncio.Event | None = None,
    observer: Callable[[Gateway], Coroutine[Any, Any, None]] | None = None,
) -> VirtualRunReport:
    """Run the squad for ``config.duration_s`` seconds (or until ``stop``) with its chaos; return the report.

    ``outage`` makes store outages (default: the gateway's store refuses writes). ``observer`` (benchmarks) runs
    as a task next to the gateway from the start and is cancelled at the end. An athlete ID holding data no
    simulation created stops the run before anything is written (`ingest.virtual.ownership`, NotSimulatedError).
    """
    chaos = config.chaos
    rng = np.random.default_rng(config.seed)
    started = time.perf_counter()
    run_start_ms = wall_clock_ms() - 5000
    air = ChaosAir(advertising_interval_ms=config.advertising_interval_ms)
    await air.start()
    squad = VirtualSquad(
        air,
        config.athletes,
        rng,
        with_acc=config.with_acc,
        athlete_ids=config.athlete_ids,
        with_power=config.with_power,
    )
    ids = [athlete.athlete_id for athlete in squad.athletes]
    try:
        if config.reset_athletes:
            await asyncio.to_thread(claim_simulated, store, ids, GENERATOR, run_start_ms)
        else:
            await asyncio.to_thread(check_simulated, store, ids, GENERATOR)
    except BaseException:
        await air.close()
        raise
    gateway_store: Store = store
    if "store-outage" in chaos and outage is None:
        wrapped = OutageStore(store)
        gateway_store = wrapped
        outage = OutageControl(lambda: setattr(wrapped, "down", True), lambda: setattr(wrapped, "down", False))
    sensors = squad.sensors
    squad_config = SquadConfig(
        virtual_settings(len(sensors), config.telemetry_interval_s),
        tuple(
            DeviceSpec(s.athlete, s.profile, address=s.address, side=s.side, label=s.name, period_s=None)
            for s in sensors
        ),
    )
    duration_s = config.duration_s
    plan = plan_chaos(chaos, [s.name for s in sensors], duration_s, rng)
    if config.store_outage_s is not None:
        outage_s = config.store_outage_s
        plan = [ChaosEvent(e.kind, e.at_s, e.target, outage_s) if e.kind == "store-outage" else e for e in plan]
    spool = Spool(config.spool_path)
    gateway = Gateway(
        squad_config, gateway_store, spool, client_kwargs=air.client_kwargs(), scanner_kwargs=air.scanner_kwargs()
    )
    stop_gateway, stop_drive = asyncio.Event(), asyncio.Event()
    outage_log: list[StoreOutage] = []
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
        await _settle(gateway, sensors, config.settle_s)
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
    return await asyncio.to_thread(
        build_report,
        squad,
        gateway,
        store,
        run_start_ms,
        plan,
        outage_log,
        chaos=list(chaos),
        duration_s=duration_s,
        spool_left_points=spool_left,
        started_perf_s=started,
    )


async def _run_chaos(
    plan: list[ChaosEvent],
    air: ChaosAir,
    squad: VirtualSquad,
    outage: OutageControl | None,
    t0: float,
    rng: np.random.Generator,
    outage_log: list[StoreOutage],
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
            outage_log.append(StoreOutage(round(began - t0, 2), round(time.monotonic() - began, 2)))
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
