"""How the data model is declared: tags, fields with their one store type, measurements, and building batches.

The measurements themselves are declared in `ingest.model`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.store.base import FieldType, PointBatch

INT: FieldType = "integer"
FLOAT: FieldType = "float"
BOOL: FieldType = "boolean"
STRING: FieldType = "string"
_DTYPES: dict[FieldType, Any] = {INT: np.int64, FLOAT: np.float64, BOOL: np.bool_, STRING: object}


@dataclass(frozen=True)
class Tag:
    """A tag: identifies a series, few-valued."""

    name: str
    meaning: str = ""


@dataclass(frozen=True)
class Field:
    """A field with its one store type; the unit is in the name (`_bpm`, `_ms`, `_s`, `_pct`) and the meaning."""

    name: str
    type: FieldType
    meaning: str = ""


STATE_TIME = "1970-01-01T00:00:00Z"  # the timestamp of a measurement that holds one current point per athlete


@dataclass(frozen=True)
class Measurement:
    """One measurement: its tags, its fields and what its timestamp means."""

    name: str
    meaning: str
    tags: tuple[Tag, ...]
    fields: tuple[Field, ...]
    time: str = ""

    @property
    def is_state(self) -> bool:
        """One point per athlete at time 0 (the ``time`` says so): the athlete's current state, not data in time."""
        return self.time.startswith(STATE_TIME)

    @property
    def tag_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tags)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """The declared field ``name``; KeyError naming the measurement when it has none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"measurement {self.name!r} declares no field {name!r}")

    def batch(
        self,
        tags: Mapping[str, str],
        time_ms: Sequence[int] | np.ndarray,
        columns: Mapping[str, Sequence[Any] | np.ndarray],
    ) -> PointBatch:
        """A `PointBatch` of this measurement, each column cast to its declared type (integer fields from floats
        rounded to the nearest integer); KeyError when a tag or field is undeclared."""
        for tag in tags:
            if tag not in self.tag_names:
                raise KeyError(f"measurement {self.name!r} declares no tag {tag!r}")
        return PointBatch(self.name, dict(tags), np.asarray(time_ms, np.int64), self._cast(columns))

    def _cast(self, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> dict[str, np.ndarray]:
        fields = {}
        for name, column in columns.items():
            kind = self.field(name).type
            values = np.asarray(column)
            if kind == INT and values.dtype.kind == "f":
                if not np.isfinite(values).all():
                    raise ValueError(f"{self.name}.{name}: a missing or infinite value cannot be stored as an integer")
                values = np.rint(values)
            fields[name] = values.astype(_DTYPES[kind], copy=False)
        return fields


def fields(type_: FieldType, meaning: str, *names: str) -> tuple[Field, ...]:
    """Several fields sharing a type and a meaning."""
    return tuple(Field(name, type_, meaning) for name in names)


def stored_text(value: Any) -> str | None:
    """A string field read back: the text, or None when absent (None, NaN or empty)."""
    return value if isinstance(value, str) and value else None


def stored_int(value: Any) -> int | None:
    """An integer field read back (reads give floats; missing is NaN or None): the whole number, or None."""
    if value is None or isinstance(value, str):
        return None
    number = float(value)
    return None if math.isnan(number) else round(number)


def stored_bool(value: Any) -> bool | None:
    """A boolean field read back (True / 1.0; SQLite and InfluxDB reads give floats): None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value == "true"
    number = float(value)
    return None if math.isnan(number) else number != 0
