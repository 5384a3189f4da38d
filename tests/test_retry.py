"""Retry timing shared by the adapters: capped, jittered exponential backoff and the Retry-After header."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from ingest.retry import backoff_delay_s, parse_retry_after


def test_backoff_doubles_up_to_the_cap_with_jitter_inside_the_step():
    class Top(random.Random):
        def random(self) -> float:
            return 1.0 - 1e-12  # the top of every jitter range

    top = [backoff_delay_s(a, 0.5, 5.0, Top()) for a in range(1, 7)]
    assert top == pytest.approx([0.5, 1.0, 2.0, 4.0, 5.0, 5.0])
    rng = random.Random(1)
    full = [backoff_delay_s(3, 0.5, 5.0, rng) for _ in range(2000)]
    half = [backoff_delay_s(3, 0.5, 5.0, rng, min_fraction=0.5) for _ in range(2000)]
    assert 0.0 <= min(full) < 0.05 and max(full) <= 2.0
    assert 1.0 <= min(half) < 1.05 and max(half) <= 2.0
    assert backoff_delay_s(0, 0.5, 5.0, Top()) == pytest.approx(0.5)  # attempt counts from 1


def test_backoff_survives_days_of_failures():
    assert backoff_delay_s(100_000, 0.25, 30.0, random.Random(0), min_fraction=0.5) <= 30.0


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now.timestamp()) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now.timestamp()) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
