"""Who may do what on the check-in pages: personal links, one-time form tokens, the per-link rate limit.

- **Links.** A link's token is looked up by its SHA-256 among the stored `checkin_link` points (`ingest.links`) and
  confirmed against the athlete's current point on every request, so a rotated link fails at once.
- **Forms.** Each rendered form carries a one-time token: a random form ID, the time it was issued and an HMAC
  (SHA-256, a key made when `serve` starts) over the link's hash, the form's kind, ID and time. A form therefore
  works only with the link it was rendered for, for `FORM_MAX_AGE_S`, and not after `serve` restarts (the page
  says to reload). A stored submission records its form ID as used: the same form again (double tap, back
  button, a replay) is refused and stored nothing.
- **Rate.** Every submission (POST) to a link's address takes one token from that address's bucket of
  `RATE_CAPACITY`, refilled at `RATE_CAPACITY` per `RATE_PERIOD_S`: 10 submissions a minute, a burst of 10; the
  rest get 429 with `Retry-After`. Refused submissions take nothing; buckets that have refilled are forgotten.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ingest.links import Link, looks_like_token, read_links, same_digest, token_sha256
from ingest.store.base import Store

FORM_MAX_AGE_S = 24 * 3600
RATE_CAPACITY = 10
RATE_PERIOD_S = 60.0
FORM_KINDS = {"morning": "morning", "session": "rpe", "upload": "upload"}
"""Page → the kind of form it sends (a form token is good for its own kind only)."""


class AccessError(Exception):
    """A refused request: HTTP ``status`` and a one-line ``message`` for the page."""

    def __init__(self, status: int, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after_s = status, message, retry_after_s


BAD_LINK = (
    "This check-in link is not valid: it may have been replaced by a newer one. Ask your therapist or coach "
    "for your current link."
)


class LinkResolver:
    """A presented token → its athlete, using the store's `checkin_link` points (digest → athlete cached)."""

    def __init__(self) -> None:
        self._athletes: dict[str, str] = {}
        self._lock = threading.Lock()

    def resolve(self, store: Store, token: str) -> Link:
        """The link of ``token``; AccessError 403 for a malformed, unknown or replaced token."""
        if not looks_like_token(token):
            raise AccessError(403, BAD_LINK)
        digest = token_sha256(token)
        with self._lock:
            athlete = self._athletes.get(digest)
        if athlete is None:
            links = read_links(store)
            owners: dict[str, list[str]] = {}
            for link in links:
                owners.setdefault(link.token_sha256, []).append(link.athlete)
            with self._lock:
                self._athletes = {d: names[0] for d, names in owners.items() if len(names) == 1}
                athlete = self._athletes.get(digest)
            if athlete is None:
                raise AccessError(403, BAD_LINK)
        current = read_links(store, athlete)
        if not current or not same_digest(current[0].token_sha256, digest):
            with self._lock:
                self._athletes.pop(digest, None)
            raise AccessError(403, BAD_LINK)
        return current[0]


def _mac(key: bytes, text: str) -> str:
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class Receipt:
    """A stored submission: its form kind, when it was stored (ms) and what the page said."""

    kind: str
    stored_ms: int
    summary: str


class Forms:
    """Issues and checks one-time form tokens, and remembers the forms already stored."""

    def __init__(self, clock_ms: Callable[[], int], key: bytes | None = None, max_age_s: int = FORM_MAX_AGE_S):
        self.clock_ms, self.max_age_s = clock_ms, max_age_s
        self._key = key or secrets.token_bytes(32)
        self._used: dict[str, tuple[int, Receipt]] = {}
        self._lock = threading.Lock()

    def issue(self, link: Link, kind: str) -> str:
        """A new token for a form of ``kind`` rendered for ``link``: `FORM_ID.ISSUED_S.MAC`."""
        form_id, issued = secrets.token_urlsafe(16), self.clock_ms() // 1000
        return f"{form_id}.{issued}.{_mac(self._key, f'{link.token_sha256}|{kind}|{form_id}|{issued}')}"

    def check(self, link: Link, kind: str, token: str | None) -> str:
        """The form ID of a valid token of this link and kind; AccessError 403 when it is missing, forged, for
        another link or form, or expired (409 is `check_unused`'s)."""
        if not token:
            raise AccessError(403, "The form has no security token: open the page again and send the form from it.")
        form_id, _, rest = token.partition(".")
        issued_text, _, mac = rest.partition(".")
        expected = _mac(self._key, f"{link.token_sha256}|{kind}|{form_id}|{issued_text}")
        if not (issued_text.isdigit() and hmac.compare_digest(mac.encode(), expected.encode())):
            raise AccessError(
                403,
                "The form's security token is not valid for this link (or the server restarted since the page was "
                "opened): open the page again and send the form from it.",
            )
        if self.clock_ms() // 1000 - int(issued_text) > self.max_age_s:
            raise AccessError(403, "The form has expired: open the page again and send the form from it.")
        return form_id

    def check_unused(self, form_id: str) -> None:
        """AccessError 409 when the form was already stored (the one-time rule)."""
        with self._lock:
            used = self._used.get(form_id)
        if used is not None:
            receipt = used[1]
            raise AccessError(
                409,
                f"This form was already sent and stored ({receipt.summary}); it is not stored twice. Open the page "
                "again for a new one.",
            )

    def mark_used(self, form_id: str, receipt: Receipt) -> None:
        """Record a stored form; forms older than the maximum age are forgotten (their tokens have expired)."""
        now_ms = self.clock_ms()
        with self._lock:
            self._used[form_id] = (now_ms, receipt)
            if len(self._used) % 256 == 0:
                horizon = now_ms - (self.max_age_s + 60) * 1000
                self._used = {k: v for k, v in self._used.items() if v[0] >= horizon}


class RateLimiter:
    """A token bucket per key (a link's hash): ``capacity`` submissions, refilled at ``capacity`` per
    ``period_s``."""

    def __init__(
        self,
        capacity: int = RATE_CAPACITY,
        period_s: float = RATE_PERIOD_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity, self.period_s, self.monotonic = capacity, period_s, monotonic
        self.rate_per_s = capacity / period_s
        self._buckets: dict[str, tuple[float, float]] = {}
        self._taken = 0
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Take one submission from ``key``'s bucket; AccessError 429 (with seconds to wait) when it is empty."""
        now = self.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - last) * self.rate_per_s)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = max(1, int((1.0 - tokens) / self.rate_per_s + 0.999))
                raise AccessError(
                    429,
                    f"Too many submissions from this link: at most {self.capacity} per {self.period_s:g} s. Nothing "
                    f"was stored; try again in {wait} s.",
                    retry_after_s=wait,
                )
            self._buckets[key] = (tokens - 1.0, now)
            self._taken += 1
            if self._taken % 1024 == 0:  # forget buckets that have refilled: memory stays bounded under a flood
                full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate_per_s >= self.capacity]
                for k in full:
                    del self._buckets[k]
