"""Line-protocol encoder: exact bytes for the spec's escaping rules, types, rejections and the fast numeric path."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ingest.store.base import PointBatch
from ingest.store.errors import EncodeError
from ingest.store.lineprotocol import (
    MAX_TIME_MS,
    encode,
    encode_block,
    encode_lines,
    series_prefix,
)


def line(measurement: str, tags: dict[str, str], time_ms: int = 1, **fields: object) -> str:
    """The single line of a one-row batch."""
    columns = {
        name: np.array([value], dtype=object if isinstance(value, str) else None) for name, value in fields.items()
    }
    (only,) = encode_lines(PointBatch(measurement, tags, np.array([time_ms]), columns))
    return only


@pytest.mark.parametrize(
    ("measurement", "expected"),
    [
        ("cpu", "cpu"),
        ("my m", r"my\ m"),
        ("a,b", r"a\,b"),
        ("a=b", "a=b"),  # '=' needs no escape in a measurement
        ('q"x', 'q"x'),
        ("back\\slash", "back\\slash"),  # a backslash elsewhere is literal
        ("{x}", "{x}"),
    ],
)
def test_measurement_escaping(measurement: str, expected: str) -> None:
    assert line(measurement, {}, v=1.0) == f"{expected} v=1.0 1"


def test_tag_and_field_key_escaping() -> None:
    got = line("m", {"t k,=": "v a,l=ue", "b": "x"}, **{"f k,=": 1.5})
    assert got == r"m,b=x,t\ k\,\==v\ a\,l\=ue f\ k\,\==1.5 1"


def test_backslashes_before_escaped_characters_in_tags_are_kept() -> None:
    assert line("m", {"k\\,x": "a\\ b\\=c\\,d"}, v=1.0) == r"m,k\\,x=a\\ b\\=c\\,d v=1.0 1"
    assert line("m", {}, **{"a\\b": 1.0}) == r"m a\b=1.0 1"
    assert line("m", {}, s="nul\x00ok") == 'm s="nul\x00ok" 1'


def test_tags_are_sorted_and_empty_values_dropped() -> None:
    assert series_prefix("m", {"z": "1", "a": "2", "e": ""}) == "m,a=2,z=1"
    assert line("m", {"z": "1", "a": "2", "e": ""}, v=1) == "m,a=2,z=1 v=1i 1"


def test_string_field_escaping() -> None:
    assert line("m", {}, s='he said "hi" \\o/ \\') == r'm s="he said \"hi\" \\o/ \\" 1'
    assert line("m", {}, s="") == 'm s="" 1'
    assert line("m", {}, s="a=b, c") == 'm s="a=b, c" 1'


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.array([5, -7, 0], dtype=np.int64), ["5i", "-7i", "0i"]),
        (np.array([2**63 - 1, -(2**63)], dtype=np.int64), ["9223372036854775807i", "-9223372036854775808i"]),
        (np.array([7, 2**63 - 1], dtype=np.uint64), ["7i", "9223372036854775807i"]),
        (np.array([3], dtype=np.int8), ["3i"]),
        (np.array([1.0, 1.5, -0.0, 0.1, 1e16, 1e-5, 812.5]), ["1.0", "1.5", "-0.0", "0.1", "1e+16", "1e-05", "812.5"]),
        (
            np.array([0.30000000000000004, 5e-324, 1.7976931348623157e308]),
            ["0.30000000000000004", "5e-324", "1.7976931348623157e+308"],
        ),
        (np.array([True, False]), ["t", "f"]),
    ],
)
def test_field_types(values: np.ndarray, expected: list[str]) -> None:
    batch = PointBatch("m", {}, np.arange(len(values)), {"v": values})
    assert encode_lines(batch) == [f"m v={text} {i}" for i, text in enumerate(expected)]


def test_multiple_fields_sorted_and_negative_times() -> None:
    batch = PointBatch(
        "hr",
        {"athlete": "a1"},
        np.array([-1500, 1_700_000_000_123]),
        {"rr": np.array([812.5, 0.9765625]), "hr": np.array([74, 61]), "ok": np.array([True, False])},
    )
    assert (
        encode(batch)
        == b"hr,athlete=a1 hr=74i,ok=t,rr=812.5 -1500\nhr,athlete=a1 hr=61i,ok=f,rr=0.9765625 1700000000123\n"
    )
    data, ends = encode_block(batch)
    assert ends.tolist() == [data.index(b"\n") + 1, len(data)]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_floats_are_rejected(bad: float) -> None:
    batch = PointBatch("m", {}, np.array([1, 2]), {"v": np.array([1.0, bad])})
    with pytest.raises(EncodeError, match=r"field 'v': .* at row 1 is not a finite number"):
        encode_lines(batch)


@pytest.mark.parametrize(
    ("measurement", "tags", "fields", "message"),
    [
        ("m\\", {}, {"v": [1.0]}, "trailing backslash"),
        ("m", {"k\\": "v"}, {"v": [1.0]}, "trailing backslash"),
        ("m", {"k": "v\\"}, {"v": [1.0]}, "trailing backslash"),
        ("m", {}, {"v\\": [1.0]}, "trailing backslash"),
        ("m\nx", {}, {"v": [1.0]}, "line breaks"),
        ("m", {"k": "a\rb"}, {"v": [1.0]}, "line breaks"),
        ("#m", {}, {"v": [1.0]}, "'#'"),
        ("\tm", {}, {"v": [1.0]}, "tab"),
        ("m\\,x", {}, {"v": [1.0]}, "backslash before"),
        ("m\\ x", {}, {"v": [1.0]}, "backslash before"),
        ("m\\=x", {}, {"v": [1.0]}, "backslash before"),
        ('m\\"x', {}, {"v": [1.0]}, "backslash before"),
        ("m", {}, {"a\\=b": [1.0]}, "backslash before"),
        ("m", {}, {"a\\ b": [1.0]}, "backslash before"),
        ("m", {}, {"a\\,b": [1.0]}, "backslash before"),
        ("m", {}, {'a\\"b': [1.0]}, "backslash before"),
        ("m", {}, {"\tf": [1.0]}, "leading tab"),
        ("m\x00", {}, {"v": [1.0]}, "NUL"),
        ("m", {"k": "a\x00"}, {"v": [1.0]}, "NUL"),
        ("m", {}, {"v\x00": [1.0]}, "NUL"),
        ("", {}, {"v": [1.0]}, "must not be empty"),
        ("m", {"time": "x"}, {"v": [1.0]}, "reserved"),
        ("m", {"_k": "x"}, {"v": [1.0]}, "reserved"),
        ("m", {}, {"time": [1.0]}, "reserved"),
        ("m", {}, {}, "at least one field"),
        ("m", {}, {"v": np.array([2**64 - 1], dtype=np.uint64)}, "int64 range"),
        ("m", {}, {"s": np.array(["a\nb"], dtype=object)}, "line breaks"),
        ("m", {}, {"s": np.array(["a", None], dtype=object)}, "expected str"),
        ("m", {}, {"v": np.array([1 + 2j])}, "unsupported dtype"),
    ],
)
def test_unwritable_input_is_rejected(measurement: str, tags: dict, fields: dict, message: str) -> None:
    n = len(next(iter(fields.values()), [0]))
    columns = {name: np.asarray(values) for name, values in fields.items()}
    with pytest.raises(EncodeError, match=message):
        encode_lines(PointBatch(measurement, tags, np.arange(n), columns))


def test_float_times_are_rejected() -> None:
    with pytest.raises(EncodeError, match="integer milliseconds"):
        encode(PointBatch("m", {}, np.array([1.5]), {"v": np.array([1.0])}))


@pytest.mark.parametrize("time_ms", [-9_223_372_036_855, 9_223_372_036_855, 2**64 - 1])
def test_times_outside_the_nanosecond_range_are_rejected(time_ms: int) -> None:
    dtype = np.uint64 if time_ms > 2**63 else np.int64
    with pytest.raises(EncodeError, match="outside"):
        encode(PointBatch("m", {}, np.array([time_ms], dtype=dtype), {"v": np.array([1.0])}))


def test_empty_batch_encodes_to_nothing() -> None:
    batch = PointBatch("m", {}, np.array([], dtype=np.int64), {"v": np.array([], dtype=float)})
    assert encode(batch) == b""
    assert encode_lines(batch) == []


def _reference_line(prefix: str, fields: dict[str, np.ndarray], time_ms: int, row: int) -> str:
    """The obvious per-value formatting the vectorised path must reproduce byte for byte."""
    parts = []
    for name in sorted(fields):
        value = fields[name][row].item()
        if isinstance(value, bool):
            parts.append(f"{name}={'t' if value else 'f'}")
        elif isinstance(value, int):
            parts.append(f"{name}={value}i")
        else:
            parts.append(f"{name}={value!r}")
    return f"{prefix} {','.join(parts)} {time_ms}"


finite = st.floats(allow_nan=False, allow_infinity=False)
nice = st.integers(-(2**40), 2**40).map(lambda k: k / 1024)  # RR-like: 1/1024 s resolution


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 40),
    data=st.data(),
)
def test_vectorised_numbers_match_repr(n: int, data: st.DataObject) -> None:
    ints = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-(2**63), 2**63 - 1)))
    floats = data.draw(hnp.arrays(np.float64, n, elements=st.one_of(finite, nice, st.integers(-9999, 9999))))
    flags = data.draw(hnp.arrays(np.bool_, n))
    times = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-MAX_TIME_MS, MAX_TIME_MS)))
    fields = {"i": ints, "f": floats, "b": flags}
    got = encode_lines(PointBatch("m", {"t": "x"}, times, fields))
    assert got == [_reference_line("m,t=x", fields, int(times[row]), row) for row in range(n)]
    for text, value in zip(got, floats.tolist(), strict=True):
        parsed = float(text.split(",f=")[1].split(",")[0])
        assert parsed == value and math.copysign(1, parsed) == math.copysign(1, value)
