"""The clinic visit API against the running server (uvicorn on a free port, a real store): auth, size cap, body
and vocabulary validation, the future-time rule, idempotent writes, round trips on both stores. Every exchange is
checked against the OpenAPI document the server publishes (openapi-core); `test_api_fuzz.py` fuzzes it."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
from collections.abc import Iterator

import pytest
from api_client import ATHLETE, AUTH, NOW, TOKEN, Client, points, running_api, seed
from hypothesis import given
from hypothesis import strategies as st
from influxd import free_port
from openapi_spec_validator import validate as validate_spec

from ingest.regions import REGION_NAMES
from ingest.store.base import Store
from ingest.store.sqlite import SQLiteStore
from ingest.visits import MAX_AHEAD_API_MS, MAX_NOTE_CHARS, Visit, read_visits, visit_id_for
from monitor.service.api.auth import BearerAuth
from monitor.service.api.body import DRAIN_BYTES
from monitor.service.api.errors import ApiError
from monitor.service.api.openapi import MAX_BODY_BYTES, openapi_document
from monitor.service.api.routes import parse_time_ms

AT = "2025-05-01T09:30:00+02:00"
AT_MS = int(dt.datetime(2025, 5, 1, 7, 30, tzinfo=dt.UTC).timestamp() * 1000)
VISITS = "/api/v1/visits"


def visit_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {"athlete": ATHLETE, "at": AT, "regions": ["hamstring_r", "calf_l"]}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    store = SQLiteStore(tmp_path / "store.sqlite")
    seed(store)
    yield store
    store.close()


@pytest.fixture
def client(sqlite_store) -> Iterator[Client]:
    with running_api(sqlite_store.url, BearerAuth.for_token(TOKEN)) as server:
        api = Client(server)
        yield api
        api.close()


def test_the_served_document_is_openapi_3_1_with_the_region_vocabulary(client):
    document = client.document
    validate_spec(document)
    assert document == openapi_document() and document["openapi"] == "3.1.0"
    assert document["components"]["schemas"]["VisitIn"]["properties"]["regions"]["items"]["enum"] == list(REGION_NAMES)
    assert sorted(document["paths"]) == [
        "/api/v1/athletes/{athlete}/response",
        "/api/v1/athletes/{athlete}/visits",
        "/api/v1/visits",
    ]
    assert all(op["security"] == [{"clinicToken": []}] for path in document["paths"].values() for op in path.values())


BAD_AUTH = [
    (None, False),
    ("", False),
    ("Bearer", False),
    (f"Basic {TOKEN}", False),
    (f"Token {TOKEN}", False),
    ("Bearer not-the-clinic-token-at-all", True),  # well-formed, so valid by the document; the server knows better
    (f"Bearer {TOKEN}x", True),
    (f"Bearer {TOKEN[:-1]}", True),
    (f"Bearer {TOKEN.upper()}", True),
]


@pytest.mark.parametrize(("authorization", "well_formed"), BAD_AUTH)
def test_a_missing_or_wrong_token_gives_401_and_writes_nothing(client, sqlite_store, authorization, well_formed):
    before = points(sqlite_store)
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, body in [
        ("POST", VISITS, visit_body()),
        ("GET", f"/api/v1/athletes/{ATHLETE}/visits", None),
        ("GET", f"/api/v1/athletes/{ATHLETE}/response", None),
    ]:
        response = client.call(method, path, json=body, headers=headers, valid_request=well_formed)
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="recovery-monitor clinic API"')
        assert ('error="invalid_token"' in challenge) == bool(authorization)
        assert TOKEN not in response.text and TOKEN.upper() not in response.text
    assert points(sqlite_store) == before


def test_the_bearer_scheme_is_case_insensitive(client, sqlite_store):
    response = client.post_visit(visit_body(), headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 201 and sqlite_store.count("visit") == 1


MALFORMED = [
    (b"{", "malformed_json"),
    (b"", "malformed_json"),
    (b'{"athlete": "A01", "at": "2025-05-01T09:30:00+02:00", "regions": ["calf_l"]', "malformed_json"),
    (b"\xff\xfe{}", "malformed_json"),
    (b"[]", "invalid_body"),
    (b'"A01"', "invalid_body"),
    (b"null", "invalid_body"),
    (json.dumps(visit_body(regions=None)).encode(), "invalid_body"),
    (json.dumps(visit_body(regions=[])).encode(), "invalid_body"),
    (json.dumps(visit_body(regions="calf_l")).encode(), "invalid_body"),
    (json.dumps(visit_body(athlete="../A01")).encode(), "invalid_body"),
    (json.dumps(visit_body(athlete=7)).encode(), "invalid_body"),
    (json.dumps(visit_body(needles=-1)).encode(), "invalid_body"),
    (json.dumps(visit_body(needles=2.5)).encode(), "invalid_body"),
    (json.dumps(visit_body(needles=True)).encode(), "invalid_body"),
    (json.dumps(visit_body(note="x" * (MAX_NOTE_CHARS + 1))).encode(), "invalid_body"),
    (json.dumps(visit_body(note="two\nlines")).encode(), "invalid_body"),
    (json.dumps(visit_body(therapist="Dr. Jane Doe")).encode(), "invalid_body"),
    (json.dumps(visit_body(name="Jane Doe")).encode(), "invalid_body"),
    (b'{"athlete": "A01", "at": "2025-05-01T09:30:00+02:00", "regions": ["calf_l"], "needles": NaN}', "invalid_body"),
    (json.dumps(visit_body(at="yesterday")).encode(), "invalid_time"),
    (json.dumps(visit_body(at="2025-05-01T09:30:00")).encode(), "invalid_time"),
]


@pytest.mark.parametrize(("content", "code"), MALFORMED)
def test_a_malformed_body_gives_422_and_writes_nothing(client, sqlite_store, content, code):
    before = points(sqlite_store)
    response = client.call(
        "POST", VISITS, content=content, headers={**AUTH, "Content-Type": "application/json"}, valid_request=False
    )
    answer = response.json()
    assert response.status_code == 422 and answer["error"] == code, answer
    assert "\n" not in answer["message"] and len(answer["message"]) < 400
    assert points(sqlite_store) == before


def test_a_body_that_is_not_json_by_its_media_type_gives_415(client, sqlite_store):
    content = json.dumps(visit_body()).encode()
    for media_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {**AUTH} if media_type is None else {**AUTH, "Content-Type": media_type}
        response = client.call("POST", VISITS, content=content, headers=headers, valid_request=False)
        assert response.status_code == 415 and response.json()["error"] == "unsupported_media_type"
    assert sqlite_store.count("visit") == 0
    charset = client.call("POST", VISITS, content=content, headers={**AUTH, "Content-Type": "application/json"})
    assert charset.status_code == 201


def padded(size: int) -> bytes:
    """A valid visit body of exactly `size` bytes (JSON allows any whitespace after the value)."""
    body = json.dumps(visit_body()).encode()
    return body + b" " * (size - len(body))


def test_a_2_mb_body_gives_413_whether_declared_or_streamed_and_writes_nothing(client, sqlite_store):
    before = points(sqlite_store)
    two_mb = json.dumps(visit_body(note="x" * 2_000_000)).encode()
    assert DRAIN_BYTES > len(two_mb) > 2_000_000
    headers = {**AUTH, "Content-Type": "application/json"}
    declared = client.call("POST", VISITS, content=two_mb, headers=headers, valid_request=False)  # note too long
    chunks = [two_mb[i : i + 65_536] for i in range(0, len(two_mb), 65_536)]
    streamed = client.call("POST", VISITS, content=iter(chunks), sent=two_mb, headers=headers, valid_request=False)
    assert "Content-Length" not in streamed.request.headers, "sent chunked: the cap holds while the body streams"
    for response in (declared, streamed):
        assert response.status_code == 413 and response.json() == {
            "error": "payload_too_large",
            "message": f"request body over the limit of {MAX_BODY_BYTES} bytes",
        }
    assert points(sqlite_store) == before


def test_the_size_limit_is_inclusive(client, sqlite_store):
    headers = {**AUTH, "Content-Type": "application/json"}
    over = client.call("POST", VISITS, content=padded(MAX_BODY_BYTES + 1), headers=headers, valid_request=True)
    assert over.status_code == 413 and sqlite_store.count("visit") == 0
    at_limit = client.call("POST", VISITS, content=padded(MAX_BODY_BYTES), headers=headers)
    assert at_limit.status_code == 201 and sqlite_store.count("visit") == 1


def test_an_unknown_region_gives_422_listing_the_vocabulary_and_writes_nothing(client, sqlite_store):
    before = points(sqlite_store)
    response = client.post_visit(visit_body(regions=["calf_l", "wing_l", "Calf_R"]), valid_request=False)
    answer = response.json()
    assert response.status_code == 422 and answer["error"] == "unknown_region"
    assert answer["unknown"] == ["Calf_R", "wing_l"] and answer["allowed"] == list(REGION_NAMES)
    assert answer["message"].startswith("unknown regions 'Calf_R', 'wing_l': allowed are calf_l, calf_r, ")
    assert all(name in answer["message"] for name in REGION_NAMES)
    assert points(sqlite_store) == before


def test_a_time_more_than_a_day_ahead_gives_422_and_exactly_a_day_is_accepted(client, sqlite_store):
    before = points(sqlite_store)
    limit = NOW + dt.timedelta(milliseconds=MAX_AHEAD_API_MS)
    assert limit.isoformat() == "2025-05-02T12:00:00+00:00"
    for late in (
        "2025-05-02T12:00:01Z",
        "2025-05-02T14:00:01+02:00",
        "2025-05-02T07:00:01-05:00",
        "2030-01-01T00:00:00Z",
    ):
        response = client.post_visit(visit_body(at=late))
        answer = response.json()
        assert response.status_code == 422 and answer["error"] == "future_time", (late, answer)
        assert "(now 2025-05-01T12:00:00Z)" in answer["message"] and "at most 24 h ahead" in answer["message"]
    assert points(sqlite_store) == before
    at_limit = client.post_visit(visit_body(at="2025-05-02T12:00:00Z"))
    assert at_limit.status_code == 201 and at_limit.json()["at"] == "2025-05-02T12:00:00Z"
    same_second = client.post_visit(visit_body(at="2025-05-02T12:00:00.999Z"))
    assert same_second.status_code == 200 and same_second.json() == at_limit.json(), "kept to the second"
    assert sqlite_store.count("visit") == 1


def test_visits_round_trip_through_the_store(each_store):
    seed(each_store)
    with running_api(each_store.url, BearerAuth.for_token(TOKEN)) as server:
        client = Client(server)
        try:
            full = visit_body(therapist="T1", needles=6, note="left calf trigger points")
            created = client.post_visit(full)
            first = created.json()
            assert created.status_code == 201 and first == {
                "visit_id": visit_id_for(ATHLETE, AT_MS),
                "athlete": ATHLETE,
                "at": "2025-05-01T07:30:00Z",
                "regions": ["calf_l", "hamstring_r"],
                "therapist": "T1",
                "needles": 6,
                "note": "left calf trigger points",
            }
            again = client.post_visit({**full, "at": "2025-05-01T07:30:00Z", "regions": ["calf_l", "hamstring_r"]})
            assert again.status_code == 200 and again.json() == first, "the same visit: the same ID, nothing new"
            short = client.post_visit(visit_body())
            assert short.status_code == 200 and short.json() == first, "left-out optional fields keep their values"
            for changed in (visit_body(regions=["lumbar"]), {**full, "needles": 7}, {**full, "therapist": "T2"}):
                conflict = client.post_visit(changed)
                assert conflict.status_code == 409 and conflict.json()["visit"] == first
                assert conflict.json()["error"] == "visit_conflict"
            later = visit_body(at="2025-05-01T11:00:00+00:00", regions=["lumbar"])
            second = client.post_visit(later).json()
            assert (second["therapist"], second["needles"], second["note"]) == (None, None, None)
            filled = client.post_visit({**later, "needles": 4})
            assert filled.status_code == 200 and filled.json() == {**second, "needles": 4}
            second = filled.json()
            assert each_store.count("visit") == 2

            listed = client.call("GET", f"/api/v1/athletes/{ATHLETE}/visits", headers=AUTH)
            assert listed.status_code == 200 and listed.json() == {"athlete": ATHLETE, "visits": [first, second]}
            assert read_visits(each_store, ATHLETE) == [
                Visit(
                    first["visit_id"], ATHLETE, AT_MS, ("calf_l", "hamstring_r"), "T1", 6, "left calf trigger points"
                ),
                Visit(second["visit_id"], ATHLETE, AT_MS + 12_600_000, ("lumbar",), needles=4),
            ]

            response = client.call("GET", f"/api/v1/athletes/{ATHLETE}/response", headers=AUTH).json()
            assert [v["visit_id"] for v in response["visits"]] == [first["visit_id"], second["visit_id"]]
            one = client.call("GET", f"/api/v1/athletes/{ATHLETE}/response?visit_id={second['visit_id']}", headers=AUTH)
            assert [v["visit_id"] for v in one.json()["visits"]] == [second["visit_id"]]
        finally:
            client.close()


def test_unknown_athletes_and_visits_give_404_and_bad_ids_422(client, sqlite_store):
    seed(sqlite_store, "B02")
    before = points(sqlite_store)
    unknown = client.post_visit(visit_body(athlete="B99"))
    assert unknown.status_code == 404 and unknown.json() == {
        "error": "unknown_athlete",
        "message": "athlete 'B99': no data in the store",
    }
    for path in ("/api/v1/athletes/B99/visits", "/api/v1/athletes/B99/response"):
        response = client.call("GET", path, headers=AUTH)
        assert response.status_code == 404 and response.json()["error"] == "unknown_athlete"
    empty = client.call("GET", "/api/v1/athletes/B02/visits", headers=AUTH)
    assert empty.status_code == 200 and empty.json() == {"athlete": "B02", "visits": []}
    missing = client.call("GET", f"/api/v1/athletes/{ATHLETE}/response?visit_id=v-000000000000", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"] == "unknown_visit"
    theirs = client.post_visit(visit_body(athlete="B02")).json()["visit_id"]
    before["visit"] += 1
    before["analysis_due"] += 1  # the visit marks B02's analysis due from its time
    other = client.call("GET", f"/api/v1/athletes/{ATHLETE}/response?visit_id={theirs}", headers=AUTH)
    assert other.status_code == 404, "a visit of another athlete is not this athlete's"
    for path in ("/api/v1/athletes/-A01/visits", f"/api/v1/athletes/{'A' * 33}/response"):
        response = client.call("GET", path, headers=AUTH, valid_request=False)
        assert response.status_code == 422 and response.json()["error"] == "invalid_athlete"
    bad_visit = client.call("GET", f"/api/v1/athletes/{ATHLETE}/response?visit_id=x", headers=AUTH, valid_request=False)
    assert bad_visit.status_code == 422 and bad_visit.json()["error"] == "invalid_visit_id"
    assert points(sqlite_store) == before


def test_concurrent_posts_of_one_visit_store_it_once(client, sqlite_store):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: client.post_visit(visit_body()).status_code, range(16)))
    assert statuses == [200] * 15 + [201] and sqlite_store.count("visit") == 1


def test_without_a_token_the_api_answers_503_and_still_publishes_its_document(sqlite_store):
    with running_api(sqlite_store.url, auth=None) as server:
        client = Client(server)
        try:
            for method, path in (("POST", VISITS), ("GET", f"/api/v1/athletes/{ATHLETE}/visits")):
                response = client.call(method, path, json=visit_body() if method == "POST" else None, headers=AUTH)
                assert response.status_code == 503 and response.json() == {
                    "error": "api_off",
                    "message": "the clinic API is off: start serve with CLINIC_API_TOKEN or CLINIC_API_TOKEN_FILE set",
                }
            assert client.http.get("/healthz").status_code == 200
        finally:
            client.close()
    assert sqlite_store.count("visit") == 0


def test_an_unreachable_store_gives_503():
    url = f"influxdb+http://127.0.0.1:{free_port()}/recovery"
    with running_api(url, BearerAuth.for_token(TOKEN), store_timeout_s=0.3) as server:
        client = Client(server)
        try:
            response = client.post_visit(visit_body())
            assert response.status_code == 503 and response.json()["error"] == "store_unavailable"
            assert "refused" in response.json()["message"]
        finally:
            client.close()


def test_unknown_paths_and_methods_are_json_errors(client):
    missing = client.http.get("/api/v1/nothing-here", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = client.http.delete(VISITS, headers=AUTH)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert wrong.headers["Allow"] == "POST"
    # a line break in the athlete segment matches no route, nor the mount (found by schemathesis): still the API's
    # documented error shape
    broken = client.call("GET", "/api/v1/athletes/A%0A01/response", headers=AUTH)
    assert broken.status_code == 404 and broken.json()["error"] == "not_found"
    assert client.http.get("/elsewhere").json()["paths"]  # outside the features: the list of paths, as before


@given(st.text(max_size=60))
def test_any_text_is_a_time_or_one_422_line(text):
    try:
        parse_time_ms(text)
    except ApiError as exc:
        assert exc.status == 422 and exc.code == "invalid_time" and "\n" not in exc.message and len(exc.message) < 600


@given(st.datetimes(timezones=st.timezones()))
def test_times_with_any_offset_parse_to_their_instant(moment):
    offset = moment.utcoffset()
    if offset is not None and offset % dt.timedelta(minutes=1) == dt.timedelta(0):  # ISO 8601 offsets: ±HH:MM
        expected = (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
        assert parse_time_ms(moment.isoformat()) == expected


def test_times_parse_to_the_instant_they_name():
    assert parse_time_ms(AT) == parse_time_ms("2025-05-01T07:30:00Z") == AT_MS
    assert parse_time_ms("2025-05-01T07:30:00.250+00:00") == AT_MS + 250
    assert parse_time_ms("2025-05-01 09:30+0200") == AT_MS
    for text in ("2025-05-01", "2025-05-01T07:30", "2025-05-01T07:30:00+02", "2025-13-01T07:30Z", "20250501T0730Z"):
        with pytest.raises(ApiError, match=r"not an ISO 8601 time with a UTC offset \(e\.g\. 2025-05-01T09:30:00\+02"):
            parse_time_ms(text)
