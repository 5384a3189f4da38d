"""Personal check-in links (`athlete link`, ingest/links.py), one-time form tokens, the per-link rate limit, and the
parsers of the check-in forms and uploads (fuzzed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from checkin_client import NOW_MS, Clock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.links import Link, looks_like_token, read_links, token_sha256, write_link
from ingest.model import CHECKIN_LINK
from ingest.store.base import Store
from ingest.store.sqlite import SQLiteStore
from monitor.cli.athlete_link import CHECKIN_PATH, PUBLIC_URL_ENV
from monitor.cli.main import main
from monitor.service.checkin import PREFIX
from monitor.service.checkin.access import FORM_MAX_AGE_S, AccessError, Forms, LinkResolver, RateLimiter, Receipt
from monitor.service.checkin.forms import FormErrors, parse_morning, parse_rpe
from monitor.service.checkin.upload import fit_problem

URL = re.compile(r"^https://monitor\.example\.org/club" + CHECKIN_PATH + r"/([A-Za-z0-9_-]{43})/$")


def make_link(store_url: str, *options: str, capsys) -> tuple[int, str, str]:
    code = main(["athlete", "link", "A01", "--store", store_url, *options])
    out, err = capsys.readouterr()
    return code, out, err


def test_athlete_link_prints_a_url_and_stores_only_the_hash(tmp_path: Path, capsys, monkeypatch):
    path = tmp_path / "store.sqlite"
    url = f"sqlite:///{path}"
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://monitor.example.org/club/")
    code, out, err = make_link(url, capsys=capsys)
    assert code == 0 and "give it to the athlete only, it is not shown again" in err
    token = URL.match(out.strip()).group(1)  # type: ignore[union-attr]
    assert looks_like_token(token) and CHECKIN_PATH == PREFIX
    store = SQLiteStore(path)
    (stored,) = read_links(store, "A01")
    assert stored.token_sha256 == token_sha256(token) and store.count(CHECKIN_LINK.name) == 1
    store.close()
    for file in tmp_path.iterdir():  # the token itself is nowhere in the store's files
        assert token.encode() not in file.read_bytes()
    code, out, err = make_link(url, capsys=capsys)
    assert code == 2 and out == ""
    assert re.match(r"recovery-monitor: error: athlete A01 already has a check-in link \(made 20\d\d-", err)
    assert "--rotate makes a new one and revokes the old" in err
    code, out, err = make_link(
        url, "--rotate", "--json", "--base-url", "https://monitor.example.org/club", capsys=capsys
    )
    document = json.loads(out)
    new_token = URL.match(document["url"]).group(1)  # type: ignore[union-attr]
    assert code == 0 and document["rotated"] is True and document["athlete"] == "A01" and new_token != token
    store = SQLiteStore(path)
    assert [link.token_sha256 for link in read_links(store)] == [token_sha256(new_token)]
    store.close()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ((), "no base URL: pass --base-url or set RECOVERY_PUBLIC_URL"),
        (("--base-url", "monitor.example.org"), "base URL 'monitor.example.org': expected http(s)://HOST"),
        (("--base-url", "https://m.example.org/?x=1"), "expected http(s)://HOST[:PORT][/PATH] without query"),
    ],
)
def test_athlete_link_needs_a_usable_base_url(tmp_path, capsys, monkeypatch, options, error):
    monkeypatch.delenv(PUBLIC_URL_ENV, raising=False)
    code, out, err = make_link(f"sqlite:///{tmp_path}/s.sqlite", *options, capsys=capsys)
    assert code == 2 and out == "" and error in err and not (tmp_path / "s.sqlite").exists()


def test_athlete_link_refuses_an_id_that_is_not_pseudonymous(tmp_path, capsys):
    code = main(
        ["athlete", "link", "Jane Doe", "--base-url", "https://m.example.org", "--store", f"sqlite:///{tmp_path}/s"]
    )
    assert code == 2 and "athlete 'Jane Doe': not a pseudonymous ID" in capsys.readouterr().err


def test_links_round_trip_and_a_new_link_replaces_the_old(each_store: Store):
    write_link(each_store, "A01", "a" * 64, 1000)
    write_link(each_store, "B02", "b" * 64, 2000)
    assert read_links(each_store) == [Link("A01", "a" * 64, 1000), Link("B02", "b" * 64, 2000)]
    write_link(each_store, "A01", "c" * 64, 3000)
    assert read_links(each_store, "A01") == [Link("A01", "c" * 64, 3000)]
    assert each_store.count(CHECKIN_LINK.name) == 2
    with pytest.raises(ValueError, match="stored as the token's hex SHA-256, not as the token"):
        write_link(each_store, "A01", "x" * 43, 4000)


def test_a_token_opens_its_own_athlete_only(each_store: Store):
    token, other = "T" * 43, "U" * 43
    write_link(each_store, "A01", token_sha256(token), NOW_MS)
    write_link(each_store, "B02", token_sha256(other), NOW_MS)
    resolver = LinkResolver()
    assert resolver.resolve(each_store, token).athlete == "A01"
    assert resolver.resolve(each_store, other).athlete == "B02"
    write_link(each_store, "B02", token_sha256(token), NOW_MS)  # an export imported under another ID: one hash, two
    with pytest.raises(AccessError, match="not valid"):
        LinkResolver().resolve(each_store, token)  # names no single athlete: opens neither
    with pytest.raises(AccessError, match="not valid"):
        resolver.resolve(each_store, other)  # B02's old link was replaced


# -- form tokens and the rate ------------------------------------------------------------------------------------

LINK = Link("A01", "a" * 64, 0)


def test_a_form_token_is_bound_to_its_link_and_kind_and_expires():
    clock = Clock()
    forms = Forms(clock.ms)
    token = forms.issue(LINK, "morning")
    form_id = forms.check(LINK, "morning", token)
    assert token.startswith(form_id + ".") and len(form_id) == 22
    with pytest.raises(AccessError, match="not valid for this link"):
        forms.check(Link("A01", "b" * 64, 0), "morning", token)
    with pytest.raises(AccessError, match="not valid for this link"):
        forms.check(LINK, "rpe", token)
    with pytest.raises(AccessError, match="not valid for this link"):
        Forms(clock.ms).check(LINK, "morning", token)  # another key: serve restarted
    clock.now_ms += FORM_MAX_AGE_S * 1000
    assert forms.check(LINK, "morning", token) == form_id  # exactly the maximum age: still valid
    clock.now_ms += 1000
    with pytest.raises(AccessError, match="The form has expired") as caught:
        forms.check(LINK, "morning", token)
    assert caught.value.status == 403
    forms.check_unused(form_id)
    forms.mark_used(form_id, Receipt("morning", NOW_MS, "your morning check-in of 07:30 UTC"))
    with pytest.raises(AccessError, match=r"already sent and stored \(your morning check-in of 07:30 UTC\)") as used:
        forms.check_unused(form_id)
    assert used.value.status == 409


def test_the_rate_limit_refills_one_submission_every_six_seconds():
    clock = Clock()
    limiter = RateLimiter(10, 60.0, clock.monotonic)
    for _ in range(10):
        limiter.take("a")
    with pytest.raises(AccessError) as caught:
        limiter.take("a")
    assert caught.value.status == 429 and caught.value.retry_after_s == 6
    limiter.take("b")  # each link has its own bucket
    clock.monotonic_s += 5.999
    with pytest.raises(AccessError):
        limiter.take("a")
    clock.monotonic_s += 0.001  # 6 s since the bucket emptied: one submission (a refused one took nothing)
    limiter.take("a")
    with pytest.raises(AccessError):
        limiter.take("a")


# -- parsers, fuzzed ---------------------------------------------------------------------------------------------

TEXT = st.text(max_size=12)
FIELDS = st.sampled_from(
    [
        "sleep_quality",
        "fatigue",
        "soreness",
        "stress",
        "pain",
        "aftercare",
        "note",
        "region_calf_l",
        "region_x",
        "rpe",
        "session",
        "duration_min",
        "sport",
        "replace",
    ]
)


VALUES = st.one_of(TEXT, st.integers(-20, 2000).map(str), st.sampled_from(["nan", "1e999", " 7 ", "new", "yes"]))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(FIELDS, VALUES, max_size=8))
def test_the_form_parsers_return_values_in_range_or_name_the_fields(form):
    try:
        morning = parse_morning(form, aftercare_asked=True)
        assert all(1 <= getattr(morning, n) <= 7 for n in ("sleep_quality", "fatigue", "soreness", "stress"))
        assert all(1 <= r <= 10 for r in morning.regions.values())
    except FormErrors as exc:
        assert exc.errors and all("\n" not in m for m in exc.errors.values())
    try:
        rpe = parse_rpe(form)
        assert 0 <= rpe.rpe <= 10 and (rpe.duration_min is None or 0 < rpe.duration_min <= 1440)
    except FormErrors as exc:
        assert exc.errors and set(exc.errors) <= {"rpe", "session", "duration_min", "sport"}


@given(st.binary(max_size=20))
def test_fit_detection_by_content(head):
    problem = fit_problem(head)
    is_fit = len(head) >= 12 and head[0] in (12, 14) and head[8:12] == b".FIT"
    assert (problem is None) == is_fit
    assert problem is None or problem.startswith("not a FIT file")


def test_fit_detection_names_common_files():
    assert fit_problem(b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00") is None
    assert fit_problem(b"\x0c\x10\x00\x00\x00\x00\x00\x00.FIT") is None
    assert fit_problem(b"\x0d\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00") == "not a FIT file (no FIT header)"
    assert fit_problem(b"\x89PNG\r\n\x1a\n") == "not a FIT file: it looks like a PNG image"
    assert (
        fit_problem(b"<?xml version") == "not a FIT file: it looks like a web page or XML (GPX/TCX are not supported)"
    )


def test_athlete_delete_removes_the_link(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/s.sqlite"
    assert main(["athlete", "link", "A01", "--base-url", "https://m.example.org", "--store", url]) == 0
    assert main(["athlete", "delete", "A01", "--yes", "--store", url]) == 0
    store = SQLiteStore(tmp_path / "s.sqlite")
    assert read_links(store) == []
    store.close()
