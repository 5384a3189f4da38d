"""The one call from the clinic API into the treatment-response analysis (issue 13, Deliver 5).

`GET /api/v1/athletes/{id}/response` answers `treatment_response(store, athlete, visit_id)`: the JSON document
`recovery-monitor response --json` prints, `{"visits": [{"visit_id", "athlete", "at", "regions", "levels": {...}}]}`
(schema `TreatmentResponse` in the OpenAPI document). The route has already checked that the athlete is in the
store and that `visit_id`, when given, is one of theirs.

To wire the analysis, the body becomes `return response_for(store, athlete, visit_id, write=False)` from
monitor/response_job.py (a GET writes nothing; `serve`'s cycle stores the `visit_response` points).
"""

from __future__ import annotations

from typing import Any

from ingest.store.base import Store
from ingest.timeline import iso_utc
from ingest.visits import read_visits


def treatment_response(store: Store, athlete: str, visit_id: str | None = None) -> dict[str, Any]:
    """The treatment response of `athlete`'s visits (only `visit_id` when given), oldest first.

    Until the response analysis is wired here, each visit is listed with no levels."""
    visits = [v for v in read_visits(store, athlete) if visit_id in (None, v.visit_id)]
    listed = [{"visit_id": v.visit_id, "athlete": v.athlete, "at": iso_utc(v.at_ms)} for v in visits]
    return {"visits": [{**entry, "regions": list(v.regions), "levels": {}} for entry, v in zip(listed, visits)]}
