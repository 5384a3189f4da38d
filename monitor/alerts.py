"""Prevention-visit alerts: the webhook sender, the alert payload and the durable episode state.

An *episode* is a run of days on which the analysis recommends a preventive IDN visit for one athlete; it ends
once the recommendation has been false on `end_after_days` consecutive days (default 3). At most one alert is
sent per athlete and episode. The episode is identified by its first day: `episode_id = "idn/<athlete>/<date>"`,
sent in the payload and as the `Idempotency-Key` header, so a receiver can drop a duplicate delivery.

`EpisodeState` records each acknowledged (2xx) alert in a small JSON file, replaced atomically and fsync'd, and
locked so that two `serve` processes never share it. It is written only after the receiver acknowledged.

Guarantee (with `monitor.service.episodes`, which also records each acknowledged alert as an `alert` point in the
store): restarts, and the loss of either the state file or the store's `alert` points, never re-alert an episode.
The one window for a second delivery is a crash or failed write between the receiver's 2xx and the state write;
the re-sent alert carries the same `episode_id`, so a receiver deduplicating on it sees each episode exactly
once. Run one `serve` per store: separate state files on one store could race.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import random
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ingest.retry import backoff_delay_s, parse_retry_after
from monitor.flags import Flag, json_number

PAYLOAD_SCHEMA = "recovery-monitor/prevention-visit/v1"
STATE_VERSION = 1
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


class StateError(Exception):
    """The episode state file cannot be read, written or locked."""


# -- episodes -------------------------------------------------------------------------------------------------


def episode_id(athlete: str, start: dt.date) -> str:
    """The idempotency key of an athlete's episode starting on `start`."""
    return f"idn/{athlete}/{start.isoformat()}"


def open_episode_start(
    days: Mapping[dt.date, bool], first: dt.date, as_of: dt.date, end_after_days: int
) -> dt.date | None:
    """First day of the episode still open on `as_of`, or None.

    Walks back from `as_of` to `first` over recommended days and gaps of fewer than `end_after_days` consecutive
    not-recommended days; a day missing from `days` neither extends nor ends an episode.
    """
    if end_after_days < 1:
        raise ValueError(f"end_after_days must be ≥ 1 (got {end_after_days})")
    start, run = None, 0
    day = as_of
    while day >= first:
        value = days.get(day)
        if value is True:
            start, run = day, 0
        elif value is False:
            run += 1
            if run >= end_after_days:
                break
        day -= dt.timedelta(days=1)
    return start


# -- payload --------------------------------------------------------------------------------------------------


def reason_json(flag: Flag) -> dict[str, Any]:
    """One flag as a reason: signal, family, severity, value, threshold, window, since and the explanation."""
    reason = {key: value for key, value in flag.to_json().items() if key != "athlete"}
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


# -- durable state --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRecord:
    """One acknowledged alert: the episode it announced and the receiver's answer."""

    athlete: str
    episode_id: str
    episode_start: dt.date
    sent_ms: int
    http_status: int

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "episode_start": self.episode_start.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertRecord:
        return cls(
            athlete=str(data["athlete"]),
            episode_id=str(data["episode_id"]),
            episode_start=dt.date.fromisoformat(str(data["episode_start"])),
            sent_ms=int(data["sent_ms"]),
            http_status=int(data["http_status"]),
        )


def latest(*records: AlertRecord | None) -> AlertRecord | None:
    """The record of the most recent episode among those given."""
    present = [r for r in records if r is not None]
    return max(present, key=lambda r: (r.episode_start, r.sent_ms)) if present else None


class EpisodeState:
    """The last acknowledged alert per athlete, in a JSON file replaced atomically (fsync'd) and locked."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.path.with_name(self.path.name + ".lock"), "a")  # noqa: SIM115 (held until close)
        except OSError as exc:
            raise StateError(f"state file {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise StateError(f"state file {self.path} is in use by another `recovery-monitor serve`") from None
        self._records = self._load()

    def _load(self) -> dict[str, AlertRecord]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            self.close()
            raise StateError(f"state file {self.path}: unreadable ({exc}); move it away to start afresh") from None
        try:
            return {a: AlertRecord.from_json(r) for a, r in (data.get("athletes") or {}).items()}
        except (KeyError, TypeError, ValueError) as exc:
            self.close()
            raise StateError(f"state file {self.path}: unexpected content ({exc!r})") from None

    def close(self) -> None:
        """Release the lock."""
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def last(self, athlete: str) -> AlertRecord | None:
        return self._records.get(athlete)

    def records(self) -> list[AlertRecord]:
        return [self._records[a] for a in sorted(self._records)]

    def record(self, record: AlertRecord) -> None:
        """Remember `record` as the athlete's latest alert and make it durable before returning."""
        records = {**self._records, record.athlete: latest(self._records.get(record.athlete), record) or record}
        body = {"version": STATE_VERSION, "athletes": {a: r.to_json() for a, r in sorted(records.items())}}
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w") as handle:
                    json.dump(body, handle, indent=2)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise StateError(f"state file {self.path}: cannot write ({exc.strerror or exc})") from None
        self._records = records
