"""Real FIT files from ../shared/data/fit: which import and which fail, and agreement with reference values.

References are the values listed in the data folder's MANIFEST.md (from the source repositories' own tests and
the device's session messages).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from shared_data import require_shared

from ingest.activity import FileDecodeError
from ingest.fit import FitActivity, decode_fit
from ingest.fit.activity import add_asymmetry

FIT_DIR = require_shared("fit", module_level=True)

IMPORTS = {
    "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit",
    "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit",
    "fitparse__activity-small-fenix2-run.fit",
    "fitparse__garmin-fenix-5-run.fit",
    "fitparse__sample_mulitple_header.fit",
    "goldencheetah__Garmin920_withFirstbeat.fit",
    "goldencheetah__HRV-Data.fit",
    "runalyze__FR920xt-with-runscribe-plus.fit",
    "runalyze__Fenix-3-with-runscribe-v1-38.fit",
    "runalyze__HRV-example.fit",
    "runalyze__garmin-runPower-2.fit",
    "runalyze__garmin-runPower.fit",
    "runalyze__with-new-dynamics.fit",
}
FAILS = {
    "fitparse__activity-unexpected-eof.fit": (
        "truncated: the file declares 757 data bytes (771 bytes with header and CRC) but the file ends at byte 768"
    ),
    "fitparse__activity-settings-corruptheader.fit": (
        "damaged FIT header in chained segment 2 at byte 771 (no '.FIT' signature)"
    ),
    "fitparse__activity-settings-nodata.fit": (
        "truncated: chained segment 2 at byte 771 declares 68 data bytes (82 bytes with header and CRC) "
        "but the file ends at byte 786"
    ),
}


@functools.cache
def decoded(name: str) -> FitActivity:
    return decode_fit((FIT_DIR / name).read_bytes())


def only_session(name: str) -> dict:
    (session,) = decoded(name).sessions
    return session.fields


def test_every_file_in_the_folder_has_an_expected_outcome():
    assert {p.name for p in FIT_DIR.glob("*.fit")} == IMPORTS | set(FAILS)


@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_imports(name):
    activity = decoded(name)
    assert activity.activity_id.startswith("fit:") and activity.sessions and activity.samples > 0
    for session in activity.sessions:
        assert session.fields["duration_s"] > 0
    assert all(len(batch) for batch in activity.batches("A01"))


@pytest.mark.parametrize(("name", "reason"), sorted(FAILS.items()))
def test_fails_with_a_clear_reason(name, reason):
    with pytest.raises(FileDecodeError) as failure:
        decode_fit((FIT_DIR / name).read_bytes())
    assert str(failure.value) == reason
    assert "\n" not in reason


@pytest.mark.parametrize(
    ("name", "balance"),
    [
        ("runalyze__FR920xt-with-runscribe-plus.fit", 49.40),
        ("runalyze__garmin-runPower.fit", 50.67),
        ("runalyze__garmin-runPower-2.fit", 50.62),
        ("runalyze__with-new-dynamics.fit", 51.98),
        ("runalyze__Fenix-3-with-runscribe-v1-38.fit", 49.21),
        ("goldencheetah__Garmin920_withFirstbeat.fit", 47.99),
        ("fitparse__garmin-fenix-5-run.fit", 52.51),  # mean of the 19 non-zero records; the device says 52.39
    ],
)
def test_gct_balance_matches_reference(name, balance):
    fields = only_session(name)
    assert fields["gct_balance_left_pct"] == pytest.approx(balance, abs=0.1)
    assert fields["gct_symmetry_index_pct"] == 4 * (fields["gct_balance_left_pct"] - 50)
    summary = decoded(name).summary()
    assert summary["gct_symmetry_index_pct"] == 4 * (summary["gct_balance_left_pct"] - 50)


def test_fenix5_session_average_differs_from_the_records():
    assert only_session("fitparse__garmin-fenix-5-run.fit")["gct_balance_left_pct"] != pytest.approx(52.39, abs=0.1)


def test_balance_missing_when_the_strap_has_none():
    for name in ("fitparse__activity-small-fenix2-run.fit", "goldencheetah__HRV-Data.fit"):
        summary = decoded(name).summary()
        assert summary["gct_balance_left_pct"] is None and summary["gct_symmetry_index_pct"] is None
    assert only_session("fitparse__activity-small-fenix2-run.fit")["gct_ms"] > 200


def _stream(activity: FitActivity, measurement: str, field: str, **tags: str) -> np.ndarray:
    batches = [
        b
        for b in activity.batches("A01")
        if b.measurement == measurement and field in b.fields and all(b.tags.get(k) == v for k, v in tags.items())
    ]
    return np.concatenate([b.fields[field] for b in batches]) if batches else np.empty(0)


def test_runscribe_named_fields():
    activity = decoded("runalyze__FR920xt-with-runscribe-plus.fit")
    fields = only_session("runalyze__FR920xt-with-runscribe-plus.fit")
    assert fields["sub_sport"] == "treadmill"  # indoor: no positions, distance from the footpod
    assert fields["gct_source"] == "running_dynamics" and "gct_left_ms" not in fields  # strap and pods disagree
    left_gct = _stream(activity, "stride", "gct_ms", side="left")
    right_gct = _stream(activity, "stride", "gct_ms", side="right")
    assert left_gct.dtype == np.int64 and len(left_gct) == len(right_gct) == 1272
    assert left_gct.mean() == pytest.approx(316.9, abs=0.1) and right_gct.mean() == pytest.approx(303.5, abs=0.1)
    expected = {"impact_g": (13.1, 13.7), "braking_g": (7.3, 8.0), "footstrike_type": (1.4, 1.9)}
    expected["pronation_deg"] = (-12.6, -10.2)
    for metric, (left, right) in expected.items():
        assert _stream(activity, "stride", metric, side="left").mean() == pytest.approx(left, abs=0.1)
        assert _stream(activity, "stride", metric, side="right").mean() == pytest.approx(right, abs=0.1)


def test_footpods_are_the_gct_source_without_running_dynamics():
    activity = decoded("runalyze__FR920xt-with-runscribe-plus.fit")
    fields: dict = {}
    saved = activity.records.columns["stance_time_balance"]
    try:
        activity.records.columns["stance_time_balance"] = np.full(len(saved), np.nan)
        add_asymmetry(fields, activity, slice(None))
    finally:
        activity.records.columns["stance_time_balance"] = saved
    assert fields["gct_source"] == "footpods"
    assert fields["gct_left_ms"] == pytest.approx(316.9, abs=0.1)
    assert fields["gct_right_ms"] == pytest.approx(303.5, abs=0.1)
    left, right = fields["gct_left_ms"], fields["gct_right_ms"]
    assert fields["gct_balance_left_pct"] == pytest.approx(100 * left / (left + right))
    assert fields["gct_symmetry_index_pct"] == 4 * (fields["gct_balance_left_pct"] - 50)
    assert fields["gct_symmetry_index_pct"] == pytest.approx((left - right) / (0.5 * (left + right)) * 100)


def test_runscribe_unnamed_fields_mapped_by_number():
    activity = decoded("runalyze__Fenix-3-with-runscribe-v1-38.fit")
    expected = {"impact_g": (11.3, 10.7), "braking_g": (12.2, 12.5), "footstrike_type": (11.9, 10.1)}
    expected["pronation_deg"] = (-10.0, -7.0)
    for metric, (left, right) in expected.items():
        assert _stream(activity, "stride", metric, side="left").mean() == pytest.approx(left, abs=0.1)
        assert _stream(activity, "stride", metric, side="right").mean() == pytest.approx(right, abs=0.1)
    assert not _stream(activity, "stride", "gct_ms").size


def test_gct_balance_stream_mean():
    activity = decoded("runalyze__with-new-dynamics.fit")
    balance = _stream(activity, "run_dynamics", "gct_balance_left_pct")
    assert len(balance) == 1280 and balance.mean() == pytest.approx(51.98, abs=0.1)


@pytest.mark.parametrize(
    ("name", "valid_values"),
    [
        ("runalyze__garmin-runPower-2.fit", 5260),
        ("runalyze__with-new-dynamics.fit", 20843),
        ("runalyze__Fenix-3-with-runscribe-v1-38.fit", 8188),
        ("runalyze__HRV-example.fit", 146),
        ("goldencheetah__HRV-Data.fit", 9350),
        ("fitparse__garmin-fenix-5-run.fit", 113),
    ],
)
def test_rr_counts(name, valid_values):
    activity = decoded(name)
    fields = only_session(name)
    beats, gaps = activity.beats, len(activity.beats.gap_time_ms)
    assert len(beats.time_ms) + gaps == valid_values
    assert fields["rr_count"] == len(beats.time_ms) == activity.summary()["rr_count"]
    assert fields.get("rr_gap_count", 0) == gaps
    assert np.all(np.diff(beats.time_ms) > 0) and beats.rr_ms.max() <= 3000
    assert np.all(beats.time_ms >= decoded(name).sessions[0].start_ms)


def test_running_power_from_developer_fields():
    assert only_session("runalyze__garmin-runPower.fit")["avg_power_w"] == pytest.approx(361.5, abs=0.1)
    assert only_session("runalyze__garmin-runPower-2.fit")["avg_power_w"] == pytest.approx(334.8, abs=0.1)


def test_pedal_balance_right_flag():
    name = "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"
    fields = only_session(name)
    assert fields["pedal_balance_left_pct"] == pytest.approx(49.9, abs=0.1)  # records ~50.1 % right
    assert fields["pedal_symmetry_index_pct"] == 4 * (fields["pedal_balance_left_pct"] - 50)
    assert decoded(name).summary()["pedal_balance_left_pct"] == fields["pedal_balance_left_pct"]
    assert len(_stream(decoded(name), "power", "pedal_balance_left_pct")) == 4470


def test_pedal_balance_without_side_flag_is_side_unknown():
    name = "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit"
    fields = only_session(name)
    assert "pedal_balance_left_pct" not in fields and decoded(name).summary()["pedal_balance_left_pct"] is None
    unknown = _stream(decoded(name), "power", "pedal_balance_side_unknown_pct")
    assert len(unknown) == 11728 and unknown.mean() == pytest.approx(50.1, abs=0.1)


def test_multisport_chained_file():
    activity = decoded("fitparse__sample_mulitple_header.fit")
    assert activity.data_records == 3023 and activity.samples == 1773
    assert [s.sport for s in activity.sessions] == ["swim", "transition", "ride", "transition", "run"]
    assert activity.summary()["sport"] == "multisport" and activity.summary()["sessions"] == 5
    device = [None, 50.78, 51.03, 50.65, 51.66]
    for session, balance in zip(activity.sessions, device):
        if balance is None:
            assert "gct_balance_left_pct" not in session.fields
        else:
            assert session.fields["gct_balance_left_pct"] == pytest.approx(balance, abs=0.1)
    assert activity.sessions[0].fields["distance_m"] == pytest.approx(1644.71)


def test_session_totals_from_the_device():
    fields = only_session("runalyze__HRV-example.fit")
    assert (fields["avg_hr_bpm"], fields["max_hr_bpm"]) == (70.0, 100.0)
    assert fields["duration_s"] == pytest.approx(60.324) and fields["elapsed_s"] == pytest.approx(128.903)
    assert only_session("runalyze__garmin-runPower.fit")["distance_m"] == pytest.approx(25601.78)


def test_streams_hold_no_nan_and_consistent_types():
    types: dict[tuple[str, str], str] = {}
    for name in sorted(IMPORTS):
        for batch in decoded(name).batches("A01"):
            assert set(batch.tags) >= {"athlete", "source"} and batch.tags["source"] == "fit"
            for field, column in batch.fields.items():
                kind = column.dtype.kind
                assert types.setdefault((batch.measurement, field), kind) == kind
                if kind == "f":
                    assert np.isfinite(column).all()
            assert np.all(np.diff(batch.time_ms) > 0)
