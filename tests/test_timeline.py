"""Beat times rebuilt from RR sums."""

import numpy as np

from ingest.timeline import BeatTimeline, NotificationClock


def test_first_notification_back_dates_beats_from_arrival():
    timeline = BeatTimeline()
    assert timeline.place([800.0, 1000.0], 10_000).tolist() == [9_000, 10_000]


def test_later_beats_follow_rr_sums_not_arrival_jitter():
    timeline = BeatTimeline()
    timeline.place([1000.0], 10_000)
    # arrives 400 ms late: the beat still sits exactly one RR after the previous one
    assert timeline.place([1000.0], 11_400).tolist() == [11_000]
    assert timeline.reanchors == 0


def test_gap_longer_than_drift_limit_reanchors():
    timeline = BeatTimeline(max_drift_ms=3000)
    timeline.place([1000.0], 10_000)
    assert timeline.place([900.0], 60_000).tolist() == [60_000]
    assert timeline.reanchors == 1


def test_times_are_strictly_increasing_even_for_tiny_intervals():
    timeline = BeatTimeline()
    first = timeline.place([1000.0, 0.4, 0.4], 5_000)
    assert np.all(np.diff(first) > 0)
    second = timeline.place([0.3], 5_000)
    assert second[0] > first[-1]


def test_notification_clock_ticks_one_period_per_call():
    clock = NotificationClock(1_000, period_ms=1000)
    assert [clock(), clock(), clock()] == [1_000, 2_000, 3_000]
