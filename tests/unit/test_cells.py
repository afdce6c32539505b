"""Tests for printer-column cells: ``HumanDuration`` and the CRD table convertor's cells.

Expected values are worked out by hand from the Go sources: apimachinery's
``duration.HumanDuration``, apiextensions-apiserver's ``cellForJSONValue`` and client-go's
``JSONPath.PrintResults`` (``fmt.Fprint`` for scalars, ``json.Marshal`` for objects/lists).
"""

from __future__ import annotations

import datetime
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.controlplane.machinery.cells import cell_value, human_duration
from event_registry.controlplane.machinery.jsonpath import find, parse

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
YEAR = 365 * DAY

NOW = datetime.datetime(2026, 11, 27, 0, 0, 0, tzinfo=datetime.UTC)


# --------------------------------------------------------------------------- human_duration


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        # seconds, up to two minutes
        (0, "0s"),
        (1, "1s"),
        (59, "59s"),
        (60, "60s"),
        (119, "119s"),
        # minutes (and seconds) under ten minutes
        (120, "2m"),
        (121, "2m1s"),
        (125, "2m5s"),
        (179, "2m59s"),
        (180, "3m"),
        (599, "9m59s"),
        # minutes under three hours
        (600, "10m"),
        (601, "10m"),
        (659, "10m"),
        (HOUR, "60m"),
        (3 * HOUR - 1, "179m"),
        # hours (and minutes) under eight hours
        (3 * HOUR, "3h"),
        (3 * HOUR + 59, "3h"),
        (3 * HOUR + MINUTE, "3h1m"),
        (7 * HOUR + 59 * MINUTE + 59, "7h59m"),
        # hours under two days
        (8 * HOUR, "8h"),
        (8 * HOUR + 30 * MINUTE, "8h"),
        (24 * HOUR, "24h"),
        (47 * HOUR, "47h"),
        (48 * HOUR - 1, "47h"),
        # days (and hours) under eight days
        (48 * HOUR, "2d"),
        (49 * HOUR, "2d1h"),
        (2 * DAY + 23 * HOUR + 59 * MINUTE, "2d23h"),
        (8 * DAY - 1, "7d23h"),
        # days under two years
        (8 * DAY, "8d"),
        (8 * DAY + 23 * HOUR, "8d"),
        (YEAR, "365d"),
        (2 * YEAR - 1, "729d"),
        # years (and days) under eight years
        (2 * YEAR, "2y"),
        (2 * YEAR + DAY, "2y1d"),
        (2 * YEAR + 364 * DAY, "2y364d"),
        (3 * YEAR, "3y"),
        (3 * YEAR + 100 * DAY + 5 * HOUR, "3y100d"),
        (8 * YEAR - 1, "7y364d"),
        # whole years from eight years on
        (8 * YEAR, "8y"),
        (8 * YEAR + 200 * DAY, "8y"),
        (100 * YEAR, "100y"),
        (10_000 * YEAR, "10000y"),
    ],
)
def test_human_duration_thresholds(seconds: int, expected: str) -> None:
    assert human_duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.4, "0s"),
        (0.999, "0s"),
        (59.9, "59s"),
        (119.99, "119s"),
        (120.5, "2m"),
        (599.999, "9m59s"),
        (3 * HOUR - 0.001, "179m"),
        (2 * YEAR - 0.5, "729d"),
    ],
)
def test_human_duration_truncates_fractions(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-0.5, "0s"),  # int(-0.5) is 0
        (-1, "0s"),  # up to one second of clock skew is "now"
        (-1.9, "0s"),  # int(-1.9) is -1
        (-2, "<invalid>"),
        (-2.5, "<invalid>"),
        (-DAY, "<invalid>"),
        (math.nan, "<invalid>"),
        (math.inf, "<invalid>"),
        (-math.inf, "<invalid>"),
    ],
)
def test_human_duration_future_and_non_finite(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


_PART = re.compile(r"(\d+)([ydhms])")
_UNIT = {"y": YEAR, "d": DAY, "h": HOUR, "m": MINUTE, "s": 1}


def _seconds_shown(text: str) -> tuple[int, int]:
    """The seconds a rendering stands for, and the size of its smallest unit."""
    parts = _PART.findall(text)
    assert "".join(number + unit for number, unit in parts) == text
    return sum(int(number) * _UNIT[unit] for number, unit in parts), _UNIT[parts[-1][1]]


@given(st.floats(min_value=0, max_value=50 * YEAR))
def test_human_duration_never_overstates(seconds: float) -> None:
    shown, unit = _seconds_shown(human_duration(seconds))
    # Everything below the smallest unit shown is truncated away, never rounded up.
    assert shown <= seconds < shown + unit


@given(st.floats(min_value=0, max_value=20 * YEAR), st.floats(min_value=0, max_value=20 * YEAR))
def test_human_duration_is_monotonic(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert _seconds_shown(human_duration(low))[0] <= _seconds_shown(human_duration(high))[0]


# --------------------------------------------------------------------------- no match


@pytest.mark.parametrize("column_type", ["string", "integer", "number", "boolean", "date", "x"])
def test_no_values_is_a_blank_cell(column_type: str) -> None:
    assert cell_value(column_type, [], NOW) is None


def test_only_the_first_value_counts() -> None:
    assert cell_value("string", ["a", "b"], NOW) == "a"
    assert cell_value("integer", [1, 2], NOW) == 1


# --------------------------------------------------------------------------- date


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-11-26T23:54:24Z", "5m36s"),
        ("2026-11-27T00:00:00Z", "0s"),
        ("2026-11-26T23:59:00Z", "60s"),
        ("2026-11-26T21:00:00Z", "3h"),
        ("2026-11-20T00:00:00Z", "7d"),
        ("2026-11-19T00:00:00Z", "8d"),
        ("2024-11-27T00:00:00Z", "2y"),
        ("2025-11-27T00:00:00Z", "365d"),
        ("2026-11-26T23:54:24.999999Z", "5m35s"),
        ("2026-11-26T23:54:24.123456789Z", "5m35s"),
        ("2026-11-27T01:00:00+01:00", "0s"),
        ("2026-11-26T18:00:00-05:00", "60m"),
        ("2026-11-27T05:30:00+05:30", "0s"),
        ("2026-11-27T00:00:01Z", "0s"),  # one second of clock skew
        ("2026-11-27T00:00:02Z", "<invalid>"),
        ("2027-01-01T00:00:00Z", "<invalid>"),
        ("1700-01-01T00:00:00Z", "292y"),  # time.Since saturates at the largest Duration
        ("0001-01-01T00:30:00+01:00", "292y"),  # just before the zero time, so not zero
    ],
)
def test_date_cells(timestamp: str, expected: str) -> None:
    assert cell_value("date", [timestamp], NOW) == expected


@pytest.mark.parametrize(
    "timestamp", ["", "null", "0001-01-01T00:00:00Z", "0001-01-01T01:00:00+01:00"]
)
def test_zero_dates_are_unknown(timestamp: str) -> None:
    assert cell_value("date", [timestamp], NOW) == "<unknown>"


@pytest.mark.parametrize(
    "timestamp",
    [
        "yesterday",
        "2026-11-26",
        "2026-11-26T23:54:24",  # no zone
        "2026-11-26 23:54:24Z",
        "2026-11-26t23:54:24Z",
        "2026-11-26T23:54:24z",
        "2026-11-26T23:54Z",
        "2026-11-26T23:54:24.Z",
        "2026-13-26T23:54:24Z",
        "2026-02-30T23:54:24Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T23:60:00Z",
        "2026-11-26T23:54:60Z",
        "2026-11-26T23:54:24+24:00",
        "2026-11-26T23:54:24+01:60",
        "2026-11-26T23:54:24+0100",
        "26-11-26T23:54:24Z",
        "0000-01-01T00:00:00Z",
        " 2026-11-26T23:54:24Z",
    ],
)
def test_unparsable_dates_are_invalid(timestamp: str) -> None:
    assert cell_value("date", [timestamp], NOW) == "<invalid>"


@pytest.mark.parametrize("value", [None, 5, 1.5, True, {"a": 1}, ["2026-11-26T23:54:24Z"]])
def test_non_string_dates_are_blank(value: object) -> None:
    assert cell_value("date", [value], NOW) is None


def test_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert cell_value("date", ["2026-11-26T23:54:24Z"], naive) == "5m36s"


def test_now_in_another_zone() -> None:
    tokyo = NOW.astimezone(datetime.timezone(datetime.timedelta(hours=9)))
    assert cell_value("date", ["2026-11-26T23:54:24Z"], tokyo) == "5m36s"


# --------------------------------------------------------------------------- string


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ready", "Ready"),
        ("", ""),
        ("ünï <&> \n", "ünï <&> \n"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (2**70, str(2**70)),
        # Go's %v for float64: shortest digits, exponent form below 1e-4 and from 1e+06
        (1.5, "1.5"),
        (3.0, "3"),
        (-0.0, "-0"),
        (0.1, "0.1"),
        (100.0, "100"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (999999.0, "999999"),
        (1e6, "1e+06"),
        (123456789.0, "1.23456789e+08"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
        (None, "<no value>"),
    ],
)
def test_string_cells_for_scalars(value: object, expected: str) -> None:
    assert cell_value("string", [value], NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({}, "{}"),
        ([], "[]"),
        ({"b": 1, "a": [True, None, "x"]}, '{"a":[true,null,"x"],"b":1}'),
        ([{"type": "Ready", "status": "True"}], '[{"status":"True","type":"Ready"}]'),
        ({"k": 'q"b\\s'}, '{"k":"q\\"b\\\\s"}'),
        ({"k": "<a href='x'>&</a>"}, '{"k":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e"}'),
        (["\n\r\t\b\f\x00\x1f"], '["\\n\\r\\t\\b\\f\\u0000\\u001f"]'),
        (["\u2028\u2029 é 日本"], '["\\u2028\\u2029 é 日本"]'),
        (["\ud800"], '["\\ufffd"]'),
        # encoding/json floats: plain digits from 1e-6 up to 1e21, exponent outside
        ([1.0, 1.5, -0.0, 1e6, 1e20], "[1,1.5,-0,1000000,100000000000000000000]"),
        ([1e21, 1.5e-7, 1e-6, 1.25e-10], "[1e+21,1.5e-7,0.000001,1.25e-10]"),
        ({"z": {"y": {"x": []}}}, '{"z":{"y":{"x":[]}}}'),
    ],
)
def test_string_cells_for_objects_and_lists_are_go_json(value: object, expected: str) -> None:
    assert cell_value("string", [value], NOW) == expected


def test_string_cell_blank_when_json_cannot_encode() -> None:
    assert cell_value("string", [[1.0, math.nan]], NOW) is None
    assert cell_value("string", [{"a": math.inf}], NOW) is None
    assert cell_value("string", [[object()]], NOW) is None


# --------------------------------------------------------------------------- integer, number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        (0, 0),
        (-7, -7),
        (2**62, 2**62),
        (2.0, 2),
        (2.9, 2),  # int64(float64) truncates toward zero
        (-2.9, -2),
        ("3", None),
        ("three", None),
        (True, None),
        (None, None),
        ({"a": 1}, None),
        ([1], None),
        (math.nan, None),
    ],
)
def test_integer_cells(value: object, expected: object) -> None:
    cell = cell_value("integer", [value], NOW)
    assert cell == expected
    assert type(cell) is type(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        (2.5, 2.5),
        (-0.25, -0.25),
        (0, 0),
        ("2.5", None),
        (False, None),
        (None, None),
        ([2.5], None),
    ],
)
def test_number_cells(value: object, expected: object) -> None:
    cell = cell_value("number", [value], NOW)
    assert cell == expected
    assert type(cell) is type(expected)


# --------------------------------------------------------------------------- boolean, other


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", None), (1, None), (0, None), (None, None)],
)
def test_boolean_cells(value: object, expected: object) -> None:
    cell = cell_value("boolean", [value], NOW)
    assert cell is expected


@pytest.mark.parametrize("column_type", ["object", "array", "String", "", "uuid"])
def test_unknown_column_types_are_blank(column_type: str) -> None:
    assert cell_value(column_type, ["x"], NOW) is None
    assert cell_value(column_type, [{"a": 1}], NOW) is None


# --------------------------------------------------------------------------- with jsonpath


def test_printer_columns_of_a_knative_event_type() -> None:
    event_type = {
        "metadata": {"name": "ping", "creationTimestamp": "2026-11-24T22:00:00Z"},
        "spec": {
            "reference": {"kind": "Broker", "name": "default"},
            "attributes": [
                {"name": "type", "value": "dev.knative.sources.ping"},
                {"name": "source", "value": "/apis/v1/namespaces/demo/pingsources/ping"},
            ],
        },
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "ReferenceExists", "status": "True"},
            ]
        },
    }
    columns = [
        ("string", ".spec.attributes[?(@.name=='type')].value", "dev.knative.sources.ping"),
        ("string", ".spec.reference.name", "default"),
        ("string", ".spec.description", None),
        ("string", '.status.conditions[?(@.type=="Ready")].status', "True"),
        ("string", '.status.conditions[?(@.type=="Ready")].reason', None),
        ("string", ".spec.reference", '{"kind":"Broker","name":"default"}'),
        ("date", ".metadata.creationTimestamp", "2d2h"),
        ("integer", ".status.observedGeneration", None),
    ]
    for column_type, expression, expected in columns:
        values = find(parse(expression), event_type)
        assert cell_value(column_type, values, NOW) == expected, expression
