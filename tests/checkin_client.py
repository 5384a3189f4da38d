"""The check-in pages under test: `serve`'s app (health, clinic API, check-in) on uvicorn over a real store, and a
client that reads forms the way a browser does (hidden fields from the page) and reads the message of a page."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from ingest.links import new_link_token, token_sha256, write_link
from ingest.model import MEASUREMENTS
from ingest.store.base import Store
from monitor.service.api import clinic_api_mount
from monitor.service.api.auth import BearerAuth
from monitor.service.app import build_app
from monitor.service.checkin import checkin_mount
from monitor.service.checkin.access import RateLimiter
from monitor.service.server import WebServer
from monitor.service.shared_store import SharedStore

CLINIC_TOKEN = "clinic-test-token-0123456789abcdef"
CLINIC = {"Authorization": f"Bearer {CLINIC_TOKEN}"}
NOW = dt.datetime(2025, 5, 6, 7, 30, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)
FIT_FILE = "fitparse__garmin-fenix-5-run.fit"
"""A real 57 s run (fenix 5, 2017-06-11 14:34:09 UTC, 113 RR intervals); ../shared/data/MANIFEST.md."""
FIT_START_MS = int(dt.datetime(2017, 6, 11, 14, 34, 9, tzinfo=dt.UTC).timestamp() * 1000)


def points(store: Store) -> dict[str, int]:
    """Points per measurement: what "nothing was written" compares."""
    return {m.name: store.count(m.name) for m in MEASUREMENTS if store.count(m.name)}


def link(store: Store, athlete: str, now_ms: int = NOW_MS) -> str:
    """A new personal link token for ``athlete`` (as `athlete link` makes one)."""
    token = new_link_token()
    write_link(store, athlete, token_sha256(token), now_ms)
    return token


class Clock:
    """A settable clock: the server's wall clock (ms) and its monotonic clock (s) for the rate limit."""

    def __init__(self, now_ms: int = NOW_MS) -> None:
        self.now_ms = now_ms
        self.monotonic_s = 1000.0

    def ms(self) -> int:
        return self.now_ms

    def monotonic(self) -> float:
        return self.monotonic_s


@contextmanager
def running_checkin(
    store_url: str,
    clock: Clock | None = None,
    *,
    auth: BearerAuth | None = None,
    limiter: RateLimiter | None = None,
) -> Iterator[WebServer]:
    """`serve`'s app on a free loopback port with the server clock from ``clock``."""
    clock = clock or Clock()
    stores = SharedStore(store_url, timeout_s=10.0)
    limiter = limiter or RateLimiter(monotonic=clock.monotonic)
    mounts = [
        clinic_api_mount(stores, auth, clock_ms=clock.ms),
        checkin_mount(stores, auth, clock_ms=clock.ms, limiter=limiter),
    ]
    app = build_app(lambda: (200, {"status": "ok"}), mounts)
    try:
        with WebServer("127.0.0.1", 0, app) as server:
            yield server
    finally:
        stores.close()


_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's form (its one-time token and athlete)."""
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def message(page: str) -> str:
    """The page's message: an error page's sentence, or the listed problems of a form shown again."""
    found = re.findall(r'<p class="problem" role="alert">(.*?)</p>|<li><a href="#[^"]*">(.*?)</a></li>', page, re.S)
    return " | ".join(html.unescape(a or b) for a, b in found)


class Phone:
    """An athlete's browser on one link: GET a page, send its form (fields merged over the page's hidden ones)."""

    def __init__(self, url: str, token: str, **client: Any) -> None:
        self.http = httpx.Client(base_url=url, timeout=30.0, **client)
        self.token = token
        self.base = f"/checkin/{token}"

    def close(self) -> None:
        self.http.close()

    def page(self, name: str = "") -> httpx.Response:
        return self.http.get(f"{self.base}/{name}")

    def form(self, name: str) -> dict[str, str]:
        response = self.page(name)
        assert response.status_code == 200, (response.status_code, message(response.text))
        return hidden_fields(response.text)

    def send(self, name: str, fields: dict[str, str | None], *, form: dict[str, str] | None = None) -> httpx.Response:
        data = {**(self.form(name) if form is None else form), **fields}
        return self.http.post(f"{self.base}/{name}", data={k: v for k, v in data.items() if v is not None})


MORNING = {"sleep_quality": "2", "fatigue": "3", "soreness": "5", "stress": "2", "pain": "no", "region_calf_l": "6"}
RPE = {"session": "new", "rpe": "6", "duration_min": "45", "sport": "run"}


def with_fields(base: dict[str, str], **changes: str | None) -> dict[str, str | None]:
    """``base`` with ``changes``; a None value removes the field (also one of the page's hidden fields)."""
    return {**base, **changes}
