"""One monitoring cycle and the polling loop of `recovery-monitor serve`.

A cycle: analyse every athlete (writes `daily` and `flag` points for the last `window_days` days), send one
webhook alert per new prevention-visit episode, then annotate flag episodes in Grafana. The loop polls the store
every `interval_s` and runs a cycle at start, on a new UTC day, when new `session` or `readiness` points arrived,
after a failed run or undelivered alert, and at the latest every `rerun_s`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from dashboards.grafana_api import GrafanaApi, GrafanaError
from ingest.store import RetryBudget, open_store, resolve_store_url
from ingest.store.base import Store
from ingest.store.errors import StoreError
from ingest.timeline import day_start_ms
from monitor.alerts import (
    AlertError,
    AlertRecord,
    AlertUnavailable,
    EpisodeState,
    StateError,
    WebhookSender,
    alert_payload,
    episode_id,
)
from monitor.service.analysis import Recommendation, analyze_all
from monitor.service.episodes import alert_batch, decide, reconcile

TRIGGER_MEASUREMENTS = ("session", "readiness")
TRIGGER_DAYS = 2

log = logging.getLogger("recovery-monitor.serve")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


@dataclass(frozen=True)
class ServeConfig:
    """Settings of the monitor loop (see `recovery-monitor serve --help`)."""

    store_url: str | None = None
    interval_s: float = 60.0
    rerun_s: float = 3600.0
    window_days: int = 14
    end_after_days: int = 3
    store_timeout_s: float = 60.0
    dashboard_url: str | None = None
    thresholds_path: str | None = None

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.rerun_s <= 0 or self.store_timeout_s <= 0:
            raise ValueError("--interval, --rerun and --store-timeout must be positive")
        if self.end_after_days < 1 or self.window_days <= self.end_after_days:
            raise ValueError(
                f"--episode-end-days must be ≥ 1 and --window-days larger (got {self.end_after_days}, "
                f"{self.window_days})"
            )


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
    alert_errors: list[str] = field(default_factory=list)
    annotations: dict[str, int] = field(default_factory=dict)
    grafana_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.analysed and not self.alert_errors and self.grafana_error is None

    def summary(self) -> dict[str, Any]:
        """Counts only (no athlete IDs): what the health check shows."""
        body = self.to_json()
        for name in ("recommended", "alerts_sent", "alerts_known", "alert_errors"):
            body[name] = len(body[name])
        return body

    def to_json(self) -> dict[str, Any]:
        return {
            "started": _iso(self.started),
            "finished": _iso(self.finished),
            "as_of": self.as_of.isoformat(),
            "reason": self.reason,
            "ok": self.ok,
            "analysed": self.analysed,
            "error": self.error,
            "athletes": self.athletes,
            "recommended": self.recommended,
            "alerts_sent": self.alerts_sent,
            "alerts_known": self.alerts_known,
            "alert_errors": self.alert_errors,
            "annotations": self.annotations,
            "grafana_error": self.grafana_error,
        }


def fingerprint(store: Store, now: dt.datetime) -> tuple[int, ...]:
    """Point counts of the trigger measurements over the last days: a change means new data arrived."""
    since = day_start_ms(now.date() - dt.timedelta(days=TRIGGER_DAYS))
    return tuple(store.count(measurement, None, since) for measurement in TRIGGER_MEASUREMENTS)


class Monitor:
    """The analysis → alerts → annotations cycle over one store, with its health status."""

    def __init__(
        self,
        config: ServeConfig,
        state: EpisodeState,
        *,
        sender: WebhookSender | None = None,
        grafana: GrafanaApi | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.config = config
        self.state = state
        self.sender = sender
        self.grafana = grafana
        self._clock = clock
        self._lock = threading.Lock()
        self._last: CycleReport | None = None
        self._last_poll: dt.datetime | None = None
        self._fingerprint: tuple[int, ...] | None = None
        self._retry_alerts = False
        self._alerts_total = 0
        self._store_url = resolve_store_url(config.store_url)
        if sender is None:
            log.warning("no --webhook-url or ALERT_WEBHOOK_URL: prevention-visit alerts are not sent")

    # -- store ------------------------------------------------------------------------------------------------

    def _open_store(self) -> Store:
        budget = RetryBudget(max_total_s=min(RetryBudget().max_total_s, self.config.store_timeout_s))
        store = open_store(self.config.store_url, retry=budget)
        self._store_url = store.url
        return store

    # -- one tick ---------------------------------------------------------------------------------------------

    def _due(self, now: dt.datetime, prints: tuple[int, ...]) -> str | None:
        last = self._last
        if last is None:
            return "start"
        if not last.analysed:
            return "retry after failure"
        if self._retry_alerts:
            return "retry undelivered alerts"
        if now.date() != last.as_of:
            return "new day"
        if prints != self._fingerprint:
            return "new data"
        if (now - last.started).total_seconds() >= self.config.rerun_s:
            return "periodic"
        return None

    def tick(self, *, force: bool = False) -> CycleReport | None:
        """Poll the store and run a cycle when one is due (always when `force`); None when nothing was due."""
        now = self._clock()
        report = CycleReport(now, now.date(), "forced" if force else "poll")
        store: Store | None = None
        try:
            store = self._open_store()
            prints = fingerprint(store, now)
            reason = "forced" if force else self._due(now, prints)
            with self._lock:
                self._last_poll = now
            if reason is None:
                return None
            report.reason = reason
            self._cycle(store, report)
            self._fingerprint = fingerprint(store, now)
        except (StoreError, StateError, OSError, ValueError) as exc:
            report.error = " ".join(str(exc).split())
            log.error("cycle failed: %s", report.error)
        except Exception as exc:  # a long-running service reports the failure and keeps polling
            report.error = f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            log.exception("cycle failed")
        finally:
            if store is not None:
                store.close()
        report.finished = self._clock()
        with self._lock:
            self._last = report
            self._alerts_total += len(report.alerts_sent)
        return report

    def _cycle(self, store: Store, report: CycleReport) -> None:
        clock = time.perf_counter()
        recommendations = analyze_all(
            store, report.as_of, write_days=self.config.window_days, thresholds_path=self.config.thresholds_path
        )
        report.athletes = len(recommendations)
        self._retry_alerts = False
        for rec in recommendations:
            if not rec.recommended:
                continue
            report.recommended.append(rec.athlete)
            try:
                self._alert(store, rec, report)
            except AlertError as exc:
                report.alert_errors.append(f"{rec.athlete}: {exc}")
                self._retry_alerts |= isinstance(exc, AlertUnavailable)
                log.warning("alert for %s not delivered: %s", rec.athlete, exc)
        self._annotate(store, report)
        report.analysed = True
        log.info(
            "cycle (%s) on %s: %d athletes, %d recommended, %d alerts sent, in %.2f s",
            report.reason,
            report.as_of,
            report.athletes,
            len(report.recommended),
            len(report.alerts_sent),
            time.perf_counter() - clock,
        )

    # -- alerts -----------------------------------------------------------------------------------------------

    def dashboard_link(self, athlete: str) -> str | None:
        """The Grafana athlete detail dashboard of `athlete`, when a Grafana URL is known."""
        if not self.config.dashboard_url:
            return None
        from dashboards.panels import ATHLETE_UID

        base = self.config.dashboard_url.rstrip("/")
        return f"{base}/d/{ATHLETE_UID}/athlete-detail?var-athlete={quote(athlete, safe='')}"

    def _alert(self, store: Store, rec: Recommendation, report: CycleReport) -> None:
        decision = decide(
            store,
            self.state,
            rec.athlete,
            rec.as_of,
            window_days=self.config.window_days,
            end_after_days=self.config.end_after_days,
        )
        if not decision.new_episode:
            assert decision.previous is not None
            reconcile(store, self.state, decision.previous, decision.stored)
            report.alerts_known.append(decision.previous.episode_id)
            return
        if self.sender is None:
            return
        key = episode_id(rec.athlete, decision.start)
        sent_at = self._clock()
        payload = alert_payload(
            rec.athlete, rec.as_of, decision.start, rec.flags, rec.reasons, self.dashboard_link(rec.athlete), sent_at
        )
        delivery = self.sender.send(payload, key)
        record = AlertRecord(rec.athlete, key, decision.start, int(sent_at.timestamp() * 1000), delivery.status)
        self.state.record(record)  # acknowledged: durable before anything else can fail
        report.alerts_sent.append(key)
        log.info("alert %s delivered (HTTP %d, attempt %d)", key, delivery.status, delivery.attempts)
        try:
            store.write([alert_batch(record)])
        except StoreError as exc:
            log.warning("alert %s recorded in the state file only (store: %s)", key, exc)

    # -- Grafana ----------------------------------------------------------------------------------------------

    def _annotate(self, store: Store, report: CycleReport) -> None:
        if self.grafana is None:
            return
        from dashboards.flag_source import episodes, read_flags
        from dashboards.publish import PublishReport, publish_annotations

        since = day_start_ms(report.as_of - dt.timedelta(days=self.config.window_days - 1))
        counts = PublishReport()
        try:
            publish_annotations(self.grafana, episodes(read_flags(store, start_ms=since)), counts)
        except GrafanaError as exc:
            report.grafana_error = str(exc)
            log.warning("annotations not published: %s", exc)
        report.annotations = dict(counts.actions.get("annotations", {}))

    # -- loop and health --------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Tick every `interval_s` until `stop` is set."""
        while not stop.is_set():
            self.tick()
            stop.wait(self.config.interval_s)

    def health(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) of the health check: 200 while the last analysis run succeeded, else 503."""
        with self._lock:
            last, last_poll, total = self._last, self._last_poll, self._alerts_total
        if last is None:
            status = "starting"
        elif not last.analysed:
            status = "failing"
        else:
            status = "ok" if last.ok else "degraded"
        body = {
            "status": status,
            "last_run": None if last is None else last.summary(),
            "last_poll": _iso(last_poll),
            "store": self._store_url,
            "athletes": last.athletes if last else None,
            "alerts": {"webhook": self.sender.where if self.sender else None, "sent_since_start": total},
            "grafana": self.grafana.url if self.grafana else None,
        }
        return (200 if status in ("ok", "degraded") else 503), body
