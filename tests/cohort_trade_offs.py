"""The trade-off tables of docs/analytics.md §5: one change of the default thresholds per row, measured on the
synthetic cohorts of ``tests/test_cohorts.py`` (fitted noise, steady athletes over 10 seeds).

    python tests/cohort_trade_offs.py [--load | --recovery] [--athletes 1000] [--seed 2026] [--legacy-noise]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import test_cohorts as cohorts
from rich.console import Console
from rich.progress import track
from test_cohorts import (
    COHORTS,
    event_cohort,
    large_cohort,
    large_cohort_by_reading,
    load_spike_large,
    steady_cohort,
    with_change,
)

from ingest.virtual.training_history import LEGACY_NOISE
from monitor.thresholds import Thresholds, load_thresholds

# One change of the defaults per row of the trade-off table in docs/analytics.md ("" = the defaults).
TRADE_OFFS = (
    "",
    "load.heavy_factor=2.2",
    "load.heavy_factor=2.4",
    "load.heavy_short_factor=3.0",
    "recovery.evidence_z=4.75",
    "recovery.evidence_z=5.25",
    "recovery.noise_days=60",
    "asymmetry.cusum_h=2.5",
    "asymmetry.cusum_h=3.5",
    "load.acwr_persistence_days=2",
    "load.acwr_watch=1.4",
)


def rows(changes: tuple[str, ...], what: str, cells: Callable[[Thresholds], list[str]]) -> list[str]:
    """One markdown row per change of the default thresholds: the change, then ``cells`` measured with it."""
    out = []
    for change in track(changes, description=what, console=Console(stderr=True)):
        out.append(f"| {change or 'defaults'} | " + " | ".join(cells(with_change(load_thresholds(), change))) + " |")
    return out


def trade_off_table(n: int, seed: int, steady_seeds: int = 10) -> list[str]:
    """Markdown rows: steady athletes flagged (of ``n × steady_seeds``) and 3-day sensitivity per change."""

    def cells(th: Thresholds) -> list[str]:
        flagged = sum(steady_cohort(n, seed + k, th=th).any_flag_athletes for k in range(steady_seeds))
        events = [event_cohort(name, n, seed + 1 + i, th) for i, name in enumerate(COHORTS)]
        return [
            f"{flagged} of {n * steady_seeds:,}",
            *(f"{e.sensitivity:.3f} ({e.sensitivity_with_data:.3f})" for e in events),
        ]

    return rows(TRADE_OFFS, "trade-offs", cells)


# The recovery family's trade-off table in docs/analytics.md §5 ("What the mornings allow").
RECOVERY_TRADE_OFFS = (
    "",
    *(f"recovery.evidence_z={z}" for z in (4.5, 4.75, 5.25, 5.5)),
    "recovery.noise_days=60",
    "recovery.noise_days=60 recovery.evidence_z=4.75",
    "recovery.joint_evidence_z=5.0",
    "recovery.joint_evidence_z=inf",
    "recovery.act_z=5.5",
    "recovery.act_z=6.0",
)


def recovery_trade_off_table(n: int, seed: int, steady_seeds: int = 10) -> list[str]:
    """Markdown rows: steady athletes with a recovery flag and with an IDN recommendation (of ``n × steady_seeds``),
    HRV drops within 3 days (with data) and 7 days, with an act flag within 7 days, −5 SD drops by their 2nd and 3rd
    morning (resting HR unchanged: by the 2nd)."""

    def cells(th: Thresholds) -> list[str]:
        steady = [steady_cohort(n, seed + k, th=th) for k in range(steady_seeds)]
        drop = event_cohort("hrv_drop", n, seed + 1 + list(COHORTS).index("hrv_drop"), th)
        large = large_cohort_by_reading("hrv_drop_large", n, seed + 20, th, (2, 3))
        large.append(large_cohort("hrv_drop_large_hrv_only", n, seed + 21, th))
        return [
            f"{sum(s.flagged_athletes['recovery'] for s in steady)}",
            f"{sum(s.idn_athletes for s in steady)}",
            f"{drop.sensitivity_with_data:.3f}",
            f"{drop.within(7):.3f}",
            f"{drop.within(7, act=True):.3f}",
            *(f"{hit / seen:.3f}" for hit, seen in large),
        ]

    return rows(RECOVERY_TRADE_OFFS, "recovery trade-offs", cells)


# The load family's rows (docs/analytics.md §5, "Load-family trade-off").
LOAD_TRADE_OFFS = (
    "load.heavy_factor=2.0 load.heavy_short_factor=3.0",
    "load.heavy_factor=2.2 load.heavy_short_factor=3.0",
    "load.heavy_factor=2.2",
    "",
    "load.heavy_factor=2.4",
    "load.heavy_short_factor=3.0",
    "load.heavy_slack_days=0",
    "load.heavy_factor=2.2 load.heavy_slack_days=0",
)


def load_trade_off_table(n: int, seed: int, steady_seeds: int = 10) -> list[str]:
    """Markdown rows: steady athletes with a load flag and with any flag (of ``n × steady_seeds``), the doubled camp
    within 3, 5 and 7 days, the tripled camp (≥ 3 × the chronic daily load) within 3 days."""

    def cells(th: Thresholds) -> list[str]:
        steady = [steady_cohort(n, seed + k, th=th) for k in range(steady_seeds)]
        camp = event_cohort("load_spike", n, seed + 1 + list(COHORTS).index("load_spike"), th)
        tripled = load_spike_large(n, seed + 30, th)["flagged_by_a_load_signal_within_3_days"]
        return [
            f"{sum(s.flagged_athletes['load'] for s in steady)}",
            f"{sum(s.any_flag_athletes for s in steady)}",
            *(f"{value:.3f}" for value in (camp.sensitivity, camp.within(5), camp.within(7), tripled)),
        ]

    return rows(LOAD_TRADE_OFFS, "load trade-offs", cells)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--load", action="store_true", help="the load family's table")
    which.add_argument("--recovery", action="store_true", help="the recovery family's table")
    parser.add_argument("--legacy-noise", action="store_true", help="the made-up noise the rules were first tuned on")
    args = parser.parse_args()
    if args.legacy_noise:
        cohorts.NOISE["noise"] = LEGACY_NOISE
    table = load_trade_off_table if args.load else recovery_trade_off_table if args.recovery else trade_off_table
    print("\n".join(table(args.athletes, args.seed)))
