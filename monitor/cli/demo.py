"""`recovery-monitor demo`: a simulated squad streams over virtual Bluetooth LE, then the full analysis runs."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.cli.common import CliError

if TYPE_CHECKING:
    import numpy as np
    from rich.console import Console

    from ingest.buffer import PointBuffer
    from ingest.store.base import PointBatch, Store
    from ingest.virtual.physiology import AthleteProfile

STREAMED_MORNINGS = 7
LIVE_KIT_S = 8.0
LIVE_GAP_MS = 60_000  # the strap session ends a minute before the live kit streams on the wall clock
LIVE_MEASUREMENTS = ("hr", "rr", "rsc", "stride", "power", "acc")
MIN_DAYS = 28 + STREAMED_MORNINGS
MORNING_S = 180.0
SESSION_S = 20 * 60
WAKE_OFFSET_MS = 6 * 3_600_000
NOTIFY_WAIT_S = 10.0
MALFORMED_PAYLOAD = b"\x10\x48\x00"  # RR flag set, one dangling RR byte: must be rejected, the stream goes on
ID_PREFIX = "demo-"  # demo-01, demo-02…: IDs nobody gives a real athlete
GENERATOR = "demo"


@dataclass
class Recording:
    """One strap recording to stream: per-second HR values and the RR intervals of each second."""

    start_ms: int
    bpm: np.ndarray
    rr_by_second: list[np.ndarray]
    malformed_at: int | None = None


@dataclass
class AthleteRun:
    profile: AthleteProfile
    condition: str = "healthy"
    history: list[tuple[int, np.ndarray]] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    ble_samples_sent: int = 0
    malformed: int = 0


def per_second(rr_ms: np.ndarray, hr_bpm: np.ndarray | None = None) -> Recording:
    """Group beats into the 1 s notifications a strap would send; HR is the strap's running average."""
    import numpy as np

    beat_s = np.cumsum(rr_ms) / 1000.0
    n_seconds = int(np.ceil(beat_s[-1]))
    second = np.minimum(np.floor(beat_s).astype(int), n_seconds - 1)
    bounds = np.searchsorted(second, np.arange(n_seconds + 1))
    rr_by_second = [rr_ms[bounds[i] : bounds[i + 1]] for i in range(n_seconds)]
    if hr_bpm is None:
        hr_bpm = np.full(n_seconds, 60_000.0 / float(np.median(rr_ms)))
    bpm = np.rint(np.resize(hr_bpm, n_seconds)).astype(int)
    return Recording(0, bpm, rr_by_second)


def plan_athlete(profile: AthleteProfile, days: int, today: dt.date, now_ms: int, rng) -> AthleteRun:
    """History mornings (written directly), then recent mornings and one live session to stream."""
    from ingest.timeline import day_start_ms
    from ingest.virtual.physiology import daily_ln_rmssd, interval_workload, morning_rr_ms, session_hr

    run = AthleteRun(profile)
    targets = daily_ln_rmssd(profile, days, rng)
    first_day = today - dt.timedelta(days=days - 1)
    for index in range(days):
        morning_ms = day_start_ms(first_day + dt.timedelta(days=index)) + WAKE_OFFSET_MS
        rr = morning_rr_ms(profile, index, targets[index], rng, duration_s=MORNING_S)
        if index < days - STREAMED_MORNINGS:
            run.history.append((morning_ms, rr))
        else:
            recording = per_second(rr)
            recording.start_ms = morning_ms
            run.recordings.append(recording)
    workload = interval_workload(SESSION_S, rng)
    hr_bpm, rr = session_hr(profile, workload, rng)
    session = per_second(rr, hr_bpm)
    session.start_ms = now_ms - len(session.bpm) * 1000 - LIVE_GAP_MS
    session.malformed_at = len(session.bpm) // 2
    run.recordings.append(session)
    return run


def live_session_batch(run: AthleteRun) -> PointBatch:
    """The live session's summary as the strap recorded it: duration, HR, beats and Banister TRIMP."""
    import numpy as np

    from ingest.model import SESSION
    from monitor.load import trimp_banister

    session = run.recordings[-1]
    p = run.profile
    hr = session.bpm.astype(float)
    fields = {
        "duration_s": np.array([float(len(hr))]),
        "avg_hr_bpm": np.array([hr.mean()]),
        "max_hr_bpm": np.array([hr.max()]),
        "rr_count": np.array([sum(len(rr) for rr in session.rr_by_second)], np.int64),
        "trimp": np.array([trimp_banister(hr, 1.0, p.resting_hr_bpm, p.max_hr_bpm, p.sex)]),
    }
    tags = {"athlete": p.athlete_id, "sport": "other", "source": "ble"}
    return SESSION.batch(tags, [session.start_ms], fields)


def history_batches(run: AthleteRun) -> list[PointBatch]:
    import numpy as np

    from ingest.model import RR

    tags = {"athlete": run.profile.athlete_id, "device": "history", "source": "history"}
    batches = []
    for start_ms, rr in run.history:
        times = start_ms + np.rint(np.cumsum(rr)).astype(np.int64)
        batches.append(RR.batch(tags, times, {"rr_ms": rr}))
    return batches


async def stream_recording(air, strap, device, recording: Recording, buffer: PointBuffer, run: AthleteRun) -> None:
    """Connect with bleak, subscribe, let the strap send the recording, wait for the last notification."""
    from bleak import BleakClient

    from ingest.ble.heart_rate import HEART_RATE_MEASUREMENT_UUID
    from ingest.heart_rate_stream import HeartRateRecorder
    from ingest.timeline import NotificationClock

    athlete = run.profile.athlete_id
    recorder = HeartRateRecorder(athlete, strap.name, buffer, NotificationClock(recording.start_ms))
    async with BleakClient(device, timeout=10.0, **air.client_kwargs()) as client:
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, recorder.on_notification)
        await strap.wait_subscribed(timeout=5.0)
        before_hr, before_rr, before_n = strap.hr_delivered, strap.rr_delivered, strap.notifications_delivered
        for second, (bpm, rr) in enumerate(zip(recording.bpm, recording.rr_by_second)):
            if recording.malformed_at == second:
                await strap.send_raw(MALFORMED_PAYLOAD)
            await strap.send(int(bpm), rr.tolist())
        deadline = time.monotonic() + NOTIFY_WAIT_S
        while recorder.stats.notifications < strap.notifications_delivered - before_n:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)
        await client.stop_notify(HEART_RATE_MEASUREMENT_UUID)
    run.ble_samples_sent += (strap.hr_delivered - before_hr) + (strap.rr_delivered - before_rr)
    run.malformed += recorder.stats.malformed
    await buffer.flush()


async def run_athlete(air, run: AthleteRun, index: int, buffer: PointBuffer, progress, task) -> None:
    from bleak import BleakScanner

    from ingest.virtual.hr_strap import VirtualHeartRateStrap

    athlete = run.profile.athlete_id
    strap = VirtualHeartRateStrap(
        air, name=f"HRM-{athlete}", address=f"F0:00:00:00:{index // 256:02X}:{index % 256:02X}"
    )
    await strap.start()
    try:
        device = await BleakScanner.find_device_by_name(strap.name, timeout=10.0, **air.scanner_kwargs())
        if device is None:
            raise CliError(f"virtual strap {strap.name} was not found by the scanner")
        for recording in run.recordings:
            await stream_recording(air, strap, device, recording, buffer, run)
            progress.advance(task)
    finally:
        await strap.stop()


async def stream_squad(store: Store, runs: list[AthleteRun], console: Console) -> float:
    """All athletes stream concurrently over one virtual air; returns the seconds spent."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.buffer import PointBuffer
    from ingest.virtual.bumble.air import VirtualAir

    started = time.perf_counter()
    buffer = PointBuffer(store)
    air = VirtualAir()
    await air.start()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(
                "streaming recordings over virtual BLE", total=sum(len(r.recordings) for r in runs)
            )
            await asyncio.gather(*(run_athlete(air, run, i, buffer, progress, task) for i, run in enumerate(runs)))
        await buffer.flush()
    finally:
        await air.close()
    return time.perf_counter() - started


def add_parser(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="simulate a squad whose wearables stream over virtual Bluetooth LE, then analyse and flag it",
        description="Simulates D days of training history for N athletes (healthy, suppressed HRV, a load spike, a "
        "ground-contact asymmetry onset); their recent morning readings and a live session stream through virtual "
        "straps, footpods, muscle-load pods and a power meter (a Bumble BLE stack in-process) into the store, and "
        "the full analysis (load, HRV readiness, asymmetry) flags them and recommends IDN visits. In a squad of 5 or "
        "more, one flagged athlete was treated 9 days ago: the demo records the visit and measures the response.",
    )
    demo.add_argument("--athletes", type=int, default=6, metavar="N", help="squad size (default 6)")
    demo.add_argument("--days", type=int, default=42, metavar="D", help="days of history (default 42)")
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default 7)")
    demo.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///PATH or influxdb+http(s)://HOST:PORT/DB (default: demo.sqlite in the user data folder, "
        "apart from your own store); athletes the demo did not create are never touched",
    )
    demo.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    demo.set_defaults(run=run)


def demo_store_url() -> str:
    """The demo's own embedded store: `demo.sqlite` next to the default store file, in the user's data folder."""
    from ingest.store import default_store_url

    default_file = Path(default_store_url().removeprefix("sqlite:///"))
    return "sqlite:///" + str(default_file.with_name("demo.sqlite"))


def next_commands(store_url: str, athletes: list[str], treated: Sequence[str] = ()) -> list[str]:
    """What to try after the demo, with `--store` whenever the other commands would not find its store alone;
    the response after the visit of each ``treated`` athlete."""
    from ingest.store import resolve_store_url

    store = "" if store_url == resolve_store_url(None) else f" --store {shlex.quote(store_url)}"
    flagged = athletes[1] if len(athletes) > 1 else athletes[0]
    commands = [
        f"recovery-monitor analyze{store}",
        f"recovery-monitor report --athlete {shlex.quote(flagged)} --out {shlex.quote(flagged + '.html')}{store}",
        f"recovery-monitor athlete list{store}",
        *(f"recovery-monitor response --athlete {shlex.quote(athlete)}{store}" for athlete in treated),
    ]
    if store_url.startswith("influxdb"):
        commands.append(
            f"GRAFANA_TOKEN=... recovery-monitor dashboards publish --grafana-url http://127.0.0.1:3000{store}"
        )
    else:
        commands.append(
            "docker compose up -d && INFLUX_TOKEN=... recovery-monitor demo --store influxdb+http://127.0.0.1:8086/recovery"
            "   # Grafana dashboards"
        )
    return commands


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from rich.console import Console

    from ingest.store import open_store
    from ingest.virtual.ownership import claim_simulated
    from ingest.virtual.physiology import make_squad
    from ingest.virtual.run import VirtualRunConfig, run_virtual_ingest
    from ingest.visits import write_visits
    from monitor.cli.demo_squad import TREATED, assign_conditions, training_batches, treated_profile
    from monitor.cli.demo_visit import demo_visits, print_visits, visit_reports
    from monitor.history import catch_up, plan_catch_up

    if args.athletes < 1 or args.days < MIN_DAYS:
        raise CliError(f"--athletes must be ≥ 1 and --days ≥ {MIN_DAYS} (got {args.athletes} and {args.days})")
    console = Console(stderr=True)
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    today = dt.datetime.now(dt.UTC).date()
    now_ms = int(time.time() * 1000)
    squad = make_squad(args.athletes, args.days, rng, id_prefix=ID_PREFIX)
    conditions = assign_conditions(squad)
    runs = [plan_athlete(p, args.days, today, now_ms, rng) for p in squad]
    for index, (run_, condition) in enumerate(zip(runs, conditions)):
        if condition == TREATED:  # planned again from a stream of its own; the plan above used the squad's draws,
            # so every other athlete's data stays that of a demo without a visit
            own_rng = np.random.default_rng([args.seed, index])
            runs[index] = run_ = plan_athlete(
                treated_profile(squad[index], args.days), args.days, today, now_ms, own_rng
            )
        run_.condition = condition
    sessions = training_batches(squad, conditions, args.days, today, rng)
    visits = demo_visits([p.athlete_id for p in squad], conditions, today, now_ms)
    store = open_store(args.store or demo_store_url())
    try:
        claim_simulated(store, [r.profile.athlete_id for r in runs], GENERATOR, now_ms)
        store.write([b for run_ in runs for b in history_batches(run_)] + sessions)
        write_visits(store, visits)
        stream_s = asyncio.run(stream_squad(store, runs, console))
        status = f"live session: every sensor of the kit through the gateway for {LIVE_KIT_S:.0f} s"
        with tempfile.TemporaryDirectory(prefix="recovery-demo-") as spool_dir, console.status(status):
            kit_config = VirtualRunConfig(
                athletes=len(runs),
                duration_s=LIVE_KIT_S,
                spool_path=Path(spool_dir) / "spool.sqlite",
                seed=args.seed,
                athlete_ids=tuple(r.profile.athlete_id for r in runs),
                reset_athletes=False,
                with_power=True,
            )
            kit = asyncio.run(run_virtual_ingest(kit_config, store))
        for entry, run_ in zip(kit.athletes, runs):
            run_.ble_samples_sent += sum(sensor.delivered for sensor in entry.sensors.values())
            run_.malformed += sum(sensor.malformed_rejected for sensor in entry.sensors.values())
        store.write([live_session_batch(r) for r in runs])
        stored = {r.profile.athlete_id: _streamed_samples_stored(store, r) for r in runs}
        result = catch_up(store, plan_catch_up(store, today, athletes=[r.profile.athlete_id for r in runs]))
        visit_report = visit_reports(store, visits, today)
    finally:
        store.close()
    reports = {a.athlete: a.to_json() for a in result.athletes}
    athletes = []
    for run_ in runs:
        athlete = run_.profile.athlete_id
        report = reports[athlete]
        athletes.append(
            {
                "athlete": athlete,
                "simulated_condition": run_.condition,
                "ble_samples_sent": run_.ble_samples_sent,
                "samples_stored": stored[athlete],
                "malformed_rejected": run_.malformed,
                "flags": report["flags"],
                "recommend_idn_visit": report["recommend_idn_visit"],
                "idn_reasons": report["idn_reasons"],
                "indicators": report["indicators"],
                "status": report["status"],
            }
        )
    summary = {
        "store": store.url,
        "as_of": today.isoformat(),
        "athletes_n": args.athletes,
        "days": args.days,
        "seed": args.seed,
        "stream_s": round(stream_s, 2),
        "elapsed_s": round(time.perf_counter() - started, 2),
        "athletes": athletes,
        "visits": visit_report,
        "next_commands": next_commands(store.url, [a["athlete"] for a in athletes], [v.athlete for v in visits]),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        console = Console(width=None if sys.stdout.isatty() else 140)
        print_table(summary, console)
        print_visits(visit_report, console)
        print(f"\nThe demo athletes ({athletes[0]['athlete']}…) are in {store.url}. Next, try:")
        print("\n".join(f"  {command}" for command in summary["next_commands"]))
    return 0


def _streamed_samples_stored(store: Store, run: AthleteRun) -> int:
    """Points of the streamed measurements counted back from the store since the first streamed recording."""
    from ingest.timeline import DAY_MS

    window_start = min(r.start_ms for r in run.recordings) - DAY_MS // 24
    return sum(store.count(m, run.profile.athlete_id, window_start) for m in LIVE_MEASUREMENTS)


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "—" if value is None else pattern.format(value)


DEMO_COLUMNS = (
    "athlete", "simulated", "BLE sent", "stored", "malformed", "ln rMSSD 7d", "ACWR", "GCT SI %", "flags", "IDN visit",
)  # fmt: skip


def print_table(report: dict, console: Console) -> None:
    """The squad as a table, or a list when it does not fit (monitor.cli.tables), and the run's counts."""
    from monitor.cli import tables

    rows = []
    for a in report["athletes"]:
        ind = a["indicators"]
        flags = "\n".join(f"[red]{f['signal']}[/] {f['severity']} since {f['since']}" for f in a["flags"]) or "none"
        rows.append(
            [
                a["athlete"],
                a["simulated_condition"],
                str(a["ble_samples_sent"]),
                str(a["samples_stored"]),
                str(a["malformed_rejected"]),
                _fmt(ind.get("ln_rmssd_7d")),
                _fmt(ind.get("acwr")),
                _fmt(ind.get("gct_symmetry_index_pct"), "{:+.1f}"),
                flags,
                "[bold red]book[/]" if a["recommend_idn_visit"] else "no",
            ]
        )
    title = f"Squad on {report['as_of']} ({report['store']})"
    tables.print_table(title, DEMO_COLUMNS, rows, console=console, right=DEMO_COLUMNS[2:8])
    malformed = sum(a["malformed_rejected"] for a in report["athletes"])
    tables.note(
        console,
        f"{report['athletes_n']} athletes, {report['days']} days, finished in {report['elapsed_s']} s; "
        f"{malformed} malformed packets rejected (injected on purpose; the streams went on)",
    )
