"""Synthetic cohorts: known load spikes, HRV drops and asymmetry onsets are flagged within days; steady athletes
are never flagged. Sensitivity and specificity are printed (``pytest -s``); ``python tests/test_cohorts.py
--athletes 1000`` measures them on larger cohorts (the numbers in docs/analytics.md); the trade-off tables:
``tests/cohort_trade_offs.py``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass

import numpy as np
from engine_replay import replay_engine

from ingest.virtual.training_history import FITTED_NOISE, LEGACY_NOISE, NoiseModel, simulate_training_history
from monitor.signals import SIGNALS, SignalSeries
from monitor.thresholds import Thresholds, load_thresholds

STEADY_DAYS = 183  # six months, counted from the very first day
EVENT_DAYS = 150
ONSET = 120  # day index of the event: baselines (60 d + 7 d) are established by then
WITHIN_DAYS = 3  # a detection counts if flagged on onset + 0..3
FIRST_DAY = np.datetime64("2025-01-06")
NOISE: dict[str, NoiseModel] = {"noise": FITTED_NOISE}  # day-to-day noise fitted to real athletes (§5); --legacy-noise
COHORTS: dict[str, tuple[dict, set[str], str, int]] = {
    # cohort: (simulate_training_history arguments, signals that count as the right detection,
    #          the data that carries the event, readings of it needed in days onset..onset+3 to count as "seen")
    "load_spike": ({"spike_day": ONSET}, {"acwr_spike", "strain_high", "load_surge"}, "srpe_load", 1),
    "hrv_drop": ({"hrv_drop_day": ONSET}, {"hrv_suppressed"}, "ln_rmssd", 3),
    "gct_onset": (
        {"gct_onset_day": ONSET, "sport": "run"},
        {"asymmetry_gct", "asymmetry_shift:ground-contact"},
        "gct_left_ms",
        2,
    ),
    "muscle_onset": (
        {"muscle_onset_day": ONSET},
        {"asymmetry_muscle", "asymmetry_shift:muscle"},
        "muscle_load_left",
        2,
    ),
    "pedal_onset": (
        {"pedal_onset_day": ONSET, "sport": "ride"},
        {"asymmetry_power", "asymmetry_shift:pedal"},
        "pedal_balance_left_pct",
        2,
    ),
}


# Large events (docs/analytics.md §5): flagged within READINGS mornings or sessions carrying the event's data.
READINGS = 2
LARGE_COHORTS: dict[str, tuple[dict, set[str], str]] = {
    "hrv_drop_large": ({"hrv_drop_day": ONSET, "hrv_drop_sd": 5.0}, {"hrv_suppressed"}, "ln_rmssd"),
    "hrv_drop_large_hrv_only": (
        {"hrv_drop_day": ONSET, "hrv_drop_sd": 5.0, "hrv_drop_rhr_rise_bpm": (0.0, 0.0)},
        {"hrv_suppressed"},
        "ln_rmssd",
    ),
    "gct_large": (  # right +11 %: SI −10.4 points
        {"gct_onset_day": ONSET, "sport": "run", "gct_right_rise_pct": 11.0},
        {"asymmetry_gct", "asymmetry_shift:ground-contact"},
        "gct_left_ms",
    ),
    "muscle_large": (
        {"muscle_onset_day": ONSET, "muscle_si_shift_pct": -10.0},
        {"asymmetry_muscle", "asymmetry_shift:muscle"},
        "muscle_load_left",
    ),
    "pedal_large": (
        {"pedal_onset_day": ONSET, "sport": "ride", "pedal_si_shift_pct": -10.0},
        {"asymmetry_power", "asymmetry_shift:pedal"},
        "pedal_balance_left_pct",
    ),
}


def large_cohort(
    name: str, n: int, seed: int, th: Thresholds | None = None, readings: int = READINGS
) -> tuple[int, int]:
    """(athletes flagged by their ``readings``-th reading of the event's data after the onset, athletes with that
    many readings in the EVENT_DAYS − ONSET days after it)."""
    return large_cohort_by_reading(name, n, seed, th, (readings,))[0]


def large_cohort_by_reading(
    name: str, n: int, seed: int, th: Thresholds | None, readings: tuple[int, ...]
) -> list[tuple[int, int]]:
    """``large_cohort`` for each number of readings, on one simulated and replayed cohort."""
    kwargs, wanted, data = LARGE_COHORTS[name]
    h = simulate_training_history(n, EVENT_DAYS, np.random.default_rng(seed), id_prefix=name[:3], **NOISE, **kwargs)
    ind, signals, _ = replay_engine(h, FIRST_DAY, th)
    hit = detected(signals, ind, wanted)[:, ONSET:]
    first = np.where(hit.any(axis=1), np.argmax(hit, axis=1), hit.shape[1])
    seen = np.cumsum(np.isfinite(getattr(h, data)[:, ONSET:]), axis=1)
    counts = []
    for k in readings:
        enough = seen[:, -1] >= k
        by_day = np.argmax(seen >= k, axis=1)  # the day of the k-th reading
        counts.append((int((enough & (first <= by_day)).sum()), int(enough.sum())))
    return counts


# A training camp of LOAD_SPIKE_LARGE_FACTOR × the usual session every day: its daily load is ≥ 3× the chronic
# daily load (the mean of the 28 days before, rest days included) for every athlete (the ratio is measured).
LOAD_SPIKE_LARGE_FACTOR = 3.0
LOAD_SIGNALS = {name for name, family in SIGNALS.items() if family == "load"}


def load_spike_large(n: int, seed: int, th: Thresholds | None = None) -> dict:
    """Share of athletes flagged by any load signal on onset + 0..WITHIN_DAYS, and the camp's measured ratio:
    mean daily load of those days ÷ mean daily load of the 28 days before the onset."""
    h = simulate_training_history(
        n, EVENT_DAYS, np.random.default_rng(seed), id_prefix="lsl", spike_day=ONSET,
        spike_factor=LOAD_SPIKE_LARGE_FACTOR, **NOISE,
    )  # fmt: skip
    load = np.nan_to_num(h.srpe_load)
    ratio = load[:, ONSET : ONSET + WITHIN_DAYS + 1].mean(axis=1) / load[:, ONSET - 28 : ONSET].mean(axis=1)
    ind, signals, _ = replay_engine(h, FIRST_DAY, th)
    hit = detected(signals, ind, LOAD_SIGNALS)
    window = hit[:, ONSET : ONSET + WITHIN_DAYS + 1]
    first = np.argmax(window, axis=1)[window.any(axis=1)]
    return {
        "spike_factor": LOAD_SPIKE_LARGE_FACTOR,
        "camp_to_chronic_daily_load": {
            "min": round(float(ratio.min()), 2),
            "p5": round(float(np.percentile(ratio, 5)), 2),
            "median": round(float(np.median(ratio)), 2),
        },
        "athletes_at_least_3x": int((ratio >= 3).sum()),
        "flagged_by_a_load_signal_within_3_days": round(float(window[ratio >= 3].any(axis=1).mean()), 4),
        "first_flag_day_counts": np.bincount(first, minlength=WITHIN_DAYS + 1).tolist(),  # day 0 = onset
        "flagged_before_onset": int(hit[:, :ONSET].any(axis=1).sum()),
    }


def detected(signals: dict[str, SignalSeries], ind, wanted: set[str]) -> np.ndarray:
    """(athletes, days): a wanted signal is flagged; ``asymmetry_shift:<metric>`` needs that metric to shift."""
    out = np.zeros(next(iter(signals.values())).flagged.shape, bool)
    for item in wanted:
        name, _, metric = item.partition(":")
        if name not in signals:
            continue
        if metric:
            key = {"ground-contact": "gct", "muscle": "muscle", "pedal": "pedal"}[metric]
            out |= signals[name].flagged & ind.asymmetry[key].shift_alarm
        else:
            out |= signals[name].flagged
    return out


@dataclass
class CohortResult:
    cohort: str
    athletes: int
    detected_within: int  # flagged with a right signal on onset + 0..WITHIN_DAYS
    delays: list[int]  # days from onset to the first right flag (athletes detected at all, up to 14 days)
    flagged_before_onset: int  # athletes with any flag before the onset (false alarms)
    with_data: int  # athletes with enough readings of the event's data in onset..onset+3
    detected_with_data: int  # ... of whom detected within WITHIN_DAYS
    act_delays: list[int] = dataclasses.field(default_factory=list)  # ... to the first right flag of severity act
    with_data_7d: int = 0  # athletes with enough readings of the event's data in onset..onset+7
    detected_with_data_7d: int = 0  # ... of whom detected within 7 days

    @property
    def sensitivity(self) -> float:
        return self.detected_within / self.athletes

    @property
    def sensitivity_with_data(self) -> float:
        return self.detected_with_data / max(self.with_data, 1)

    @property
    def within_7_days_with_data(self) -> float:
        return self.detected_with_data_7d / max(self.with_data_7d, 1)

    def within(self, days: int, act: bool = False) -> float:
        return sum(d <= days for d in (self.act_delays if act else self.delays)) / self.athletes


def event_cohort(name: str, n: int, seed: int, th: Thresholds | None = None) -> CohortResult:
    kwargs, wanted, data, needed = COHORTS[name]
    h = simulate_training_history(n, EVENT_DAYS, np.random.default_rng(seed), id_prefix=name[:3], **NOISE, **kwargs)
    ind, signals, _ = replay_engine(h, FIRST_DAY, th)
    hit = detected(signals, ind, wanted)[:, ONSET : ONSET + 15]
    first = np.where(hit.any(axis=1), np.argmax(hit, axis=1), -1)
    act = hit & np.any([s.act[:, ONSET : ONSET + 15] for name, s in signals.items() if name in wanted], axis=0)
    first_act = np.argmax(act, axis=1)[act.any(axis=1)]
    in_time = (first >= 0) & (first <= WITHIN_DAYS)
    seen = np.isfinite(getattr(h, data)[:, ONSET : ONSET + WITHIN_DAYS + 1]).sum(axis=1) >= needed
    seen_7d = np.isfinite(getattr(h, data)[:, ONSET : ONSET + 8]).sum(axis=1) >= needed
    in_7d = (first >= 0) & (first <= 7)
    any_before = np.any([s.flagged[:, :ONSET] for s in signals.values()], axis=0).any(axis=1)
    return CohortResult(
        name,
        n,
        int(in_time.sum()),
        sorted(first[first >= 0].tolist()),
        int(any_before.sum()),
        int(seen.sum()),
        int((in_time & seen).sum()),
        sorted(first_act.tolist()),
        int(seen_7d.sum()),
        int((in_7d & seen_7d).sum()),
    )


@dataclass
class SteadyResult:
    athletes: int
    days: int
    flagged_athletes: dict[str, int]  # per signal: steady athletes with at least one flag day
    flagged_days: dict[str, int]
    idn_athletes: int

    @property
    def any_flag_athletes(self) -> int:
        return self.flagged_athletes["any"]

    @property
    def specificity(self) -> float:
        return 1.0 - self.any_flag_athletes / self.athletes


def steady_cohort(n: int, seed: int, days: int = STEADY_DAYS, th: Thresholds | None = None) -> SteadyResult:
    h = simulate_training_history(n, days, np.random.default_rng(seed), id_prefix="ST", **NOISE)
    _, signals, idn = replay_engine(h, FIRST_DAY, th)
    athletes = {name: int(s.flagged.any(axis=1).sum()) for name, s in signals.items()}
    day_counts = {name: int(s.flagged.sum()) for name, s in signals.items()}
    athletes["any"] = int(np.any([s.flagged for s in signals.values()], axis=0).any(axis=1).sum())
    for family in set(SIGNALS.values()):  # a family's athletes with any of its flags
        members = [s.flagged for s in signals.values() if s.family == family]
        athletes[family] = int(np.any(members, axis=0).any(axis=1).sum())
    return SteadyResult(n, days, athletes, day_counts, int(idn.any(axis=1).sum()))


def report(n: int, seed: int) -> dict:
    steady = steady_cohort(n, seed)
    events = [event_cohort(name, n, seed + 1 + i) for i, name in enumerate(COHORTS)]
    total_days = steady.athletes * steady.days
    return {
        "athletes_per_cohort": n,
        "seed": seed,
        "steady": {
            "athlete_days": total_days,
            "specificity": round(steady.specificity, 4),
            "athletes_with_any_flag": steady.any_flag_athletes,
            "idn_recommendations": steady.idn_athletes,
            "false_positive_days_per_signal": {k: v for k, v in steady.flagged_days.items() if v},
        },
        "events": {
            e.cohort: {
                "sensitivity_within_3_days": round(e.sensitivity, 4),
                "sensitivity_within_3_days_with_data": round(e.sensitivity_with_data, 4),
                "athletes_with_data": e.with_data,
                "sensitivity_within_5_days": round(e.within(5), 4),
                "sensitivity_within_7_days": round(e.within(7), 4),
                "sensitivity_within_7_days_with_data": round(e.within_7_days_with_data, 4),
                "athletes_with_data_7_days": e.with_data_7d,
                "median_delay_days": float(np.median(e.delays)) if e.delays else None,
                "max_delay_days_within_14": max(e.delays) if e.delays else None,
                "detected_within_14_days": len(e.delays),
                "flagged_before_onset": e.flagged_before_onset,
            }
            for e in events
        },
        f"large_events_within_{READINGS}_readings": {
            name: round(hit / max(seen, 1), 4)
            for i, name in enumerate(LARGE_COHORTS)
            for hit, seen in [large_cohort(name, n, seed + 20 + i)]
        },
        "load_spike_large": load_spike_large(n, seed + 30),
    }


def with_change(th: Thresholds, change: str) -> Thresholds:
    """The thresholds with ``section.key=value`` changed (several separated by spaces; empty: unchanged)."""
    for item in change.split():
        path, value = item.split("=")
        section, key = path.split(".")
        old = getattr(th, section)
        kind = type(getattr(old, key))
        th = dataclasses.replace(th, **{section: dataclasses.replace(old, **{key: kind(value)})})
    return th


def test_a_lower_decision_interval_catches_more_onsets_within_three_days():
    th = load_thresholds()
    eager_th = with_change(th, "asymmetry.cusum_h=2.5")
    assert eager_th.asymmetry.cusum_h == 2.5 and eager_th.asymmetry.cusum_k == th.asymmetry.cusum_k
    assert with_change(th, "load.acwr_persistence_days=2").load.acwr_persistence_days == 2
    default = event_cohort("pedal_onset", 100, seed=5, th=th)
    eager = event_cohort("pedal_onset", 100, seed=5, th=eager_th)
    assert eager.detected_within > default.detected_within  # the trade-off table's direction


def test_steady_athletes_get_no_flag_in_six_months():
    steady = steady_cohort(60, seed=11)
    print(f"\nsteady: {steady.athletes} athletes × {steady.days} days, specificity {steady.specificity:.3f}")
    assert sum(steady.flagged_athletes[s] for s in LOAD_SIGNALS) == 0, steady.flagged_athletes
    assert steady.flagged_athletes["any"] <= 2 and steady.idn_athletes <= 1  # measured 0 and 0


def test_the_cohorts_use_the_noise_fitted_to_real_athletes():
    assert NOISE == {"noise": FITTED_NOISE}


def test_large_events_are_flagged_by_their_second_reading():
    for i, name in enumerate(("hrv_drop_large", "gct_large", "pedal_large")):
        hit, seen = large_cohort(name, 200, seed=300 + i)
        print(f"{name}: by reading {READINGS} {hit} of {seen}")
        assert seen >= 150 and hit / seen >= 0.8, (name, hit, seen)  # 0.88–0.96 on 1,000 (docs/analytics.md)


def test_a_tripled_load_is_flagged_by_a_load_signal_within_three_days():
    result = load_spike_large(300, seed=330)
    assert result["athletes_at_least_3x"] >= 290  # 991 of 1,000 (an athlete who trains daily may get less)
    assert result["flagged_by_a_load_signal_within_3_days"] >= 0.99


def test_false_alarm_rate_over_a_thousand_steady_athletes():
    steady = steady_cohort(1000, seed=2026)
    print(f"\n1000 steady athletes: specificity {steady.specificity:.4f}, flags {steady.flagged_athletes}")
    load = sum(steady.flagged_athletes[s] for s in LOAD_SIGNALS)
    assert load <= 2  # measured 1 (9 of 10,000: docs/analytics.md §5)
    recovery = steady.flagged_athletes["hrv_suppressed"] + steady.flagged_athletes["rhr_elevated"]
    assert recovery <= 8  # measured 5 (13 of 10,000: docs/analytics.md §5)
    assert steady.any_flag_athletes <= 8  # measured 6 (27 of 10,000 over ten seeds: the 0.3 % target)
    assert steady.specificity >= 0.99 and steady.idn_athletes <= 2  # measured 0.994 and 0 (0 of 10,000)


def test_hrv_drops_are_flagged_within_days_and_large_ones_by_their_third_morning():
    r = event_cohort("hrv_drop", 300, seed=400)
    print(f"\nhrv_drop: within 3 days {r.sensitivity_with_data:.3f} with data, within 7 days {r.within(7):.3f}")
    # 1,000 athletes (docs/analytics.md §5): 0.63 within 3 days with data, 0.95 within 7; measured here 0.68, 0.95
    assert r.sensitivity_with_data >= 0.55 and r.within(7) >= 0.9 and r.flagged_before_onset <= 2
    for name, seed in (("hrv_drop_large", 410), ("hrv_drop_large_hrv_only", 411)):
        hit, seen = large_cohort(name, 200, seed, readings=3)
        print(f"{name}: by reading 3 {hit} of {seen}")
        assert seen >= 190 and hit / seen >= 0.98, (name, hit, seen)  # 0.996–0.998 on 1,000


def test_events_are_flagged_with_the_right_signal_within_days():
    detected = seen = detected_seen = total = 0
    for i, name in enumerate(COHORTS):
        r = event_cohort(name, 40, seed=100 + i)
        print(
            f"{name}: within {WITHIN_DAYS} days {r.sensitivity:.3f} (with data {r.sensitivity_with_data:.3f}), "
            f"within 5 days {r.within(5):.3f}, within 7 days {r.within(7):.3f}, delays {r.delays}"
        )
        # fitted noise (docs/analytics.md §5), 1,000 athletes per cohort: the doubled camp 0.22 within 3 days and
        # 0.995 within 7 (its 4 days at ≥ 2.3 × the typical training day, or 7 at 1.6 ×); the others 0.57–0.61
        # within 3 days, 0.82–0.95 within 7 (the asymmetry events have their data in days 0–3 for ~57 %)
        assert r.sensitivity >= (0.1 if name == "load_spike" else 0.3), (name, r)
        assert r.within(7) >= (0.95 if name == "load_spike" else 0.6), (name, r)
        assert r.flagged_before_onset <= 2, (name, r)
        detected, seen, detected_seen, total = (
            detected + r.detected_within,
            seen + r.with_data,
            detected_seen + r.detected_with_data,
            total + r.athletes,
        )
    assert detected / total >= 0.4  # 0.52 on 1,000 per cohort
    assert detected_seen / seen >= 0.55  # with the event's data: 0.22 (doubled camp) to 1.0 per cohort, pooled ~0.68


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--legacy-noise", action="store_true", help="the made-up noise the rules were first tuned on")
    args = parser.parse_args()
    if args.legacy_noise:
        NOISE["noise"] = LEGACY_NOISE
    print(json.dumps(report(args.athletes, args.seed), indent=2))
    _ = SIGNALS
