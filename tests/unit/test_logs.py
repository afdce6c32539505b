"""JSON log lines: the documented fields, the bound request id, ``extra=`` fields, exceptions;
request ids from callers are kept only when plausible."""

from __future__ import annotations

import json
import logging
import re

import pytest

from event_registry.app import logs


def record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(
        "event_registry.test", logging.WARNING, __file__, 1, message, args, None
    )
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def formatted(made: logging.LogRecord) -> dict[str, object]:
    logs.RequestIdFilter().filter(made)
    line = logs.JsonFormatter().format(made)
    assert "\n" not in line
    parsed = json.loads(line)
    assert isinstance(parsed, dict)
    return parsed


def test_a_record_is_one_json_line_with_the_documented_fields() -> None:
    entry = formatted(record("hello %s", "world"))
    assert entry.keys() == {"timestamp", "level", "logger", "message"}
    assert entry["message"] == "hello world"
    assert entry["level"] == "warning"
    assert entry["logger"] == "event_registry.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", str(entry["timestamp"]))


def test_extra_fields_and_the_bound_request_id_are_fields_of_their_own() -> None:
    token = logs.REQUEST_ID.set("req-1")
    try:
        entry = formatted(
            record(kind="Broker", namespace="team-a", object="default", path=object())
        )
    finally:
        logs.REQUEST_ID.reset(token)
    assert entry["request_id"] == "req-1"
    assert (entry["kind"], entry["namespace"], entry["object"]) == ("Broker", "team-a", "default")
    assert str(entry["path"]).startswith("<object object"), "not JSON: written as its str"
    assert "request_id" not in formatted(record()), "outside a request: no id"


def test_an_exception_is_formatted_into_the_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        made = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        made.exc_info = sys.exc_info()
    entry = formatted(made)
    assert "ValueError: broken" in str(entry["exception"])


@pytest.mark.parametrize("header", ["abc-123", "4bf92f3577b34da6a3ce929d0e0e4736", "a.b:c_d"])
def test_a_plausible_request_id_is_kept(header: str) -> None:
    assert logs.request_id_for(header) == header


@pytest.mark.parametrize("header", [None, "", "with space", "x" * 129, 'quote"', "ü"])
def test_anything_else_gets_a_new_id(header: str | None) -> None:
    generated = logs.request_id_for(header)
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert generated != logs.request_id_for(header)
