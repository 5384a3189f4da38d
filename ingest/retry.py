"""Retry timing shared by the adapters: the store client, the gateway's sensor sessions and writer, the webhook.

Capped exponential backoff with jitter (so that many clients recovering together do not retry in step), and the
HTTP ``Retry-After`` header a server may send instead.
"""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

_MAX_DOUBLINGS = 60  # past this the cap has long applied; keeps 2**n a float after days of failures


def backoff_delay_s(attempt: int, base_s: float, cap_s: float, rng: random.Random, min_fraction: float = 0.0) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, …): ``min(cap_s, base_s·2^(attempt−1))`` times a uniform
    draw in ``[min_fraction, 1]`` (0: "full jitter"; 0.5 keeps at least half the step)."""
    ceiling = min(cap_s, base_s * 2.0 ** min(max(attempt, 1) - 1, _MAX_DOUBLINGS))
    return ceiling * rng.uniform(min_fraction, 1.0)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date); None if absent or invalid."""
    try:
        return max(0.0, float(value or ""))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value or "")
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
