"""Decoding InfluxDB's `/query` responses: streamed JSON documents into raw results or numpy frames."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ingest.store.base import Frame


class MalformedResponse(Exception):
    """The query response body is not the JSON InfluxDB sends."""


def iter_json_objects(chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """JSON objects from a byte stream: newline-separated (chunked responses) or one document."""
    buffer = bytearray()
    start = scan = 0
    for data in itertools.chain(chunks, [b"\n"]):  # the final newline flushes a document without one
        buffer += data
        while (newline := buffer.find(b"\n", scan)) >= 0:
            scan = newline + 1
            piece = bytes(buffer[start:newline])
            if piece.strip():
                try:
                    document = json.loads(piece)
                except ValueError:
                    continue  # a document spread over several lines: keep reading
                if not isinstance(document, dict):
                    raise MalformedResponse(f"expected a JSON object, got {type(document).__name__}")
                yield document
            start = scan
        if start > 1 << 20:
            del buffer[:start]
            scan, start = scan - start, 0
    if bytes(buffer[start:]).strip():
        raise MalformedResponse("truncated or invalid JSON")


class RawResults:
    """Collects statement results across chunks, merging consecutive pieces of the same series."""

    def __init__(self) -> None:
        self.results: dict[int, dict[str, Any]] = {}

    def add(self, result: dict[str, Any]) -> None:
        merged = self.results.setdefault(result.get("statement_id", 0), {"statement_id": result.get("statement_id", 0)})
        for key, value in result.items():
            if key not in ("series", "partial", "statement_id"):
                merged[key] = value
        for series in result.get("series", []):
            series = {key: value for key, value in series.items() if key != "partial"}
            previous = merged.setdefault("series", [])
            if previous and series_key(previous[-1]) == series_key(series):
                previous[-1].setdefault("values", []).extend(series.get("values", []))
            else:
                previous.append(series)

    def finish(self) -> list[dict[str, Any]]:
        return [self.results[key] for key in sorted(self.results)]


def series_key(series: Mapping[str, Any]) -> tuple[Any, ...]:
    return series.get("name"), json.dumps(series.get("tags"), sort_keys=True), tuple(series.get("columns", ()))


class FrameBuilder:
    """Turns streamed `SELECT time, fields...` rows into numpy chunks, then one Frame."""

    def __init__(self, fields: Sequence[str], string_fields: set[str]) -> None:
        self.fields = list(fields)
        self.string_fields = string_fields
        self.times: list[np.ndarray] = []
        self.columns: dict[str, list[np.ndarray]] = {name: [] for name in self.fields}

    def add(self, result: dict[str, Any]) -> None:
        for series in result.get("series", []):
            values = series.get("values") or []
            if not values:
                continue
            index = {name: i for i, name in enumerate(series["columns"])}
            rows = np.array(values, dtype=object)
            self.times.append(rows[:, index["time"]].astype(np.int64))
            for name in self.fields:
                column = rows[:, index[name]] if name in index else np.full(len(rows), None, dtype=object)
                self.columns[name].append(self._convert(name, column))

    def _convert(self, name: str, column: np.ndarray) -> np.ndarray:
        if name not in self.string_fields:
            try:
                return column.astype(np.float64)
            except (TypeError, ValueError):
                pass  # a string value where a number was expected (a per-shard type conflict on 1.x)
        return column

    def finish(self) -> Frame:
        times = np.concatenate([np.empty(0, dtype=np.int64), *self.times])
        columns = {
            name: np.concatenate([self._convert(name, np.empty(0, dtype=object)), *chunks])
            for name, chunks in self.columns.items()
        }
        if len(times) > 1 and not bool(np.all(times[1:] >= times[:-1])):
            order = np.argsort(times, kind="stable")
            times = times[order]
            columns = {name: column[order] for name, column in columns.items()}
        return Frame(times, columns)
