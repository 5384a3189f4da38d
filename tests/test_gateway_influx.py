"""A real influxd goes down mid-run and comes back: the spool replays, zero loss, zero duplicates.

This file stops influxd for 10 s; ``test_gateway_influx_long.py`` (marked slow) for 30 s, the issue's figure.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from ingest.store.influx import InfluxStore
from ingest.store.influxql import quote_ident, quote_literal
from ingest.virtual.run import OutageControl, VirtualRunConfig, run_virtual_ingest

COUNT_FIELD = {"hr": "bpm", "rr": "rr_ms", "rsc": "speed_mps", "stride": "seq"}
MEASUREMENTS = {"strap": ("hr", "rr"), "footpod": ("rsc",), "pod_left": ("stride",), "pod_right": ("stride",)}


def influxql_count(store: InfluxStore, measurement: str, device: str) -> int:
    field = quote_ident(COUNT_FIELD[measurement])
    (result,) = store.query(
        f"SELECT count({field}) FROM {quote_ident(measurement)} WHERE {quote_ident('device')} = {quote_literal(device)}"
    )
    series = result.get("series") or []
    return int(series[0]["values"][0][1]) if series else 0


def outage_run(influxd, tmp_path, *, outage_s: float, duration_s: float) -> None:
    store = InfluxStore(
        influxd.http_url,
        f"gw_{uuid.uuid4().hex[:8]}",
        timeout_s=2.0,
        max_retries=1,
        backoff_base_s=0.05,
        max_total_s=2.0,
    )
    store.connect()
    try:
        config = VirtualRunConfig(
            athletes=2,
            duration_s=duration_s,
            spool_path=tmp_path / "spool.sqlite",
            chaos=("store-outage", "malformed"),
            store_outage_s=outage_s,
            seed=11,
        )
        outage = OutageControl(begin=influxd.stop, end=influxd.start)
        report = asyncio.run(run_virtual_ingest(config, store, outage=outage))
        assert influxd.running
        assert report.store_outages and report.store_outages[0].duration_s >= outage_s
        assert report.gateway.store_outages == 1 and report.gateway.drained
        for athlete in report.athletes:
            for label, sensor in athlete.sensors.items():
                exact = sum(influxql_count(store, m, sensor.device) for m in MEASUREMENTS[label])
                assert exact == sensor.delivered == sensor.stored, (athlete.athlete, label, sensor, exact)
        (result,) = store.query('SELECT count("store_ok") FROM "gateway" WHERE "store_ok" = false')
        assert result.get("series"), "telemetry recorded the outage"
        assert report.ok
    finally:
        if not influxd.running:
            influxd.start()
        store.close()


@pytest.mark.influx
def test_influxd_down_for_10_s_mid_run_loses_and_duplicates_nothing(influxd, tmp_path):
    outage_run(influxd, tmp_path, outage_s=10.0, duration_s=24.0)
