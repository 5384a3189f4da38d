"""What one cycle of `serve` did (`CycleReport`), and the store's fingerprint that tells whether one is due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ingest.store.base import Store
from ingest.timeline import day_start_ms
from ingest.visits import read_visits

TRIGGER_MEASUREMENTS = ("session", "readiness")
TRIGGER_DAYS = 2


def iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def epoch_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class CycleReport:
    """What one cycle did. `analysed` is False when the analysis could not run (e.g. the store is unreachable);
    `ok` is True only when the cycle did everything asked of it: analysed, every alert delivered, annotations
    published. `serve --once` exits 0 exactly when `ok`."""

    started: dt.datetime
    as_of: dt.date
    reason: str
    analysed: bool = False
    error: str | None = None
    finished: dt.datetime | None = None
    athletes: int = 0
    recommended: list[str] = field(default_factory=list)
    alerts_sent: list[str] = field(default_factory=list)
    alerts_known: list[str] = field(default_factory=list)
    episodes_closed: list[str] = field(default_factory=list)
    aftercare_sent: list[str] = field(default_factory=list)
    alert_errors: list[str] = field(default_factory=list)
    annotations: dict[str, int] = field(default_factory=dict)
    grafana_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.analysed and not self.alert_errors and self.grafana_error is None

    def summary(self) -> dict[str, Any]:
        """Counts only (no athlete IDs): what the health check shows."""
        body = self.to_json()
        for name in ("recommended", "alerts_sent", "alerts_known", "episodes_closed", "aftercare_sent", "alert_errors"):
            body[name] = len(body[name])
        return body

    def to_json(self) -> dict[str, Any]:
        return {
            "started": iso(self.started),
            "finished": iso(self.finished),
            "as_of": self.as_of.isoformat(),
            "reason": self.reason,
            "ok": self.ok,
            "analysed": self.analysed,
            "error": self.error,
            "athletes": self.athletes,
            "recommended": self.recommended,
            "alerts_sent": self.alerts_sent,
            "alerts_known": self.alerts_known,
            "episodes_closed": self.episodes_closed,
            "aftercare_sent": self.aftercare_sent,
            "alert_errors": self.alert_errors,
            "annotations": self.annotations,
            "grafana_error": self.grafana_error,
        }


@dataclass(frozen=True)
class Fingerprint:
    """Point counts of the trigger measurements over the last days, and the visits (IDs) that happened in the last
    days or quiet window: a change means new data, or a visit recorded, removed or just begun."""

    counts: tuple[int, ...]
    visits: tuple[str, ...]


def fingerprint(store: Store, now: dt.datetime, window_ms: int) -> Fingerprint:
    since = day_start_ms(now.date() - dt.timedelta(days=TRIGGER_DAYS))
    now_ms = epoch_ms(now)
    visits = read_visits(store, start_ms=min(since, now_ms - window_ms), end_ms=now_ms + 1)
    counts = tuple(store.count(measurement, None, since) for measurement in TRIGGER_MEASUREMENTS)
    return Fingerprint(counts, tuple(sorted(v.visit_id for v in visits)))
