"""Prevention-visit alerts: one webhook alert per athlete and episode, delivered once, even across restarts.

The end-to-end tests run `recovery-monitor serve --once` on a real influxd holding the demo squad (two athletes
with suppressed HRV, flagged `act`) against a real HTTP receiver on loopback (pytest-httpserver).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import uuid

import numpy as np
import pytest
from influxd import free_port
from werkzeug import Request, Response

from ingest.store import open_store
from ingest.store.base import PointBatch
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import day_start_ms
from monitor.alerts import (
    AlertRecord,
    AlertRejected,
    AlertUnavailable,
    EpisodeState,
    StateError,
    WebhookSender,
    episode_id,
)
from monitor.cli.main import main
from monitor.flags import Flag
from monitor.lifecycle import episodes
from monitor.service import monitor as service
from monitor.service.analysis import Recommendation
from monitor.service.episodes import stored_alert
from monitor.service.monitor import Monitor, ServeConfig

D0 = dt.date(2026, 3, 1)
HOOK = "/hooks/s3cr3t-path"


def days(pattern: str) -> dict[dt.date, bool]:
    """'TTF.T' → {D0: True, D0+1: True, D0+2: False, D0+4: True} ('.' = no daily point)."""
    return {D0 + dt.timedelta(days=i): c == "T" for i, c in enumerate(pattern) if c != "."}


def day(i: int) -> dt.date:
    return D0 + dt.timedelta(days=i)


# -- episode rules and adapters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "start"),
    [
        ("TTTT", 0),  # one run
        ("TTFFT", 0),  # a gap of 2 < 3 days keeps the episode open
        ("TTFFFT", 5),  # 3 days without recommendation ended it: a new episode
        ("FFTT.T", 2),  # a missing day neither extends nor ends an episode
        ("TF..FFT", 6),  # three explicit "no" days end it even with missing days between
        ("FFFF", None),
    ],
)
def test_the_episode_open_on_the_last_day(pattern, start):
    found = episodes(days(pattern), [], D0, day(len(pattern) - 1), end_after_days=3, max_days=99, quiet_window_ms=0)
    current = found[-1] if found and found[-1].is_open else None
    assert (None if current is None else current.start) == (None if start is None else day(start))


def test_webhook_retries_a_500_then_delivers_once(httpserver):
    calls: list[Request] = []

    def receiver(request: Request) -> Response:
        calls.append(request)
        return Response("busy", status=500) if len(calls) == 1 else Response("{}", status=202)

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(receiver)
    sender = WebhookSender(httpserver.url_for(HOOK), token="tok-123", backoff_base_s=0.01)
    try:
        delivery = sender.send({"episode_id": "idn/A1/2026-03-01"}, "idn/A1/2026-03-01")
    finally:
        sender.close()
    assert (delivery.status, delivery.attempts) == (202, 2)
    assert [r.headers["Idempotency-Key"] for r in calls] == ["idn/A1/2026-03-01"] * 2
    assert calls[0].get_data() == calls[1].get_data() and calls[1].headers["Authorization"] == "Bearer tok-123"


def test_webhook_rejection_is_final_and_unreachable_receiver_gives_up(httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("no such hook", status=404)
    sender = WebhookSender(httpserver.url_for(HOOK), backoff_base_s=0.01)
    with pytest.raises(AlertRejected, match="HTTP 404") as rejected:
        sender.send({}, "k")
    assert rejected.value.status == 404 and len(httpserver.log) == 1, "a 4xx is not retried"
    sender.close()

    sender = WebhookSender(f"http://127.0.0.1:{free_port()}{HOOK}", retries=2, backoff_base_s=0.01)
    with pytest.raises(AlertUnavailable, match="gave up after 3 attempts") as unavailable:
        sender.send({}, "k")
    assert "s3cr3t" not in str(unavailable.value), "the URL path (often a secret) is never shown"
    sender.close()


def test_state_file_is_durable_and_exclusive(tmp_path):
    path = tmp_path / "state" / "serve-state.json"
    state = EpisodeState(path)
    with pytest.raises(StateError, match="in use"):
        EpisodeState(path)
    record = AlertRecord("A1", episode_id("A1", D0), D0, 1_772_000_000_000, 200)
    state.record(record)
    state.record(AlertRecord("A1", episode_id("A1", day(-9)), day(-9), 1, 200))  # an older episode never wins
    state.close()
    reopened = EpisodeState(path)
    assert reopened.last("A1") == record and reopened.records() == [record]
    reopened.close()
    path.write_text("{not json")
    with pytest.raises(StateError, match="unreadable"):
        EpisodeState(path)


def test_episodes_over_days_and_restarts_alert_once_each(httpserver, tmp_path, monkeypatch):
    """Day by day, a new process each day: alerts on days 0 and 7 only (days 4–6 ended the first episode, which is
    announced once as resolved)."""
    pattern = "TTFTFFFTTFT"  # the gap on day 2 keeps episode 1 open; 3 days without (4–6) end it
    bodies = receiver(httpserver)
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    flag = Flag("A1", "hrv_suppressed", "recovery", "act", 3.9, 4.1, "7d", D0, "below the normal range")

    def scripted(store, as_of, *, write_days, thresholds_path=None):
        recommended = pattern[(as_of - D0).days] == "T"
        fields = {"recommend_idn_visit": np.array([recommended]), "status": np.array(["ok"], dtype=object)}
        store.write([PointBatch("daily", {"athlete": "A1"}, np.array([day_start_ms(as_of)], np.int64), fields)])
        return [Recommendation("A1", as_of, recommended, (flag,) if recommended else (), ("act: hrv_suppressed",))]

    monkeypatch.setattr(service, "analyze_all", scripted)
    for i in range(len(pattern)):
        now = dt.datetime.combine(day(i), dt.time(7), dt.UTC)
        state = EpisodeState(tmp_path / "state.json")
        sender = WebhookSender(httpserver.url_for(HOOK))
        monitor = Monitor(ServeConfig(store_url=store_url), state, sender=sender, clock=lambda now=now: now)
        assert monitor.tick().ok
        sender.close()
        state.close()
        if i == 8:
            (tmp_path / "state.json").unlink()  # from day 9 on, only the store remembers
    alerts = [b for b in bodies if b["event"] == "prevention_visit_recommended"]
    assert [b["episode_id"] for b in alerts] == [episode_id("A1", day(0)), episode_id("A1", day(7))]
    assert [b["as_of"] for b in alerts] == [day(0).isoformat(), day(7).isoformat()]
    closed = [b for b in bodies if b["event"] == "episode_closed"]  # announced on day 6, before the next alert
    assert [(b["episode_id"], b["reason"], b["visit_id"], b["closed_at"]) for b in closed] == [
        (episode_id("A1", day(0)), "resolved", None, f"{day(6).isoformat()}T00:00:00Z")
    ]
    assert [b["event"] for b in bodies] == [
        "prevention_visit_recommended",
        "episode_closed",
        "prevention_visit_recommended",
    ]
    store = SQLiteStore(tmp_path / "store.sqlite")
    assert stored_alert(store, "A1").episode_start == day(7)
    store.close()


# -- serve end to end on a real influxd ----------------------------------------------------------------------


def recommended(demo: dict) -> list[str]:
    """Athletes the demo's own analysis recommends a visit for (any `act` flag before the IDN rule existed)."""
    return [
        a["athlete"]
        for a in demo["athletes"]
        if a.get("recommend_idn_visit", any(f["severity"] == "act" for f in a["flags"]))
    ]


@pytest.fixture(scope="module")
def squad(influxd) -> tuple[str, list[str]]:
    """The demo squad in a database of its own: (store URL, athletes recommended a visit)."""
    url = f"influxdb+{influxd.http_url}/alerts_{uuid.uuid4().hex[:8]}"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--store", url, "--athletes", "3", "--json"]) == 0
    flagged = recommended(json.loads(out.getvalue()))
    assert flagged, "the demo squad has athletes in need of a visit"
    return url, flagged


@pytest.fixture
def store_url(squad, influxd) -> str:
    """The squad's store with no alert recorded yet."""
    url = squad[0]
    influxd.query('DROP MEASUREMENT "alert"', db=url.rsplit("/", 1)[1])
    return url


def serve_once(capsys, store_url: str, state, webhook: str, *extra: str) -> tuple[int, dict]:
    code = main(["serve", "--once", "--store", store_url, "--state", str(state), "--webhook-url", webhook, *extra])
    return code, json.loads(capsys.readouterr().out)


def receiver(httpserver, statuses: list[int] | None = None) -> list[dict]:
    """Record every POST to HOOK; answer with `statuses` in turn, then 200."""
    bodies: list[dict] = []
    answers = list(statuses or [])

    def handle(request: Request) -> Response:
        bodies.append(json.loads(request.get_data()))
        status = answers.pop(0) if answers else 200
        return Response(json.dumps({"ok": status < 300}), status=status, content_type="application/json")

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(handle)
    return bodies


@pytest.mark.influx
def test_one_alert_per_episode_across_restarts_and_a_lost_state_file(httpserver, capsys, tmp_path, squad, store_url):
    flagged = squad[1]
    bodies = receiver(httpserver)
    state = tmp_path / "state.json"
    hook = httpserver.url_for(HOOK)
    code, first = serve_once(capsys, store_url, state, hook, "--grafana-public-url", "https://grafana.example.org")
    assert code == 0 and first["ok"], first
    assert sorted(first["recommended"]) == sorted(flagged)
    assert sorted(b["athlete"] for b in bodies) == sorted(flagged), "one alert per flagged athlete"

    body = next(b for b in bodies if b["athlete"] == flagged[0])
    assert body["episode_id"] == f"idn/{flagged[0]}/{body['episode_start']}"
    assert body["episode_start"] <= body["as_of"] and body["since"] <= body["episode_start"]
    reason = body["reasons"][0]  # act flags first, then watch flags (two watch families also recommend a visit)
    assert reason["severity"] in ("act", "watch") and reason["since"] <= body["as_of"] and len(reason["reason"]) > 40
    assert isinstance(reason["value"], float) and isinstance(reason["threshold"], float)
    assert set(reason) == {"signal", "family", "severity", "value", "threshold", "window", "since", "reason"}
    assert (
        body["dashboard_url"]
        == f"https://grafana.example.org/d/recovery-athlete/athlete-detail?var-athlete={flagged[0]}"
    )
    assert body["summary"] and body["schema"] == "recovery-monitor/prevention-visit/v1"

    code, second = serve_once(capsys, store_url, state, hook)  # a restart with the same state file
    assert code == 0 and second["alerts_sent"] == [] and sorted(second["alerts_known"]) == sorted(first["alerts_sent"])
    assert len(bodies) == len(flagged), "no second alert in the same episode"

    state.unlink()  # the state file is lost: the `alert` points in the store still know
    code, third = serve_once(capsys, store_url, state, hook)
    assert code == 0 and third["alerts_sent"] == [] and len(bodies) == len(flagged)
    restored = json.loads(state.read_text())["athletes"]
    assert sorted(restored) == sorted(flagged), "the state file is rebuilt from the store"
    store = open_store(store_url)
    try:
        assert stored_alert(store, flagged[0]).episode_id == body["episode_id"]
    finally:
        store.close()


@pytest.mark.influx
def test_receiver_500_then_200_is_retried_and_delivered_once(httpserver, capsys, tmp_path, squad, store_url):
    flagged = squad[1]
    bodies = receiver(httpserver, [500])
    state, hook = tmp_path / "state.json", httpserver.url_for(HOOK)
    code, report = serve_once(capsys, store_url, state, hook)
    assert code == 0 and report["alert_errors"] == []
    assert len(bodies) == len(flagged) + 1, "the alert answered with 500 was sent again"
    assert bodies[0]["episode_id"] == bodies[1]["episode_id"], "the retry carries the same idempotency key"
    assert sorted(report["alerts_sent"]) == sorted({b["episode_id"] for b in bodies})
    serve_once(capsys, store_url, state, hook)
    assert len(bodies) == len(flagged) + 1


@pytest.mark.influx
def test_an_unacknowledged_alert_is_not_recorded_and_goes_out_on_the_next_run(
    httpserver, capsys, tmp_path, squad, store_url
):
    flagged = squad[1]
    bodies = receiver(httpserver, [503] * 2 * len(flagged))
    state, hook = tmp_path / "state.json", httpserver.url_for(HOOK)
    code, report = serve_once(capsys, store_url, state, hook, "--webhook-retries", "1")
    assert code == 1 and not report["ok"] and report["analysed"] and len(report["alert_errors"]) == len(flagged)
    assert report["alerts_sent"] == [] and not state.exists()
    code, report = serve_once(capsys, store_url, state, hook)
    assert code == 0 and len(report["alerts_sent"]) == len(flagged)
    assert len({b["episode_id"] for b in bodies}) == len(flagged) and len(bodies) == 3 * len(flagged)
