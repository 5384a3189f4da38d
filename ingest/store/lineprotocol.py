"""Columnar InfluxDB line-protocol encoder: one measurement and tag set, numpy columns → bytes.

Escaping follows the line-protocol reference as InfluxDB 1.x–3.x parse it:

- measurement: comma and space are backslash-escaped;
- tag keys, tag values and field keys: comma, equals sign and space are backslash-escaped;
- string field values: double quote and backslash are backslash-escaped.

A backslash elsewhere is literal, so a name or tag value that *ends* in a backslash cannot be written (the
parser would read it as escaping the following separator). Rejected with an `EncodeError` naming the offending
field: such values, line breaks, NUL in names and tag values (InfluxQL cannot query them), a measurement starting
with `#` (a comment line) or a tab and a field key starting with a tab (skipped as whitespace), a backslash right
before a comma, `=`, space or `"` in a measurement or field key (InfluxDB 1.6 files the point under a name no query
reaches, alters the key, or answers 400; in tag keys and values such backslashes are fine), NaN and infinities.

Numbers are formatted with numpy, a block of rows at a time: integers as decimal digits plus `i`, floats
exactly as Python's `repr` writes them (a vectorised fast path covers 1e-4 ≤ |x| < 2**19 with at most ten
decimals; other values go through `repr`). Batches with string fields take a per-row path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ingest.store.base import PointBatch, require_finite
from ingest.store.errors import EncodeError

MAX_LINES_PER_REQUEST = 5000
MAX_TIME_MS = 9_223_372_036_854  # InfluxDB stores int64 nanoseconds

_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})
_RESERVED_KEYS = frozenset({"time"})
_BACKSLASH_BEFORE_SPECIAL = re.compile(r'\\[,= "]')

_BACKSLASH_PROBLEM = "a backslash before a comma, '=', space or double quote is misread by InfluxDB"

_BLOCK_ROWS = 8192
_FAST_FLOAT_MIN, _FAST_FLOAT_MAX, _FAST_DECIMALS = 1e-4, 2.0**19, 10


def _check_text(kind: str, text: str) -> None:
    if not isinstance(text, str):
        raise EncodeError(f"{kind} {text!r}: must be a string")
    if text == "":
        raise EncodeError(f"{kind}: must not be empty")
    if "\n" in text or "\r" in text:
        raise EncodeError(f"{kind} {text!r}: line breaks cannot be written in line protocol")
    if "\0" in text:
        raise EncodeError(f"{kind} {text!r}: a NUL character cannot be queried with InfluxQL")
    if text.endswith("\\"):
        raise EncodeError(f"{kind} {text!r}: a trailing backslash cannot be written in line protocol")


def escape_measurement(name: str) -> str:
    """Escape a measurement name."""
    _check_text("measurement", name)
    if name.startswith(("#", "\t")):
        raise EncodeError(f"measurement {name!r}: a line starting with '#' or a tab is misread by InfluxDB")
    if _BACKSLASH_BEFORE_SPECIAL.search(name):
        raise EncodeError(f"measurement {name!r}: {_BACKSLASH_PROBLEM}")
    return name.translate(_MEASUREMENT_ESCAPES)


def escape_key(key: str, kind: str = "tag key") -> str:
    """Escape a tag key, tag value or field key."""
    _check_text(kind, key)
    if kind != "tag value" and (key in _RESERVED_KEYS or key.startswith("_")):
        raise EncodeError(f"{kind} {key!r}: reserved name")
    if kind == "field key" and _BACKSLASH_BEFORE_SPECIAL.search(key):
        raise EncodeError(f"{kind} {key!r}: {_BACKSLASH_PROBLEM}")
    if kind == "field key" and key.startswith("\t"):
        raise EncodeError(f"{kind} {key!r}: a leading tab is skipped as whitespace by InfluxDB")
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


def _checked_column(name: str, column: np.ndarray) -> np.ndarray:
    """The column as int64, float64, bool or object (str) values; raises EncodeError on what cannot be written."""
    column = np.asarray(column)
    kind = column.dtype.kind
    if kind == "b":
        return column
    if kind in "iu":
        if kind == "u" and column.size and column.max() > np.iinfo(np.int64).max:
            raise EncodeError(f"field {name!r}: value above the int64 range")
        return column.astype(np.int64, copy=False)
    if kind == "f":
        require_finite(name, column)
        return column.astype(np.float64, copy=False)
    if kind in "UO":
        for row, value in enumerate(column.tolist()):
            if not isinstance(value, str):
                raise EncodeError(f"field {name!r}: row {row} holds {type(value).__name__}, expected str")
        return column.astype(object)
    raise EncodeError(f"field {name!r}: unsupported dtype {column.dtype}")


def _checked_batch(batch: PointBatch) -> tuple[str, list[tuple[str, np.ndarray]], np.ndarray]:
    """The escaped series prefix, the escaped field keys with checked columns (sorted by key), and the times."""
    if not batch.fields:
        raise EncodeError(f"measurement {batch.measurement!r}: a point needs at least one field")
    times = np.asarray(batch.time_ms)
    if times.dtype.kind not in "iu":
        raise EncodeError(f"measurement {batch.measurement!r}: time_ms must be integer milliseconds")
    if times.size and (times.min() < -MAX_TIME_MS or times.max() > MAX_TIME_MS):
        raise EncodeError(f"measurement {batch.measurement!r}: time_ms outside ±{MAX_TIME_MS} (int64 nanoseconds)")
    prefix = series_prefix(batch.measurement, batch.tags)
    fields = [
        (escape_key(name, "field key"), _checked_column(name, batch.fields[name])) for name in sorted(batch.fields)
    ]
    return prefix, fields, times.astype(np.int64, copy=False)


# -- per-row path (string fields) ------------------------------------------------------------------------------


def _literal(text: str) -> str:
    """Text made safe to sit in a `str.format` template."""
    return text.replace("{", "{{").replace("}", "}}")


def _format_lines(prefix: str, fields: list[tuple[str, np.ndarray]], times: np.ndarray) -> list[str]:
    templates, columns = [], []
    for key, column in fields:
        kind = column.dtype.kind
        if kind == "b":
            templates.append(_literal(key) + "={}")
            columns.append(np.where(column, "t", "f").tolist())
        elif kind == "i":
            templates.append(_literal(key) + "={}i")
            columns.append(column.tolist())
        elif kind == "f":
            templates.append(_literal(key) + "={!r}")
            columns.append(column.tolist())
        else:
            templates.append(_literal(key) + "={}")
            columns.append([escape_string_field(value) for value in column.tolist()])
    line_format = _literal(prefix) + " " + ",".join(templates) + " {}"
    return list(map(line_format.format, *columns, times.tolist()))


# -- vectorised path ---------------------------------------------------------------------------------------------
#
# Every line is assembled as a row of 4-byte words: constants, sign words and groups of four decimal digits, with
# 0xFF (never present in UTF-8) filling the unused bytes; deleting every 0xFF byte then yields the lines.


def _word_table() -> np.ndarray:
    """Words for: 4 digits (index v), 4 digits without leading zeros (10000 + v), nothing (20000), 4 digits
    without trailing zeros (20001 + v), 3 digits and a dot (30001 + v), the same without leading zeros (31001 + v)."""
    digits = (np.arange(10_000)[:, None] // np.array([1000, 100, 10, 1]) % 10 + ord("0")).astype(np.uint8)
    zero = digits == ord("0")
    leading, trailing = digits.copy(), digits.copy()
    leading[np.cumprod(zero, axis=1).astype(bool) & (np.arange(4) < 3)] = _PAD
    trailing[np.cumprod(zero[:, ::-1], axis=1)[:, ::-1].astype(bool)] = _PAD
    dotted = np.concatenate([digits[:1000, 1:], np.full((1000, 1), ord("."), dtype=np.uint8)], axis=1)
    dotted_leading = np.concatenate([leading[:1000, 1:], dotted[:, 3:]], axis=1)
    empty = np.full((1, 4), _PAD, dtype=np.uint8)
    table = np.concatenate([digits, leading, empty, trailing, dotted, dotted_leading])
    return np.ascontiguousarray(table).view(np.uint32).ravel()


def _word(text: bytes) -> np.uint32:
    return np.frombuffer(text.ljust(4, bytes([_PAD])), dtype=np.uint32)[0]


_PAD = 0xFF
_WORDS = _word_table()
_THOUSAND, _TEN_THOUSAND = np.uint64(1000), np.uint64(10_000)
_LEADING, _EMPTY, _TRAILING, _DOTTED, _DOTTED_LEADING = (np.uint64(i) for i in (10_000, 20_000, 20_001, 30_001, 31_001))
_EMPTY_WORD, _MINUS_WORD, _TRUE_WORD, _FALSE_WORD = _word(b""), _word(b"-"), _word(b"t"), _word(b"f")

Words = list[np.ndarray | np.uint32]


def _text_words(text: bytes) -> Words:
    """Constant text, padded in front to whole words."""
    padded = bytes([_PAD]) * (-len(text) % 4) + text
    return list(np.frombuffer(padded, dtype=np.uint32))


def _digit_words(magnitude: np.ndarray, zero: bool = True) -> Words:
    """Decimal digits of uint64 values without leading zeros, most significant group first (0 → "0" or nothing)."""
    groups = -(-len(str(int(magnitude.max()))) // 4)
    words: Words = []
    rest = magnitude
    for group in range(groups):
        quotient = rest // _TEN_THOUSAND
        index = rest - quotient * _TEN_THOUSAND + (quotient == 0) * _LEADING
        if group or not zero:
            index += (rest == 0) * (_EMPTY - _LEADING)
        words.append(_WORDS.take(index))
        rest = quotient
    return words[::-1]


def _sign_words(negative: np.ndarray) -> Words:
    return [np.where(negative, _MINUS_WORD, _EMPTY_WORD)] if negative.any() else []


def _int_words(values: np.ndarray) -> Words:
    negative = values < 0
    magnitude = values.view(np.uint64).copy()
    magnitude[negative] = ~magnitude[negative] + np.uint64(1)
    return _sign_words(negative) + _digit_words(magnitude)


def _float_words(values: np.ndarray) -> Words:
    """Floats as `repr` writes them: vectorised for 1e-4 ≤ |x| < 2**19 with ≤ 10 decimals, else `repr`."""
    magnitude = np.abs(values)
    scale = 10.0**_FAST_DECIMALS
    fast = (magnitude >= _FAST_FLOAT_MIN) & (magnitude < _FAST_FLOAT_MAX)
    scaled = np.rint(np.where(fast, magnitude, 0.0) * scale)
    fast &= scaled / scale == magnitude
    fast |= magnitude == 0.0
    scaled = scaled.astype(np.uint64)
    whole = scaled // np.uint64(scale)
    fraction = (scaled - whole * np.uint64(scale)) * np.uint64(100)  # 12 digits: three groups of four
    high = whole // _THOUSAND
    low = whole - high * _THOUSAND
    words = _sign_words(np.signbit(values))
    if high.any():
        words += _digit_words(high, zero=False)
    words.append(_WORDS.take(low + np.where(high == 0, _DOTTED_LEADING, _DOTTED)))
    tail: list[np.ndarray] = []
    lower_zero = np.ones(len(values), dtype=bool)
    for _ in range(3):
        quotient = fraction // _TEN_THOUSAND
        group = fraction - quotient * _TEN_THOUSAND
        tail.append(_WORDS.take(group + lower_zero * _TRAILING))
        lower_zero &= group == 0
        fraction = quotient
    tail[-1][lower_zero] = _WORDS[_LEADING]  # x.0
    words += tail[::-1]
    slow = np.flatnonzero(~fast)
    if len(slow):
        texts = [repr(value).encode() for value in values[slow].tolist()]
        width = max(len(words), -(-max(map(len, texts)) // 4))
        words = [np.full(len(values), word) if np.ndim(word) == 0 else word for word in words]
        words += [np.full(len(values), _EMPTY_WORD) for _ in range(width - len(words))]
        padded = b"".join(text.ljust(width * 4, bytes([_PAD])) for text in texts)
        rows = np.frombuffer(padded, dtype=np.uint32).reshape(len(texts), width)
        for column, word in enumerate(words):
            assert isinstance(word, np.ndarray)  # every word is a column now
            word[slow] = rows[:, column]
    return words


def _encode_rows(prefix: bytes, fields: list[tuple[bytes, np.ndarray]], times: np.ndarray) -> bytes:
    """Numeric and boolean rows → lines, each *preceded* by a newline (saves a word per row)."""
    words: Words = []
    text = b"\n" + prefix + b" "
    for index, (key, column) in enumerate(fields):
        words += _text_words(text + (b"," if index else b"") + key + b"=")
        if column.dtype.kind == "b":
            words.append(np.where(column, _TRUE_WORD, _FALSE_WORD))
            text = b""
        elif column.dtype.kind == "i":
            words += _int_words(column)
            text = b"i"
        else:
            words += _float_words(column)
            text = b""
    words += _text_words(text + b" ") + _int_words(times)
    block = np.empty((len(times), len(words)), dtype=np.uint32)
    for index, word in enumerate(words):
        block[:, index] = word
    return block.tobytes().translate(None, bytes([_PAD]))


def _encode(batch: PointBatch) -> bytes:
    prefix, fields, times = _checked_batch(batch)
    if len(times) == 0:
        return b""
    if any(column.dtype.kind == "O" for _, column in fields):
        return ("\n".join(_format_lines(prefix, fields, times)) + "\n").encode()
    encoded = [(key.encode(), column) for key, column in fields]
    chunks = [
        _encode_rows(
            prefix.encode(),
            [(key, column[start : start + _BLOCK_ROWS]) for key, column in encoded],
            times[start : start + _BLOCK_ROWS],
        )
        for start in range(0, len(times), _BLOCK_ROWS)
    ]
    chunks[0] = chunks[0][1:]
    chunks.append(b"\n")
    return b"".join(chunks)


def encode_block(batch: PointBatch) -> tuple[bytes, np.ndarray]:
    """The batch as newline-terminated UTF-8 lines, and the byte offset just past each line's newline."""
    data = _encode(batch)
    return data, np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")) + 1


def encode_lines(batch: PointBatch) -> list[str]:
    """One line-protocol line per row of `batch` (millisecond timestamps, no trailing newline)."""
    data, _ = encode_block(batch)
    return data.decode().split("\n")[:-1] if data else []


def encode(batch: PointBatch) -> bytes:
    """The whole batch as newline-terminated UTF-8 line protocol."""
    return _encode(batch)
