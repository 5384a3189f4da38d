"""One monitoring cycle and the polling loop of `recovery-monitor serve`.

A cycle: analyse every athlete (writes `daily` and `flag` points for the last `window_days` days, flags of
post-visit days marked), send one `episode_closed` event per announced episode that ended and one webhook alert per
new prevention-visit episode (docs/episodes.md), one `post_visit_care` reminder per visit whose quiet window runs,
then annotate flag episodes in Grafana. The loop polls the store every `interval_s` and runs a cycle at start, on a
new UTC day, when new `session` or `readiness` points or visits arrived, when woken (`Monitor.wake`, e.g. by the
visit API), after a failed run or undelivered event, and at the latest every `rerun_s`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from dashboards.grafana_api import GrafanaApi, GrafanaError
from ingest.store import RetryBudget, open_store, resolve_store_url
from ingest.store.base import PointBatch, Store
from ingest.store.errors import StoreError
from ingest.timeline import day_start_ms
from ingest.visits import Visit
from monitor.alerts import (
    AftercareRecord,
    AlertError,
    AlertRecord,
    AlertUnavailable,
    EpisodeState,
    StateError,
    WebhookSender,
    aftercare_key,
    alert_payload,
    closed_key,
    episode_closed_payload,
    episode_id,
    latest,
    post_visit_care_payload,
)
from monitor.lifecycle import quiet_ms
from monitor.service.aftercare import aftercare_batch, running_visits, stored_aftercare
from monitor.service.analysis import Recommendation, analyze_all
from monitor.service.cycle import CycleReport, Fingerprint, epoch_ms, fingerprint, iso
from monitor.service.episodes import alert_batch, decide, reconcile, stored_alerts
from monitor.thresholds import IdnThresholds, load_thresholds

WAKE_POLL_S = 0.2  # how soon a sleeping loop notices `Monitor.wake`

log = logging.getLogger("recovery-monitor.serve")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
        self._fingerprint: Fingerprint | None = None
        self._retry_alerts = False
        self._wake = threading.Event()
        self._idn: IdnThresholds = load_thresholds(config.thresholds_path).idn
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

    def _due(self, now: dt.datetime, prints: Fingerprint) -> str | None:
        last = self._last
        if last is None:
            return "start"
        if self._wake.is_set():
            return "woken"
        if not last.analysed:
            return "retry after failure"
        if self._retry_alerts:
            return "retry undelivered alerts"
        if now.date() != last.as_of:
            return "new day"
        if self._fingerprint is None or prints.counts != self._fingerprint.counts:
            return "new data"
        if prints.visits != self._fingerprint.visits:
            return "new visit"
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
            prints = fingerprint(store, now, quiet_ms(self._idn.quiet_hours))
            reason = "forced" if force else self._due(now, prints)
            with self._lock:
                self._last_poll = now
            if reason is None:
                return None
            report.reason = reason
            self._wake.clear()  # a wake-up from here on asks for another cycle
            self._cycle(store, report)
            self._fingerprint = fingerprint(store, now, quiet_ms(self._idn.quiet_hours))
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
        self._idn = load_thresholds(self.config.thresholds_path).idn
        recommendations = analyze_all(
            store, report.as_of, write_days=self.config.window_days, thresholds_path=self.config.thresholds_path
        )
        report.athletes = len(recommendations)
        self._retry_alerts = False
        stored = stored_alerts(store)
        for rec in recommendations:
            if rec.recommended:
                report.recommended.append(rec.athlete)
            previous = latest(self.state.last(rec.athlete), stored.get(rec.athlete))
            if not rec.recommended and (previous is None or previous.closed):
                continue  # nothing to announce, and no announced episode that may have ended
            try:
                self._episode(store, rec, stored.get(rec.athlete), report)
            except AlertError as exc:
                self._undelivered(rec.athlete, exc, report)
        self._aftercare(store, report)
        self._annotate(store, report)
        report.analysed = True
        log.info(
            "cycle (%s) on %s: %d athletes, %d recommended, %d alerts, %d episode ends, %d reminders sent, in %.2f s",
            report.reason,
            report.as_of,
            report.athletes,
            len(report.recommended),
            len(report.alerts_sent),
            len(report.episodes_closed),
            len(report.aftercare_sent),
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

    def _undelivered(self, athlete: str, exc: AlertError, report: CycleReport) -> None:
        report.alert_errors.append(f"{athlete}: {exc}")
        self._retry_alerts |= isinstance(exc, AlertUnavailable)
        log.warning("webhook event for %s not delivered: %s", athlete, exc)

    def _episode(self, store: Store, rec: Recommendation, stored: AlertRecord | None, report: CycleReport) -> None:
        """Announce the end of the athlete's last announced episode, then a new episode (`monitor.lifecycle`)."""
        decision = decide(
            store,
            self.state,
            rec.athlete,
            rec.as_of,
            now_ms=epoch_ms(report.started),
            stored=stored,
            recommended=rec.recommended,
            window_days=self.config.window_days,
            end_after_days=self.config.end_after_days,
            max_days=self._idn.episode_max_days,
            quiet_window_ms=quiet_ms(self._idn.quiet_hours),
        )
        closing = decision.closing
        if closing is not None:
            if self.sender is None:
                return
            window_start = day_start_ms(rec.as_of - dt.timedelta(days=self.config.window_days - 1))
            if (closing.closed_ms or 0) < window_start:  # e.g. the first run after an upgrade: old news
                log.info(
                    "%s ended (%s) before the analysed days: recorded, not sent",
                    closing.episode_id,
                    closing.closed_reason,
                )
                reconcile(store, self.state, closing, decision.stored)
            else:
                self._closed(store, closing, report)  # before any new episode: the clinic hears of events in order
        elif decision.previous is not None:
            reconcile(store, self.state, decision.previous, decision.stored)
        new = decision.new_episode
        if not rec.recommended:
            return
        if new is None:
            if decision.previous is not None:
                report.alerts_known.append(decision.previous.episode_id)
            return
        if self.sender is not None:
            self._alert(store, rec, new.start, report)

    def _closed(self, store: Store, closing: AlertRecord, report: CycleReport) -> None:
        assert self.sender is not None
        delivery = self.sender.send(episode_closed_payload(closing, self._clock()), closed_key(closing.episode_id))
        record = replace(closing, closed_status=delivery.status)
        self.state.record(record)  # acknowledged: durable before anything else can fail
        report.episodes_closed.append(record.episode_id)
        log.info("%s closed (%s) announced (HTTP %d)", record.episode_id, record.closed_reason, delivery.status)
        _store_copy(store, alert_batch(record), f"end of {record.episode_id}")

    def _alert(self, store: Store, rec: Recommendation, start: dt.date, report: CycleReport) -> None:
        assert self.sender is not None
        key = episode_id(rec.athlete, start)
        sent_at = self._clock()
        payload = alert_payload(
            rec.athlete, rec.as_of, start, rec.flags, rec.reasons, self.dashboard_link(rec.athlete), sent_at
        )
        delivery = self.sender.send(payload, key)
        record = AlertRecord(rec.athlete, key, start, epoch_ms(sent_at), delivery.status)
        self.state.record(record)  # acknowledged: durable before anything else can fail
        report.alerts_sent.append(key)
        log.info("alert %s delivered (HTTP %d, attempt %d)", key, delivery.status, delivery.attempts)
        _store_copy(store, alert_batch(record), f"alert {key}")

    # -- after-care ------------------------------------------------------------------------------------------

    def _aftercare(self, store: Store, report: CycleReport) -> None:
        """One `post_visit_care` event per visit whose quiet window runs, unless the state file or the store
        already records it (then the other one is brought up to date)."""
        window, now_ms = quiet_ms(self._idn.quiet_hours), epoch_ms(report.started)
        visits = running_visits(store, now_ms, window)
        if not visits:
            return
        acknowledged = stored_aftercare(store, now_ms - window + 1, now_ms + 1)
        for visit in visits:
            mine, stored = self.state.aftercare(visit.visit_id), acknowledged.get(visit.visit_id)
            if stored is not None and mine is None:
                self.state.record_aftercare(stored)
            elif mine is not None and stored is None:
                store.write([aftercare_batch(mine)])
            if mine is not None or stored is not None or self.sender is None:
                continue
            try:
                self._remind(store, visit, visit.at_ms + window, report)
            except AlertError as exc:
                self._undelivered(visit.athlete, exc, report)

    def _remind(self, store: Store, visit: Visit, until_ms: int, report: CycleReport) -> None:
        assert self.sender is not None
        sent_at = self._clock()
        advice = self._idn.aftercare_advice
        payload = post_visit_care_payload(
            visit.athlete, visit.visit_id, visit.regions, visit.at_ms, until_ms, advice, sent_at
        )
        delivery = self.sender.send(payload, aftercare_key(visit.visit_id))
        sent_ms = epoch_ms(sent_at)
        record = AftercareRecord(visit.athlete, visit.visit_id, visit.at_ms, until_ms, sent_ms, delivery.status)
        self.state.record_aftercare(record)  # acknowledged: durable before anything else can fail
        report.aftercare_sent.append(visit.visit_id)
        log.info("after-care reminder for %s delivered (HTTP %d)", visit.visit_id, delivery.status)
        _store_copy(store, aftercare_batch(record), f"after-care reminder {visit.visit_id}")

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
        """Tick every `interval_s` (sooner when woken) until `stop` is set."""
        while not stop.is_set():
            self.tick()
            deadline = time.monotonic() + self.config.interval_s
            while not (stop.is_set() or self._wake.is_set()) and (left := deadline - time.monotonic()) > 0:
                stop.wait(min(left, WAKE_POLL_S))

    def wake(self) -> None:
        """Ask for a cycle at the next poll, which comes at once (e.g. a visit was recorded through the API)."""
        self._wake.set()

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
            "last_poll": iso(last_poll),
            "store": self._store_url,
            "athletes": last.athletes if last else None,
            "alerts": {"webhook": self.sender.where if self.sender else None, "sent_since_start": total},
            "grafana": self.grafana.url if self.grafana else None,
        }
        return (200 if status in ("ok", "degraded") else 503), body


def _store_copy(store: Store, batch: PointBatch, what: str) -> None:
    """The store's copy of what the state file already records (a lost state file is rebuilt from it); a store
    failure leaves the state file's record as the only one, with a warning."""
    try:
        store.write([batch])
    except StoreError as exc:
        log.warning("%s recorded in the state file only (store: %s)", what, exc)
