"""Benchmark: our columnar line-protocol encoder against influxdb-client's `Point` serializer.

Encodes the same 1,000,000 HR/RR samples (4 athletes; `hr` integer bpm, `rr` float ms at 1/1024 s resolution,
ms timestamps) with `ingest.store.lineprotocol.encode` (best of 3) and with
`Point(...).tag().field().time(..., WritePrecision.MS).to_line_protocol()`, checks that both produce equivalent
lines, and prints one JSON object as its last line. Run: `python bench/lineprotocol.py [--samples N]`.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np
from influxdb_client import Point, WritePrecision

from ingest.store.base import PointBatch
from ingest.store.lineprotocol import encode, encode_lines

ATHLETES = ("ath-001", "ath-002", "ath-003", "ath-004")
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CLIENT_CHUNK = 100_000
CLIENT_BUDGET_S = 60.0


def make_batches(samples: int, seed: int = 7) -> list[PointBatch]:
    """Beat-to-beat samples: RR in 1/1024 s units as a BLE strap sends them, HR derived, times at each beat."""
    rng = np.random.default_rng(seed)
    batches = []
    for index, athlete in enumerate(ATHLETES):
        n = samples // len(ATHLETES) + (index < samples % len(ATHLETES))
        units = np.clip(np.round(rng.normal(840, 70, n) * 1.024), 300, 2000).astype(np.int64)
        rr_ms = units * 1000 / 1024
        time_ms = START_MS + np.round(np.cumsum(rr_ms)).astype(np.int64)
        hr = np.round(60_000 / rr_ms).astype(np.int64)
        batches.append(PointBatch("hr", {"athlete": athlete}, time_ms, {"hr": hr, "rr": rr_ms}))
    return batches


def client_lines(batch: PointBatch, start: int, stop: int) -> list[str]:
    """influxdb-client's serialization of rows [start, stop) of a batch."""
    athlete = batch.tags["athlete"]
    hr, rr, times = (column[start:stop].tolist() for column in (batch.fields["hr"], batch.fields["rr"], batch.time_ms))
    return [
        Point("hr").tag("athlete", athlete).field("hr", h).field("rr", r).time(t, WritePrecision.MS).to_line_protocol()
        for h, r, t in zip(hr, rr, times, strict=True)
    ]


def time_ours(batches: list[PointBatch], repeats: int = 3) -> float:
    """Best wall time of `encode` over all batches."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for batch in batches:
            encode(batch)
        best = min(best, time.perf_counter() - started)
    return best


def time_client(batches: list[PointBatch], samples: int) -> tuple[float, int]:
    """Wall time and number of samples serialized; stops early (to be scaled) if it would exceed the budget."""
    done, elapsed = 0, 0.0
    for batch in batches:
        for start in range(0, len(batch), CLIENT_CHUNK):
            started = time.perf_counter()
            client_lines(batch, start, min(start + CLIENT_CHUNK, len(batch)))
            elapsed += time.perf_counter() - started
            done += min(CLIENT_CHUNK, len(batch) - start)
            if done < samples and elapsed / done * samples > CLIENT_BUDGET_S:
                return elapsed, done
    return elapsed, done


def parse(line: str) -> tuple[str, str, dict[str, float | int], int]:
    """(measurement, tags, typed fields, time) of a line without escapes."""
    series, fields, stamp = line.split(" ")
    values: dict[str, float | int] = {}
    for pair in fields.split(","):
        key, text = pair.split("=")
        values[key] = int(text[:-1]) if text.endswith("i") else float(text)
    measurement, _, tags = series.partition(",")
    return measurement, tags, values, int(stamp)


def check_equivalent(batches: list[PointBatch], count: int = 2000) -> int:
    """Compare both encoders on the first rows of each batch and on random rows; returns rows compared."""
    rng = random.Random(1)
    compared = 0
    for batch in batches:
        rows = list(range(min(count // len(batches), len(batch)))) + rng.sample(range(len(batch)), 50)
        ours = encode_lines(batch)
        for row in rows:
            theirs = client_lines(batch, row, row + 1)[0]
            if parse(ours[row]) != parse(theirs):
                raise SystemExit(f"encoders disagree on row {row}: ours {ours[row]!r}, influxdb-client {theirs!r}")
            compared += 1
    return compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    samples = parser.parse_args().samples
    batches = make_batches(samples)
    compared = check_equivalent(batches)
    print(f"equivalent lines on {compared} sampled rows; e.g. {encode_lines(batches[0])[0]}")
    ours_s = time_ours(batches)
    payload = sum(len(encode(batch)) for batch in batches)
    print(f"ours: {samples:,} samples in {ours_s:.3f} s (best of 3), {payload / 1e6:.1f} MB of line protocol")
    client_s, client_done = time_client(batches, samples)
    note = "" if client_done == samples else f" (timed {client_done:,} samples, scaled to {samples:,})"
    print(f"influxdb-client Point: {client_done:,} samples in {client_s:.3f} s{note}")
    ours_rate, client_rate = samples / ours_s, client_done / client_s
    print(f"ours {ours_rate:,.0f} points/s, influxdb-client {client_rate:,.0f} points/s")
    result = {
        "samples": samples,
        "ours_points_per_s": round(ours_rate),
        "influxdb_client_points_per_s": round(client_rate),
        "ratio": round(ours_rate / client_rate, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
