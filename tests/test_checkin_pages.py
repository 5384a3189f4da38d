"""The check-in pages against the running server on both stores: what each page shows, what each form stores
(values read back), the RPE on the synced session, uploads through the importer, the 14 days, the clinic's view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from checkin_client import (
    CLINIC,
    CLINIC_TOKEN,
    FIT_FILE,
    FIT_START_MS,
    MORNING,
    NOW_MS,
    RPE,
    Clock,
    Phone,
    hidden_fields,
    link,
    message,
    points,
    running_checkin,
    with_fields,
)
from shared_data import require_shared

from ingest.model import ACTIVITY, DAILY, FLAG, SESSION
from ingest.regions import REGION_NAMES
from ingest.session_match import stored_sessions
from ingest.store.base import Store
from ingest.visits import new_visit, write_visits
from ingest.wellness import Wellness, read_wellness
from monitor.service.api.auth import BearerAuth
from monitor.service.checkin import render

A = "A01"
HOUR_MS = 3_600_000
END_MS = NOW_MS + 30 * 86_400_000


@pytest.fixture
def served(each_store: Store) -> Iterator[tuple[Store, Clock, Phone]]:
    clock = Clock()
    with running_checkin(each_store.url, clock, auth=BearerAuth.for_token(CLINIC_TOKEN)) as server:
        phone = Phone(server.url, link(each_store, A))
        yield each_store, clock, phone
        phone.close()


def fit_session(store: Store, start_ms: int, duration_s: float = 3000.0, **fields: float) -> None:
    tags = {"athlete": A, "source": "fit", "sport": "run"}
    store.write([SESSION.batch(tags, [start_ms], {"duration_s": [duration_s], **{k: [v] for k, v in fields.items()}})])


def visit_at(store: Store, at_ms: int) -> None:
    write_visits(store, [new_visit(A, at_ms, "calf_l", now_ms=NOW_MS)])


# -- morning ---------------------------------------------------------------------------------------------------


def test_the_morning_page_has_every_item_and_region(served):
    page = served[2].page("morning").text
    for item in ("sleep_quality", "fatigue", "soreness", "stress"):
        assert len(re.findall(rf'<input type="radio" id="{item}-\d" name="{item}"', page)) == 7
    selects = re.findall(r'<select id="region-([a-z_]+)" name="region_\1"', page)
    assert sorted(selects) == sorted(REGION_NAMES) and len(selects) == len(REGION_NAMES)
    shapes = re.findall(r'<ellipse class="region" data-region="([a-z_]+)"', page)
    assert sorted(shapes) == sorted(REGION_NAMES)
    for name in REGION_NAMES:  # every control has its label
        assert f'<label for="region-{name}">' in page
    assert "1 = very, very good … 7 = very, very bad" in page and "1 = very, very low … 7 = very, very high" in page
    assert 'name="aftercare"' not in page  # no visit: no after-care question
    assert set(hidden_fields(page)) == {"form_token", "athlete"} and hidden_fields(page)["athlete"] == A


def test_a_morning_check_in_is_stored_with_every_value(served):
    store, _, phone = served
    visit_at(store, NOW_MS - 20 * HOUR_MS)
    assert 'name="aftercare"' in phone.page("morning").text
    fields = with_fields(MORNING, pain="yes", aftercare="yes", region_lumbar="10", region_calf_r="0", note=" tight ")
    form = phone.form("morning")
    response = phone.send("morning", fields, form=form)
    assert response.status_code == 303 and response.headers["location"] == f"{phone.base}/?done=morning"
    assert "Thank you: your morning check-in is stored." in phone.http.get(response.headers["location"]).text
    expected = Wellness(A, NOW_MS, 2, 3, 5, 2, True, True, {"calf_l": 6, "lumbar": 10}, form["form_token"][:22])
    stored = read_wellness(store, A)
    assert stored == [Wellness(**{**expected.__dict__, "note": "tight"})]
    assert stored[0].hooper_index == 12
    assert "You already checked in today at 07:30 UTC" in phone.page("morning").text


def test_unanswered_optional_items_are_not_stored(served):
    store, _, phone = served
    assert phone.send("morning", with_fields(MORNING, pain=None, region_calf_l=None)).status_code == 303
    (w,) = read_wellness(store, A)
    assert (w.pain, w.aftercare_followed, w.regions, w.note) == (None, None, {}, None)


def test_a_missing_item_shows_the_form_again_with_what_was_typed(served):
    store, _, phone = served
    response = phone.send("morning", with_fields(MORNING, stress=None, region_lumbar="4"))
    assert response.status_code == 422
    assert message(response.text) == "How stressed do you feel?: please choose a value from 1 to 7."
    assert 'id="fatigue-3" name="fatigue" value="3" checked' in response.text
    assert re.search(r'name="region_lumbar"[^>]*>.*?<option selected>4</option>', response.text)
    assert points(store).get("wellness") is None
    again = hidden_fields(response.text)  # the same form, still unused: sending it corrected stores it
    assert phone.send("morning", MORNING, form=again).status_code == 303


@pytest.mark.parametrize(
    ("visit_ago_ms", "asked"), [(48 * HOUR_MS, True), (48 * HOUR_MS + 1000, False), (0, True)], ids=str
)
def test_the_after_care_question_follows_a_visit_for_two_days(served, visit_ago_ms, asked):
    store, _, phone = served
    visit_at(store, NOW_MS - visit_ago_ms)
    assert ('name="aftercare"' in phone.page("morning").text) is asked


@pytest.mark.parametrize(("visit_ago_ms", "shown"), [(24 * HOUR_MS - 1000, True), (24 * HOUR_MS, False)], ids=str)
def test_the_after_care_reminder_runs_24_h_after_a_visit(served, visit_ago_ms, shown):
    store, _, phone = served
    visit_at(store, NOW_MS - visit_ago_ms)
    for name in ("", "days", "morning"):
        page = phone.page(name).text
        assert ("No anti-inflammatory drugs (NSAIDs) and no ice" in page) is shown
    if shown:
        assert "Until 2025-05-06 07:30 UTC." in phone.page("").text  # visit + 24 h = 07:30:01


# -- session RPE ------------------------------------------------------------------------------------------------


def test_the_rating_goes_onto_todays_synced_session(served):
    store, _, phone = served
    fit_session(store, NOW_MS - 2 * HOUR_MS, 2990.0)
    page = phone.page("session").text
    start = NOW_MS - 2 * HOUR_MS
    assert f'value="{start}" data-minutes="50" checked' in page  # the unrated session is the default
    assert 'id="duration_min" name="duration_min" min="1" max="1440" step="1" inputmode="numeric" value="50"' in page
    assert "run at 05:30 UTC, 50 min (recorded)" in page
    form = hidden_fields(page)
    response = phone.send("session", {"session": str(start), "rpe": "7", "duration_min": "50"}, form=form)
    assert response.status_code == 303
    (session,) = stored_sessions(store, A, 0, END_MS)
    assert (session.source, session.time_ms, session.value("rpe"), session.value("srpe_load")) == ("fit", start, 7, 350)
    assert session.value("duration_s") == 2990.0  # the watch's duration stays; the athlete's minutes give the load


def test_a_different_rating_needs_change_my_rating(served):
    store, _, phone = served
    start = NOW_MS - HOUR_MS
    fit_session(store, start, 1800.0, rpe=6.0, srpe_load=180.0)
    page = phone.page("session").text
    assert 'value="new" data-minutes="" checked' in page and "RPE 6" in page and 'name="replace"' in page
    before = points(store)
    response = phone.send("session", {"session": str(start), "rpe": "4", "duration_min": "30"})
    assert response.status_code == 422
    assert message(response.text) == "You already rated this session RPE 6: tick “Change my rating” to change it."
    assert points(store) == before and stored_sessions(store, A, 0, END_MS)[0].value("rpe") == 6
    same = phone.send("session", {"session": str(start), "rpe": "6", "duration_min": "30"})
    assert same.status_code == 303
    changed = phone.send("session", {"session": str(start), "rpe": "4", "duration_min": "30", "replace": "1"})
    assert changed.status_code == 303
    (session,) = stored_sessions(store, A, 0, END_MS)
    assert (session.value("rpe"), session.value("srpe_load")) == (4, 120)


def test_sessions_older_than_24_h_are_not_offered(served):
    store, _, phone = served
    fit_session(store, NOW_MS - 24 * HOUR_MS)  # exactly 24 h ago: not offered
    fit_session(store, NOW_MS - 24 * HOUR_MS + 1000)
    page = phone.page("session").text
    assert f'value="{NOW_MS - 24 * HOUR_MS}"' not in page and f'value="{NOW_MS - 24 * HOUR_MS + 1000}"' in page
    response = phone.send("session", {"session": str(NOW_MS - 24 * HOUR_MS), "rpe": "5", "duration_min": "20"})
    assert response.status_code == 422
    assert message(response.text) == "That session is no longer in the list (the last 24 h): choose again."


def test_a_session_the_watch_missed_is_created_once_ending_now(served):
    store, _, phone = served
    assert phone.send("session", with_fields(RPE, sport="swim", duration_min="45.5")).status_code == 303
    (session,) = stored_sessions(store, A, 0, END_MS)
    assert (session.source, session.sport, session.time_ms) == ("rpe", "swim", NOW_MS - 2_730_000)
    assert (session.value("rpe"), session.value("srpe_load"), session.value("duration_s")) == (6, 273, 2730)
    assert "swim at 06:44 UTC, 46 min (logged), RPE 6" in phone.page("session").text


# -- uploads ----------------------------------------------------------------------------------------------------


def test_a_real_fit_file_is_imported_once_with_its_status_in_the_page(served):
    store, _, phone = served
    data = (require_shared("fit") / FIT_FILE).read_bytes()
    upload = {"files": ("Morning Run.FIT", data, "application/octet-stream")}
    response = phone.http.post(f"{phone.base}/upload", data=phone.form("upload"), files=upload)
    assert response.status_code == 200
    assert "<b>Morning Run.FIT</b>: imported: run 2017-06-11 14:34 UTC, 1 min" in response.text
    (session,) = stored_sessions(store, A, 0, END_MS)
    assert (session.source, session.time_ms, session.value("rr_count")) == ("fit", FIT_START_MS, 113)
    assert store.count(ACTIVITY.name, A) == 1 and store.count("rr", A) == 113
    assert store.count("analysis_due", A) == 1
    png = ("photo.fit", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
    again = phone.http.post(
        f"{phone.base}/upload", data=phone.form("upload"), files=[("files", upload["files"]), ("files", png)]
    )
    assert again.status_code == 200
    assert "<b>Morning Run.FIT</b>: already imported: run 2017-06-11 14:34 UTC, 1 min" in again.text
    assert "<b>photo.fit</b>: not a FIT file: it looks like a PNG image; nothing was stored" in again.text
    assert len(stored_sessions(store, A, 0, END_MS)) == 1 and store.count("rr", A) == 113


def test_a_damaged_fit_file_is_named_and_nothing_is_stored(served):
    store, _, phone = served
    data = (require_shared("fit") / "fitparse__activity-unexpected-eof.fit").read_bytes()
    before = points(store)
    response = phone.http.post(f"{phone.base}/upload", data=phone.form("upload"), files={"files": ("x.fit", data)})
    assert response.status_code == 422 and "<b>x.fit</b>: " in response.text and "nothing was stored" in response.text
    assert points(store) == before


# -- the last 14 days -------------------------------------------------------------------------------------------


def test_the_last_14_days_in_plain_language(served):
    store, _, phone = served
    today = NOW_MS // 86_400_000 * 86_400_000
    day = {"daily_load": [420.0], "load_source": ["srpe"], "status": ["suppressed"]}
    store.write([DAILY.batch({"athlete": A}, [today - 86_400_000], day)])
    tags = {"athlete": A, "family": "recovery", "signal": "hrv_suppressed", "severity": "watch"}
    reason = "ln rMSSD 7-day mean 3.9 below the normal range 4.1 since 2025-05-03 (3 days)"
    store.write([FLAG.batch(tags, [today - 86_400_000], {"reason": [reason], "value": [3.9], "threshold": [4.1]})])
    store.write([DAILY.batch({"athlete": A}, [today - 14 * 86_400_000], {"daily_load": [999.0]})])  # 15 days ago
    assert phone.send("morning", MORNING).status_code == 303
    page = phone.page("days").text
    assert page.count("<h2>") == 14 and "<h2>Tue 06 May</h2>" in page and "<h2>Thu 24 Apr</h2>" in page
    assert "420 AU (session RPE)" in page and "999 AU" not in page
    assert "Morning HRV below your normal range" in page
    assert "Your morning HRV has stayed below your normal range. Keep an eye on it." in page and reason in page
    assert "Hooper index 12 of 28" in page and "Calf (gastrocnemius), left 6/10" in page


# -- pages, sizes and the clinic ---------------------------------------------------------------------------------


def test_every_page_is_under_100_kb_and_safe_to_show(served):
    store, _, phone = served
    for i in range(14):
        fit_session(store, NOW_MS - i * 86_400_000 - HOUR_MS, rpe=5.0, srpe_load=250.0)
    for name in ("", "morning", "session", "upload", "days"):
        response = phone.page(name)
        assert response.status_code == 200 and len(response.content) < 100_000, name
        assert response.headers["cache-control"] == "no-store" and response.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.text
    for name in ("checkin.css", "checkin.js"):
        assert phone.http.get(f"/checkin/static/{name}").status_code == 200
    assert phone.http.get("/checkin/static/render.py").status_code == 404


def test_the_clinic_opens_any_athletes_pages_read_only(served):
    store, _, phone = served
    assert phone.send("morning", MORNING).status_code == 303
    http = phone.http
    for name in ("", "morning", "session", "upload", "days"):
        page = http.get(f"/checkin/clinic/{A}/{name}", headers=CLINIC)
        assert page.status_code == 200 and "read-only" in page.text
        assert 'name="form_token" value=""' in page.text or name in ("", "days")
    assert "Hooper index 12 of 28" in http.get(f"/checkin/clinic/{A}/days", headers=CLINIC).text
    before = points(store)
    post = http.post(f"/checkin/clinic/{A}/morning", headers=CLINIC, data={**MORNING, "athlete": A})
    assert post.status_code == 403 and "The clinic's view is read-only" in message(post.text)
    assert http.get(f"/checkin/clinic/{A}/days").status_code == 401
    wrong = http.get(f"/checkin/clinic/{A}/days", headers={"Authorization": "Bearer not-the-clinic-token-at-all"})
    assert wrong.status_code == 401 and "Send the clinic's token" in message(wrong.text)
    assert http.post(f"/checkin/clinic/{A}/morning", data=MORNING).status_code == 401
    assert http.get("/checkin/clinic/Z99/days", headers=CLINIC).status_code == 404
    assert points(store) == before


def test_without_a_clinic_token_the_clinic_view_is_off(each_store):
    with running_checkin(each_store.url) as server:
        phone = Phone(server.url, link(each_store, A))
        response = phone.http.get(f"/checkin/clinic/{A}/days", headers=CLINIC)
        assert response.status_code == 503 and "Clinic access is off" in message(response.text)
        assert phone.page("").status_code == 200  # the athlete's own link does not need the clinic token
        phone.close()


def test_unknown_pages_and_links(served):
    phone = served[2]
    assert phone.page("settings").status_code == 404
    assert phone.http.get("/checkin/short/").status_code == 403
    assert phone.http.get(f"/checkin/{'x' * 43}/").status_code == 403
    assert phone.http.post(f"{phone.base}/days", data={}).status_code == 405
    assert (
        phone.http.post(
            f"{phone.base}/morning", content=b"{}", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


# -- accessibility -----------------------------------------------------------------------------------------------


def test_every_control_has_a_label_and_every_page_a_language_and_title(served):
    store, _, phone = served
    fit_session(store, NOW_MS - HOUR_MS, rpe=5.0, srpe_load=150.0)
    visit_at(store, NOW_MS - HOUR_MS)
    for name in ("", "morning", "session", "upload", "days"):
        page = phone.page(name).text
        assert '<html lang="en">' in page and re.search(r"<title>[^<]+ · recovery-monitor</title>", page)
        assert page.count("<h1>") == 1 and '<main id="main">' in page
        controls = re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', page)
        unlabelled = [c for c in controls if f'<label for="{c}"' not in page]
        assert unlabelled == [], name
        assert not re.search(r'<(?:input|select)(?![^>]*type="hidden")(?![^>]*\bid=)', page), name


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_stylesheets_text_colours_meet_wcag_aa():
    css = (Path(render.__file__).parent / "static" / "checkin.css").read_text()
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the formula, against a known value
    pairs = [  # (text, background) as the stylesheet combines them
        ("#1a1a1a", "#ffffff"),  # body text
        ("#0a4a94", "#ffffff"),  # links, selected-choice borders
        ("#4a4a4a", "#ffffff"),  # hints
        ("#333333", "#ffffff"),  # choice anchors
        ("#b00020", "#fdecee"),  # problems
        ("#b00020", "#ffffff"),  # field errors
        ("#7a4f00", "#ffffff"),  # watch flags
        ("#1e6b2f", "#ffffff"),  # imported files
        ("#ffffff", "#0a4a94"),  # navigation, buttons, checked choices
        ("#1a1a1a", "#fff8eb"),  # the after-care box
        ("#1a1a1a", "#e6f4ea"),  # "stored" notices
    ]
    for text, background in pairs:
        assert contrast(text, background) >= 4.5, (text, background)
        for colour in (text, background):
            short = colour if colour not in ("#ffffff", "#333333") else colour[:4]
            assert short in css or colour in css, colour
