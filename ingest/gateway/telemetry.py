"""The gateway's own health as points: ``gateway`` (periodic) and ``device_state`` (every state change)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ingest.gateway.recorders import SampleSink
from ingest.gateway.session import DeviceSession, DeviceState
from ingest.gateway.spool import Spool
from ingest.gateway.writer import SpoolWriter
from ingest.model import DEVICE_STATE, GATEWAY
from ingest.timeline import Clock

logger = logging.getLogger(__name__)


@dataclass
class GatewaySnapshot:
    """One telemetry reading; ``fields`` are what the ``gateway`` point carries."""

    time_ms: int
    fields: dict[str, int | float | bool]


class Telemetry:
    """Computes ``gateway`` readings and writes ``device_state`` transitions, both through the spool."""

    def __init__(self, gateway_id: str, sink: SampleSink, clock: Clock) -> None:
        self.gateway_id = gateway_id
        self.sink = sink
        self.clock = clock
        self._last_notifications = 0
        self._last_at: float | None = None
        self._last_time_ms = -(2**62)
        self._state_times: dict[str, int] = {}

    def device_state(self, session: DeviceSession, state: DeviceState, reason: str) -> None:
        """Log and store one state change of one sensor."""
        spec = session.spec
        level = logging.WARNING if state is DeviceState.LOST else logging.INFO
        logger.log(
            level, "%s (%s, %s): %s%s", spec.key, spec.athlete, spec.profile, state, f" ({reason})" if reason else ""
        )
        now = max(self.clock(), self._state_times.get(spec.key, -(2**62)) + 1)
        self._state_times[spec.key] = now
        tags = {"athlete": spec.athlete, "device": spec.key, "profile": spec.profile, "gateway": self.gateway_id}
        if spec.side:
            tags["side"] = spec.side
        fields: dict[str, np.ndarray] = {
            "state": np.array([str(state)], dtype=object),
            "reconnects": np.array([session.stats.reconnects], np.int64),
        }
        if reason:
            fields["reason"] = np.array([reason], dtype=object)
        if session.stats.battery_pct is not None:
            fields["battery_pct"] = np.array([session.stats.battery_pct], np.int64)
        if session.stats.rssi is not None:
            fields["rssi_dbm"] = np.array([session.stats.rssi], np.int64)
        self.sink.add(DEVICE_STATE.name, tags, np.array([now], np.int64), fields)

    def snapshot(self, sessions: Sequence[DeviceSession], spool: Spool, writer: SpoolWriter) -> GatewaySnapshot:
        """Read the counters now (rates over the time since the previous snapshot)."""
        now = time.monotonic()
        notifications = sum(s.recorder.stats.notifications for s in sessions)
        elapsed = now - self._last_at if self._last_at is not None else 0.0
        rate = (notifications - self._last_notifications) / elapsed if elapsed > 0 else 0.0
        self._last_at, self._last_notifications = now, notifications
        time_ms = max(self.clock(), self._last_time_ms + 1)
        self._last_time_ms = time_ms
        oldest = spool.oldest_pending_arrival_ms()
        fields: dict[str, int | float | bool] = {
            "devices_configured": len(sessions),
            "devices_connected": sum(s.state is DeviceState.CONNECTED for s in sessions),
            "reconnects": sum(s.stats.reconnects for s in sessions),
            "watchdog_trips": sum(s.stats.watchdog_trips for s in sessions),
            "notifications": notifications,
            "notifications_per_s": round(rate, 3),
            "samples": sum(s.recorder.stats.samples for s in sessions),
            "malformed": sum(s.recorder.stats.malformed for s in sessions),
            "sequence_gaps": sum(s.recorder.stats.sequence_gaps for s in sessions),
            "rr_zero_skipped": sum(s.recorder.stats.rr_zero_skipped for s in sessions),
            "spool_points": spool.pending_points,
            "spool_bytes": spool.pending_bytes,
            "spool_rejected": spool.rejected_points,
            "ingest_lag_ms": float(max(time_ms - oldest, 0)) if oldest is not None else 0.0,
            "store_ok": writer.stats.store_ok,
            "store_failures": writer.stats.failures,
        }
        return GatewaySnapshot(time_ms, fields)

    def record(self, snapshot: GatewaySnapshot) -> None:
        """Spool one ``gateway`` point."""
        columns: dict[str, np.ndarray] = {}
        for name, value in snapshot.fields.items():
            if isinstance(value, bool):
                columns[name] = np.array([value])
            elif isinstance(value, int):
                columns[name] = np.array([value], np.int64)
            else:
                columns[name] = np.array([float(value)])
        self.sink.add(GATEWAY.name, {"gateway": self.gateway_id}, np.array([snapshot.time_ms], np.int64), columns)
