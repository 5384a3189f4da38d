"""The one call from the clinic API into the treatment-response analysis (issue 13, Deliver 5).

`GET /api/v1/athletes/{id}/response` answers `treatment_response(store, athlete, visit_id)`: the JSON document
`recovery-monitor response --json` prints, `{"visits": [{"visit_id", "athlete", "at", "regions", "levels": {...}}]}`
(schema `TreatmentResponse` in the OpenAPI document). The route has already checked that the athlete is in the
store and that `visit_id`, when given, is one of theirs. A GET writes nothing: `serve`'s cycle and the `response`
command store the `visit_response` points.
"""

from __future__ import annotations

from typing import Any

from ingest.store.base import Store
from monitor.response_job import response_for


def treatment_response(store: Store, athlete: str, visit_id: str | None = None) -> dict[str, Any]:
    """The treatment response of `athlete`'s visits (only `visit_id` when given), oldest first."""
    return response_for(store, athlete, visit_id, write=False)
