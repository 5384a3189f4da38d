"""The OpenAPI 3.1 document of the clinic API, built from the data model's own limits: one source of truth.

The server publishes it at `/api/v1/openapi.json` and validates request bodies with its schemas (`VISIT_IN` is the
very object the document holds under `components/schemas/VisitIn`), so the document cannot drift from what the
server accepts. The region enum is the vocabulary of ingest/regions.py; IDs follow ingest/ids.py.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from ingest.ids import PSEUDONYM_PATTERN, PSEUDONYM_RULE
from ingest.regions import REGION_NAMES
from ingest.visits import MAX_AHEAD_API_MS, MAX_NEEDLES, MAX_NOTE_CHARS

PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024
VISIT_ID_PATTERN = r"^v-[0-9a-f]{12}$"
NOTE_PATTERN = r"^[^\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]*$"

Schema = dict[str, Any]

REGION: Schema = {"type": "string", "enum": list(REGION_NAMES), "description": "body region (docs/regions.md)"}
VISIT_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["athlete", "at", "regions"],
    "properties": {
        "athlete": {"type": "string", "pattern": PSEUDONYM_PATTERN, "description": f"athlete ID: {PSEUDONYM_RULE}"},
        "at": {
            "type": "string",
            "format": "date-time",
            "description": "visit time, ISO 8601 with a UTC offset (e.g. 2025-05-01T09:30:00+02:00), kept to the "
            f"second; at most {MAX_AHEAD_API_MS // 3_600_000} h after the server's clock",
        },
        "regions": {"type": "array", "items": REGION, "minItems": 1, "maxItems": len(REGION_NAMES)},
        "therapist": {"type": "string", "pattern": PSEUDONYM_PATTERN, "description": "pseudonymous therapist code"},
        "needles": {"type": "integer", "minimum": 0, "maximum": MAX_NEEDLES},
        "note": {
            "type": "string",
            "maxLength": MAX_NOTE_CHARS,
            "pattern": NOTE_PATTERN,
            "description": "one line (no control characters or line breaks), no personal data",
        },
    },
    "examples": [
        {
            "athlete": "A01",
            "at": "2025-05-01T09:30:00+02:00",
            "regions": ["calf_l", "hamstring_r"],
            "therapist": "T1",
            "needles": 6,
            "note": "left calf trigger points",
        }
    ],
}
VISIT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["visit_id", "athlete", "at", "regions", "therapist", "needles", "note"],
    "properties": {
        "visit_id": {
            "type": "string",
            "pattern": VISIT_ID_PATTERN,
            "description": "derived from athlete and the visit's second: the same visit has the same ID",
        },
        "athlete": {"type": "string", "pattern": PSEUDONYM_PATTERN},
        "at": {"type": "string", "format": "date-time", "description": "UTC, whole seconds"},
        "regions": {"type": "array", "items": REGION, "minItems": 1},
        "therapist": {"type": ["string", "null"]},
        "needles": {"type": ["integer", "null"], "minimum": 0},
        "note": {"type": ["string", "null"]},
    },
}
VISITS: Schema = {
    "type": "object",
    "required": ["athlete", "visits"],
    "properties": {
        "athlete": {"type": "string"},
        "visits": {"type": "array", "items": {"$ref": "#/components/schemas/Visit"}},
    },
}
RESPONSE: Schema = {
    "type": "object",
    "description": "treatment response per visit: descriptive, no causal claim (docs/analytics.md)",
    "required": ["visits"],
    "properties": {
        "visits": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["visit_id", "athlete", "at", "regions", "levels"],
                "properties": {
                    "visit_id": {"type": "string", "pattern": VISIT_ID_PATTERN},
                    "athlete": {"type": "string"},
                    "at": {"type": "string"},
                    "regions": {"type": "array", "items": {"type": "string"}},
                    "levels": {
                        "type": "object",
                        "description": "`local`, `segmental`, `systemic`: each with a `verdict`",
                        "additionalProperties": {"type": "object"},
                    },
                },
            },
        }
    },
}
ERROR: Schema = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "stable code, e.g. `unknown_region`"},
        "message": {"type": "string", "description": "one line naming the input and the problem"},
        "unknown": {"type": "array", "items": {"type": "string"}, "description": "the unknown region names"},
        "allowed": {"type": "array", "items": {"type": "string"}, "description": "the region vocabulary"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "visit": {"$ref": "#/components/schemas/Visit"},
    },
}

_DESCRIPTIONS = {
    "401": "missing or wrong bearer token",
    "404": "unknown athlete or visit",
    "409": "a visit of this athlete at the same second is stored with other values (body: `visit`, the stored "
    "one); nothing was written",
    "413": f"request body over {MAX_BODY_BYTES // 1024} KiB",
    "415": "request body not application/json",
    "422": "malformed JSON, a body or parameter against the schema, an unknown region (with the vocabulary), "
    "a time more than a day ahead",
    "503": "the clinic API is off (no token configured) or the store is unreachable",
}


def _errors(*codes: str) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {code: {"description": _DESCRIPTIONS[code], **error} for code in codes}


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


_ATHLETE_PARAM = {
    "name": "athlete",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": PSEUDONYM_PATTERN},
    "description": f"athlete ID: {PSEUDONYM_RULE}",
    "example": "A01",
}
_SECURITY: list[dict[str, list[str]]] = [{"clinicToken": []}]


@functools.cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "recovery-monitor clinic API",
            "version": "1.0.0",
            "description": "Record treatment visits and read them back with the treatment response. Every request "
            "needs `Authorization: Bearer TOKEN` (the server's CLINIC_API_TOKEN). Errors are JSON `Error`; nothing "
            "is written on any error.",
        },
        "paths": {
            f"{PREFIX}/visits": {
                "post": {
                    "operationId": "recordVisit",
                    "summary": "record a visit (idempotent: the same visit again answers 200 with the same ID)",
                    "description": "A visit is its athlete and second: posting it again changes nothing (200, "
                    "optional fields left out keep their stored values), optional values the stored visit lacks are "
                    "filled in (200); other values are refused with 409. The athlete must have data in the store.",
                    "security": _SECURITY,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VisitIn"}}},
                    },
                    "responses": {
                        "201": _json("Visit", "recorded"),
                        "200": _json("Visit", "already recorded: the stored visit (optional values filled in)"),
                        **_errors("401", "404", "409", "413", "415", "422", "503"),
                    },
                }
            },
            f"{PREFIX}/athletes/{{athlete}}/visits": {
                "get": {
                    "operationId": "listVisits",
                    "summary": "the athlete's visits, oldest first",
                    "security": _SECURITY,
                    "parameters": [_ATHLETE_PARAM],
                    "responses": {"200": _json("Visits", "the visits"), **_errors("401", "404", "422", "503")},
                }
            },
            f"{PREFIX}/athletes/{{athlete}}/response": {
                "get": {
                    "operationId": "treatmentResponse",
                    "summary": "the treatment response after each visit (or one visit), per level",
                    "security": _SECURITY,
                    "parameters": [
                        _ATHLETE_PARAM,
                        {
                            "name": "visit_id",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "pattern": VISIT_ID_PATTERN},
                        },
                    ],
                    "responses": {
                        "200": _json("TreatmentResponse", "the response per visit"),
                        **_errors("401", "404", "422", "503"),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"clinicToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "VisitIn": VISIT_IN,
                "Visit": VISIT,
                "Visits": VISITS,
                "TreatmentResponse": RESPONSE,
                "Error": ERROR,
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The document (a deep copy: callers may not change the schemas the server validates with)."""
    return copy.deepcopy(_document())
