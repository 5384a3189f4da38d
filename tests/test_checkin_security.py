"""The check-in's security rules against the running server on both stores: each refused submission gets a 4xx
page saying why, writes nothing and leaves the stored data as it was; each accepted one is stored exactly once."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator

import pytest
from checkin_client import MORNING, NOW_MS, RPE, Clock, Phone, link, message, points, running_checkin, with_fields

from ingest.model import SESSION, WELLNESS
from ingest.session_match import stored_sessions
from ingest.store.base import Store
from ingest.wellness import read_wellness
from monitor.cli.main import main
from monitor.service.checkin.access import RATE_CAPACITY, RATE_PERIOD_S
from monitor.service.checkin.upload import MAX_UPLOAD_BYTES

ATHLETE, OTHER = "A01", "B02"
END_MS = NOW_MS + 30 * 86_400_000


def snapshot(store: Store) -> tuple[object, ...]:
    """What "the stored data is unchanged" compares: points per measurement, check-ins and sessions."""
    return (
        points(store),
        read_wellness(store, ATHLETE),
        read_wellness(store, OTHER),
        stored_sessions(store, ATHLETE, 0, END_MS),
    )


@pytest.fixture
def setup(each_store: Store) -> Iterator[tuple[Store, Clock, Phone]]:
    token = link(each_store, ATHLETE)
    link(each_store, OTHER)
    clock = Clock()
    with running_checkin(each_store.url, clock) as server:
        phone = Phone(server.url, token)
        response = phone.send("morning", MORNING)  # something stored already: "unchanged" is not "empty"
        assert response.status_code == 303
        yield each_store, clock, phone
        phone.close()


def refused(setup, status: int, text: str, send) -> str:
    store, _, _ = setup
    before = snapshot(store)
    response = send()
    assert response.status_code == status, message(response.text)
    assert text in message(response.text)
    assert response.headers["content-type"].startswith("text/html")
    assert snapshot(store) == before
    return response.text


def test_another_athletes_id_in_a_form(setup):
    phone = setup[2]
    text = "This form names another athlete than this link's own: nothing was stored."
    refused(setup, 403, text, lambda: phone.send("morning", with_fields(MORNING, athlete=OTHER)))
    refused(setup, 403, text, lambda: phone.send("session", with_fields(RPE, athlete=OTHER)))


def test_a_rotated_link_stops_at_once(setup, tmp_path):
    store, _, phone = setup
    old_form = phone.form("morning")
    args = ["athlete", "link", ATHLETE, "--rotate", "--base-url", "https://m.example.org", "--store", store.url]
    assert main(args) == 0
    text = "This check-in link is not valid: it may have been replaced by a newer one."
    refused(setup, 403, text, lambda: phone.send("morning", MORNING, form=old_form))
    refused(setup, 403, text, lambda: phone.page("morning"))
    refused(setup, 403, text, lambda: phone.page(""))


def test_no_csrf_token(setup):
    phone = setup[2]
    text = "The form has no security token: open the page again and send the form from it."
    refused(setup, 403, text, lambda: phone.send("morning", with_fields(MORNING, form_token=None)))
    refused(setup, 403, text, lambda: phone.send("session", with_fields(RPE, form_token="")))
    forged = "The form's security token is not valid for this link"
    token = phone.form("morning")["form_token"]
    refused(setup, 403, forged, lambda: phone.send("morning", with_fields(MORNING, form_token=token[:-2] + "xx")))
    refused(setup, 403, forged, lambda: phone.send("session", with_fields(RPE, form_token=token)))  # another form's


def test_a_replayed_form_is_refused_and_stored_once(setup):
    store, _, phone = setup
    for name, fields, measurement in (("morning", MORNING, WELLNESS), ("session", RPE, SESSION)):
        form = phone.form(name)
        before = store.count(measurement.name)
        assert phone.send(name, fields, form=form).status_code == 303
        assert store.count(measurement.name) == before + 1
        text = "This form was already sent and stored"
        refused(setup, 409, text, lambda form=form, name=name, fields=fields: phone.send(name, fields, form=form))
    assert len(read_wellness(store, ATHLETE)) == 2


def test_rpe_11_and_a_negative_duration(setup):
    phone = setup[2]
    page = refused(
        setup,
        422,
        "RPE: '11' is not a whole number from 0 to 10.",
        lambda: phone.send("session", with_fields(RPE, rpe="11")),
    )
    assert 'value="45"' in page  # the form comes back with what was typed
    text = "Duration -5 min: must be more than 0 and at most 1440 min."
    refused(setup, 422, text, lambda: phone.send("session", with_fields(RPE, duration_min="-5")))
    refused(setup, 422, "Duration 0 min", lambda: phone.send("session", with_fields(RPE, duration_min="0")))
    refused(setup, 422, "RPE: '-1' is not", lambda: phone.send("session", with_fields(RPE, rpe="-1")))
    refused(
        setup,
        422,
        "How well did you sleep?: '8' is not",
        lambda: phone.send("morning", with_fields(MORNING, sleep_quality="8")),
    )


def test_a_png_named_fit(setup, tmp_path):
    phone = setup[2]
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    form = phone.form("upload")

    def upload():
        return phone.http.post(
            f"{phone.base}/upload", data=form, files=[("files", ("run.fit", png, "application/octet-stream"))]
        )

    page = refused(setup, 415, "", upload)
    assert "run.fit</b>: not a FIT file: it looks like a PNG image; nothing was stored" in page


def _big_upload(phone: Phone, total: int, *, declared: bool) -> tuple[int, bytes]:
    """Stream a multipart upload of ``total`` bytes over a raw socket, stopping as soon as the server answers or
    closes; returns (bytes sent, what the server answered)."""
    form = phone.form("upload")
    boundary = "checkin-boundary-7d3a"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in form.items()
    )
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.fit"\r\n\r\n'
    length = f"Content-Length: {total}" if declared else "Transfer-Encoding: chunked"
    host, port = phone.http.base_url.host, phone.http.base_url.port
    request = f"POST {phone.base}/upload HTTP/1.1\r\nHost: {host}\r\n{length}\r\n"
    request += f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
    chunk = bytes(256 * 1024)
    sent, answer = 0, b""
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(request.encode())
        first = head.encode()
        try:
            while sent < total:
                if select.select([sock], [], [], 0)[0]:
                    break
                body = first + chunk if sent == 0 else chunk
                sock.sendall(body if declared else f"{len(body):x}\r\n".encode() + body + b"\r\n")
                sent += len(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while data := sock.recv(65536):
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    return sent, answer


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_100_mb_upload_is_cut_off_at_the_cap(setup, declared):
    store, _, phone = setup
    before = snapshot(store)
    sent, answer = _big_upload(phone, 100 * 1024 * 1024, declared=declared)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"The upload is larger than 25 MB: nothing was stored." in answer
    # the server stopped reading at the cap (25 MiB, then at most 4 MiB drained; the rest is socket buffers)
    assert sent < (MAX_UPLOAD_BYTES if declared else 2 * MAX_UPLOAD_BYTES)
    assert snapshot(store) == before


def test_script_in_a_note_is_refused_and_shown_escaped(setup):
    phone = setup[2]
    note = '<script>alert("x")</script>'
    page = refused(
        setup,
        422,
        "Note: please write plain text, without < or >",
        lambda: phone.send("morning", with_fields(MORNING, note=note)),
    )
    assert "<script>alert" not in page
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in page


def test_stored_values_are_shown_escaped(setup):
    store, clock, phone = setup
    sport = "<b>x</b>"  # a sport tag from some import: text, never markup
    store.write(
        [
            SESSION.batch(
                {"athlete": ATHLETE, "source": "csv", "sport": sport},
                [clock.now_ms - 3_600_000],
                {"duration_s": [600.0]},
            )
        ]
    )
    for name in ("session", "days"):
        page = phone.page(name).text
        assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_100_rapid_submissions_from_one_link(setup):
    store, clock, phone = setup
    forms = [phone.form("morning") for _ in range(100)]  # pages are not rate-limited; submissions are
    codes = [phone.send("morning", MORNING, form=form).status_code for form in forms]
    # the fixture's own check-in used one of the bucket's RATE_CAPACITY submissions
    assert codes.count(303) == RATE_CAPACITY - 1 and codes.count(429) == 100 - RATE_CAPACITY + 1
    assert codes == [303] * (RATE_CAPACITY - 1) + [429] * (100 - RATE_CAPACITY + 1)
    assert len(read_wellness(store, ATHLETE)) == RATE_CAPACITY
    refill_s = RATE_PERIOD_S / RATE_CAPACITY
    clock.monotonic_s += refill_s - 0.001  # just short of one submission's refill
    response = phone.send("morning", MORNING, form=forms[-1])
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert "Too many submissions from this link: at most 10 per 60 s. Nothing was stored" in message(response.text)
    clock.monotonic_s += 0.001  # one refill since the bucket emptied (a refused attempt takes nothing)
    assert phone.send("morning", MORNING, form=forms[-1]).status_code == 303
    assert len(read_wellness(store, ATHLETE)) == RATE_CAPACITY + 1


def test_other_links_are_not_slowed_by_one(setup, each_store):
    store, _clock, phone = setup
    for _ in range(RATE_CAPACITY + 5):
        phone.send("morning", MORNING)
    other = Phone(str(phone.http.base_url), link(store, "C03"))
    assert other.send("morning", MORNING).status_code == 303
    other.close()


def test_every_submission_is_stored_exactly_once(setup):
    """Morning forms and session ratings, each sent twice (a double tap): one of each pair is stored."""
    store, clock, phone = setup
    forms = [(phone.form("morning"), phone.form("session")) for _ in range(4)]
    for i, (morning, session) in enumerate(forms):
        clock.now_ms += 60_000
        clock.monotonic_s += RATE_PERIOD_S
        fields = with_fields(MORNING, fatigue=str(i + 1))
        assert [phone.send("morning", fields, form=morning).status_code for _ in range(2)] == [303, 409]
        rated = with_fields(RPE, rpe=str(i + 2), duration_min=str(30 + i))
        assert [phone.send("session", rated, form=session).status_code for _ in range(2)] == [303, 409]
    checkins = read_wellness(store, ATHLETE)
    assert [w.fatigue for w in checkins] == [3, 1, 2, 3, 4]
    assert len({w.submission_id for w in checkins}) == 5 and all(w.regions == {"calf_l": 6} for w in checkins)
    sessions = stored_sessions(store, ATHLETE, 0, END_MS)
    assert sorted(s.value("rpe") for s in sessions) == [2, 3, 4, 5]
    assert sorted(s.value("duration_s") for s in sessions) == [1800, 1860, 1920, 1980]
    assert {s.source for s in sessions} == {"rpe"}
