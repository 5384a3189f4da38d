"""Terms shared by the visit panels, the report and the demo: the quiet period after a visit and the caveat that
the treatment response is descriptive. No Grafana or store imports: the report and the CLI import it cheaply."""

from __future__ import annotations

from monitor.lifecycle import quiet_ms
from monitor.thresholds import load_thresholds

QUIET_HOURS: float = load_thresholds().idn.quiet_hours
"""The quiet period (after-care) after a visit, h: no NSAIDs or ice on the treated area, and the expected
post-needling soreness is not a new warning sign: the default `[idn] quiet_hours` (monitor/thresholds.toml), which
the dashboards are generated with; the report takes the clinic's `--thresholds`."""
QUIET_MS = quiet_ms(QUIET_HOURS)

DESCRIPTIVE = (
    "Descriptive only: there is no control group, and athletes also change their training after a visit "
    "(docs/response.md)."
)


def quiet_until_ms(at_ms: int, quiet_hours: float = QUIET_HOURS) -> int:
    """The end of the quiet period (after-care) of ``quiet_hours`` after a visit at ``at_ms`` (ms since the epoch)."""
    return at_ms + quiet_ms(quiet_hours)
