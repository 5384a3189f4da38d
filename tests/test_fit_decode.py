"""FIT decoding on synthetic files and pure column functions: compressed timestamps, damage, beats, balance."""

from __future__ import annotations

import numpy as np
import pytest
from fitfiles import FIT_EPOCH_S, HRV, RECORD, UINT8, UINT16, UINT32, FitWriter, activity_start, session

from ingest.activity import FileDecodeError
from ingest.fit import decode_fit
from ingest.fit.framing import crc16
from ingest.fit.points import merge_by_time, sparse_batches
from ingest.fit.streams import RR_GAP_MS, beat_times, pedal_balance, symmetry_index, zero_as_missing

T0 = 1_000_000_029  # FIT seconds; low 5 bits 0b11101, so compressed offsets roll over after 2 s
RECORD_TS = [(253, 4, UINT32), (3, 1, UINT8), (30, 1, UINT8), (4, 1, UINT8), (7, 2, UINT16)]
RECORD_NO_TS = RECORD_TS[1:]


def _compressed_file() -> bytes:
    writer = activity_start(FitWriter(), T0)
    writer.define(1, RECORD, RECORD_TS).data(1, T0, 120, 0x80 | 52, 90, 250)
    writer.define(2, RECORD, RECORD_NO_TS)
    for k in range(1, 6):
        writer.compressed(2, T0 + k, 120 + k, 0x80 | 52, 90, 250)
    return session(writer, T0, 6).build()


def test_compressed_timestamps_are_rebuilt_across_the_rollover():
    activity = decode_fit(_compressed_file())
    expected = (np.arange(T0, T0 + 6) + FIT_EPOCH_S) * 1000
    assert activity.records.time_ms.tolist() == expected.tolist()
    assert activity.records.columns["heart_rate"].tolist() == [120, 121, 122, 123, 124, 125]
    session_point = activity.sessions[0]
    assert session_point.sport == "run" and session_point.fields["duration_s"] == 6.0
    assert session_point.fields["pedal_balance_left_pct"] == 48.0  # 0x80 | 52: right 52 % → left 48 %


def test_compressed_record_before_any_timestamp_is_rejected():
    writer = FitWriter().define(0, RECORD, RECORD_NO_TS).compressed(0, 3, 120, 50, 90, 250)
    with pytest.raises(FileDecodeError, match="precedes every full timestamp"):
        decode_fit(writer.build())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"hello, this is not a FIT file at all", r"not a FIT file \(no FIT header"),
        (b"\x0e" + b"\x00" * 13, r"not a FIT file \(no FIT header"),
    ],
)
def test_not_fit(data, reason):
    with pytest.raises(FileDecodeError, match=reason):
        decode_fit(data)


def test_crc_mismatch():
    data = bytearray(_compressed_file())
    data[-5] ^= 0x01  # a session field byte: structure intact, CRC wrong
    with pytest.raises(FileDecodeError, match="CRC mismatch"):
        decode_fit(bytes(data))


def test_truncated():
    data = _compressed_file()[:-7]
    with pytest.raises(FileDecodeError, match=r"^truncated: the file declares \d+ data bytes"):
        decode_fit(data)


def test_unsupported_file_type():
    writer = activity_start(FitWriter(), T0, file_type=2)  # settings
    with pytest.raises(FileDecodeError, match="unsupported FIT file type 'settings'"):
        decode_fit(writer.build())


def test_file_without_activity_data():
    with pytest.raises(FileDecodeError, match="no activity data"):
        decode_fit(activity_start(FitWriter(), T0).build())


def test_missing_session_is_rebuilt_from_records():
    writer = activity_start(FitWriter(), T0).define(1, RECORD, RECORD_TS)
    for k in range(4):
        writer.data(1, T0 + k, 130, 50, 85, 0)
    activity = decode_fit(writer.build())
    (only,) = activity.sessions
    assert only.sport == "other" and only.fields["duration_s"] == 3.0 and only.fields["avg_hr_bpm"] == 130.0
    assert only.fields["pedal_balance_side_unknown_pct"] == 50.0  # no 0x80 flag: side unknown
    assert "pedal_balance_left_pct" not in only.fields


def test_identity_ignores_the_file_name_but_not_the_serial():
    first = decode_fit(_compressed_file())
    again = decode_fit(_compressed_file())
    other = decode_fit(session(activity_start(FitWriter(), T0, serial=99).define(1, RECORD, RECORD_TS), T0, 1).build())
    assert first.activity_id == again.activity_id != other.activity_id
    assert first.time_ms == (T0 + FIT_EPOCH_S) * 1000


def test_hrv_beats_from_synthetic_messages():
    writer = activity_start(FitWriter(), T0).define(1, RECORD, RECORD_TS).data(1, T0, 60, 0, 0, 0)
    writer.define(2, HRV, [(0, 10, UINT16)])
    writer.data(2, [1000, 1000, 0xFFFF, 0xFFFF, 0xFFFF]).data(2, [5000, 800, 0xFFFF, 0xFFFF, 0xFFFF])
    activity = decode_fit(session(writer, T0, 10).build())
    start_ms = (T0 + FIT_EPOCH_S) * 1000
    assert activity.beats.time_ms.tolist() == [start_ms + 1000, start_ms + 2000, start_ms + 7800]
    assert activity.beats.rr_ms.tolist() == [1000.0, 1000.0, 800.0]
    assert activity.sessions[0].fields["rr_count"] == 3 and activity.sessions[0].fields["rr_gap_count"] == 1


def test_beat_clock_jumps_forward_when_beats_were_not_recorded():
    beats = beat_times([[1.0, 1.0], [1.0]], [0, 100], anchor_s=0)
    base = FIT_EPOCH_S * 1000
    assert beats.time_ms.tolist() == [base + 1000, base + 2000, base + 101_000]
    assert beats.reanchored == 1
    lagging = beat_times([[1.0] * 5, [1.0]], [0, 20], anchor_s=0)  # within REANCHOR_S: cumulative sums kept
    assert lagging.reanchored == 0 and lagging.time_ms[-1] == base + 6000


def test_gap_values_advance_the_clock_but_are_not_beats():
    beats = beat_times([[0.8, (RR_GAP_MS + 1) / 1000, 0.8]], [None], anchor_s=0)
    assert beats.rr_ms.tolist() == [800.0, 800.0]
    assert len(beats.gap_time_ms) == 1
    assert np.diff(beats.time_ms).tolist() == [RR_GAP_MS + 1 + 800]


def test_pedal_balance_bits():
    left, unknown = pedal_balance(np.array([0x80 | 50, 0x80 | 52, 52, 0xFF, np.nan, 0x80]))
    np.testing.assert_array_equal(left, [50.0, 48.0, np.nan, np.nan, np.nan, 100.0])
    np.testing.assert_array_equal(unknown, [np.nan, np.nan, 52.0, np.nan, np.nan, np.nan])


def test_symmetry_index_sign_convention():
    assert symmetry_index(52.2) == pytest.approx(8.8)  # left share above 50 %: positive (left larger)
    assert symmetry_index(47.5) == -10.0
    assert zero_as_missing(np.array([0.0, 1.5])).tolist()[1] == 1.5


def test_crc16_matches_garmin():
    from garmin_fit_sdk import CrcCalculator

    data = bytes(range(256)) * 3
    assert crc16(data, 5, 700) == CrcCalculator.calculate_crc(data, 5, 700)


def test_records_sharing_a_timestamp_are_merged_and_batches_hold_no_nan():
    """Integer fields (power_w) are rounded as the data model declares; a field the model lacks is refused."""
    nan = np.nan
    times = np.array([1000, 1000, 2000, 3000], np.int64)
    fields = {"cadence_rpm": np.array([120.0, nan, 121.0, nan]), "power_w": np.array([nan, 250.4, nan, nan])}
    batches = sparse_batches("power", {"athlete": "A01"}, times, fields)
    rows = {(int(t), name): col[i] for b in batches for name, col in b.fields.items() for i, t in enumerate(b.time_ms)}
    assert rows == {(1000, "cadence_rpm"): 120.0, (1000, "power_w"): 250, (2000, "cadence_rpm"): 121.0}
    assert all(b.fields["power_w"].dtype == np.int64 for b in batches if "power_w" in b.fields)
    merged_times, merged = merge_by_time(times, fields)
    assert merged_times.tolist() == [1000, 2000, 3000]
    assert np.isnan(merged["power_w"][1:]).all() and merged["cadence_rpm"][0] == 120.0


def test_a_field_the_data_model_does_not_declare_is_refused():
    with pytest.raises(KeyError, match="measurement 'power' declares no field 'bpm'"):
        sparse_batches("power", {"athlete": "A01"}, np.array([1000], np.int64), {"bpm": np.array([120.0])})
