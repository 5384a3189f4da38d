"""The rules engine replayed over a whole simulated training history (shared by the analyze and cohort tests)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.virtual.training_history import TrainingHistory
from monitor.asymmetry import si_from_left_share_pct, symmetry_index_pct
from monitor.indicators import DailyInputs, Indicators, compute_indicators, daily_inputs
from monitor.rules import idn_series
from monitor.signals import SignalSeries, evaluate_signals
from monitor.thresholds import Thresholds, load_thresholds
from monitor.wellness import WellnessInputs


def history_inputs(history: TrainingHistory, first_day: dt.date | np.datetime64) -> DailyInputs:
    """The rules engine's daily inputs for a simulated history: sRPE load, mornings and session symmetry."""
    h = history
    w = h.wellness
    checkins = WellnessInputs(dict(w.items), w.soreness, w.pain) if w is not None else None
    inputs = daily_inputs(
        h.athlete_ids,
        first_day,
        h.srpe_load,
        h.ln_rmssd,
        h.morning_hr_bpm,
        {
            "gct": symmetry_index_pct(h.gct_left_ms, h.gct_right_ms),
            "muscle": symmetry_index_pct(h.muscle_load_left, h.muscle_load_right),
            "pedal": si_from_left_share_pct(h.pedal_balance_left_pct),
        },
        # as monitor.analyze.known_load_days for an sRPE athlete: a day's load is known when a session was logged
        # or a morning reading shows the athlete used the device (no session then = rest)
        load_known=np.isfinite(h.srpe_load) | np.isfinite(h.ln_rmssd) | np.isfinite(h.morning_hr_bpm),
        wellness=checkins,
    )
    per_athlete = isinstance(h.pod_muscle, np.ndarray)  # one muscle for the squad, or one per athlete
    inputs.pod_muscle.extend(list(h.pod_muscle) if per_athlete else [h.pod_muscle] * len(h.athlete_ids))
    return inputs


def replay_engine(
    history: TrainingHistory, first_day: dt.date | np.datetime64, th: Thresholds | None = None
) -> tuple[Indicators, dict[str, SignalSeries], np.ndarray]:
    """Indicators, signals and the IDN series of a simulated history (every athlete, every day)."""
    th = th or load_thresholds()
    ind = compute_indicators(history_inputs(history, first_day), th)
    signals = evaluate_signals(ind, th)
    return ind, signals, idn_series(signals, th)
