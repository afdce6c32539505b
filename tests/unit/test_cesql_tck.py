"""CESQL v1 conformance: every case of the spec's TCK (as rewritten in tests/fixtures/cesql/)
evaluated on a concrete event, with the value and the error kind the TCK expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from event_registry.domain import cesql

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cesql"
MINIMAL_EVENT = {"specversion": "1.0", "id": "an-id", "source": "/tck", "type": "tck.case"}
TCK_FILES = sorted(FIXTURES.glob("*.yaml"))


def cases() -> list[Any]:
    found = []
    for path in TCK_FILES:
        for index, case in enumerate(yaml.safe_load(path.read_text())["cases"]):
            found.append(pytest.param(case, id=f"{path.stem}-{index}-{case['expression']}"))
    return found


def test_every_tck_file_is_here() -> None:
    assert len(TCK_FILES) == 18
    assert len(cases()) > 250


@pytest.mark.parametrize("case", cases())
def test_tck_case(case: dict[str, Any]) -> None:
    if case.get("error") == "parse":
        with pytest.raises(cesql.CesqlSyntaxError):
            cesql.parse(case["expression"])
        return
    event = dict(case.get("event") or {})
    if not case.get("whole"):
        event = {**MINIMAL_EVENT, **event}
    result = cesql.run(cesql.parse(case["expression"]), event)
    expected_error = cesql.ErrorKind(case["error"]) if "error" in case else None
    assert result.error is expected_error
    if "value" in case:
        assert result.value == case["value"]
        assert type(result.value) is type(case["value"])


def test_knative_filter_passes_only_true_without_error() -> None:
    event = dict(MINIMAL_EVENT)
    assert cesql.run(cesql.parse("TRUE"), event).passes_filter
    assert not cesql.run(cesql.parse("1"), event).passes_filter
    assert not cesql.run(cesql.parse("'true'"), event).passes_filter
    assert not cesql.run(cesql.parse("LEFT('abc', -1) = 'abc'"), event).passes_filter
    assert not cesql.run(cesql.parse("NOT missing"), event).passes_filter
