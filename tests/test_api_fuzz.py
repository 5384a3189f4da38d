"""Schemathesis against the running clinic API, from the OpenAPI document it serves: generated requests (valid and
invalid) never get a 5xx, and every answer conforms to the document (status, media type, headers, body schema).
A bounded number of examples per operation keeps it to a few seconds.

Requests go out through httpx: schemathesis' own `requests` transport trips over urllib3-future, which replaces
urllib3 wherever grafana-client (through niquests) is installed, as it is here."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from api_client import AUTH, TOKEN, points, running_api, seed
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ingest.store.sqlite import SQLiteStore
from monitor.service.api.auth import BearerAuth
from monitor.service.server import WebServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
HTTP = httpx.Client(timeout=10.0)
SENT = {"method", "url", "headers", "params", "json", "data", "cookies"}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> Iterator[tuple[WebServer, SQLiteStore]]:
    path = tmp_path_factory.mktemp("fuzz") / "store.sqlite"
    store = SQLiteStore(path)
    seed(store)  # A01, the athlete of the document's examples
    with running_api(store.url, BearerAuth.for_token(TOKEN)) as server:
        yield server, store
    store.close()


@pytest.fixture(scope="module")
def served_document(fuzzed):
    server, _ = fuzzed
    return schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("served_document")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_generated_requests_get_no_5xx_and_documented_answers(case, fuzzed):
    server, _ = fuzzed
    sent = case.as_transport_kwargs(base_url=server.url, headers=AUTH)
    assert set(sent) <= SENT and not sent.get("cookies"), sent
    request = {key: sent[key] for key in ("method", "url", "headers", "params", "json") if key in sent}
    if "data" in sent:
        request["content"] = sent["data"]
    response = HTTP.request(**request)
    case.validate_response(response, checks=CHECKS, headers=AUTH)


def test_the_fuzzing_recorded_only_valid_visits(fuzzed):
    """Runs after the fuzzing (same module): whatever it sent, the store holds readable visits and no stray data."""
    from ingest.visits import read_visits

    _, store = fuzzed
    counts = points(store)
    visits = read_visits(store)
    assert counts["visit"] == len(visits) and counts["readiness"] == 1
    assert {name for name, count in counts.items() if count} <= {"visit", "readiness", "analysis_due"}
    assert counts["analysis_due"] == (1 if visits else 0)  # a recorded visit marks its athlete's analysis due
    assert {v.athlete for v in visits} <= {"A01"}
