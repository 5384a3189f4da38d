"""Simulated athletes carry a marker point, so that resetting them can never touch a real athlete's data.

`recovery-monitor demo` and `ingest --virtual` write one `simulated` point per athlete they create (tag
`athlete`, string field `generator`). Before they reset (delete) or write an athlete ID, `claim_simulated` checks
that the ID is either unused in the store or carries the marker; an ID holding data without it belongs to
someone real, and the run stops before writing or deleting anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.model import SIMULATED
from ingest.store.base import PointBatch, Store

MARKER_MEASUREMENT = SIMULATED.name


class NotSimulatedError(ValueError):
    """An athlete ID the simulation would reset already holds data it did not create."""


def marker_batch(athlete: str, generator: str, time_ms: int) -> PointBatch:
    """The marker point of one simulated athlete: who created it (`generator`) and when."""
    return SIMULATED.batch({"athlete": athlete}, [time_ms], {"generator": [generator]})


def check_simulated(store: Store, athletes: Sequence[str], generator: str) -> list[str]:
    """The athletes among ``athletes`` that already carry the marker; raises NotSimulatedError when one holds
    data but no marker."""
    existing = set(store.list_athletes())
    marked = set(store.list_athletes(MARKER_MEASUREMENT)) & existing
    foreign = [a for a in athletes if a in existing and a not in marked]
    if foreign:
        names = ", ".join(repr(a) for a in foreign)
        raise NotSimulatedError(
            f"{generator}: athlete {names} in {store.url} holds data that no simulation created; nothing was written "
            "(use a store of its own with --store, or other athlete IDs)"
        )
    return [a for a in athletes if a in marked]


def claim_simulated(store: Store, athletes: Sequence[str], generator: str, time_ms: int, reset: bool = True) -> int:
    """Check every ID (`check_simulated`), then delete the marked athletes' data when ``reset``, then mark them
    all; returns the points deleted. Nothing is deleted or written when the check fails."""
    marked = check_simulated(store, athletes, generator)
    removed = sum(store.delete_athlete(a) or 0 for a in marked) if reset else 0
    store.write([marker_batch(a, generator, time_ms) for a in athletes])
    return removed
