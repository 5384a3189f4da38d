"""The Store contract: each behaviour of tests/store_contract.py on both backends (SQLite file, real influxd)."""

from __future__ import annotations

import pytest
import store_contract as contract
from influxd import free_port

from ingest.store import RetryBudget, open_store
from ingest.store.base import Store
from ingest.store.errors import StoreConfigError, StoreUnavailable


def test_write_read_round_trip(each_store: Store) -> None:
    contract.check_round_trip(each_store)


def test_overwrite_merges_fields(each_store: Store) -> None:
    contract.check_overwrite_merges_fields(each_store)


def test_read_with_tags(each_store: Store) -> None:
    contract.check_read_with_tags(each_store)


def test_count(each_store: Store) -> None:
    contract.check_count(each_store)


def test_list_athletes(each_store: Store) -> None:
    contract.check_list_athletes(each_store)


def test_delete_athlete_count(each_store: Store) -> None:
    contract.check_delete_athlete_count(each_store)


def test_series(each_store: Store) -> None:
    contract.check_series(each_store)


def test_read_many(each_store: Store) -> None:
    contract.check_read_many(each_store)


def test_non_finite_values_are_refused(each_store: Store) -> None:
    contract.check_non_finite_refused(each_store)


def test_open_store_passes_the_retry_budget_to_influxdb(tmp_path) -> None:
    """`open_store(retry=…)` is the only way to tune a backend's client: one retry means two attempts; the
    embedded file takes the same option and ignores it."""
    url = f"influxdb+http://127.0.0.1:{free_port()}/db"  # nothing listens there
    budget = RetryBudget(timeout_s=1.0, max_retries=1, backoff_base_s=0.01, backoff_cap_s=0.01, max_total_s=3.0)
    store = open_store(url, {}, retry=budget)
    with pytest.raises(StoreUnavailable, match="connection refused; gave up after 2 attempts in"):
        store.list_athletes()
    store.close()
    with pytest.raises(StoreConfigError, match="retry settings must not be negative"):
        open_store(url, {}, retry=RetryBudget(max_retries=-1))
    embedded = open_store(f"sqlite:///{tmp_path}/x.sqlite", {}, retry=budget)
    assert embedded.list_athletes() == []
    embedded.close()
