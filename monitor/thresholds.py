"""Thresholds of the flag rules: defaults in ``monitor/thresholds.toml``, overridable by a user TOML file.

A user file has the same sections and keys and may set any subset; unknown sections or keys and wrong types are
refused with a one-line ``ValueError`` naming the file and the key, so a typo never silently keeps a default.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

DEFAULTS_PATH = Path(__file__).with_name("thresholds.toml")
ACWR_VARIANTS = ("ewma", "coupled", "uncoupled")
WELLNESS_USES = ("family", "confirmation", "off")


@dataclass(frozen=True)
class AnalysisThresholds:
    lookback_days: int
    recent_lookback_days: int


@dataclass(frozen=True)
class LoadThresholds:
    acute_days: int
    chronic_days: int
    acwr_variant: str
    acwr_watch: float
    acwr_act: float
    acwr_persistence_days: int
    monotony_days: int
    monotony_watch: float
    monotony_act: float
    monotony_persistence_days: int
    strain_baseline_days: int
    strain_ratio_watch: float
    strain_ratio_act: float
    strain_persistence_days: int
    ctl_days: float
    atl_days: float
    pmc_min_days: int
    min_known_days_7d: int
    min_known_days_28d: int
    typical_days: int
    min_typical_training_days: int
    typical_day_cap: float
    heavy_week_units: float
    heavy_short_days: int
    heavy_short_factor: float
    heavy_days: int
    heavy_factor: float
    heavy_long_days: int
    heavy_long_factor: float
    heavy_slack_days: int
    heavy_sds: float
    heavy_log_sd_floor: float


@dataclass(frozen=True)
class RecoveryThresholds:
    window_days: int
    min_readings_7d: int
    baseline_days: int
    min_baseline_days: int
    flag_min_baseline_days: int
    range_sd: float
    act_sd: float
    hrv_persistence_days: int
    noise_days: int
    evidence_min_mornings: int
    evidence_cap_sd: float
    evidence_z: float
    joint_evidence_z: float
    act_z: float
    rhr_margin_se: float
    rhr_cusum_k: float
    rhr_cusum_h: float
    rhr_persistence_days: int


@dataclass(frozen=True)
class AsymmetryThresholds:
    window_days: int
    min_sessions_7d: int
    baseline_days: int
    min_baseline_sessions: int
    watch_pct: float
    act_pct: float
    level_min_sessions: int
    level_margin_se: float
    persistence_days: int
    cusum_k: float
    cusum_h: float
    sd_floor_pct: float
    jump_sessions: int
    jump_z: float


@dataclass(frozen=True)
class WellnessThresholds:
    use: str
    window_days: int
    min_checkins_7d: int
    baseline_days: int
    min_baseline_checkins: int
    flag_min_baseline_checkins: int
    range_sd: float
    sd_floor_points: float
    cusum_k: float
    cusum_h: float
    confirm_cusum_h: float
    jump_checkins: int
    jump_z: float
    persistence_days: int
    soreness_window_days: int
    soreness_diff_points: float
    soreness_min_checkins: int
    soreness_max_p: float
    candidate_days: int
    candidate_min_rating: int


@dataclass(frozen=True)
class IdnThresholds:
    watch_window_days: int
    min_watch_families: int
    quiet_hours: float
    episode_max_days: int
    aftercare_advice: str  # trimmed by load_thresholds


@dataclass(frozen=True)
class Thresholds:
    """Every configurable number of the analysis, by section."""

    analysis: AnalysisThresholds
    load: LoadThresholds
    recovery: RecoveryThresholds
    asymmetry: AsymmetryThresholds
    idn: IdnThresholds
    wellness: WellnessThresholds


_CLASSES = {
    "analysis": AnalysisThresholds,
    "load": LoadThresholds,
    "recovery": RecoveryThresholds,
    "asymmetry": AsymmetryThresholds,
    "idn": IdnThresholds,
    "wellness": WellnessThresholds,
}


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ValueError(f"thresholds {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"thresholds {path}: not valid TOML: {exc}") from exc


def _convert(origin: str, key: str, value: Any, kind: str) -> Any:
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"thresholds {origin}: {key} must be a string, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"thresholds {origin}: {key} must be a number, not {value!r}")
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"thresholds {origin}: {key} must be a whole number of days, not {value!r}")
        if value < 0:
            raise ValueError(f"thresholds {origin}: {key} must not be negative")
        return int(value)
    if math.isnan(value):
        raise ValueError(f"thresholds {origin}: {key} must not be nan")
    return float(value)


def _merge(base: dict[str, dict[str, Any]], override: dict[str, Any], origin: str) -> None:
    for section, values in override.items():
        if section not in _CLASSES:
            raise ValueError(f"thresholds {origin}: unknown section [{section}] (known: {', '.join(_CLASSES)})")
        if not isinstance(values, dict):
            raise ValueError(f"thresholds {origin}: [{section}] must be a table")
        # the field types are the annotation strings ("int", "float", "str"): from __future__ import annotations
        kinds = {f.name: cast(str, f.type) for f in dataclasses.fields(_CLASSES[section])}
        for key, value in values.items():
            if key not in kinds:
                raise ValueError(f"thresholds {origin}: unknown key {section}.{key}")
            base.setdefault(section, {})[key] = _convert(origin, f"{section}.{key}", value, kinds[key])


def _validate(t: Thresholds, origin: str) -> None:
    if t.load.acwr_variant not in ACWR_VARIANTS:
        raise ValueError(f"thresholds {origin}: load.acwr_variant must be one of {', '.join(ACWR_VARIANTS)}")
    if not 0 < t.load.acute_days < t.load.chronic_days:
        raise ValueError(f"thresholds {origin}: need 0 < load.acute_days < load.chronic_days")
    if not (t.load.min_known_days_7d <= t.load.acute_days and t.load.min_known_days_28d <= t.load.chronic_days):
        raise ValueError(
            f"thresholds {origin}: load.min_known_days_7d/_28d must not exceed load.acute_days/load.chronic_days"
        )
    if t.recovery.evidence_min_mornings < 1 or t.asymmetry.jump_sessions < 1:
        raise ValueError(f"thresholds {origin}: recovery.evidence_min_mornings and asymmetry.jump_sessions must be ≥ 1")
    pairs = (
        ("load", "acwr_watch", "acwr_act"),
        ("recovery", "evidence_z", "act_z"),
        ("asymmetry", "watch_pct", "act_pct"),
    )
    for section, watch, act in pairs:
        if getattr(getattr(t, section), act) < getattr(getattr(t, section), watch):
            raise ValueError(f"thresholds {origin}: {section}.{act} must not be below {section}.{watch}")
    for name in ("load", "recovery", "asymmetry"):
        for key, value in dataclasses.asdict(getattr(t, name)).items():
            if isinstance(value, int | float) and not value >= 0:
                raise ValueError(f"thresholds {origin}: {name}.{key} must be a number ≥ 0, not {value}")
    sections = (t.load, t.recovery, t.asymmetry)
    days = [v for s in sections for k, v in dataclasses.asdict(s).items() if k.endswith("days")]
    if any(d < 1 for d in days) or t.analysis.lookback_days < t.load.chronic_days:
        raise ValueError(f"thresholds {origin}: every window must be ≥ 1 day and lookback ≥ load.chronic_days")
    _validate_idn(t.idn, origin)
    _validate_wellness(t.wellness, origin)
    recent = t.analysis.recent_lookback_days
    needed = max(
        max(t.recovery.baseline_days, t.recovery.noise_days) + t.recovery.window_days,
        t.asymmetry.baseline_days + t.asymmetry.window_days,
        t.wellness.baseline_days + max(t.wellness.window_days, t.wellness.soreness_window_days),
    )
    if not needed <= recent <= t.analysis.lookback_days:
        raise ValueError(
            f"thresholds {origin}: analysis.recent_lookback_days must cover the recovery and asymmetry baseline "
            f"and week ({needed} days) and not exceed analysis.lookback_days"
        )


MAX_ADVICE_CHARS = 1000


def _validate_idn(idn: IdnThresholds, origin: str) -> None:
    if not 0 <= idn.quiet_hours < math.inf:
        raise ValueError(f"thresholds {origin}: idn.quiet_hours must be a number of hours ≥ 0, not {idn.quiet_hours}")
    if idn.episode_max_days < 1 or idn.watch_window_days < 1:
        raise ValueError(f"thresholds {origin}: idn.episode_max_days and idn.watch_window_days must be ≥ 1")
    advice = idn.aftercare_advice.strip()
    if not advice or len(advice) > MAX_ADVICE_CHARS:
        raise ValueError(
            f"thresholds {origin}: idn.aftercare_advice must be text of 1 to {MAX_ADVICE_CHARS} characters "
            f"(got {len(advice)})"
        )


def _validate_wellness(w: WellnessThresholds, origin: str) -> None:
    if w.use not in WELLNESS_USES:
        raise ValueError(f"thresholds {origin}: wellness.use must be one of {', '.join(WELLNESS_USES)}")
    for key, value in dataclasses.asdict(w).items():
        if isinstance(value, int | float) and not value >= 0:
            raise ValueError(f"thresholds {origin}: wellness.{key} must be a number ≥ 0, not {value}")
        if key.endswith("days") and value < 1:
            raise ValueError(f"thresholds {origin}: wellness.{key} must be ≥ 1 day")
    if w.jump_checkins < 1 or not 0 < w.soreness_max_p <= 1:
        raise ValueError(f"thresholds {origin}: need wellness.jump_checkins ≥ 1 and 0 < wellness.soreness_max_p ≤ 1")


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """The defaults, with the values of the TOML file at ``path`` (if given) on top."""
    merged: dict[str, dict[str, Any]] = {}
    _merge(merged, _read(DEFAULTS_PATH), str(DEFAULTS_PATH))
    origin = str(DEFAULTS_PATH)
    if path is not None:
        origin = str(path)
        _merge(merged, _read(Path(path)), origin)
    try:
        result = Thresholds(**{name: _CLASSES[name](**merged.get(name, {})) for name in _CLASSES})
    except TypeError as exc:
        raise ValueError(f"thresholds {DEFAULTS_PATH}: incomplete defaults: {exc}") from exc
    _validate(result, origin)
    return dataclasses.replace(
        result, idn=dataclasses.replace(result.idn, aftercare_advice=result.idn.aftercare_advice.strip())
    )
