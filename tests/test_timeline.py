"""Beat times rebuilt from RR sums."""

import numpy as np
import pytest

from ingest.timeline import BeatTimeline, NotificationClock, iso_utc, parse_iso_ms


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


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-03-04T09:30", "2024-03-04T09:30:00Z"),
        (" 2024-03-04 09:30:15 ", "2024-03-04T09:30:15Z"),
        ("2024-03-04t09:30:15z", "2024-03-04T09:30:15Z"),
        ("2024-03-04T09:30:15+02:00", "2024-03-04T07:30:15Z"),
        ("2024-03-04T09:30:15.999-0130", "2024-03-04T11:00:15Z"),
    ],
)
def test_parse_iso_ms_reads_date_and_time_utc_without_offset(text, iso):
    assert iso_utc(parse_iso_ms(text)) == iso


def test_parse_iso_ms_keeps_milliseconds_and_refuses_other_layouts():
    assert parse_iso_ms("1970-01-01T00:00:00.001Z") == 1 and parse_iso_ms("1969-12-31T23:59:59.999Z") == -1
    for text in ("2024-03-04", "2024-13-04T09:30", "2024-03-04T24:00", "04.03.2024 09:30", "2024-03-04T09:30+24:00"):
        with pytest.raises(ValueError, match=r"is not a date and time \(YYYY-MM-DDTHH:MM"):
            parse_iso_ms(text)
    with pytest.raises(ValueError):
        parse_iso_ms("٢٠٢٤-03-04T09:30")  # Arabic-Indic digits
