"""The issue's figure: a real influxd down for 30 s mid-run; zero loss, zero duplicates (slow, ~50 s)."""

from __future__ import annotations

import pytest
from test_gateway_influx import outage_run


@pytest.mark.influx
@pytest.mark.slow
def test_influxd_down_for_30_s_mid_run_loses_and_duplicates_nothing(influxd, tmp_path):
    outage_run(influxd, tmp_path, outage_s=30.0, duration_s=48.0)
