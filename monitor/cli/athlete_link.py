"""`recovery-monitor athlete link ID [--rotate]`: the athlete's personal check-in URL (no password, no app).

The URL carries a random 256-bit token; the store keeps only its SHA-256 (`ingest.links`), so the URL is printed
once and can never be shown again: a lost link is replaced with `--rotate`, which revokes the old one at once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from monitor.cli.common import CliError, add_store_option

PUBLIC_URL_ENV = "RECOVERY_PUBLIC_URL"
CHECKIN_PATH = "/checkin"  # monitor.service.checkin.PREFIX, written out so the parser stays light (tested)
_BASE_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", re.IGNORECASE)


def add_parsers(actions: argparse._SubParsersAction) -> None:
    """Adds `link` to the `athlete` command's actions."""
    link = actions.add_parser(
        "link",
        help="print an athlete's personal check-in URL (RPE, morning wellness, uploads, last 14 days)",
        description="Makes a personal check-in link for one athlete: a URL carrying a random 256-bit token, to be "
        "opened on the athlete's phone (served by `recovery-monitor serve`). The store keeps only the token's "
        "SHA-256, so the URL is shown once; --rotate makes a new link and revokes the old one at once. The link "
        "reads and writes its own athlete's check-ins only.",
    )
    link.add_argument("athlete", metavar="ID", help="the athlete ID")
    link.add_argument("--rotate", action="store_true", help="replace the athlete's link; the old one stops working")
    link.add_argument(
        "--base-url",
        metavar="URL",
        help=f"the address athletes reach serve at, e.g. https://monitor.example.org (default ${PUBLIC_URL_ENV})",
    )
    add_store_option(link)
    link.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    link.set_defaults(run=run_link)


def base_url(option: str | None) -> str:
    """--base-url, else $RECOVERY_PUBLIC_URL: an http(s) URL without query or fragment, trailing slash dropped."""
    value = (option or os.environ.get(PUBLIC_URL_ENV) or "").strip()
    if not value:
        raise CliError(
            f"no base URL: pass --base-url or set {PUBLIC_URL_ENV} to the address athletes reach serve at "
            "(e.g. https://monitor.example.org)"
        )
    if not _BASE_URL.match(value):
        raise CliError(f"base URL {value[:80]!r}: expected http(s)://HOST[:PORT][/PATH] without query or fragment")
    return value.rstrip("/")


def run_link(args: argparse.Namespace) -> int:
    from ingest.ids import PSEUDONYM_RULE, is_pseudonymous_id
    from ingest.links import new_link_token, read_links, token_sha256, write_link
    from ingest.store import open_store
    from ingest.timeline import iso_utc, wall_clock_ms

    athlete = args.athlete.strip()
    if not is_pseudonymous_id(athlete):
        raise CliError(f"athlete {athlete!r}: not a pseudonymous ID ({PSEUDONYM_RULE})")
    base = base_url(args.base_url)
    store = open_store(args.store)
    try:
        existing = read_links(store, athlete)
        if existing and not args.rotate:
            made = iso_utc(existing[0].created_ms)
            raise CliError(
                f"athlete {athlete} already has a check-in link (made {made}); it is shown only once: "
                "--rotate makes a new one and revokes the old"
            )
        token = new_link_token()
        link = write_link(store, athlete, token_sha256(token), wall_clock_ms())
    finally:
        store.close()
    url = f"{base}{CHECKIN_PATH}/{token}/"
    if args.json:
        created = iso_utc(link.created_ms)
        print(json.dumps({"athlete": athlete, "url": url, "created": created, "rotated": bool(existing)}))
    else:
        print(url)
        revoked = "; the old link no longer works" if existing else ""
        note = f"{athlete}'s check-in link: give it to the athlete only, it is not shown again{revoked}"
        print(note, file=sys.stderr)
    return 0
