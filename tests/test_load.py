"""Training load (monitor.load): TRIMP, sRPE, ACWR variants, Foster monotony/strain, Banister PMC."""

from __future__ import annotations

import csv
import datetime as dt
import math

import numpy as np
import pytest
from shared_data import SHARED_DATA, require_shared

from monitor import load as ld

PMDATA = SHARED_DATA / "pmdata"


def pmdata_daily_srpe(person: str) -> np.ndarray:
    """Daily sRPE load (RPE × minutes, summed per UTC day of the session end) from first to last session day."""
    loads: dict[dt.date, float] = {}
    with (PMDATA / person / "pmsys" / "srpe.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            try:
                rpe, minutes = float(row["perceived_exertion"]), float(row["duration_min"])
            except (TypeError, ValueError):
                continue  # sessions without RPE or duration (p16 logs only empty ones)
            day = dt.datetime.fromisoformat(row["end_date_time"].replace("Z", "+00:00")).date()
            loads[day] = loads.get(day, 0.0) + rpe * minutes
    if not loads:
        return np.zeros(0)
    first, last = min(loads), max(loads)
    return np.array([loads.get(first + dt.timedelta(days=i), 0.0) for i in range((last - first).days + 1)])


def goldencheetah_pmc(stress: list[float], lts_days: float = 42, sts_days: float = 7) -> tuple[list, list, list]:
    """GoldenCheetah's PMCData::refresh loop (behaviour, written out plainly): LTS, STS and SB shown next day."""
    lte, ste = math.exp(-1.0 / lts_days), math.exp(-1.0 / sts_days)
    lts, sts, sb = [0.0] * len(stress), [0.0] * len(stress), [0.0] * (len(stress) + 1)
    last_lts = last_sts = 0.0
    for day, s in enumerate(stress):
        if day:
            last_lts, last_sts = lts[day - 1], sts[day - 1]
        lts[day] = s * (1.0 - lte) + last_lts * lte
        sts[day] = s * (1.0 - ste) + last_sts * ste
        sb[day + 1] = lts[day] - sts[day]
    return lts, sts, sb[: len(stress)]


def test_pmc_on_pmdata_srpe_equals_goldencheetah_loop():
    people = sorted(p.name for p in require_shared("pmdata").iterdir() if (p / "pmsys" / "srpe.csv").is_file())
    assert len(people) == 16
    checked = 0
    for person in people:
        stress = pmdata_daily_srpe(person)
        if stress.size < 2:
            continue
        ctl, atl, tsb = goldencheetah_pmc(stress.tolist())
        pmc = ld.pmc(stress)
        np.testing.assert_allclose(pmc.ctl, ctl, rtol=1e-12, atol=1e-9, err_msg=person)
        np.testing.assert_allclose(pmc.atl, atl, rtol=1e-12, atol=1e-9, err_msg=person)
        np.testing.assert_allclose(pmc.tsb, tsb, rtol=1e-12, atol=1e-9, err_msg=person)
        checked += 1
    assert checked >= 12
    # the rows of a 2-D input are independent athletes
    a, b = pmdata_daily_srpe("p01")[:100], pmdata_daily_srpe("p02")[:100]
    both = ld.pmc(np.stack([a, b]))
    np.testing.assert_allclose(both.ctl[1], ld.pmc(b).ctl)


def test_pmc_constants_and_seeds():
    assert ld.pmc_decay(42) == pytest.approx(math.exp(-1 / 42))
    assert 1 - ld.pmc_decay(7) == pytest.approx(0.1331, abs=1e-4)
    assert ld.ewma_smoothing(7) == 0.25 and ld.ewma_smoothing(28) == pytest.approx(0.0690, abs=1e-4)
    p = ld.pmc(np.array([100.0, 0.0]), ctl_seed=50.0, atl_seed=20.0)
    k42, k7 = math.exp(-1 / 42), math.exp(-1 / 7)
    assert p.ctl[0] == pytest.approx(100 * (1 - k42) + 50 * k42)
    assert p.atl[0] == pytest.approx(100 * (1 - k7) + 20 * k7)
    assert p.tsb[0] == pytest.approx(30.0)  # the seeds' balance
    assert p.tsb[1] == pytest.approx(p.ctl[0] - p.atl[0])  # yesterday's balance is today's form
    same_day = ld.pmc(np.array([100.0, 0.0]), tsb_next_day=False)
    assert same_day.tsb[0] == pytest.approx(same_day.ctl[0] - same_day.atl[0])
    ramp = ld.pmc(np.full(20, 100.0)).ramp_rate
    ctl = ld.pmc(np.full(20, 100.0)).ctl
    assert ramp[10] == pytest.approx(ctl[10] - ctl[3])


def step_load() -> np.ndarray:
    """28 days at 100 AU, then 7 days at 200 AU."""
    return np.r_[np.full(28, 100.0), np.full(7, 200.0)]


def test_acwr_ewma_by_hand():
    x = step_load()
    r = ld.acwr_ewma(x)
    assert np.isnan(r[:27]).all()  # building baseline: no ratio before 28 days
    assert r[27] == pytest.approx(1.0)  # seeded with the first 28 days' mean (100): both averages stay at 100
    # day 28: acute 0.25·200 + 0.75·100 = 125; chronic (2/29)·200 + (27/29)·100 = 106.897
    assert r[28] == pytest.approx(125.0 / (200 * 2 / 29 + 100 * 27 / 29))
    # day 29: acute 0.25·200 + 0.75·125 = 143.75; chronic (2/29)·200 + (27/29)·106.897
    chronic29 = 200 * 2 / 29 + (27 / 29) * (200 * 2 / 29 + 100 * 27 / 29)
    assert r[29] == pytest.approx(143.75 / chronic29)


def test_acwr_ewma_seed_and_start_offsets():
    x = np.r_[np.zeros(5), step_load()]  # the athlete starts on day 5
    r = ld.acwr_ewma(x[None, :], start=np.array([5]))[0]
    np.testing.assert_allclose(r[5:], ld.acwr_ewma(step_load()), equal_nan=True)
    assert np.isnan(r[:32]).all()
    e = ld.ewma(np.array([[0.0, 0.0, 8.0]]), 7, initial=np.array([4.0]), start=np.array([1]))
    np.testing.assert_allclose(e[0], [0.0, 3.0, 0.25 * 8 + 0.75 * 3.0])


def test_acwr_rolling_coupled_and_uncoupled_by_hand():
    x = step_load()
    coupled = ld.acwr_rolling(x, coupled=True)
    uncoupled = ld.acwr_rolling(x, coupled=False)
    assert np.isnan(coupled[:27]).all() and np.isnan(uncoupled[:27]).all()
    assert coupled[27] == pytest.approx(1.0) and uncoupled[27] == pytest.approx(1.0)
    # day 30 (3 days at 200): acute (4·100 + 3·200)/7 = 142.857; coupled chronic (25·100 + 3·200)/28 = 110.714
    assert coupled[30] == pytest.approx((1000 / 7) / (3100 / 28))
    # uncoupled chronic = days 3..23 = 100
    assert uncoupled[30] == pytest.approx((1000 / 7) / 100)
    # day 34 (7 days at 200): coupled 200 / 125 = 1.6, uncoupled 200 / 100 = 2.0
    assert coupled[34] == pytest.approx(1.6) and uncoupled[34] == pytest.approx(2.0)


def test_acwr_is_blank_when_chronic_load_is_zero():
    x = np.r_[np.zeros(30), 100.0]
    assert np.isnan(ld.acwr_ewma(x)[:30]).all()
    assert np.isnan(ld.acwr_rolling(x)[:30]).all()
    assert np.isfinite(ld.acwr_rolling(x)[30])


def test_monotony_and_strain_by_hand():
    week = np.array([100.0, 0.0, 200.0, 0.0, 300.0, 0.0, 100.0])
    # mean 100; population SD = sqrt(mean of squares − mean²) = sqrt(150000/7 − 10000) = 106.904
    sd = math.sqrt(150000 / 7 - 10000)
    m = ld.monotony(week)
    assert np.isnan(m[:6]).all()
    assert m[6] == pytest.approx(100 / sd)  # 0.935
    assert ld.strain(week)[6] == pytest.approx(700 * 100 / sd)  # weekly load × monotony = 654.8
    assert ld.monotony(np.full(7, 50.0))[6] == ld.MONOTONY_MAX  # no variation at all: clipped to 10
    assert ld.monotony(np.zeros(7))[6] == 0.0  # a week without load is not monotonous
    assert ld.strain(np.zeros(7))[6] == 0.0


def test_trimp_banister_per_sample_with_sex_specific_coefficients():
    rest, top = 50.0, 190.0
    hr = np.full(3600, rest + 0.5 * (top - rest))  # one hour at 50 % of heart-rate reserve, 1 Hz samples
    assert ld.trimp_banister(hr, 1.0, rest, top, "male") == pytest.approx(60 * 0.5 * 0.64 * math.exp(1.92 * 0.5))
    assert ld.trimp_banister(hr, 1.0, rest, top, "female") == pytest.approx(60 * 0.5 * 0.86 * math.exp(1.67 * 0.5))
    # intervals: the per-sample sum weighs hard minutes exponentially, more than the session-average HR would
    intervals = np.r_[np.full(1800, rest + 0.9 * (top - rest)), np.full(1800, rest + 0.3 * (top - rest))]
    per_sample = ld.trimp_banister(intervals, 1.0, rest, top, "male")
    from_mean = 60 * 0.6 * 0.64 * math.exp(1.92 * 0.6)
    assert per_sample > from_mean
    with_gap = np.r_[hr[:1800], np.full(600, np.nan), hr[:1800]]  # NaN samples (lost signal) count for nothing
    assert ld.trimp_banister(with_gap, 1.0, rest, top, "male") == pytest.approx(
        ld.trimp_banister(hr, 1.0, rest, top, "male")
    )
    with pytest.raises(ValueError):
        ld.trimp_banister(hr, 1.0, rest, top, "other")


def test_trimp_edwards_zones():
    top = 200.0
    hr = np.r_[np.full(600, 90.0), np.full(600, 110.0), np.full(600, 150.0), np.full(600, 190.0)]  # 45,55,75,95 %
    minutes = ld.edwards_zone_minutes(hr, 1.0, top)
    np.testing.assert_allclose(minutes, [10, 0, 10, 0, 10])  # below 50 % is not counted
    assert ld.trimp_edwards(hr, 1.0, top) == pytest.approx(10 * 1 + 10 * 3 + 10 * 5)


def test_srpe_and_duration():
    assert ld.srpe_load(np.array([7.0]), np.array([3600.0]))[0] == 420.0
    assert np.isnan(ld.srpe_load(np.array([np.nan]), np.array([3600.0]))[0])
    assert ld.session_duration_s(np.array([1000, 61_000, 5000])) == 60.0
    assert ld.session_duration_s(np.array([1000])) == 0.0


def test_daily_sum_counts_rest_days_as_zero_and_drops_nan():
    grid = ld.daily_sum(np.array([0, 0, 1, 1, 1]), np.array([0, 0, 2, 5, 1]), np.array([1, 2, 3, np.nan, 4]), (2, 4))
    np.testing.assert_array_equal(grid, [[3, 0, 0, 0], [0, 4, 3, 0]])
    counts = ld.daily_count(np.array([0, 0, 1]), np.array([1, 1, 1]), np.array([1.0, np.nan, 2.0]), (2, 2))
    np.testing.assert_array_equal(counts, [[0, 1], [0, 1]])


def test_vectorised_rows_equal_single_rows():
    rng = np.random.default_rng(4)
    loads = np.where(rng.random((5, 90)) < 0.3, 0.0, rng.uniform(100, 600, (5, 90)))
    start = np.array([0, 3, 10, 0, 20])
    loads[np.arange(90) < start[:, None]] = 0.0
    for fn in (ld.acwr_ewma, ld.monotony, ld.strain):
        together = fn(loads, start=start)
        for i in range(5):
            alone = fn(loads[i, start[i] :])
            np.testing.assert_allclose(together[i, start[i] :], alone, equal_nan=True, err_msg=fn.__name__)
