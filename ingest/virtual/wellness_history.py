"""Simulated morning wellness check-ins of a cohort: Hooper items, pain and a soreness body map, with noise fitted
to PMData and responses to the simulated load, HRV drops, asymmetry and soreness episodes.

:func:`simulate_wellness` is called by ``ingest.virtual.training_history.simulate_training_history`` when it is
given a ``wellness`` model; its draws come after every other draw of that function, so a history without wellness
is bit-identical to one simulated before wellness existed. :func:`wellness_batches` turns the result into
`wellness` and `soreness` points (docs/data-model.md). Pure numpy, no I/O.

The model, per athlete and morning (docs/analytics.md, "Wellness"):

- **Items** (sleep quality, fatigue, soreness, stress; Hooper 1–7, 7 = worst): a latent value = the athlete's mean
  + SD × (correlated AR(1) noise + responses), rounded to whole numbers and clipped to 1–7. Means, SDs, lag-1
  autocorrelations, the items' correlation and the missed check-ins are fitted by ``bench/wellness_fit.py`` on the
  PMData PMSys reports (16 people, their 1–5 answers mapped by the anchors); SDs, autocorrelations and the
  correlation are those of the continuous value behind the answers (the mapped answers lie on a 1.5-point grid,
  whose rounding adds 1.5²/12 to their variance: Sheppard's correction), so that rounding the simulated values
  to the same grid gives the fitted statistics back (tests/test_wellness_sim.py).
- **Load response**: each item moves by ``β_prev·(L_{t−1}/m − 1) + β_7d·(L̄7_{t−1}/m − 1)`` of its SDs, ``L`` the
  daily sRPE load and ``m`` the athlete's usual mean daily load; β fitted on the PMData sRPE logs (soreness
  responds, the others barely: Saw et al. 2016 find subjective measures responsive to load in general).
- **HRV drop**: the items move by ``hrv_drop_item_sd`` SDs while the drop lasts. *Assumed*: PMData has no HRV, and
  its Fitbit resting HR is uncorrelated with the items (within-person r ≈ 0.0); the cohort report measures the
  rules with and without this response.
- **Sore regions**: a check-in names sore regions when the latent soreness item is in the athlete's top
  ``sore_area_share`` (so the reports follow the soreness item and persist as it does); one region group per
  report, the athlete's habitual one 70 % of the time, both sides unless the report is one-sided (per athlete,
  so that the share of check-ins naming one side only is the fitted ``one_sided_checkin_share``, drawn at the same
  quantile rank as ``sore_area_share``: in PMData the people with more reports also report one side more often);
  ratings 1–10 *assumed* (no source has region ratings): N(3, 1.5), the other side ± N(0, 0.5).
- **Episodes**: a soreness episode (``soreness_onset``) rates one side of one region group N(4, 1) (2–10) on every
  check-in while it lasts and raises the soreness item by ``episode_soreness_item_sd``; an asymmetry episode does
  the same for ``asymmetry_soreness_share`` of the athletes at the region of the asymmetry (muscle: the pods' group,
  calf by default; ground contact: calf; pedal: quadriceps), on the side that carries more (muscle, pedal) or
  stays longer on the ground (ground contact) — all *assumed*.
- **Wellness drop** (``wellness_drop_sd``): every item worse by that many SDs, nothing else changes (a stressful
  week, poor sleep): what only the check-ins can show.
- **Pain** (yes/no): any region rated 6 or more (*assumed*).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from ingest.regions import REGION_NAMES, REGIONS, muscle_group
from ingest.store.base import PointBatch
from ingest.virtual.noise import draw_quantiles, stationary_ar1
from ingest.wellness import HOOPER_ITEMS

Quantiles = tuple[float, float, float, float, float]
"""(min, 25th percentile, median, 75th percentile, max) of a per-person statistic across real people."""
Items = tuple[float, float, float, float]
"""One value per Hooper item, in the order of ``HOOPER_ITEMS``."""
CHECKIN_HOUR_MS = 7 * 3_600_000  # check-ins at 07:00 UTC, after the morning reading (06:30)
SORE_GROUPS: dict[str, float] = {
    # PMSys sore areas (share of area mentions in PMData) spread over the body map's groups
    "calf": 0.12,  # lower legs 0.51: calf, soleus, Achilles, shin, peroneals, plantar fascia, and the thighs that
    "soleus": 0.05,  # the PMSys map lacks
    "achilles": 0.05,
    "tibialis_anterior": 0.04,
    "peroneals": 0.02,
    "plantar_fascia": 0.03,
    "hamstring": 0.08,
    "quadriceps": 0.08,
    "tfl_itb": 0.04,
    "glute_max": 0.04,  # pelvis 0.18
    "glute_med": 0.04,
    "piriformis": 0.02,
    "hip_flexor": 0.04,
    "adductor": 0.04,
    "cervical": 0.08,  # head 0.16 (as neck and upper trapezius)
    "upper_trap": 0.08,
    "thoracic": 0.02,  # trunk 0.08
    "lumbar": 0.04,
    "quadratus_lumborum": 0.02,
    "shoulder": 0.07,  # upper arms 0.07
}
"""Region groups a steady athlete's sore report names, with their probabilities (sum 1)."""
EPISODE_KINDS = ("soreness_onset", "gct_onset", "muscle_onset", "pedal_onset")


@dataclass(frozen=True)
class WellnessModel:
    """Wellness noise and responses (module docstring); defaults fitted by ``bench/wellness_fit.py`` on PMData."""

    item_mean: tuple[Quantiles, Quantiles, Quantiles, Quantiles] = (
        (3.516, 3.714, 3.975, 4.106, 4.790),  # sleep quality
        (4.015, 4.271, 4.330, 4.463, 5.437),  # fatigue
        (3.963, 4.072, 4.188, 4.380, 4.685),  # soreness
        (3.194, 3.929, 4.120, 4.466, 4.828),  # stress
    )
    # the continuous values behind the answers ("latent" in bench/wellness_fit.py: the fitted SDs, lag-1
    # autocorrelations and correlations of the mapped answers without their 1.5-point rounding, Sheppard)
    item_sd: tuple[Quantiles, Quantiles, Quantiles, Quantiles] = (
        (0.2, 0.645, 0.966, 1.156, 1.473),
        (0.2, 0.642, 0.815, 1.118, 1.427),
        (0.2, 0.221, 0.585, 1.032, 1.448),
        (0.2, 0.527, 0.861, 1.056, 1.317),
    )
    item_lag1: Items = (0.167, 0.210, 0.320, 0.388)
    item_correlation: tuple[Items, Items, Items, Items] = (
        (1.0, 0.471, 0.108, 0.288),
        (0.471, 1.0, 0.285, 0.240),
        (0.108, 0.285, 1.0, 0.064),
        (0.288, 0.240, 0.064, 1.0),
    )
    missed_checkin_rate: Quantiles = (0.020, 0.089, 0.183, 0.338, 0.496)
    sore_area_share: Quantiles = (0.015, 0.076, 0.165, 0.351, 0.495)
    one_sided_checkin_share: Quantiles = (0.0, 0.0, 0.0088, 0.0199, 0.1456)  # check-ins naming one side only
    habitual_group_share: float = 0.7  # assumed: PMData people report the same area again and again
    load_beta_previous_day: Items = (0.003, -0.009, 0.114, -0.033)
    load_beta_7d: Items = (0.068, 0.061, 0.305, 0.135)
    hrv_drop_item_sd: Items = (0.5, 1.0, 0.0, 0.5)  # assumed (module docstring)
    episode_soreness_item_sd: float = 0.5  # assumed
    episode_rating: tuple[float, float] = (4.0, 1.0)  # assumed: N(mean, SD), at least 2
    asymmetry_soreness_share: float = 0.5  # assumed
    steady_rating: tuple[float, float] = (3.0, 1.5)  # assumed
    bilateral_rating_sd: float = 0.5  # assumed: the sides of a bilateral report differ by 2+ points in 0.3 %
    pain_rating: int = 6  # assumed

    def draw(
        self, quantiles: Quantiles, rng: np.random.Generator, n: int, rank: np.ndarray | None = None
    ) -> np.ndarray:
        """``n`` per-athlete values from across-people quantiles (piecewise linear inverse CDF), at the quantile
        ranks ``rank`` if given."""
        return draw_quantiles(quantiles, rng, n, rank)


FITTED_WELLNESS = WellnessModel()
NO_HRV_RESPONSE = WellnessModel(hrv_drop_item_sd=(0.0, 0.0, 0.0, 0.0))
"""The fitted model without the assumed response to HRV drops (the cohort report's sensitivity check)."""


@dataclass(frozen=True)
class WellnessHistory:
    """Simulated check-ins: arrays ``(athletes, days)``, NaN on days without a check-in."""

    items: dict[str, np.ndarray]  # Hooper item → whole numbers 1–7
    pain: np.ndarray  # 1.0 / 0.0
    soreness: np.ndarray  # (athletes, days, regions) ratings 0–10 (0 = not sore), regions as ``REGION_NAMES``
    episode_region: dict[str, np.ndarray] = field(default_factory=dict)  # kind → (A,) region name of its episode

    @property
    def checked_in(self) -> np.ndarray:
        return np.isfinite(self.items["fatigue"])

    def rating(self, region: str) -> np.ndarray:
        """(A, D) ratings of one region, NaN without a check-in."""
        r = self.soreness[:, :, REGION_NAMES.index(region)].astype(float)
        return np.where(self.checked_in, r, np.nan)


def correlated_items(
    rng: np.random.Generator, shape: tuple[int, int], lag1: Items, correlation: np.ndarray
) -> np.ndarray:
    """(items, athletes, days) unit-variance AR(1) noise, one coefficient per item, with innovations correlated as
    ``correlation``. The stationary same-day correlation is ``C_ij·√((1 − φ_i²)(1 − φ_j²))/(1 − φ_i φ_j)``, within
    1 % of ``C_ij`` for the fitted coefficients (≤ 0.31)."""
    k = len(lag1)
    e = np.einsum("ij,jad->iad", np.linalg.cholesky(np.asarray(correlation, float)), rng.standard_normal((k, *shape)))
    out = np.empty_like(e)
    for i, phi in enumerate(lag1):
        out[i] = stationary_ar1(e[i], phi)
    return out


def load_ratio_terms(load_au: np.ndarray, usual_au: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(previous day's load / usual − 1, mean load of the 7 days before / usual − 1), ``(A, D)``; 0 on day 0 and
    for an athlete without usual load. NaN load = rest (0)."""
    load = np.nan_to_num(np.asarray(load_au, float))
    usual = np.asarray(usual_au, float)[:, None]
    prev = np.concatenate([np.zeros((load.shape[0], 1)), load[:, :-1]], axis=1)
    csum = np.cumsum(np.concatenate([np.zeros((load.shape[0], 1)), load], axis=1), axis=1)
    d = np.arange(load.shape[1])
    lo = np.maximum(d - 7, 0)
    week = (csum[:, d] - csum[:, lo]) / np.maximum(d - lo, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = usual > 0
        return (
            np.where(ok, prev / np.where(ok, usual, 1.0) - 1.0, 0.0),
            np.where(ok & (d > 0), week / np.where(ok, usual, 1.0) - 1.0, 0.0),
        )


def _region_index(group: str, side: np.ndarray) -> np.ndarray:
    """Index in ``REGION_NAMES`` of ``group`` on each side (`l`/`r`); a midline group ignores the side."""
    if group in REGION_NAMES:
        return np.full(side.shape, REGION_NAMES.index(group))
    return np.where(side == "l", REGION_NAMES.index(f"{group}_l"), REGION_NAMES.index(f"{group}_r"))


def simulate_wellness(
    rng: np.random.Generator,
    load_au: np.ndarray,
    usual_load_au: np.ndarray,
    hrv_drop: np.ndarray,
    episodes: dict[str, tuple[np.ndarray, str, str | np.ndarray]],
    model: WellnessModel = FITTED_WELLNESS,
    wellness_drop_sd: np.ndarray | float = 0.0,
) -> WellnessHistory:
    """Check-ins of every athlete and day (module docstring).

    ``load_au`` (A, D) daily sRPE load (NaN = rest), ``usual_load_au`` (A,) the usual mean daily load, ``hrv_drop``
    (A, D) the share of an HRV drop present (0–1), ``wellness_drop_sd`` (A, D) how many of their SDs every item is
    worse by (a deterioration that only the check-ins see). ``episodes``: kind (``EPISODE_KINDS``) → ((A, D) share
    present, region group, side `l`/`r` or per athlete; for ``muscle_onset`` a pod muscle name may stand for the
    group).
    """
    a, d = np.asarray(load_au).shape
    mean = np.stack([model.draw(q, rng, a) for q in model.item_mean])
    sd = np.stack([model.draw(q, rng, a) for q in model.item_sd])
    missed = model.draw(model.missed_checkin_rate, rng, a)
    rank = np.asarray(rng.random(a))  # the people who report sore areas more often also report one side only more often
    area_share = model.draw(model.sore_area_share, rng, a, rank)
    sided = sum(w for g, w in SORE_GROUPS.items() if g not in REGION_NAMES) / sum(SORE_GROUPS.values())
    one_sided = np.clip(model.draw(model.one_sided_checkin_share, rng, a, rank) / (area_share * sided), 0.0, 1.0)
    z = correlated_items(rng, (a, d), model.item_lag1, np.asarray(model.item_correlation))
    prev, week = load_ratio_terms(load_au, usual_load_au)
    beta_p, beta_w = np.asarray(model.load_beta_previous_day), np.asarray(model.load_beta_7d)
    z += beta_p[:, None, None] * prev + beta_w[:, None, None] * week
    z += np.asarray(model.hrv_drop_item_sd)[:, None, None] * np.asarray(hrv_drop, float)
    z += np.asarray(wellness_drop_sd, float)
    checked = rng.random((a, d)) >= missed[:, None]

    # steady sore reports: the latent soreness item in the athlete's top share (before episodes add to it)
    sore_item = HOOPER_ITEMS.index("soreness")
    groups = list(SORE_GROUPS)
    weights = np.array(list(SORE_GROUPS.values()))
    habitual = np.asarray(rng.choice(len(groups), size=a, p=weights / weights.sum()))
    other = rng.choice(len(groups), size=(a, d), p=weights / weights.sum())
    group = np.where(rng.random((a, d)) < model.habitual_group_share, habitual[:, None], other)
    report = z[sore_item] >= norm.isf(area_share)[:, None]
    is_one_sided = rng.random((a, d)) < one_sided[:, None]
    side_right = rng.random((a, d)) < 0.5
    rating = np.clip(np.rint(rng.normal(*model.steady_rating, (a, d))), 1, 10)
    other_rating = np.clip(rating + np.rint(rng.normal(0.0, model.bilateral_rating_sd, (a, d))), 1, 10)
    soreness = np.zeros((a, d, len(REGION_NAMES)), np.uint8)
    rows, days = np.nonzero(report)
    for g_index, g in enumerate(groups):
        m = group[rows, days] == g_index
        r, t = rows[m], days[m]
        if g in REGION_NAMES:  # midline
            soreness[r, t, REGION_NAMES.index(g)] = rating[r, t]
            continue
        right_first = side_right[r, t]
        first = np.where(right_first, REGION_NAMES.index(f"{g}_r"), REGION_NAMES.index(f"{g}_l"))
        second = np.where(right_first, REGION_NAMES.index(f"{g}_l"), REGION_NAMES.index(f"{g}_r"))
        soreness[r, t, first] = rating[r, t]
        both = ~is_one_sided[r, t]
        soreness[r[both], t[both], second[both]] = other_rating[r[both], t[both]]

    episode_region: dict[str, np.ndarray] = {}
    for kind, (present, group_name, side) in episodes.items():
        share = np.asarray(present, float)
        if not (share > 0).any():
            continue
        affected = np.asarray((share > 0).any(axis=1), bool)
        if kind != "soreness_onset":
            affected &= rng.random(a) < model.asymmetry_soreness_share
        g = (muscle_group(group_name) or group_name) if kind == "muscle_onset" else group_name
        index = _region_index(g, np.broadcast_to(np.asarray(side), (a,)))
        level = np.clip(np.rint(rng.normal(*model.episode_rating, (a, d))), 2, 10)
        on = affected[:, None] & (share > 0) & (rng.random((a, d)) < share)  # fading after a visit: fewer days
        r, t = np.nonzero(on)
        soreness[r, t, index[r]] = np.maximum(soreness[r, t, index[r]], level[r, t]).astype(np.uint8)
        z[sore_item] += model.episode_soreness_item_sd * share * affected[:, None]
        episode_region[kind] = np.where(affected, np.array(REGION_NAMES)[index], "")

    items = {}
    for i, name in enumerate(HOOPER_ITEMS):
        value = np.clip(np.rint(mean[i][:, None] + sd[i][:, None] * z[i]), 1, 7)
        items[name] = np.where(checked, value, np.nan)
    soreness[~checked] = 0
    pain = np.where(checked, (soreness >= model.pain_rating).any(axis=2).astype(float), np.nan)
    return WellnessHistory(items, pain, soreness, episode_region)


def wellness_fields(history: WellnessHistory, row: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(day indices with a check-in, `wellness` field columns) of one athlete."""
    days = np.flatnonzero(history.checked_in[row])
    fields: dict[str, np.ndarray] = {k: history.items[k][row, days].astype(np.int64) for k in HOOPER_ITEMS}
    fields["hooper_index"] = sum(fields[k] for k in HOOPER_ITEMS)  # type: ignore[assignment]
    fields["pain"] = history.pain[row, days] > 0
    return days, fields


def sore_regions(history: WellnessHistory, row: int) -> list[tuple[int, str, int]]:
    """(day index, region name, rating) of every sore region of one athlete's check-ins."""
    days, regions = np.nonzero(history.soreness[row])
    return [(int(t), REGIONS[r].name, int(history.soreness[row, t, r])) for t, r in zip(days, regions)]


def wellness_batches(history: WellnessHistory, athletes: list[str], day_ms: np.ndarray) -> list[PointBatch]:
    """`wellness` and `soreness` points (source `history`) of every athlete, stamped at 07:00 UTC of the day
    (``day_ms``: 00:00 UTC of each day index)."""
    from ingest.model import SORENESS, WELLNESS  # declared by the check-in's data model

    batches = []
    for row, athlete in enumerate(athletes):
        days, fields = wellness_fields(history, row)
        if days.size:
            tags = {"athlete": athlete, "source": "history"}
            batches.append(WELLNESS.batch(tags, day_ms[days] + CHECKIN_HOUR_MS, fields))
        by_region: dict[str, list[tuple[int, int]]] = {}
        for t, region, rating in sore_regions(history, row):
            by_region.setdefault(region, []).append((t, rating))
        for region, points in by_region.items():
            when = np.array([p[0] for p in points], np.int64)
            tags = {"athlete": athlete, "region": region, "source": "history"}
            batches.append(
                SORENESS.batch(tags, day_ms[when] + CHECKIN_HOUR_MS, {"rating": np.array([p[1] for p in points])})
            )
    return batches
