"""How many virtual sensors one gateway process sustains at nominal rates, with the gateway's own CPU separated.

Per athlete: HR strap (1 Hz), footpod (2 Hz), left and right muscle-load pods (one frame per stride of each leg,
~1.4 Hz), Polar-like ACC (50 Hz in frames of 10 samples, 5 Hz) = 5 sensors. Everything runs in real time into a
real InfluxDB (a throw-away influxd on a free loopback port unless ``--store`` is given).

CPU: the virtual peers and the in-process Bumble stack (both ends) share the process with the gateway, so the
gateway's own work is measured directly with per-thread CPU clocks around it: every notification callback
(decode, timestamp, spool append), spool commits, the writer thread (spool read, line protocol, HTTP to InfluxDB)
and telemetry. The rest of the process CPU is attributed to the simulated peers and the virtual radio (on
hardware, the central's host stack is bluetoothd and the kernel). Latency: ``store_ack`` is notification arrival →
InfluxDB acknowledged the write, for every spooled row; ``live`` picks a strap every 0.2-0.5 s, waits for its next
HR notification and times its arrival → the first InfluxQL query (polled every 10 ms) that returns the point.

Usage: ``python bench/gateway.py [--athletes 12] [--duration 30] [--store influxdb+http://HOST:PORT/DB]``;
the last line of output is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from ingest.gateway.gateway import Gateway  # noqa: E402
from ingest.store import RetryBudget, open_store  # noqa: E402
from ingest.store.influx import InfluxStore  # noqa: E402
from ingest.store.influxql import quote_ident, quote_literal  # noqa: E402
from ingest.virtual.run import VirtualRunConfig, run_virtual_ingest  # noqa: E402


class CpuMeter:
    """Sums per-thread CPU time spent inside wrapped callables (safe across the loop and worker threads)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def wrap(self, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                with self._lock:
                    self.seconds += spent

        return timed


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    array = np.asarray(values)
    return {
        "n": len(values),
        "p50": round(float(np.percentile(array, 50)), 1),
        "p99": round(float(np.percentile(array, 99)), 1),
        "max": round(float(array.max()), 1),
    }


class Probe:
    """Instruments the gateway and measures live latency and lag while the run goes on."""

    def __init__(self, store: InfluxStore) -> None:
        self.store = store
        self.cpu = CpuMeter()
        self.live_ms: list[float] = []
        self.lag_ms: list[float] = []
        self.devices: list[str] = []
        self.wanted: str | None = None
        self.fresh: asyncio.Queue[tuple[str, int, float]] = asyncio.Queue()
        self.process_cpu_start = 0.0
        self.wall_start = 0.0
        self.all_connected_after_s: float | None = None
        self.connected_min_after_ramp: int | None = None

    async def observe(self, gateway: Gateway) -> None:
        cpu = self.cpu
        for session in gateway.sessions:
            session.recorder.on_notification = cpu.wrap(session.recorder.on_notification)  # type: ignore[method-assign]
        spool = gateway.spool
        add = spool.add

        def add_and_note(measurement: str, tags: Any, time_ms: Any, fields: Any) -> bool:
            accepted = add(measurement, tags, time_ms, fields)
            if accepted and measurement == "hr" and tags["device"] == self.wanted:
                self.wanted = None
                self.fresh.put_nowait((tags["device"], int(time_ms[-1]), time.monotonic()))
            return accepted

        spool.add = add_and_note  # type: ignore[method-assign]
        spool.commit = cpu.wrap(spool.commit)  # type: ignore[method-assign]
        spool.read = cpu.wrap(spool.read)  # type: ignore[method-assign]
        gateway.writer.store.write = cpu.wrap(gateway.writer.store.write)  # type: ignore[method-assign]
        gateway.telemetry.snapshot = cpu.wrap(gateway.telemetry.snapshot)  # type: ignore[method-assign]
        self.process_cpu_start = time.process_time()
        self.wall_start = time.monotonic()
        self.devices = [s.spec.key for s in gateway.sessions if s.spec.profile == "heart_rate"]
        lag_task = asyncio.create_task(self._sample_lag(gateway))
        rng = random.Random(1)
        try:
            while True:
                await asyncio.sleep(rng.uniform(0.2, 0.5))
                self.wanted = rng.choice(self.devices)
                device, time_ms, arrived = await self.fresh.get()
                latency = await asyncio.to_thread(self._wait_queryable, device, time_ms, arrived)
                if latency is not None:
                    self.live_ms.append(latency)
        finally:
            lag_task.cancel()

    async def _sample_lag(self, gateway: Gateway) -> None:
        while True:
            await asyncio.sleep(0.5)
            connected = gateway.connected()
            if self.all_connected_after_s is None and connected == len(gateway.sessions):
                self.all_connected_after_s = round(time.monotonic() - self.wall_start, 1)
            if self.all_connected_after_s is not None:
                low = self.connected_min_after_ramp
                self.connected_min_after_ramp = connected if low is None else min(low, connected)
            oldest = gateway.spool.oldest_pending_arrival_ms()
            self.lag_ms.append(float(max(gateway.clock() - oldest, 0)) if oldest is not None else 0.0)

    def _wait_queryable(self, device: str, time_ms: int, arrived: float) -> float | None:
        query = (
            f'SELECT count("bpm") FROM "hr" WHERE {quote_ident("device")} = {quote_literal(device)} '
            f"AND time = {time_ms}ms"
        )
        deadline = arrived + 10.0
        while time.monotonic() < deadline:
            (result,) = self.store.query(query)
            if result.get("series"):
                return (time.monotonic() - arrived) * 1000.0
            time.sleep(0.01)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=12, help="athletes, 5 sensors each (default 12 = 60)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of streaming (default 30)")
    parser.add_argument("--store", help="influxdb+http://HOST:PORT/DB (default: a throw-away influxd)")
    args = parser.parse_args()

    server = None
    scratch = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    budget = RetryBudget(max_retries=1, max_total_s=3.0)
    if args.store:
        if not args.store.startswith("influxdb+"):
            sys.exit("the benchmark measures InfluxDB: pass --store influxdb+http://HOST:PORT/DB")
        opened = open_store(args.store, retry=budget)
    else:
        from influxd import InfluxServer, find_influxd

        binary = find_influxd()
        if binary is None:
            sys.exit("influxd not found: apt-get install influxdb, or pass --store")
        server = InfluxServer(binary, scratch / "influxd")
        server.start()
        opened = open_store(f"influxdb+{server.http_url}/bench", env={}, retry=budget)
    store = cast(InfluxStore, opened)  # an influxdb+ URL opens the InfluxDB backend (InfluxQL for the probe)
    store.connect()
    probe = Probe(store)
    started_rusage = resource.getrusage(resource.RUSAGE_SELF)
    try:
        config = VirtualRunConfig(
            athletes=args.athletes, duration_s=args.duration, spool_path=scratch / "spool.sqlite", with_acc=True
        )
        report = asyncio.run(run_virtual_ingest(config, store, observer=probe.observe))
    finally:
        store.close()
        if server is not None:
            server.close()
    process_cpu = time.process_time() - probe.process_cpu_start
    wall = time.monotonic() - probe.wall_start
    sensors = [s for a in report.athletes for s in a.sensors.values()]
    delivered = sum(s.delivered for s in sensors)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "benchmark": "gateway",
        "athletes": args.athletes,
        "sensors": len(sensors),
        "duration_s": args.duration,
        "samples_delivered": delivered,
        "samples_stored": sum(s.stored for s in sensors),
        "all_stored_exactly_once": report.ok,
        "notifications_per_s": round(report.gateway.telemetry.get("notifications", 0) / max(wall, 1e-9), 1),
        "samples_per_s": round(delivered / max(wall, 1e-9), 1),
        "ingest_lag_ms": percentiles(probe.lag_ms),
        "store_ack_latency_ms": report.gateway.store_write_latency,
        "live_latency_ms": percentiles(probe.live_ms),
        "cpu": {
            "process_pct_of_one_core": round(100 * process_cpu / wall, 1),
            "gateway_pct_of_one_core": round(100 * probe.cpu.seconds / wall, 1),
            "peers_and_virtual_radio_pct_of_one_core": round(100 * (process_cpu - probe.cpu.seconds) / wall, 1),
            "gateway_share_of_process_pct": round(100 * probe.cpu.seconds / max(process_cpu, 1e-9), 1),
            "user_s": round(usage.ru_utime - started_rusage.ru_utime, 1),
            "system_s": round(usage.ru_stime - started_rusage.ru_stime, 1),
        },
        "all_connected_after_s": probe.all_connected_after_s,
        "min_connected_after_ramp": probe.connected_min_after_ramp,
        "sustained": bool(
            report.ok
            and (percentiles(probe.lag_ms)["p99"] or 0) < 1000
            and probe.connected_min_after_ramp == len(sensors)
        ),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
