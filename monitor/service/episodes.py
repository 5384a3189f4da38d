"""Episodes as the store records them: which days recommended a visit, the visits, and what was announced.

- Recommendation days come from `daily.recommend_idn_visit` (written by the analysis); a day with a `daily` point
  but without that field counts as recommended when it has an `act` flag. Visits come from `ingest.visits`;
  `monitor.lifecycle` turns both into episodes (docs/episodes.md).
- Every acknowledged alert is also written to the store as one `alert` point (tags `athlete`, `channel`;
  stamped 00:00 UTC of the episode's first day; fields `episode_id`, `sent_ms`, `http_status`), and once its
  `episode_closed` event was acknowledged, the same point gains `closed_reason`, `closed_ms`, `visit_id` and
  `closed_http_status`. Writing it again overwrites it, so the record is idempotent, and it survives the loss of
  the local state file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np

from ingest.model import ALERT, DAILY, FLAG
from ingest.schema import stored_int, stored_text
from ingest.store.base import PointBatch, Store
from ingest.timeline import DAY_MS, day_start_ms, ms_day
from ingest.visits import read_visits
from monitor.alerts import AlertRecord, EpisodeState, latest
from monitor.lifecycle import Episode, episode_of, episodes

ALERT_MEASUREMENT = ALERT.name
CHANNEL = "webhook"
RECOMMEND = DAILY.field("recommend_idn_visit").name  # KeyError at import if the model renames it
ALERT_FIELDS = ALERT.field_names
# the AlertRecord attribute holding each `alert` field (the store's names are the data model's)
RECORD_ATTRIBUTES = {name: "closed_status" if name == "closed_http_status" else name for name in ALERT_FIELDS}


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


def stored_alerts(store: Store, athlete: str | None = None) -> dict[str, AlertRecord]:
    """Athlete → their most recent acknowledged alert recorded in the store (one athlete's, or everyone's)."""
    frame = store.read(ALERT_MEASUREMENT, athlete, list(ALERT_FIELDS), tags={"channel": CHANNEL}, with_tags=["athlete"])
    found: dict[str, AlertRecord] = {}
    for i, time_ms in enumerate(frame.time_ms.tolist()):
        values = {RECORD_ATTRIBUTES[name]: frame.columns[name][i] for name in ALERT_FIELDS}
        owner = str(frame.columns["athlete"][i])
        episode, sent = stored_text(values["episode_id"]), stored_int(values["sent_ms"])
        if episode is None or sent is None:
            continue
        record = AlertRecord(
            owner,
            episode,
            ms_day(time_ms),
            sent,
            stored_int(values["http_status"]) or 0,
            closed_reason=stored_text(values["closed_reason"]),
            closed_ms=stored_int(values["closed_ms"]),
            visit_id=stored_text(values["visit_id"]),
            closed_status=stored_int(values["closed_status"]),
        )
        found[owner] = latest(found.get(owner), record) or record
    return found


def stored_alert(store: Store, athlete: str) -> AlertRecord | None:
    """The athlete's most recent acknowledged alert recorded in the store."""
    return stored_alerts(store, athlete).get(athlete)


def alert_batch(record: AlertRecord) -> PointBatch:
    """The `alert` point recording an acknowledged alert (and the acknowledged end of its episode, once known)."""
    values = {name: getattr(record, RECORD_ATTRIBUTES[name]) for name in ALERT_FIELDS}
    tags = {"athlete": record.athlete, "channel": CHANNEL}
    columns = {name: [value] for name, value in values.items() if value is not None}
    return ALERT.batch(tags, [day_start_ms(record.episode_start)], columns)


@dataclass(frozen=True)
class Decision:
    """An athlete's episodes as the store shows them now, with the latest announced one: `previous` is the latest
    alert of the state file and the store, `stored` the store's, `announced` the episode `previous` announced."""

    episodes: tuple[Episode, ...]
    previous: AlertRecord | None
    stored: AlertRecord | None
    announced: Episode | None

    @property
    def current(self) -> Episode | None:
        """The episode open on the day decided."""
        return self.episodes[-1] if self.episodes and self.episodes[-1].is_open else None

    @property
    def new_episode(self) -> Episode | None:
        """The open episode when no alert announced it yet."""
        current = self.current
        return current if current is not None and current != self.announced else None

    @property
    def closing(self) -> AlertRecord | None:
        """`previous` with the end of its episode, when it has ended and that end is not yet acknowledged."""
        ended = self.announced
        if self.previous is None or self.previous.closed or ended is None or ended.is_open:
            return None
        return dataclasses.replace(
            self.previous, closed_reason=ended.reason, closed_ms=ended.closed_ms, visit_id=ended.visit_id
        )


def decide(
    store: Store,
    state: EpisodeState,
    athlete: str,
    as_of: dt.date,
    *,
    now_ms: int,
    stored: AlertRecord | None,
    recommended: bool,
    window_days: int,
    end_after_days: int,
    max_days: int,
    quiet_window_ms: int,
) -> Decision:
    """The athlete's episodes up to `as_of` (`monitor.lifecycle.episodes`) and the last alert (state file or
    store, `stored` as `stored_alerts` read it) that may already announce one.

    The days read reach back `window_days` (which the analysis has just rewritten) or to the last alerted
    episode's first day, whichever is earlier, so an episode longer than the window is still recognised; the
    visits from then up to `now_ms`. `recommended`: the analysis' verdict on `as_of` itself.
    """
    previous = latest(state.last(athlete), stored)
    first = first_day(as_of, window_days, previous)
    days = recommendation_days(store, athlete, first, as_of)
    days[as_of] = recommended
    visits = read_visits(store, athlete, start_ms=day_start_ms(first) - quiet_window_ms, end_ms=now_ms + 1)
    return decision_from(
        days,
        [(v.visit_id, v.at_ms) for v in visits],
        first,
        as_of,
        previous,
        stored,
        end_after_days=end_after_days,
        max_days=max_days,
        quiet_window_ms=quiet_window_ms,
    )


def first_day(as_of: dt.date, window_days: int, previous: AlertRecord | None) -> dt.date:
    """The first day `decide` looks at: `window_days` back from `as_of`, or the last alerted episode's first day."""
    first = as_of - dt.timedelta(days=window_days - 1)
    return first if previous is None else min(first, previous.episode_start)


def decision_from(
    days: dict[dt.date, bool],
    visits: list[tuple[str, int]],
    first: dt.date,
    as_of: dt.date,
    previous: AlertRecord | None,
    stored: AlertRecord | None,
    *,
    end_after_days: int,
    max_days: int,
    quiet_window_ms: int,
) -> Decision:
    """`decide` without the store: the episodes of `days` (recommended or not) and `visits` (ID, ms) from `first`
    to `as_of`, and which of them the last alert (`previous`) announced."""
    found = episodes(
        days,
        visits,
        first,
        as_of,
        end_after_days=end_after_days,
        max_days=max_days,
        quiet_window_ms=quiet_window_ms,
        announced=None if previous is None else previous.episode_start,
    )
    announced = None if previous is None else episode_of(found, previous.episode_start)
    return Decision(tuple(found), previous, stored, announced)


def reconcile(store: Store, state: EpisodeState, record: AlertRecord, stored: AlertRecord | None) -> None:
    """Make both records hold `record` unless they hold a later one: the state file (durable) and the store
    (survives a lost state file); `stored` is the store's latest alert as `stored_alerts` read it."""
    current = state.last(record.athlete)
    if latest(current, record) != current:
        state.record(record)
    if latest(stored, record) != stored:
        store.write([alert_batch(record)])
