"""`recovery-monitor rpe`: session RPE after the fact, attached to the synced session of that day.

The RPE and its sRPE load (RPE × minutes, Foster) are written onto the existing `session` point (same tags and
start, so the fields merge and no second session appears); see `ingest.session_match` for which point that is. A
session of source `rpe` is created only when the day has no session (near `--time`) and `--duration-min` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
from typing import TYPE_CHECKING, Any

from monitor.cli.common import CliError, add_store_option, parse_day

if TYPE_CHECKING:
    from ingest.session_match import StoredSession

MAX_DURATION_MIN = 24 * 60
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Adds the `rpe` command."""
    parser = commands.add_parser(
        "rpe",
        help="attach a session RPE (CR-10) to the synced session of a day; sRPE load = RPE × minutes",
        description="Writes `rpe` and `srpe_load` (RPE × duration in minutes, Foster) onto the session of that UTC "
        "day that a watch file, the strap or a session log stored; no second session appears. With several "
        "sessions that day, --time picks the one starting nearest (within 30 min). A day without a session gets a "
        "new session (source `rpe`) only with --duration-min. Re-running the same command changes nothing; "
        "changing an RPE already stored needs --replace.",
    )
    parser.add_argument("athlete", metavar="ID", help="pseudonymous athlete ID, e.g. A01")
    parser.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the session's day (UTC), not after today")
    parser.add_argument("--time", metavar="HH:MM", help="the session's start (UTC), to pick among several sessions")
    parser.add_argument("--rpe", required=True, metavar="N", help="session RPE on the CR-10 scale, 0-10")
    parser.add_argument(
        "--duration-min",
        metavar="M",
        help="minutes for the sRPE load (default: the session's own duration); required to create a session",
    )
    parser.add_argument("--sport", metavar="S", help="only a session of this sport; the sport of a created session")
    parser.add_argument("--replace", action="store_true", help="change an RPE already stored on that session")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_store_option(parser)
    parser.set_defaults(run=run)


def parse_time(text: str) -> int:
    """`--time`: HH:MM (UTC) → seconds of the day."""
    match = _TIME.match(text.strip())
    hours, minutes = (int(g) for g in match.groups()) if match else (99, 0)
    if hours > 23 or minutes > 59:
        raise CliError(f"--time {text!r}: expected a time of day as HH:MM (UTC)")
    return hours * 3600 + minutes * 60


def parse_number(text: str, option: str, low: float, high: float, *, low_open: bool = False) -> float:
    """A finite number in [low, high] (or (low, high] with ``low_open``)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise CliError(f"{option} {text!r}: expected a number")
    if value > high or value < low or (low_open and value == low):
        raise CliError(f"{option} {value:g} is outside {'(' if low_open else '['}{low:g}, {high:g}]")
    return value


def _hhmm(time_ms: int) -> str:
    from ingest.timeline import iso_utc

    return iso_utc(time_ms)[11:16]


def _listing(sessions: list[StoredSession]) -> str:
    return ", ".join(f"{_hhmm(s.time_ms)} ({s.source} {s.sport})" for s in sessions)


def _choose(sessions: list[StoredSession], start_ms: int | None, day: dt.date) -> StoredSession | None:
    """The session the RPE is for (None: no session there); ambiguous input is a CliError listing the starts."""
    from ingest.session_match import carrier, distinct_sessions, nearest

    if start_ms is not None:
        target = nearest(sessions, start_ms)
        return None if target is None else carrier(sessions, target)
    real = distinct_sessions(sessions)
    if len(real) > 1:
        listing = _listing(real)
        raise CliError(f"{len(real)} sessions on {day.isoformat()}, starting {listing} UTC: pick one with --time")
    return real[0] if real else None


def _no_session(args: argparse.Namespace, sessions: list[StoredSession], known: bool, when: str) -> CliError:
    from ingest.session_match import SAME_SESSION_TOLERANCE_MS

    if not known:
        return CliError(f"no data for athlete {args.athlete!r} in the store: check the ID, or pass --duration-min")
    if sessions:
        return CliError(
            f"no session within {SAME_SESSION_TOLERANCE_MS // 60_000} min of {when} UTC (sessions that day start "
            f"{_listing(sessions)}): pick one of these with --time, or pass --duration-min to record a new one"
        )
    return CliError(f"no session for {args.athlete} on {when}: pass --duration-min to record one")


def run(args: argparse.Namespace) -> int:
    from ingest.analysis_due import mark_due
    from ingest.imports.common import utc_ms
    from ingest.imports.session_csv import DEFAULT_START_S, sport_tag
    from ingest.session_match import RPE_SOURCE, StoredSession, rpe_batch, stored_sessions
    from ingest.store import open_store
    from ingest.timeline import DAY_MS, day_start_ms

    athlete = args.athlete.strip()
    if not athlete:
        raise CliError("the athlete ID must not be empty")
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    day = parse_day("--date", args.date, dt.datetime.now(dt.UTC).date())
    start_ms = None if args.time is None else utc_ms(day, parse_time(args.time))
    if start_ms is not None and start_ms > now_ms:
        raise CliError(f"--date {day.isoformat()} --time {args.time.strip()} is in the future")
    rpe = parse_number(args.rpe, "--rpe", 0, 10)
    minutes = None
    if args.duration_min is not None:
        minutes = parse_number(args.duration_min, "--duration-min", 0, MAX_DURATION_MIN, low_open=True)
    sport = None if args.sport is None else sport_tag(args.sport)
    store = open_store(args.store)
    try:
        sessions = stored_sessions(store, athlete, day_start_ms(day), day_start_ms(day) + DAY_MS)
        if sport is not None:
            sessions = [s for s in sessions if s.sport == sport]
        target = _choose(sessions, start_ms, day)
        created = target is None
        if target is None:
            if minutes is None:
                when = day.isoformat() if start_ms is None else f"{day.isoformat()} {_hhmm(start_ms)}"
                raise _no_session(args, sessions, athlete in store.list_athletes(), when)
            time_ms = utc_ms(day, DEFAULT_START_S) if start_ms is None else start_ms
            target = StoredSession(athlete, time_ms, RPE_SOURCE, sport or "other")
        if minutes is None:
            seconds = target.value("duration_s")
            if not seconds > 0:
                raise CliError(f"the session at {_hhmm(target.time_ms)} has no duration: pass --duration-min")
            minutes = seconds / 60
        load = rpe * minutes
        previous = _previous(target, rpe, load, args.replace)
        store.write([rpe_batch(target, rpe, minutes, created)])
        mark_due(store, {athlete: target.time_ms})  # the next `analyze` recomputes the days this load changed
    finally:
        store.close()
    report = _report(target, rpe, minutes, load, created, previous)
    print(json.dumps(report, ensure_ascii=False) if args.json else _sentence(report))
    return 0


def _previous(target: StoredSession, rpe: float, load: float, replace: bool) -> dict[str, float] | None:
    """The RPE already on the session (None: none); a different one is kept unless ``replace``."""
    import numpy as np

    old = {name: target.value(name) for name in ("rpe", "srpe_load") if math.isfinite(target.value(name))}
    if not old:
        return None
    if np.allclose([old.get("rpe", rpe), old.get("srpe_load", load)], [rpe, load], rtol=1e-9, atol=1e-9):
        return old
    if not replace:
        shown = " ".join(
            [
                f"RPE {old['rpe']:g}" if "rpe" in old else "",
                f"(sRPE load {old['srpe_load']:.0f} AU)" if "srpe_load" in old else "",
            ]
        ).strip()
        raise CliError(f"the session at {_hhmm(target.time_ms)} already has {shown}: pass --replace to change it")
    return old


def _report(
    target: StoredSession, rpe: float, minutes: float, load: float, created: bool, previous: dict[str, float] | None
) -> dict[str, Any]:
    from ingest.timeline import iso_utc

    return {
        "athlete": target.athlete,
        "start": iso_utc(target.time_ms),
        "source": target.source,
        "sport": target.sport,
        "created": created,
        "rpe": rpe,
        "duration_min": minutes,
        "srpe_load": load,
        "previous": previous,
    }


def _sentence(r: dict[str, Any]) -> str:
    what = "new session (source rpe)" if r["created"] else f"{r['source']} session"
    line = (
        f"{r['athlete']}: RPE {r['rpe']:g} × {r['duration_min']:.1f} min = sRPE load {r['srpe_load']:.0f} AU → "
        f"{what}, {r['sport']}, {r['start'][:10]} {r['start'][11:16]} UTC"
    )
    previous = r["previous"] or {}
    if "rpe" in previous and previous["rpe"] != r["rpe"]:
        line += f" (was RPE {previous['rpe']:g})"
    return line
