"""Columnar InfluxDB line-protocol encoder: one measurement and tag set, numpy columns → bytes.

Escaping follows the line-protocol reference as InfluxDB 1.x–3.x parse it:

- measurement: comma and space are backslash-escaped;
- tag keys, tag values and field keys: comma, equals sign and space are backslash-escaped;
- string field values: double quote and backslash are backslash-escaped.

A backslash elsewhere is literal, so a name or tag value that *ends* in a backslash cannot be written (the
parser would read it as escaping the following separator); such values, newlines, NaN and infinities are
rejected with an `EncodeError` naming the offending field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from ingest.store.base import PointBatch
from ingest.store.errors import EncodeError

MAX_LINES_PER_REQUEST = 5000

_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})
_RESERVED_KEYS = frozenset({"time"})


def _check_text(kind: str, text: str) -> None:
    if not isinstance(text, str):
        raise EncodeError(f"{kind} {text!r}: must be a string")
    if text == "":
        raise EncodeError(f"{kind}: must not be empty")
    if "\n" in text or "\r" in text:
        raise EncodeError(f"{kind} {text!r}: line breaks cannot be written in line protocol")
    if text.endswith("\\"):
        raise EncodeError(f"{kind} {text!r}: a trailing backslash cannot be written in line protocol")


def escape_measurement(name: str) -> str:
    """Escape a measurement name."""
    _check_text("measurement", name)
    return name.translate(_MEASUREMENT_ESCAPES)


def escape_key(key: str, kind: str = "tag key") -> str:
    """Escape a tag key, tag value or field key."""
    _check_text(kind, key)
    if kind != "tag value" and (key in _RESERVED_KEYS or key.startswith("_")):
        raise EncodeError(f"{kind} {key!r}: reserved name")
    return key.translate(_KEY_ESCAPES)


def escape_string_field(value: str) -> str:
    """Quote and escape a string field value."""
    if "\n" in value or "\r" in value:
        raise EncodeError(f"string field value {value[:40]!r}: line breaks cannot be written in line protocol")
    return '"' + value.translate(_STRING_ESCAPES) + '"'


def series_prefix(measurement: str, tags: Mapping[str, str]) -> str:
    """`measurement,tag=value,...` with tags sorted by key; empty tag values are omitted."""
    parts = [escape_measurement(measurement)]
    for key in sorted(tags):
        value = tags[key]
        if value is None or value == "":
            continue
        parts.append(f"{escape_key(key)}={escape_key(str(value), 'tag value')}")
    return ",".join(parts)


def _literal(text: str) -> str:
    """Text made safe to sit in a `str.format` template."""
    return text.replace("{", "{{").replace("}", "}}")


def _field_tokens(name: str, column: np.ndarray) -> tuple[str, list]:
    """A format fragment for one field and the per-row values to put into it."""
    key = _literal(escape_key(name, "field key"))
    column = np.asarray(column)
    kind = column.dtype.kind
    if kind == "b":
        return key + "={}", np.where(column, "t", "f").tolist()
    if kind in "iu":
        if kind == "u" and column.size and column.max() > np.iinfo(np.int64).max:
            raise EncodeError(f"field {name!r}: value above the int64 range")
        return key + "={}i", column.astype(np.int64).tolist()
    if kind == "f":
        finite = np.isfinite(column)
        if not finite.all():
            row = int(np.flatnonzero(~finite)[0])
            raise EncodeError(f"field {name!r}: {column[row]} at row {row} is not a finite number")
        return key + "={!r}", column.astype(np.float64).tolist()
    if kind in "UO":
        values = []
        for row, value in enumerate(column.tolist()):
            if not isinstance(value, str):
                raise EncodeError(f"field {name!r}: row {row} holds {type(value).__name__}, expected str")
            values.append(escape_string_field(value))
        return key + "={}", values
    raise EncodeError(f"field {name!r}: unsupported dtype {column.dtype}")


def encode_lines(batch: PointBatch) -> list[str]:
    """One line-protocol line per row of `batch` (millisecond timestamps, no trailing newline)."""
    if not batch.fields:
        raise EncodeError(f"measurement {batch.measurement!r}: a point needs at least one field")
    times = np.asarray(batch.time_ms)
    if times.dtype.kind not in "iu":
        raise EncodeError(f"measurement {batch.measurement!r}: time_ms must be integer milliseconds")
    templates, columns = [], []
    for name in sorted(batch.fields):
        template, values = _field_tokens(name, batch.fields[name])
        templates.append(template)
        columns.append(values)
    line_format = _literal(series_prefix(batch.measurement, batch.tags)) + " " + ",".join(templates) + " {}"
    return list(map(line_format.format, *columns, times.astype(np.int64).tolist()))


def encode(batch: PointBatch) -> bytes:
    """The whole batch as newline-terminated UTF-8 line protocol."""
    lines = encode_lines(batch)
    return ("\n".join(lines) + "\n").encode() if lines else b""


def iter_payloads(lines: list[str], max_lines: int = MAX_LINES_PER_REQUEST) -> Iterator[bytes]:
    """Split encoded lines into request bodies of at most `max_lines` lines."""
    for start in range(0, len(lines), max_lines):
        yield ("\n".join(lines[start : start + max_lines]) + "\n").encode()
