"""An athlete's heart-rate profile (HRmax, HRrest, sex): what they set, stored as a `profile` point, and what is
estimated from their own data where they set nothing.

Estimates (docs/analytics.md §TRIMP):
- HRmax: the highest 30 s mean HR in their `fit`/`ble` sessions (``monitor.hr_load.highest_rolling_mean_bpm``),
  rounded to 1 bpm; not used outside 100–230 bpm (too little hard training to tell).
- HRrest: the median morning HR (`readiness.mean_hr_bpm`, the first reading of each UTC day) of the 90 days ending
  at the latest reading, rounded to 1 bpm; needs 3 mornings, else the default 60 bpm.
- sex: not set → Banister's coefficients averaged (``monitor.load.TRIMP_COEFFICIENTS["unspecified"]``).
Rounding to whole bpm keeps session loads from being recomputed for every new morning reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from ingest.model import PROFILE
from ingest.store.base import Store
from ingest.timeline import DAY_MS
from monitor.load import TRIMP_COEFFICIENTS, Sex

PROFILE_MEASUREMENT = PROFILE.name
PROFILE_FIELDS = PROFILE.field_names  # hr_max_bpm, hr_rest_bpm, sex
SEXES = ("female", "male")
HR_MAX_RANGE_BPM = (100.0, 230.0)
HR_REST_RANGE_BPM = (25.0, 120.0)
HR_REST_DEFAULT_BPM = 60.0
HR_REST_WINDOW_DAYS = 90
HR_REST_MIN_MORNINGS = 3

SET, ESTIMATED, DEFAULT, UNAVAILABLE = "set", "estimated", "default", "unavailable"


@dataclass(frozen=True)
class StoredProfile:
    """The values an athlete set (None = not set) and when the latest profile point was written."""

    hr_max_bpm: float | None = None
    hr_rest_bpm: float | None = None
    sex: str | None = None
    set_ms: int | None = None


def _in_range(value: float, bounds: tuple[float, float]) -> bool:
    return math.isfinite(value) and bounds[0] <= value <= bounds[1]


def check_profile(profile: StoredProfile) -> None:
    """Raise ValueError (one line) unless every set value is plausible and HRmax > HRrest."""
    lo, hi = HR_MAX_RANGE_BPM
    if profile.hr_max_bpm is not None and not _in_range(profile.hr_max_bpm, HR_MAX_RANGE_BPM):
        raise ValueError(f"HRmax {profile.hr_max_bpm:g} bpm is outside {lo:g}-{hi:g} bpm")
    lo, hi = HR_REST_RANGE_BPM
    if profile.hr_rest_bpm is not None and not _in_range(profile.hr_rest_bpm, HR_REST_RANGE_BPM):
        raise ValueError(f"HRrest {profile.hr_rest_bpm:g} bpm is outside {lo:g}-{hi:g} bpm")
    if profile.sex is not None and profile.sex not in SEXES:
        raise ValueError(f"sex {profile.sex!r} is not one of {', '.join(SEXES)}")
    top, rest = profile.hr_max_bpm, profile.hr_rest_bpm
    if top is not None and rest is not None and top <= rest:
        raise ValueError(f"HRmax {profile.hr_max_bpm:g} bpm must be above HRrest {profile.hr_rest_bpm:g} bpm")


def read_profile(store: Store, athlete: str) -> StoredProfile:
    """The latest `profile` point of the athlete (each point holds every value set so far)."""
    frame = store.read(PROFILE_MEASUREMENT, athlete, list(PROFILE_FIELDS))
    if not len(frame):
        return StoredProfile()
    last = len(frame) - 1

    def number(name: str) -> float | None:
        value = frame.columns[name][last]
        return None if value is None or not math.isfinite(float(value)) else float(value)

    sex = frame.columns["sex"][last]
    return StoredProfile(
        number("hr_max_bpm"), number("hr_rest_bpm"), sex if isinstance(sex, str) else None, int(frame.time_ms[last])
    )


def set_profile(
    store: Store,
    athlete: str,
    now_ms: int,
    hr_max_bpm: float | None = None,
    hr_rest_bpm: float | None = None,
    sex: str | None = None,
) -> StoredProfile:
    """Merge the given values into the stored profile, check the result, then write it as one point at ``now_ms``.

    Values not given keep their stored value. Raises ValueError (nothing written) if the result is implausible.
    """
    stored = read_profile(store, athlete)
    profile = replace(
        stored,
        hr_max_bpm=stored.hr_max_bpm if hr_max_bpm is None else hr_max_bpm,
        hr_rest_bpm=stored.hr_rest_bpm if hr_rest_bpm is None else hr_rest_bpm,
        sex=stored.sex if sex is None else sex,
        set_ms=now_ms,
    )
    check_profile(profile)
    fields: dict[str, np.ndarray] = {}
    for name in ("hr_max_bpm", "hr_rest_bpm"):
        if getattr(profile, name) is not None:
            fields[name] = np.array([float(getattr(profile, name))])
    if profile.sex is not None:
        fields["sex"] = np.array([profile.sex], dtype=object)
    store.write([PROFILE.batch({"athlete": athlete}, [now_ms], fields)])
    return profile


def estimate_hr_rest(time_ms: np.ndarray, mean_hr_bpm: np.ndarray) -> tuple[float | None, int]:
    """``(HRrest, mornings used)``: median morning HR of the first reading of each UTC day in the
    ``HR_REST_WINDOW_DAYS`` ending at the latest reading, rounded to 1 bpm; None with fewer than 3 mornings."""
    t = np.asarray(time_ms, dtype=np.int64)
    hr = np.asarray(mean_hr_bpm, dtype=float)
    ok = np.isfinite(hr) & (hr > 0)
    t, hr = t[ok], hr[ok]
    if not len(t):
        return None, 0
    order = np.argsort(t, kind="stable")
    t, hr = t[order], hr[order]
    _, first_of_day = np.unique(t // DAY_MS, return_index=True)
    t, hr = t[first_of_day], hr[first_of_day]
    recent = hr[t // DAY_MS > t[-1] // DAY_MS - HR_REST_WINDOW_DAYS]
    if len(recent) < HR_REST_MIN_MORNINGS:
        return None, len(recent)
    return float(np.round(np.median(recent))), len(recent)


@dataclass(frozen=True)
class ProfileValue:
    """One value of the profile in use: the value, `set`/`estimated`/`default`/`unavailable`, and how it was got."""

    value: float | str | None
    status: str
    detail: str

    @property
    def bpm(self) -> float:
        """The value as a number (HRmax, HRrest, bpm); TypeError if there is none."""
        if self.value is None:
            raise TypeError(f"no value ({self.status}: {self.detail})")
        return float(self.value)

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class ProfileInUse:
    """The profile session loads are computed with."""

    athlete: str
    hr_max: ProfileValue
    hr_rest: ProfileValue
    sex: ProfileValue
    set_ms: int | None = None

    @property
    def coefficients(self) -> Sex:
        """The key of ``TRIMP_COEFFICIENTS`` in use."""
        # a set sex is one of SEXES (check_profile refuses others before they are stored)
        return cast(Sex, self.sex.value) if self.sex.status == SET else "unspecified"

    @property
    def problem(self) -> str | None:
        """Why no loads can be computed with this profile, or None."""
        if self.hr_max.value is None:
            return f"HRmax unavailable ({self.hr_max.detail})"
        if self.hr_max.bpm <= self.hr_rest.bpm:
            return f"HRmax {self.hr_max.value:g} bpm is not above HRrest {self.hr_rest.value:g} bpm"
        return None

    def to_json(self) -> dict[str, Any]:
        a, b = TRIMP_COEFFICIENTS[self.coefficients]
        return {
            "athlete": self.athlete,
            "hr_max_bpm": self.hr_max.to_json(),
            "hr_rest_bpm": self.hr_rest.to_json(),
            "sex": self.sex.to_json(),
            "trimp_coefficients": {"a": a, "b": b},
            "set_ms": self.set_ms,
            "usable": self.problem is None,
            "problem": self.problem,
        }


def resolve_profile(
    athlete: str,
    stored: StoredProfile,
    hr_max_estimate_bpm: float,
    hr_sessions: int,
    hr_hours: float,
    hr_rest_estimate: tuple[float | None, int],
) -> ProfileInUse:
    """The set values, else the estimates, else the defaults, each saying which it is and from how much data."""
    if stored.hr_max_bpm is not None:
        hr_max = ProfileValue(stored.hr_max_bpm, SET, "set with athlete set")
    else:
        sessions = f"{hr_sessions} session" + ("" if hr_sessions == 1 else "s")
        basis = f"highest 30 s mean HR in {sessions} ({hr_hours:.1f} h of HR)"
        value = None if not math.isfinite(hr_max_estimate_bpm) else float(np.round(hr_max_estimate_bpm))
        if value is not None and _in_range(value, HR_MAX_RANGE_BPM):
            hr_max = ProfileValue(value, ESTIMATED, basis)
        else:
            seen = "no 30 s of continuous HR" if value is None else f"{value:g} bpm, outside 100-230 bpm"
            hr_max = ProfileValue(None, UNAVAILABLE, f"{basis}: {seen}; set it with athlete set --hr-max")
    rest_bpm, mornings = hr_rest_estimate
    if stored.hr_rest_bpm is not None:
        hr_rest = ProfileValue(stored.hr_rest_bpm, SET, "set with athlete set")
    elif rest_bpm is not None and _in_range(rest_bpm, HR_REST_RANGE_BPM):
        hr_rest = ProfileValue(rest_bpm, ESTIMATED, f"median morning HR of {mornings} mornings (last 90 days)")
    else:
        counted = f"{mornings} morning{'s' * (mornings != 1)} with HR in the last 90 days, 3 needed"
        why = counted if rest_bpm is None else "the estimate was implausible"
        hr_rest = ProfileValue(HR_REST_DEFAULT_BPM, DEFAULT, why)  # shown as "(default: <why>)"
    if stored.sex is not None:
        sex = ProfileValue(stored.sex, SET, "set with athlete set")
    else:
        sex = ProfileValue(None, DEFAULT, "not set: mean of Banister's female and male coefficients")
    return ProfileInUse(athlete, hr_max, hr_rest, sex, stored.set_ms)


def profile_lines(profile: ProfileInUse) -> list[str]:
    """The profile in plain words, one text per value, e.g. ``HRmax 186 bpm (estimated: highest 30 s …)``."""
    lines = []
    for name, value in (("HRmax", profile.hr_max), ("HRrest", profile.hr_rest)):
        shown = "unavailable" if value.value is None else f"{value.bpm:g} bpm"
        lines.append(f"{name} {shown} ({value.status}: {value.detail})")
    sex = profile.sex
    lines.append(f"sex {sex.value} ({sex.status})" if sex.value else f"sex {sex.detail}")
    return lines
