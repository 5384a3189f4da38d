"""The check-in under load: many athletes send both forms at once to one `recovery-monitor serve` process.

A fresh store gets a personal link per athlete (as `athlete link` makes them); then `serve` starts as its own
process (its analysis loop running, as in production) and every athlete, concurrently, does what a phone does:
open the morning page, send it (a Hooper check-in with two sore regions), open the session page, send an RPE for a
session the watch did not record (sending a form follows no redirect: its time is the POST's). Each request's
response time is measured from the client (HTTP/1.1 over asyncio streams, one keep-alive connection per athlete, in
this process on the same machine, so the client's CPU competes with the server's). Afterwards the store must hold
exactly one check-in (two `soreness` points) and one rated session per athlete: "lost" counts what is missing or
doubled. Target (issue 14): p99 under 200 ms and nothing lost with 200 athletes on 2 cores.

Scenarios: by default a squad arrives within 10 s and each athlete takes 4–12 s to fill the morning form and 2–6 s
for the session (a check-in under 20 s); with ``--burst`` every athlete sends every request at once, with no time
between them (the worst case: 400 requests queued at the same moment).

Usage: ``python bench/checkin.py [--athletes 200] [--burst] [--store URL]``; the last line of output is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from influxd import free_port  # noqa: E402

from ingest.links import new_link_token, token_sha256, write_link  # noqa: E402
from ingest.model import SESSION, SORENESS, WELLNESS  # noqa: E402
from ingest.store import open_store  # noqa: E402
from ingest.timeline import wall_clock_ms  # noqa: E402

P99_TARGET_MS = 200.0
ARRIVAL_S = 10.0
IDLE_S = 4.0
Timings = dict[str, list[float]]
_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
MORNING = {"sleep_quality": "3", "fatigue": "4", "soreness": "5", "stress": "2", "pain": "no"}


def start_serve(store_url: str, port: int, folder: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "monitor", "serve", "--store", store_url, "--listen", f"127.0.0.1:{port}"]
    command += ["--state", str(folder / "serve-state.json")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CLINIC_API_TOKEN", None)
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve stopped: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            httpx.get(f"{url}/healthz", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("serve did not start")


Plan = tuple[float, float, float]
"""When an athlete starts (s), how long the morning form and the session form take to fill (s)."""


class Phone:
    """One athlete's keep-alive HTTP/1.1 connection, spoken directly over asyncio streams: a client light enough
    not to be what is measured (httpx's pool spends more CPU than the server with hundreds of connections)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        if self.writer is not None and time.monotonic() - self.last_used > IDLE_S:
            await self.close()  # as a browser does: the server closes idle connections after 5 s (uvicorn)
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = urlencode(form).encode() if form is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        if form is not None:
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        headers = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status = int(headers.split(" ", 2)[1])
        length = re.search(r"(?im)^content-length:\s*(\d+)", headers)
        text = (await self.reader.readexactly(int(length.group(1)))).decode() if length else ""
        self.last_used = time.monotonic()
        if re.search(r"(?im)^connection:\s*close", headers):
            await self.close()
        return status, text

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def athlete(
    phone: Phone, token: str, name: str, index: int, plan: Plan, timings: Timings, errors: list[str]
) -> None:
    """One phone: both pages opened and both forms sent after the plan's filling times, each request timed."""
    base = f"/checkin/{token}"
    start_s, morning_s, session_s = plan
    await asyncio.sleep(start_s)

    async def timed(kind: str, method: str, path: str, form: dict[str, str] | None = None) -> str:
        started = time.perf_counter()
        status, text = await phone.request(method, path, form)
        timings[kind].append((time.perf_counter() - started) * 1000)
        if status not in (200, 303):
            errors.append(f"{name} {method} {path.rsplit('/', 1)[-1]}: {status}")
        return text

    async def fill(page: str, seconds: float, fields: dict[str, str]) -> None:
        found = _TOKEN.search(await timed("page", "GET", f"{base}/{page}"))
        await asyncio.sleep(seconds)
        data = {**fields, "form_token": found.group(1) if found else "", "athlete": name}
        await timed("submit", "POST", f"{base}/{page}", data)

    await fill("morning", morning_s, {**MORNING, "region_calf_l": str(1 + index % 10), "region_lumbar": "3"})
    rpe = {"session": "new", "rpe": str(index % 11), "duration_min": str(30 + index % 60), "sport": "run"}
    await fill("session", session_s, rpe)
    await phone.close()


async def run_all(port: int, links: dict[str, str], plans: list[Plan], timings: Timings, errors: list[str]) -> float:
    started = time.perf_counter()
    phones = (
        athlete(Phone("127.0.0.1", port), token, name, i, plans[i], timings, errors)
        for i, (name, token) in enumerate(links.items())
    )
    await asyncio.gather(*phones)
    return time.perf_counter() - started


def make_plans(athletes: int, burst: bool, seed: int) -> list[Plan]:
    """All at once with ``burst``; else a squad arriving within `ARRIVAL_S`, filling the morning form in 4-12 s
    and the session form in 2-6 s."""
    if burst:
        return [(0.0, 0.0, 0.0)] * athletes
    rng = np.random.default_rng(seed)
    start, morning, session = (
        rng.uniform(0, ARRIVAL_S, athletes),
        rng.uniform(4, 12, athletes),
        rng.uniform(2, 6, athletes),
    )
    return list(zip(start.tolist(), morning.tolist(), session.tolist()))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {
        "n": int(array.size),
        "p50_ms": round(float(np.percentile(array, 50)), 1),
        "p95_ms": round(float(np.percentile(array, 95)), 1),
        "p99_ms": round(float(np.percentile(array, 99)), 1),
        "max_ms": round(float(array.max()), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--athletes", type=int, default=200)
    parser.add_argument("--store", help="store URL (default: a new SQLite file in a temporary folder)")
    parser.add_argument("--burst", action="store_true", help="no arrival spread or filling time: every request at once")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-checkin-") as tmp:
        folder = Path(tmp)
        store_url = args.store or f"sqlite:///{folder / 'store.sqlite'}"
        store = open_store(store_url)
        names = [f"bench-{i:03d}" for i in range(args.athletes)]
        links = {}
        for name in names:
            token = new_link_token()
            write_link(store, name, token_sha256(token), wall_clock_ms())
            links[name] = token
        port = free_port()
        process = start_serve(store_url, port, folder)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process)
            timings: dict[str, list[float]] = {"page": [], "submit": []}
            errors: list[str] = []
            serve_cpu = cpu_s(process.pid)
            client_cpu = time.process_time()
            wall_s = asyncio.run(
                run_all(port, links, make_plans(args.athletes, args.burst, args.seed), timings, errors)
            )
            serve_cpu, client_cpu = cpu_s(process.pid) - serve_cpu, time.process_time() - client_cpu
        finally:
            process.terminate()
            process.wait(timeout=30)
        wellness = {n: store.count(WELLNESS.name, n) for n in names}
        soreness = {n: store.count(SORENESS.name, n) for n in names}
        sessions = {n: store.count(SESSION.name, n) for n in names}
        store.close()
    lost = sum(abs(wellness[n] - 1) + abs(soreness[n] - 2) + abs(sessions[n] - 1) for n in names)
    every = timings["page"] + timings["submit"]
    overall = percentiles(every)
    result = {
        "athletes": args.athletes,
        "store": "sqlite" if args.store is None else args.store.split(":", 1)[0],
        "cores": os.cpu_count(),
        "scenario": "burst: every request at once"
        if args.burst
        else f"arrivals over {ARRIVAL_S:g} s, forms filled in 4-12 s and 2-6 s",
        "requests": len(every),
        "serve_cpu_s": round(serve_cpu, 2),
        "serve_cpu_ms_per_request": round(serve_cpu * 1000 / len(every), 2),
        "client_cpu_s": round(client_cpu, 2),
        "wall_s": round(wall_s, 2),
        "requests_per_s": round(len(every) / wall_s, 1),
        "all": overall,
        "pages": percentiles(timings["page"]),
        "submissions": percentiles(timings["submit"]),
        "errors": errors[:10],
        "error_count": len(errors),
        "stored": {
            "wellness": sum(wellness.values()),
            "soreness": sum(soreness.values()),
            "sessions": sum(sessions.values()),
        },
        "lost": lost,
        "target": {"p99_ms": P99_TARGET_MS, "lost": 0},
        "ok": overall["p99_ms"] < P99_TARGET_MS and lost == 0 and not errors,
    }
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
