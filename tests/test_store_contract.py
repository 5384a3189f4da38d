"""The Store contract: each behaviour of tests/store_contract.py on both backends (SQLite file, real influxd)."""

from __future__ import annotations

import store_contract as contract

from ingest.store.base import Store


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
