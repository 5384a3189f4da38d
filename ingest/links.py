"""Personal check-in links (the `checkin_link` measurement): a random 256-bit token per athlete, stored hashed.

`recovery-monitor athlete link ID` makes a token with `new_link_token` and stores only its SHA-256
(`write_link`); the token is printed once, in the athlete's URL, and kept nowhere. `serve` finds the athlete of a
presented token by its hash (`read_links`) and compares digests with `hmac.compare_digest`. Each athlete has one
point, stamped at the epoch, so a new link overwrites the old hash: the old link stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ingest.model import CHECKIN_LINK
from ingest.schema import stored_int, stored_text
from ingest.store.base import Store

TOKEN_BYTES = 32
"""256 random bits; the URL-safe Base64 text is 43 characters."""
TOKEN_CHARS = 43
_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Link:
    """An athlete's current link: the token's hex SHA-256 and when it was made (ms)."""

    athlete: str
    token_sha256: str
    created_ms: int


def new_link_token() -> str:
    """A fresh random token: 256 bits from `secrets`, URL-safe Base64 without padding."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(text: str) -> bool:
    """Whether ``text`` has a token's shape (43 URL-safe Base64 characters), checked before any hashing."""
    return len(text) == TOKEN_CHARS and set(text) <= _ALPHABET


def token_sha256(token: str) -> str:
    """The hex SHA-256 of a token, the only form in which it is stored."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def write_link(store: Store, athlete: str, digest: str, now_ms: int) -> Link:
    """Store ``digest`` as the athlete's link (replacing any earlier one); ValueError for a digest that is not
    64 lower-case hex digits (a token must never be stored by mistake)."""
    if len(digest) != 64 or not set(digest) <= _HEX:
        raise ValueError("a link is stored as the token's hex SHA-256, not as the token")
    store.write([CHECKIN_LINK.batch({"athlete": athlete}, [0], {"token_sha256": [digest], "created_ms": [now_ms]})])
    return Link(athlete, digest, now_ms)


def read_links(store: Store, athlete: str | None = None) -> list[Link]:
    """The current link of every athlete (or of one), sorted by athlete."""
    frame = store.read(CHECKIN_LINK.name, athlete, CHECKIN_LINK.field_names, with_tags=("athlete",))
    links = []
    for i in range(len(frame)):
        digest = stored_text(frame.columns["token_sha256"][i])
        owner = athlete if athlete is not None else stored_text(frame.columns["athlete"][i])
        if digest is not None and owner is not None:
            links.append(Link(owner, digest, stored_int(frame.columns["created_ms"][i]) or 0))
    return sorted(links, key=lambda link: link.athlete)
