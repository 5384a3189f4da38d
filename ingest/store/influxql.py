"""Quoting helpers for InfluxQL, matching the escapes its scanner understands.

InfluxQL's string scanner (used for both `"identifiers"` and `'literals'`) accepts exactly four escapes:
`\\n`, `\\\\`, `\\"` and `\\'`; a raw newline ends the token with an error and any other escape is rejected.
NUL is the scanner's end-of-input marker, so no InfluxQL text can contain it: both quoting functions reject it.
"""

from __future__ import annotations

import operator

_IDENT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n"})


def quote_ident(name: str) -> str:
    """A double-quoted InfluxQL identifier (measurement, tag key, field key, database)."""
    if not isinstance(name, str):
        raise TypeError(f"identifier must be a string, not {type(name).__name__}")
    if "\0" in name:
        raise ValueError(f"identifier {name!r}: InfluxQL cannot express a NUL character")
    return '"' + name.translate(_IDENT_ESCAPES) + '"'


def quote_literal(value: str) -> str:
    """A single-quoted InfluxQL string literal (e.g. a tag value in a WHERE clause)."""
    if not isinstance(value, str):
        raise TypeError(f"string literal must be a string, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"string literal {value!r}: InfluxQL cannot express a NUL character")
    return "'" + value.translate(_LITERAL_ESCAPES) + "'"


def _epoch_ms(name: str, value: int) -> int:
    """`value` as a Python int; bools, floats and strings are rejected."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be integer milliseconds, not {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be integer milliseconds, not {value!r}") from None


def time_range_clause(start_ms: int | None, end_ms: int | None) -> str:
    """`time >= <start>ms AND time < <end>ms` for the half-open range [start_ms, end_ms); "" when unbounded."""
    parts = []
    if start_ms is not None:
        parts.append(f"time >= {_epoch_ms('start_ms', start_ms)}ms")
    if end_ms is not None:
        parts.append(f"time < {_epoch_ms('end_ms', end_ms)}ms")
    return " AND ".join(parts)
