"""The durable record of what `serve` delivered: the state file of acknowledged alerts, episode ends and reminders.

`EpisodeState` records each acknowledged (2xx) webhook event in a small JSON file, replaced atomically and
fsync'd, and locked so that two `serve` processes never share it. It is written only after the receiver
acknowledged. Per athlete it keeps the latest announced episode (`AlertRecord`, with how the episode ended once
its `episode_closed` event was acknowledged); per visit the acknowledged after-care reminder (`AftercareRecord`)
while it may still matter (`AFTERCARE_KEEP_MS`). `monitor.service` also writes each record to the store (`alert`
and `aftercare` points), so the loss of either never repeats an event (docs/episodes.md).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATE_VERSION = 2  # 2 added the episode ends and the "aftercare" section; a version-1 file reads as before
AFTERCARE_KEEP_MS = 30 * 86_400_000  # reminders whose quiet window ended longer ago than this are dropped


class StateError(Exception):
    """The episode state file cannot be read, written or locked."""


def _optional(data: Mapping[str, Any], key: str, kind: Callable[[Any], Any]) -> Any:
    return None if data.get(key) is None else kind(data[key])


@dataclass(frozen=True)
class AlertRecord:
    """One acknowledged alert: the episode it announced and the receiver's answer; once the episode's
    `episode_closed` event was acknowledged too, how and when it ended (`monitor.lifecycle`)."""

    athlete: str
    episode_id: str
    episode_start: dt.date
    sent_ms: int
    http_status: int
    closed_reason: str | None = None  # treated, resolved or expired
    closed_ms: int | None = None
    visit_id: str | None = None  # the visit that closed it (treated)
    closed_status: int | None = None  # the receiver's status for the episode_closed event

    @property
    def closed(self) -> bool:
        return self.closed_reason is not None

    def to_json(self) -> dict[str, Any]:
        body = {**asdict(self), "episode_start": self.episode_start.isoformat()}
        return {key: value for key, value in body.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertRecord:
        return cls(
            athlete=str(data["athlete"]),
            episode_id=str(data["episode_id"]),
            episode_start=dt.date.fromisoformat(str(data["episode_start"])),
            sent_ms=int(data["sent_ms"]),
            http_status=int(data["http_status"]),
            closed_reason=_optional(data, "closed_reason", str),
            closed_ms=_optional(data, "closed_ms", int),
            visit_id=_optional(data, "visit_id", str),
            closed_status=_optional(data, "closed_status", int),
        )


@dataclass(frozen=True)
class AftercareRecord:
    """One acknowledged `post_visit_care` reminder: the visit, its quiet window and the receiver's answer."""

    athlete: str
    visit_id: str
    at_ms: int
    until_ms: int
    sent_ms: int
    http_status: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AftercareRecord:
        return cls(
            athlete=str(data["athlete"]),
            visit_id=str(data["visit_id"]),
            at_ms=int(data["at_ms"]),
            until_ms=int(data["until_ms"]),
            sent_ms=int(data["sent_ms"]),
            http_status=int(data["http_status"]),
        )


def latest(*records: AlertRecord | None) -> AlertRecord | None:
    """The record of the most recent episode among those given (of one episode, the one that knows its end)."""
    present = [r for r in records if r is not None]
    return max(present, key=lambda r: (r.episode_start, r.sent_ms, r.closed)) if present else None


class EpisodeState:
    """The last acknowledged alert per athlete and the recent after-care reminders, in a JSON file replaced
    atomically (fsync'd) and locked."""

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
        self._records, self._aftercare = self._load()

    def _load(self) -> tuple[dict[str, AlertRecord], dict[str, AftercareRecord]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}, {}
        except (OSError, ValueError) as exc:
            self.close()
            raise StateError(f"state file {self.path}: unreadable ({exc}); move it away to start afresh") from None
        try:
            records = {a: AlertRecord.from_json(r) for a, r in (data.get("athletes") or {}).items()}
            aftercare = {v: AftercareRecord.from_json(r) for v, r in (data.get("aftercare") or {}).items()}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            self.close()
            raise StateError(f"state file {self.path}: unexpected content ({exc!r})") from None
        return records, aftercare

    def close(self) -> None:
        """Release the lock."""
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def last(self, athlete: str) -> AlertRecord | None:
        return self._records.get(athlete)

    def records(self) -> list[AlertRecord]:
        return [self._records[a] for a in sorted(self._records)]

    def aftercare(self, visit_id: str) -> AftercareRecord | None:
        return self._aftercare.get(visit_id)

    def record(self, record: AlertRecord) -> None:
        """Remember `record` as the athlete's latest alert and make it durable before returning."""
        records = {**self._records, record.athlete: latest(self._records.get(record.athlete), record) or record}
        self._write(records, self._aftercare)
        self._records = records

    def record_aftercare(self, record: AftercareRecord) -> None:
        """Remember an acknowledged reminder and make it durable before returning; reminders whose quiet window
        ended more than `AFTERCARE_KEEP_MS` before this one was sent are dropped."""
        keep = {v: r for v, r in self._aftercare.items() if r.until_ms >= record.sent_ms - AFTERCARE_KEEP_MS}
        aftercare = {**keep, record.visit_id: record}
        self._write(self._records, aftercare)
        self._aftercare = aftercare

    def _write(self, records: Mapping[str, AlertRecord], aftercare: Mapping[str, AftercareRecord]) -> None:
        body = {
            "version": STATE_VERSION,
            "athletes": {a: r.to_json() for a, r in sorted(records.items())},
            "aftercare": {v: r.to_json() for v, r in sorted(aftercare.items())},
        }
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
