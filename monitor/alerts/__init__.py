"""Webhook events for the clinic: the sender and the payloads (prevention-visit alert, episode end, after-care).

An *episode* is a run of days on which the analysis recommends a preventive IDN visit for one athlete
(`monitor.lifecycle`, docs/episodes.md). At most one alert is sent per athlete and episode, and one
`episode_closed` event when it ends (`treated` by a visit, `resolved`, `expired`). The episode is identified by its
first day: `episode_id = "idn/<athlete>/<date>"`, sent in the payload and as the `Idempotency-Key` header (its end:
`<episode_id>/closed`), so a receiver can drop a duplicate delivery. After each visit, one `post_visit_care` event
carries the clinic's after-care advice (key `post_visit_care/<visit_id>`). Receivers dispatch on `event`.

Guarantee (with `monitor.alerts.state`, the state file, and `monitor.service`, which also records each acknowledged
event in the store): restarts, and the loss of either the state file or the store's records, never repeat an
event. The one window for a second delivery is a crash or failed write between the receiver's 2xx and the state
write; the re-sent event carries the same idempotency key, so a receiver deduplicating on it sees each event
exactly once. Run one `serve` per store: separate state files on one store could race.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from ingest.retry import backoff_delay_s, parse_retry_after
from ingest.timeline import iso_utc
from monitor.alerts.state import AftercareRecord as AftercareRecord  # the durable state, re-exported with the sender
from monitor.alerts.state import AlertRecord as AlertRecord
from monitor.alerts.state import EpisodeState as EpisodeState
from monitor.alerts.state import StateError as StateError
from monitor.alerts.state import latest as latest
from monitor.flags import Flag, json_number

PAYLOAD_SCHEMA = "recovery-monitor/prevention-visit/v1"
RETRY_STATUSES = frozenset({408, 425, 429})
_MAX_DETAIL = 160

log = logging.getLogger("recovery-monitor.alerts")


class AlertError(Exception):
    """An alert could not be delivered; the message is one line and never contains the URL's path or a token."""


class AlertUnavailable(AlertError):
    """The receiver could not be reached, timed out or kept answering 5xx/429 until the retries ran out."""


class AlertRejected(AlertError):
    """The receiver refused the alert for good (a 4xx other than 408/425/429): retrying would not help."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# -- episodes -------------------------------------------------------------------------------------------------


def episode_id(athlete: str, start: dt.date) -> str:
    """The idempotency key of an athlete's episode starting on `start`."""
    return f"idn/{athlete}/{start.isoformat()}"


# -- payload --------------------------------------------------------------------------------------------------


def reason_json(flag: Flag) -> dict[str, Any]:
    """One flag as a reason: signal, family, severity, value, threshold, window, since and the explanation (no
    `post_visit`: a post-visit day opens no episode, so an alert's flags never carry it)."""
    reason = {key: value for key, value in flag.to_json().items() if key not in ("athlete", "post_visit")}
    return reason | {"value": json_number(flag.value, 4), "threshold": json_number(flag.threshold, 4)}


def alert_payload(
    athlete: str,
    as_of: dt.date,
    start: dt.date,
    flags: Sequence[Flag],
    summary: Sequence[str],
    dashboard_url: str | None,
    sent_at: dt.datetime,
) -> dict[str, Any]:
    """The JSON body of one prevention-visit alert (pseudonymous athlete ID only)."""
    ordered = sorted(flags, key=lambda f: (f.severity != "act", f.since, f.signal))
    return {
        "schema": PAYLOAD_SCHEMA,
        "event": "prevention_visit_recommended",
        "episode_id": episode_id(athlete, start),
        "athlete": athlete,
        "as_of": as_of.isoformat(),
        "episode_start": start.isoformat(),
        "since": min([start, *(f.since for f in flags)]).isoformat(),
        "reasons": [reason_json(f) for f in ordered],
        "summary": list(summary),
        "dashboard_url": dashboard_url,
        "sent_at": sent_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
    }


def episode_closed_payload(record: AlertRecord, sent_at: dt.datetime) -> dict[str, Any]:
    """The JSON body of the `episode_closed` event of an announced episode whose `closed_…` fields are set."""
    if record.closed_reason is None or record.closed_ms is None:
        raise ValueError(f"{record.episode_id} is not closed")
    return {
        "schema": PAYLOAD_SCHEMA,
        "event": "episode_closed",
        "episode_id": record.episode_id,
        "athlete": record.athlete,
        "episode_start": record.episode_start.isoformat(),
        "reason": record.closed_reason,
        "visit_id": record.visit_id,
        "closed_at": iso_utc(record.closed_ms),
        "sent_at": sent_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
    }


def closed_key(episode: str) -> str:
    """The idempotency key of an episode's `episode_closed` event."""
    return f"{episode}/closed"


def aftercare_key(visit_id: str) -> str:
    """The idempotency key of a visit's `post_visit_care` event."""
    return f"post_visit_care/{visit_id}"


def post_visit_care_payload(
    athlete: str, visit_id: str, regions: Sequence[str], at_ms: int, until_ms: int, advice: str, sent_at: dt.datetime
) -> dict[str, Any]:
    """The JSON body of the after-care reminder of one visit: keep to ``advice`` until ``until_ms`` (the end of
    the quiet window, visit + `[idn] quiet_hours`)."""
    return {
        "schema": PAYLOAD_SCHEMA,
        "event": "post_visit_care",
        "athlete": athlete,
        "visit_id": visit_id,
        "regions": list(regions),
        "at": iso_utc(at_ms),
        "until": iso_utc(until_ms),
        "advice": advice,
        "sent_at": sent_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
    }


# -- webhook --------------------------------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """`scheme://host[:port]` of a URL: its path, query and credentials may hold secrets, so they are never logged."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


@dataclass(frozen=True)
class Delivery:
    """An acknowledged delivery: the receiver's status code and the attempts it took."""

    status: int
    attempts: int


class WebhookSender:
    """POSTs JSON alerts to one URL with explicit timeouts and bounded, jittered exponential-backoff retries."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
        retries: int = 4,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        max_total_s: float = 120.0,
        sleep: Callable[[float], object] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook URL {safe_url(url)}…: expected http(s)://HOST[:PORT]/PATH")
        if retries < 0 or backoff_base_s < 0 or connect_timeout_s <= 0 or read_timeout_s <= 0:
            raise ValueError("webhook timeouts must be positive and retries must not be negative")
        self.url = url
        self.where = f"webhook {safe_url(url)}"
        self.retries = retries
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.max_total_s = max_total_s
        self._sleep = sleep
        self._should_stop = should_stop
        self._random = random.Random()
        headers = {"User-Agent": "recovery-monitor", "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
        self._client = httpx.Client(headers=headers, timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"WebhookSender({self.where!r})"

    def close(self) -> None:
        self._client.close()

    def send(self, payload: Mapping[str, Any], idempotency_key: str) -> Delivery:
        """POST `payload` until a 2xx; raises `AlertRejected` (4xx) or `AlertUnavailable` (retries exhausted)."""
        body = json.dumps(payload, sort_keys=True).encode()
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = self._client.post(self.url, content=body, headers={"Idempotency-Key": idempotency_key})
                status = response.status_code
                if 200 <= status < 300:
                    return Delivery(status, attempt)
                problem = f"HTTP {status}"
                if status < 500 and status not in RETRY_STATUSES:
                    raise AlertRejected(f"{self.where}: alert rejected ({problem}{_detail(response)})", status)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.TransportError as exc:
                problem = "connection refused" if "refused" in str(exc).lower() else type(exc).__name__
            elapsed = time.monotonic() - started
            tries = f"{attempt} attempt{'s' * (attempt > 1)}"
            if attempt > self.retries or self._should_stop():
                raise AlertUnavailable(f"{self.where}: {problem}; gave up after {tries} in {elapsed:.1f} s")
            if retry_after is None:
                delay = backoff_delay_s(attempt, self.backoff_base_s, self.backoff_cap_s, self._random)
            else:
                delay = min(retry_after, self.backoff_cap_s)
            if elapsed + delay > self.max_total_s:
                raise AlertUnavailable(f"{self.where}: {problem}; gave up after {tries}: retry budget exhausted")
            log.info("%s: %s; retry %d in %.2f s", self.where, problem, attempt, delay)
            self._sleep(delay)


def _detail(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:_MAX_DETAIL]
    return f": {text}" if text else ""
