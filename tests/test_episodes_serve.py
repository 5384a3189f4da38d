"""The prevention loop in `serve`: a visit closes the announced episode as treated, the clinic gets one
`post_visit_care` reminder per visit, and no prevention alert goes out in the 24 h after a visit — exactly once
across restarts and a lost state file (docs/episodes.md).

Real stores, a real HTTP receiver on loopback (pytest-httpserver) and the real CLI; the day-by-day test scripts the
analysis' verdicts (as tests/test_alerts.py does) to step the clock through the quiet window.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import shutil
import threading
import time

import pytest
from werkzeug import Request, Response

from dashboards.flag_source import read_flags
from ingest.model import DAILY
from ingest.store import open_store
from ingest.timeline import DAY_MS, day_start_ms, iso_utc
from ingest.visits import new_visit, write_visits
from monitor.alerts import AftercareRecord, AlertRecord, EpisodeState, WebhookSender, episode_id
from monitor.cli.main import main
from monitor.flags import Flag
from monitor.service import monitor as service
from monitor.service.aftercare import aftercare_batch, stored_aftercare
from monitor.service.analysis import Recommendation
from monitor.service.episodes import alert_batch, stored_alert, stored_alerts

HOOK = "/hooks/clinic"
HOUR_MS = 3_600_000


def receiver(httpserver) -> list[dict]:
    """Every POST to HOOK, answered 200, with its Idempotency-Key as `_key`."""
    bodies: list[dict] = []

    def handle(request: Request) -> Response:
        bodies.append({**json.loads(request.get_data()), "_key": request.headers["Idempotency-Key"]})
        return Response("{}", status=200, content_type="application/json")

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(handle)
    return bodies


def events(bodies: list[dict], name: str) -> list[dict]:
    return [b for b in bodies if b["event"] == name]


@pytest.fixture(scope="module")
def demo_squad(tmp_path_factory) -> tuple[str, list[str]]:
    """Eight demo athletes in a SQLite file (two of them are recommended a visit today): (its path, those
    athletes)."""
    path = tmp_path_factory.mktemp("episodes") / "squad.sqlite"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--store", f"sqlite:///{path}", "--athletes", "8", "--json"]) == 0
    flagged = [a["athlete"] for a in json.loads(out.getvalue())["athletes"] if a["recommend_idn_visit"]]
    assert len(flagged) >= 2, "the demo squad has athletes in need of a visit"
    return str(path), flagged


def serve_once(capsys, store: str, state, hook: str) -> dict:
    code = main(["serve", "--once", "--store", store, "--state", str(state), "--webhook-url", hook])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"], report
    return report


def test_a_visit_closes_the_announced_episode_and_gets_one_reminder_across_restarts(
    httpserver, capsys, tmp_path, demo_squad
):
    path, flagged = demo_squad
    shutil.copy(path, tmp_path / "squad.sqlite")
    store_url, state, hook = f"sqlite:///{tmp_path / 'squad.sqlite'}", tmp_path / "state.json", httpserver.url_for(HOOK)
    bodies = receiver(httpserver)
    first = serve_once(capsys, store_url, state, hook)
    alerts = {b["athlete"]: b for b in events(bodies, "prevention_visit_recommended")}
    assert sorted(alerts) == sorted(flagged) and first["episodes_closed"] == first["aftercare_sent"] == []

    treated, other = flagged[0], flagged[1]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    visit_at = max(now - dt.timedelta(hours=2), now.replace(hour=0, minute=0, second=0))  # today, before now
    args = ["visit", "add", "--store", store_url, "--athlete", treated, "--at", visit_at.isoformat()]
    assert main([*args, "--regions", "calf_l,lumbar", "--json"]) == 0
    visit_id = json.loads(capsys.readouterr().out)["visit_id"]

    second = serve_once(capsys, store_url, state, hook)
    assert second["alerts_sent"] == [] and second["episodes_closed"] == [alerts[treated]["episode_id"]]
    assert second["aftercare_sent"] == [visit_id]
    new = bodies[len(alerts) :]
    assert [b["event"] for b in new] == ["episode_closed", "post_visit_care"], "the end first, then the reminder"
    closed, care = new
    assert closed == {
        "schema": "recovery-monitor/prevention-visit/v1",
        "event": "episode_closed",
        "episode_id": alerts[treated]["episode_id"],
        "athlete": treated,
        "episode_start": alerts[treated]["episode_start"],
        "reason": "treated",
        "visit_id": visit_id,
        "closed_at": iso_utc(int(visit_at.timestamp() * 1000)),
        "sent_at": closed["sent_at"],
        "_key": f"{alerts[treated]['episode_id']}/closed",
    }
    assert care["athlete"] == treated and care["visit_id"] == visit_id and care["regions"] == ["calf_l", "lumbar"]
    assert care["at"] == iso_utc(int(visit_at.timestamp() * 1000))
    assert care["until"] == iso_utc(int((visit_at + dt.timedelta(hours=24)).timestamp() * 1000))
    assert "NSAIDs" in care["advice"] and "ice" in care["advice"] and care["_key"] == f"post_visit_care/{visit_id}"

    store = open_store(store_url)
    try:
        record = stored_alert(store, treated)
        assert (record.closed_reason, record.visit_id, record.closed_status) == ("treated", visit_id, 200)
        assert stored_alert(store, other).closed_reason is None, "the other athlete's episode stays open"
        today = day_start_ms(now.date())
        flags = read_flags(store, start_ms=today, end_ms=today + DAY_MS)
        assert {f.post_visit for f in flags if f.athlete == treated} == {True}, "the visit day's flags are muted"
        assert {f.post_visit for f in flags if f.athlete == other} == {False}
        recommended = store.read(DAILY.name, treated, ["recommend_idn_visit"], today, today + DAY_MS)
        assert recommended.columns["recommend_idn_visit"].tolist() == [1.0], "flags and the verdict are kept"
    finally:
        store.close()

    sent = len(bodies)
    third = serve_once(capsys, store_url, state, hook)  # a restart with the same state file
    assert len(bodies) == sent and third["alerts_sent"] == third["episodes_closed"] == third["aftercare_sent"] == []
    assert other in third["recommended"] and treated in third["recommended"]
    state.unlink()  # the state file is lost: the store's `alert` and `aftercare` points still know
    fourth = serve_once(capsys, store_url, state, hook)
    assert len(bodies) == sent and fourth["alerts_sent"] == fourth["aftercare_sent"] == []
    rebuilt = json.loads(state.read_text())
    assert rebuilt["athletes"][treated]["closed_reason"] == "treated" and list(rebuilt["aftercare"]) == [visit_id]


def test_alert_and_reminder_records_round_trip_through_each_store(each_store):
    record = AlertRecord("A1", episode_id("A1", dt.date(2026, 3, 1)), dt.date(2026, 3, 1), 1_772_400_000_000, 202)
    each_store.write([alert_batch(record)])
    assert stored_alert(each_store, "A1") == record, "an open episode: no closing fields"
    closed = dataclasses.replace(
        record, closed_reason="treated", closed_ms=1_772_500_000_000, visit_id="v-0123456789ab", closed_status=200
    )
    each_store.write([alert_batch(closed)])
    assert stored_alerts(each_store) == {"A1": closed}, "the end is added to the same point"
    reminder = AftercareRecord("A1", "v-0123456789ab", 1_772_500_000_000, 1_772_586_400_000, 1_772_500_060_000, 200)
    each_store.write([aftercare_batch(reminder)])
    found = stored_aftercare(each_store, reminder.at_ms, reminder.at_ms + 1)
    assert found == {"v-0123456789ab": reminder} and stored_aftercare(each_store, 0, reminder.at_ms) == {}


# -- the quiet window, hour by hour --------------------------------------------------------------------------

D0 = dt.date(2026, 3, 1)


def moment(day: int, hours: float = 0.0) -> dt.datetime:
    return dt.datetime.combine(D0 + dt.timedelta(days=day), dt.time(), dt.UTC) + dt.timedelta(hours=hours)


def scripted(pattern: str, monkeypatch) -> None:
    """The analysis' verdict on each day from `pattern` ('T' recommended), written as `daily` points."""
    flag = Flag("A1", "hrv_suppressed", "recovery", "act", 3.9, 4.1, "7d", D0, "below the normal range")

    def analyze_all(store, as_of, *, write_days, thresholds_path=None):
        recommended = pattern[(as_of - D0).days] == "T"
        fields = {"recommend_idn_visit": [recommended], "status": ["ok"]}
        store.write([DAILY.batch({"athlete": "A1"}, [day_start_ms(as_of)], fields)])
        return [Recommendation("A1", as_of, recommended, (flag,) if recommended else (), ("act: hrv_suppressed",))]

    monkeypatch.setattr(service, "analyze_all", analyze_all)


def run_hourly(tmp_path, httpserver, first: dt.datetime, last: dt.datetime, visits: dict[dt.datetime, str]) -> None:
    """One `serve` process per hour from `first` to `last`, each running one forced cycle; the visits are recorded
    (as the API or the CLI would) when their time comes."""
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    now = first
    while now <= last:
        now_ms = int(now.timestamp() * 1000)
        store = open_store(store_url)
        write_visits(store, [new_visit("A1", ms(t), r, now_ms=now_ms) for t, r in visits.items() if t <= now])
        store.close()
        state = EpisodeState(tmp_path / "state.json")
        sender = WebhookSender(httpserver.url_for(HOOK))
        config = service.ServeConfig(store_url=store_url)
        monitor = service.Monitor(config, state, sender=sender, clock=lambda now=now: now)
        assert monitor.tick(force=True).ok
        sender.close()
        state.close()
        now += dt.timedelta(hours=1)


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def sent_ms(body: dict) -> int:
    return ms(dt.datetime.fromisoformat(body["sent_at"]))


@pytest.mark.parametrize(("visit_hour", "first_counted_day"), [(15.0, 5), (0.0, 4)])
def test_no_prevention_alert_in_the_24_hours_after_a_routine_visit(
    httpserver, tmp_path, monkeypatch, visit_hour, first_counted_day
):
    """A visit on day 3 with no episode open; the athlete is recommended from day 4 on (expected soreness). A day
    overlapping the quiet window opens no episode: after a visit at 15:00 the episode opens on day 5 (33 h
    after); after one at 00:00, day 4 starts exactly at visit + 24 h, so it opens then — and is alerted at once."""
    bodies = receiver(httpserver)
    scripted("FFFFTTTT", monkeypatch)
    visit = moment(3, visit_hour)
    run_hourly(tmp_path, httpserver, moment(2, 12), moment(6, 12), {visit: "calf_l"})
    alerts = events(bodies, "prevention_visit_recommended")
    day = (D0 + dt.timedelta(days=first_counted_day)).isoformat()
    assert [(b["episode_start"], b["as_of"]) for b in alerts] == [(day, day)]
    assert sent_ms(alerts[0]) == ms(moment(first_counted_day)) >= ms(visit) + 24 * HOUR_MS
    reminders = events(bodies, "post_visit_care")
    assert len(reminders) == 1 and reminders[0]["until"] == iso_utc(ms(visit) + 24 * HOUR_MS)
    assert sent_ms(reminders[0]) == ms(visit), "sent by the cycle at the visit's hour"


def test_a_treated_episode_is_closed_once_and_its_run_alerts_no_more(httpserver, tmp_path, monkeypatch):
    """Alerted on day 0, treated on day 1 at 10:00; the recommendation goes on (the 7-day means still hold the days
    before the visit): one `episode_closed` (treated), one reminder, no second alert."""
    bodies = receiver(httpserver)
    scripted("TTTTTTTT", monkeypatch)
    visit = moment(1, 10)
    run_hourly(tmp_path, httpserver, moment(0, 6), moment(4, 6), {visit: "hamstring_r"})
    assert [b["event"] for b in bodies] == ["prevention_visit_recommended", "episode_closed", "post_visit_care"]
    closed = bodies[1]
    assert (closed["reason"], closed["closed_at"], closed["episode_id"]) == (
        "treated",
        "2026-03-02T10:00:00Z",
        episode_id("A1", D0),
    )
    assert sent_ms(closed) == sent_ms(bodies[2]) == ms(visit)


def test_a_woken_loop_runs_a_cycle_at_once_and_reminds(httpserver, tmp_path):
    """The visit API calls `Monitor.wake` after recording a visit: the sleeping loop (polling every 10 min here)
    runs a cycle at once, and the reminder goes out."""
    bodies = receiver(httpserver)
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    state = EpisodeState(tmp_path / "state.json")
    sender = WebhookSender(httpserver.url_for(HOOK))
    monitor = service.Monitor(service.ServeConfig(store_url=store_url, interval_s=600), state, sender=sender)
    stop = threading.Event()
    loop = threading.Thread(target=monitor.run, args=(stop,), daemon=True)
    loop.start()

    def wait_for(condition) -> None:
        deadline = time.monotonic() + 30
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)

    try:
        wait_for(lambda: monitor.health()[1]["last_run"] is not None)
        assert monitor.health()[1]["last_run"]["reason"] == "start"
        now_ms = int(time.time() * 1000)
        store = open_store(store_url)
        write_visits(store, [new_visit("A1", now_ms - 60_000, "lumbar", now_ms=now_ms)])
        store.close()
        monitor.wake()
        wait_for(lambda: events(bodies, "post_visit_care"))
        assert [b["athlete"] for b in events(bodies, "post_visit_care")] == ["A1"]
        assert monitor.health()[1]["last_run"]["reason"] == "woken"
    finally:
        stop.set()
        loop.join(10)
        sender.close()
        state.close()
    assert not loop.is_alive()


@pytest.mark.parametrize(("today", "sent"), [(19, False), (18, True)])
def test_an_end_older_than_the_analysed_days_is_recorded_without_an_event(
    httpserver, tmp_path, monkeypatch, today, sent
):
    """An alert recorded before episode ends were announced (an upgrade): its episode (days 0-2) resolved on day 5.
    Seen first on day 19 (the 14 analysed days: 6-19) the end is old news, recorded but not sent; on day 18 (days
    5-18) it is sent."""
    bodies = receiver(httpserver)
    scripted("TTTFFF" + "F" * 20, monkeypatch)
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(store_url)
    days = [day_start_ms(D0 + dt.timedelta(days=i)) for i in range(6)]
    store.write([DAILY.batch({"athlete": "A1"}, days, {"recommend_idn_visit": [True] * 3 + [False] * 3})])
    store.write([alert_batch(AlertRecord("A1", episode_id("A1", D0), D0, ms(moment(0, 7)), 200))])
    store.close()
    state = EpisodeState(tmp_path / "state.json")
    sender = WebhookSender(httpserver.url_for(HOOK))
    config = service.ServeConfig(store_url=store_url)
    monitor = service.Monitor(config, state, sender=sender, clock=lambda: moment(today, 7))
    try:
        report = monitor.tick(force=True)
        assert report.ok and report.episodes_closed == ([episode_id("A1", D0)] if sent else [])
        assert [b["reason"] for b in events(bodies, "episode_closed")] == (["resolved"] if sent else [])
        recorded = state.last("A1")
        assert (recorded.closed_reason, recorded.closed_ms) == ("resolved", day_start_ms(D0 + dt.timedelta(days=5)))
        assert recorded.closed_status == (200 if sent else None)
    finally:
        sender.close()
        state.close()
    store = open_store(store_url)
    try:
        assert stored_alert(store, "A1") == recorded, "the store holds the end too"
    finally:
        store.close()
