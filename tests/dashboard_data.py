"""Synthetic points for the fields the dashboards query but `demo` does not write yet.

The analytics issue (load, resting HR, asymmetry, `recommend_idn_visit`), live footpod, power-meter and muscle-pod
streams (`rsc`, `power`, `stride`) and the gateway's telemetry (`gateway`, `device_state`) will write these; until
then the tests write a few points of each so every dashboard query is checked against real InfluxQL semantics.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.store.base import PointBatch

DAY_MS = 86_400_000


def _day_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def future_batches(athlete: str, today: dt.date, now_ms: int, days: int = 21) -> list[PointBatch]:
    """`days` of daily indicators, sessions and flags; 10 minutes of live streams and 3 h of gateway telemetry."""
    rng = np.random.default_rng(11)
    day_ms = np.array([_day_ms(today - dt.timedelta(days=days - 1 - i)) for i in range(days)], np.int64)
    acwr = np.linspace(0.9, 1.6, days)
    ctl = np.linspace(40.0, 55.0, days)
    atl = ctl * acwr
    tag = {"athlete": athlete}
    daily = PointBatch(
        "daily",
        tag,
        day_ms,
        {
            "ln_rmssd_7d": 4.2 - np.linspace(0, 0.4, days),
            "ln_rmssd_lower_bound": np.full(days, 4.05),
            "ln_rmssd_baseline_mean": np.full(days, 4.2),
            "ln_rmssd_baseline_sd": np.full(days, 0.3),
            "readings_7d": np.full(days, 7, np.int64),
            "status": np.array(["ok"] * (days - 3) + ["suppressed"] * 3, dtype=object),
            "acwr": acwr,
            "ctl": ctl,
            "atl": atl,
            "tsb": ctl - atl,
            "rhr_7d": np.linspace(48.0, 53.0, days),
            "gct_symmetry_index_pct": np.linspace(4.0, 13.0, days),
            "recommend_idn_visit": np.array([False] * (days - 1) + [True]),
        },
    )
    session_ms = day_ms + 17 * 3_600_000
    session = PointBatch(
        "session",
        {"athlete": athlete, "source": "fit", "sport": "run"},
        session_ms,
        {
            "duration_s": rng.uniform(2400, 4200, days),
            "distance_m": rng.uniform(6000, 14000, days),
            "avg_hr_bpm": rng.uniform(135, 155, days),
            "max_hr_bpm": rng.uniform(170, 185, days),
            "rpe": rng.uniform(3, 8, days),
            "srpe_load": rng.uniform(200, 600, days),
            "trimp": rng.uniform(60, 160, days),
            "cadence_spm": rng.uniform(165, 180, days),
            "gct_symmetry_index_pct": np.linspace(3.0, 14.0, days),
            "muscle_symmetry_index_pct": np.linspace(-2.0, -11.0, days),
            "pedal_symmetry_index_pct": rng.uniform(-4, 4, days),
        },
    )
    watch = PointBatch(
        "flag",
        {"athlete": athlete, "family": "load", "signal": "acwr_high", "severity": "watch"},
        day_ms[-3:],
        {
            "value": acwr[-3:],
            "threshold": np.full(3, 1.5),
            "window": np.array(["7d acute vs 28d chronic load"] * 3, dtype=object),
            "since": np.array([(today - dt.timedelta(days=2)).isoformat()] * 3, dtype=object),
            "reason": np.array(["ACWR above 1.5"] * 3, dtype=object),
            "post_visit": np.zeros(3, bool),  # as the analysis writes it: outside a visit's quiet window
        },
    )
    seconds = np.arange(now_ms - 600_000, now_ms, 1000, dtype=np.int64)
    n = len(seconds)
    live = {"athlete": athlete, "source": "ble"}
    rsc = PointBatch(
        "rsc",
        {**live, "device": "footpod"},
        seconds,
        {"cadence_spm": rng.integers(168, 176, n).astype(np.int64), "speed_mps": rng.normal(3.5, 0.1, n)},
    )
    power = PointBatch(
        "power",
        {**live, "device": "crank"},
        seconds,
        {
            "power_w": rng.integers(180, 260, n).astype(np.int64),
            "cadence_rpm": rng.normal(88, 3, n),
            "pedal_balance_left_pct": rng.normal(51, 1, n),
        },
    )
    strides = []
    for side, gct, emg in (("left", 250.0, 40.0), ("right", 240.0, 44.0)):
        strides.append(
            PointBatch(
                "stride",
                {**live, "device": f"pod-{side}", "side": side, "muscle": "gastrocnemius"},
                seconds + (0 if side == "left" else 350),
                {
                    "gct_ms": np.rint(rng.normal(gct, 5, n)).astype(np.int64),
                    "emg_rms_pct_mvc": rng.normal(emg, 3, n),
                    "seq": np.arange(n, dtype=np.int64),
                },
            )
        )
    minutes = np.arange(now_ms - 3 * 3_600_000, now_ms, 60_000, dtype=np.int64)
    m = len(minutes)
    gateway = PointBatch(
        "gateway",
        {"gateway": "club-gw-1"},
        minutes,
        {
            "devices_connected": np.full(m, 2, np.int64),
            "spool_points": rng.integers(0, 50, m).astype(np.int64),
            "ingest_lag_ms": rng.uniform(50, 400, m),
            "reconnects": np.cumsum(rng.integers(0, 2, m)).astype(np.int64),
        },
    )
    device = PointBatch(
        "device_state",
        {"gateway": "club-gw-1", "device": "footpod", "athlete": athlete},
        minutes,
        {
            "state": np.array(["connected"] * (m - 2) + ["disconnected", "connected"], dtype=object),
            "rssi_dbm": rng.integers(-80, -50, m).astype(np.int64),
            "battery_pct": np.full(m, 87, np.int64),
            "reconnects": np.array([0] * (m - 1) + [1], np.int64),
        },
    )
    return [daily, session, watch, rsc, power, *strides, gateway, device]
