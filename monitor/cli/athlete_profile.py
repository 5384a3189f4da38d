"""`recovery-monitor athlete set|show`: the heart-rate profile training loads are computed with.

`set` stores the values given (the others keep their stored value), then recomputes the athlete's session loads.
`show` prints the profile in use: per value whether it is set, estimated from the athlete's own data (and from
how much) or a default.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING, Any

from monitor.cli.common import CliError, add_store_option

if TYPE_CHECKING:
    from monitor.hr_profile import ProfileInUse
    from monitor.session_loads import SessionLoadCounts


def add_parsers(actions: argparse._SubParsersAction) -> None:
    """Adds `set` and `show` to the `athlete` command's actions."""
    setter = actions.add_parser(
        "set",
        help="set an athlete's HRmax, HRrest or sex (training loads are recomputed)",
        description="Stores the heart-rate profile that session TRIMP and HR zones are computed with (a `profile` "
        "point stamped now; values not given keep their stored value) and recomputes the athlete's session loads. "
        "Values not set are estimated: HRmax from the highest 30 s HR in their sessions, HRrest from their "
        "morning readings; without a sex the mean of Banister's coefficients is used.",
    )
    setter.add_argument("athlete", metavar="ID", help="the athlete ID")
    setter.add_argument("--hr-max", metavar="BPM", help="maximum heart rate, 100-230 bpm")
    setter.add_argument("--hr-rest", metavar="BPM", help="resting heart rate, 25-120 bpm")
    setter.add_argument("--sex", metavar="SEX", help="female or male (selects Banister's TRIMP coefficients)")
    show = actions.add_parser(
        "show",
        help="the heart-rate profile in use: set, estimated or default values",
        description="Prints the HRmax, HRrest and sex that session loads are computed with, and for each whether "
        "it was set, estimated from the athlete's own data (from how much) or is a default.",
    )
    show.add_argument("athlete", metavar="ID", help="the athlete ID")
    for parser, run in ((setter, run_set), (show, run_show)):
        add_store_option(parser)
        parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
        parser.set_defaults(run=run)


def _athlete(text: str) -> str:
    athlete = text.strip()
    if not athlete:
        raise CliError("the athlete ID must not be empty")
    return athlete


def _bpm(option: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"{option} {text!r} is not a number of beats per minute") from None
    if not math.isfinite(value):
        raise CliError(f"{option} {text!r} is not a number of beats per minute")
    return value


def _sex(text: str | None) -> str | None:
    from monitor.hr_profile import SEXES

    if text is None:
        return None
    sex = text.strip().lower()
    if sex not in SEXES:
        raise CliError(f"--sex {text!r}: use female or male")
    return sex


def run_set(args: argparse.Namespace) -> int:
    from ingest.analysis_due import mark_due
    from ingest.store import open_store
    from ingest.timeline import wall_clock_ms
    from monitor.hr_profile import set_profile
    from monitor.session_loads import profile_in_use, update_athlete

    athlete = _athlete(args.athlete)
    hr_max, hr_rest, sex = _bpm("--hr-max", args.hr_max), _bpm("--hr-rest", args.hr_rest), _sex(args.sex)
    if hr_max is None and hr_rest is None and sex is None:
        raise CliError("athlete set: give at least one of --hr-max, --hr-rest, --sex")
    store = open_store(args.store)
    try:
        try:
            set_profile(store, athlete, wall_clock_ms(), hr_max, hr_rest, sex)
        except ValueError as exc:
            raise CliError(f"athlete {athlete}: {exc}; nothing was changed") from None
        counts = update_athlete(store, athlete)
        mark_due(store, counts.first_updated_ms)  # the next `analyze` recomputes the days these loads changed
        profile = profile_in_use(store, athlete)
    finally:
        store.close()
    _print(profile, counts, args.json)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from ingest.store import open_store
    from monitor.session_loads import profile_in_use

    athlete = _athlete(args.athlete)
    store = open_store(args.store)
    try:
        if athlete not in store.list_athletes():
            raise CliError(f"athlete {athlete!r} has no data in {store.url}")
        profile = profile_in_use(store, athlete)
    finally:
        store.close()
    _print(profile, None, args.json)
    return 0


def _value(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:g} {unit}" if isinstance(value, float) else str(value)


def _print(profile: ProfileInUse, counts: SessionLoadCounts | None, as_json: bool) -> None:
    from rich.console import Console
    from rich.markup import escape

    from monitor.cli.tables import note, print_table

    if as_json:
        document = profile.to_json()
        if counts is not None:
            document["sessions"] = counts.to_json()
        print(json.dumps(document, ensure_ascii=False))
        return
    coefficients = profile.to_json()["trimp_coefficients"]
    sex_value = profile.sex.value or f"not set (a = {coefficients['a']:g}, b = {coefficients['b']:g})"
    rows = [
        ["HRmax", _value(profile.hr_max.value, "bpm"), profile.hr_max.status, escape(profile.hr_max.detail)],
        ["HRrest", _value(profile.hr_rest.value, "bpm"), profile.hr_rest.status, escape(profile.hr_rest.detail)],
        ["sex", escape(str(sex_value)), profile.sex.status, escape(profile.sex.detail)],
    ]
    print_table(f"Heart-rate profile of {escape(profile.athlete)}", ["parameter", "value", "status", "from"], rows)
    console = Console()
    if profile.problem:
        note(console, f"No session loads can be computed: {profile.problem}.")
    if counts is not None:
        note(
            console,
            f"Sessions: {counts.updated} recomputed, {counts.unchanged} unchanged, {counts.without_hr} without HR"
            + (f", {counts.kept} with a TRIMP from elsewhere kept" if counts.kept else "")
            + (f", {counts.no_profile} without a usable profile" if counts.no_profile else ""),
        )
