"""Episodes as the store records them: which days recommended a visit, and which alerts were acknowledged.

- Recommendation days come from `daily.recommend_idn_visit` (written by the analysis); a day with a `daily` point
  but without that field counts as recommended when it has an `act` flag.
- Every acknowledged alert is also written to the store as one `alert` point (tags `athlete`, `channel`;
  stamped 00:00 UTC of the episode's first day; fields `episode_id`, `sent_ms`, `http_status`). Writing it again
  overwrites it, so the record is idempotent, and it survives the loss of the local state file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ingest.model import ALERT, DAILY, FLAG
from ingest.store.base import PointBatch, Store
from ingest.timeline import DAY_MS, day_start_ms, ms_day
from monitor.alerts import AlertRecord, EpisodeState, latest, open_episode_start

ALERT_MEASUREMENT = ALERT.name
CHANNEL = "webhook"
RECOMMEND = DAILY.field("recommend_idn_visit").name  # KeyError at import if the model renames it
ALERT_FIELDS = ALERT.field_names  # episode_id, sent_ms, http_status: read and written in this order


def recommendation_days(store: Store, athlete: str, first: dt.date, last: dt.date) -> dict[dt.date, bool]:
    """Day → recommended, for the days in [first, last] on which the analysis stored a `daily` point."""
    start, end = day_start_ms(first), day_start_ms(last) + DAY_MS
    daily = store.read(DAILY.name, athlete, [RECOMMEND, DAILY.field("status").name], start, end)
    act = store.read(FLAG.name, athlete, [FLAG.field("reason").name], start, end, tags={"severity": "act"})
    act_days = {ms_day(t) for t in act.time_ms.tolist()}
    values = np.asarray(daily.columns[RECOMMEND], dtype=float)
    days = {}
    for time_ms, value in zip(daily.time_ms.tolist(), values.tolist()):
        day = ms_day(time_ms)
        days[day] = bool(value) if np.isfinite(value) else day in act_days
    return days


def stored_alert(store: Store, athlete: str) -> AlertRecord | None:
    """The athlete's most recent acknowledged alert recorded in the store."""
    frame = store.read(ALERT_MEASUREMENT, athlete, list(ALERT_FIELDS), tags={"channel": CHANNEL})
    records = []
    for i, time_ms in enumerate(frame.time_ms.tolist()):
        episode, sent, status = (frame.columns[name][i] for name in ALERT_FIELDS)
        if isinstance(episode, str) and np.isfinite(sent):
            status = int(status) if np.isfinite(status) else 0
            records.append(AlertRecord(athlete, episode, ms_day(time_ms), int(sent), status))
    return latest(*records)


def alert_batch(record: AlertRecord) -> PointBatch:
    """The `alert` point recording an acknowledged alert."""
    values = (record.episode_id, record.sent_ms, record.http_status)
    tags = {"athlete": record.athlete, "channel": CHANNEL}
    return ALERT.batch(tags, [day_start_ms(record.episode_start)], {n: [v] for n, v in zip(ALERT_FIELDS, values)})


@dataclass(frozen=True)
class Decision:
    """Whether to alert for an athlete recommended today: `start` is the open episode's first day; `previous` the
    latest alert of the state file and the store, `stored` the store's."""

    start: dt.date
    previous: AlertRecord | None
    stored: AlertRecord | None

    @property
    def new_episode(self) -> bool:
        return self.previous is None or self.previous.episode_start < self.start


def decide(
    store: Store, state: EpisodeState, athlete: str, as_of: dt.date, *, window_days: int, end_after_days: int
) -> Decision:
    """Find the open episode on `as_of` and the last alert (state file or store) that may already announce it.

    The days read reach back `window_days` (which the analysis has just rewritten) or to the last alerted
    episode's first day, whichever is earlier, so an episode longer than the window is still recognised.
    """
    stored = stored_alert(store, athlete)
    previous = latest(state.last(athlete), stored)
    first = as_of - dt.timedelta(days=window_days - 1)
    if previous is not None:
        first = min(first, previous.episode_start)
    days = recommendation_days(store, athlete, first, as_of)
    days[as_of] = True
    start = open_episode_start(days, first, as_of, end_after_days)
    assert start is not None  # as_of itself is recommended
    return Decision(start, previous, stored)


def reconcile(store: Store, state: EpisodeState, record: AlertRecord, stored: AlertRecord | None) -> None:
    """Make both records hold `record`: the state file (durable) and the store (survives a lost state file);
    `stored` is the store's latest alert as `decide` read it."""
    current = state.last(record.athlete)
    if current is None or current.episode_start < record.episode_start:
        state.record(record)
    if stored is None or stored.episode_start < record.episode_start:
        store.write([alert_batch(record)])
