"""Explainable flags raised by the analysis for therapists.

A flag carries everything needed to explain it without the code: the rule's value against its threshold, the
window, the first day the condition held continuously and a plain-language reason.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["watch", "act"]


@dataclass(frozen=True)
class Flag:
    """One flag for one athlete."""

    athlete: str  # pseudonymous id, e.g. "A01"
    signal: str  # e.g. "hrv_suppressed"
    family: str  # e.g. "recovery"
    severity: Severity
    value: float  # the measured value the rule compared (unit in `reason`)
    threshold: float  # the value it had to cross
    window: str  # e.g. "7d mean vs 60d normal range"
    since: dt.date  # first day of the current continuous run of the condition
    reason: str  # plain-language sentence: value vs threshold, units, window, since

    def __post_init__(self) -> None:
        if self.severity not in ("watch", "act"):
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: ISO date strings, None for non-finite numbers."""
        return {
            "athlete": self.athlete,
            "signal": self.signal,
            "family": self.family,
            "severity": self.severity,
            "value": json_number(self.value),
            "threshold": json_number(self.threshold),
            "window": self.window,
            "since": self.since.isoformat(),
            "reason": self.reason,
        }


def json_number(x: float | None, digits: int | None = None) -> float | None:
    """A finite number for JSON, rounded to ``digits`` when given; None for a missing or non-finite one."""
    if x is None or not math.isfinite(x):
        return None
    return float(x) if digits is None else round(float(x), digits)
