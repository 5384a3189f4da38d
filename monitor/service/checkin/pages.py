"""What each check-in page shows, and what a morning or session form stores (pure store work, no HTTP).

A morning check-in is one `wellness` point plus a `soreness` point per sore region (`ingest.wellness`), stamped at
the submission and carrying the form's ID. A session RPE is written onto the chosen session point, the one that
carries its sRPE (`ingest.session_match`), exactly as `recovery-monitor rpe` writes it, so no second session
appears; only "a session my watch did not record" creates one (source `rpe`), ending at the submission. Both mark
the athlete's analysis due, so `serve`'s next cycle takes them in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ingest.analysis_due import due_batches
from ingest.session_match import RPE_SOURCE, StoredSession, rpe_batch
from ingest.store.base import Store
from ingest.timeline import day_start_ms, iso_utc, ms_day
from ingest.wellness import stored_submissions, validate_wellness, wellness_batches
from monitor.service.checkin.access import FORM_MAX_AGE_S, AccessError, Receipt
from monitor.service.checkin.bodymap import figures_html, region_list_html
from monitor.service.checkin.days import (
    AFTERCARE_ADVICE,
    AFTERCARE_HOURS,
    aftercare,
    last_days,
    recent_sessions,
    recent_visits,
    session_text,
)
from monitor.service.checkin.forms import (
    CR10,
    HOOPER_ANCHORS,
    HOOPER_QUESTIONS,
    SPORTS,
    FormErrors,
    MorningValues,
    RpeValues,
)
from monitor.service.checkin.upload import MAX_UPLOAD_BYTES

PAGES = ("", "morning", "session", "upload", "days")
"""The pages of a link ("" is the menu)."""


@dataclass(frozen=True)
class Settings:
    """The clinic's after-care window and advice (`[idn] quiet_hours`, `aftercare_advice`)."""

    aftercare_hours: int = AFTERCARE_HOURS
    aftercare_advice: str = AFTERCARE_ADVICE


def page_context(store: Store, athlete: str, name: str, now_ms: int, settings: Settings) -> dict[str, Any]:
    """The template values of page ``name`` for ``athlete`` at ``now_ms``."""
    visits = recent_visits(store, athlete, now_ms, settings.aftercare_hours)
    context: dict[str, Any] = {
        "athlete": athlete,
        "aftercare": aftercare(visits, now_ms, settings.aftercare_hours, settings.aftercare_advice),
        "errors": {},
        "sent": {},
        "statuses": None,
    }
    if name == "morning":
        today = sorted(t for t in stored_submissions(store, athlete, day_start_ms(ms_day(now_ms)), now_ms + 1))
        context.update(
            visit=visits[-1] if visits else None,
            figures=figures_html(),
            region_list=region_list_html,
            hooper=[(item, HOOPER_QUESTIONS[item], HOOPER_ANCHORS[item]) for item in HOOPER_QUESTIONS],
            checked_in=iso_utc(today[-1])[11:16] if today else None,
        )
    elif name == "session":
        _, shown = recent_sessions(store, athlete, now_ms)
        choices = [(s.time_ms, session_text(s), _minutes(s), s.has_rpe) for s in shown]
        unrated = [s.time_ms for s in shown if not s.has_rpe]
        context.update(
            sessions=choices,
            default=str(unrated[0]) if unrated else "new",
            minutes_by_choice={str(start): minutes for start, _, minutes, _ in choices},
            cr10=CR10,
            sports=SPORTS,
            any_rated=any(s.has_rpe for s in shown),
        )
    elif name == "days":
        context.update(days=last_days(store, athlete, now_ms))
    elif name == "upload":
        context.update(max_mb=MAX_UPLOAD_BYTES // (1024 * 1024))
    return context


def _minutes(s: StoredSession) -> int | None:
    seconds = s.value("duration_s")
    return round(seconds / 60) if math.isfinite(seconds) and seconds > 0 else None


def store_morning(store: Store, athlete: str, values: MorningValues, form_id: str, now_ms: int) -> Receipt:
    """Write the morning check-in of form ``form_id`` at ``now_ms`` (the next free second, should another
    check-in hold that one); AccessError 409 when the form is already stored, WellnessError for a bad note."""
    time_ms = now_ms // 1000 * 1000
    recent = stored_submissions(store, athlete, now_ms - FORM_MAX_AGE_S * 1000 - 60_000)
    if form_id in recent.values():
        raise AccessError(409, "This form was already sent and stored; it is not stored twice.")
    while time_ms in recent:
        time_ms += 1000
    checkin = validate_wellness(
        athlete,
        time_ms,
        values.sleep_quality,
        values.fatigue,
        values.soreness,
        values.stress,
        pain=values.pain,
        aftercare_followed=values.aftercare_followed,
        regions=values.regions,
        submission_id=form_id,
        note=values.note,
    )
    store.write([*wellness_batches(checkin), *due_batches(store, {athlete: time_ms})])  # one transaction
    return Receipt("morning", time_ms, f"your morning check-in of {iso_utc(time_ms)[11:16]} UTC")


def store_rpe(store: Store, athlete: str, values: RpeValues, now_ms: int) -> Receipt:
    """Write the RPE onto the chosen session of the last 24 h, or onto a new session (source `rpe`) that ends now
    (or starts a second later, should another new session of that sport start in the same second);
    FormErrors for a session no longer listed, a session without a duration and none typed, or a different RPE
    already stored without "change my rating"."""
    stored, shown = recent_sessions(store, athlete, now_ms)
    if values.session_ms is None:
        assert values.duration_min is not None  # parse_rpe requires it for a new session
        minutes = values.duration_min
        start_ms = (now_ms - round(minutes * 60_000)) // 1000 * 1000
        taken = {s.time_ms for s in stored if s.source == RPE_SOURCE and s.sport == values.sport}
        while start_ms in taken:  # another new session starting that second: the next free one
            start_ms += 1000
        target, created = StoredSession(athlete, start_ms, RPE_SOURCE, values.sport), True
    else:
        found = next((s for s in shown if s.time_ms == values.session_ms), None)
        if found is None:
            raise FormErrors({"session": "That session is no longer in the list (the last 24 h): choose again."})
        target, created = found, False
        own = target.value("duration_s") / 60
        minutes = values.duration_min or (own if math.isfinite(own) and own > 0 else 0.0)
        if not minutes > 0:
            raise FormErrors({"duration_min": "This session has no duration: enter its minutes."})
        old = target.value("rpe")
        if math.isfinite(old) and old != values.rpe and not values.replace:
            raise FormErrors(
                {"replace": f"You already rated this session RPE {old:g}: tick “Change my rating” to change it."}
            )
    store.write([rpe_batch(target, values.rpe, minutes, created), *due_batches(store, {athlete: target.time_ms})])
    when = iso_utc(target.time_ms)[11:16]
    return Receipt("rpe", now_ms, f"RPE {values.rpe} for the {target.sport} session at {when} UTC")
