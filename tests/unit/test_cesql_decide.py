"""Three-valued CESQL against an EventType's pinned attributes (domain/cesql/deciding.py)."""

from __future__ import annotations

import pytest

from event_registry.domain import cesql

MATCHES = cesql.Verdict.MATCHES
NO_MATCH = cesql.Verdict.NO_MATCH
DEPENDS = cesql.Verdict.DEPENDS_ON_RUNTIME_ATTRIBUTES
PUSH = {"type": "dev.knative.source.github.push", "source": "github.com", "specversion": "1.0"}


@pytest.mark.parametrize(
    ("expression", "known", "expected"),
    [
        # the examples of the brief
        ("type = 'a' AND id = 'x'", {"type": "b"}, NO_MATCH),
        ("type = 'a' AND id = 'x'", {"type": "a"}, DEPENDS),
        ("EXISTS type", {}, MATCHES),
        ("EXISTS myext", {}, DEPENDS),
        ("EXISTS myext", {"myext": "v"}, MATCHES),
        # short circuits and Kleene logic
        ("id = 'x' AND type = 'a'", {"type": "b"}, NO_MATCH),
        ("type = 'b' OR id = 'x'", {"type": "b"}, MATCHES),
        ("id = 'x' OR type = 'b'", {"type": "b"}, MATCHES),  # id is present and a string
        ("myext = 'x' OR type = 'b'", {"type": "b"}, DEPENDS),  # a missing myext is an error
        ("NOT (type = 'b' AND id = 'x')", {"type": "c"}, MATCHES),
        ("type = 'b' XOR id = 'x'", {"type": "b"}, DEPENDS),
        ("id = 'x' OR id <> 'x'", {}, DEPENDS),  # sets forget correlations: never wrong, less sharp
        # errors on known values decide; errors that depend on unknown values do not
        ("1 / 0 = 0", {}, NO_MATCH),
        ("NOT (1 / 0 = 0)", {}, NO_MATCH),  # an error under NOT is still an error
        ("10 / INT(myext) > 0", {}, DEPENDS),
        ("10 / INT(myext) > 0", {"myext": "2"}, MATCHES),
        ("10 / INT(myext) > 0", {"myext": "0"}, NO_MATCH),
        ("10 / INT(myext) > 0", {"myext": "zero"}, NO_MATCH),
        ("INT(id) >= 0", {}, DEPENDS),
        ("IS_INT(10 / LENGTH(id))", {}, DEPENDS),  # id may be empty
        ("IS_INT(10 / LENGTH(source))", PUSH, MATCHES),
        # casts with an unknown string: '5' = 5 only if the string reads as 5
        ("source = 5", {}, DEPENDS),
        ("source = 5", {"source": "5"}, MATCHES),
        ("source = 5", {"source": "05"}, MATCHES),
        ("source = TRUE", {"source": "True"}, MATCHES),
        ("source = TRUE", {"source": "yes"}, NO_MATCH),
        # LIKE, IN, functions on pinned and unknown attributes
        ("type LIKE 'dev.knative.source.github.%'", PUSH, MATCHES),
        ("type NOT LIKE '%.push'", PUSH, NO_MATCH),
        ("subject LIKE '%'", PUSH, DEPENDS),  # subject may be missing
        ("id LIKE '%'", PUSH, MATCHES),
        ("type IN ('a', 'dev.knative.source.github.push')", PUSH, MATCHES),
        ("type IN (subject, 'dev.knative.source.github.push')", PUSH, DEPENDS),  # subject first
        ("type IN ('dev.knative.source.github.push', subject)", PUSH, MATCHES),  # stops early
        ("UPPER(source) = 'GITHUB.COM' AND LENGTH(specversion) = 3", PUSH, MATCHES),
        ("LENGTH(id) > 0", PUSH, DEPENDS),
        ("CONCAT(type, id) = 'x'", PUSH, DEPENDS),
        ("NOSUCH(id) = 'x'", PUSH, NO_MATCH),
        # not Boolean: never passes a filter
        ("type", PUSH, NO_MATCH),
        ("LENGTH(type)", PUSH, NO_MATCH),
        ("myext", {}, DEPENDS),  # myext may be the Boolean true
        ("myext", {"myext": "true"}, NO_MATCH),  # pinned values are strings
    ],
)
def test_decide(expression: str, known: dict[str, str], expected: cesql.Verdict) -> None:
    assert cesql.decide(cesql.parse(expression), known) is expected


@pytest.mark.parametrize(
    ("expression", "event", "passes"),
    [
        ("10 / INT(myext) > 0", {"myext": "0"}, False),
        ("10 / INT(myext) > 0", {"myext": "3"}, True),
        ("type IN (subject, 'dev.knative.source.github.push')", {}, False),
        ("type IN (subject, 'dev.knative.source.github.push')", {"subject": "s"}, True),
        ("myext", {"myext": True}, True),
        ("IS_INT(10 / LENGTH(id))", {"id": ""}, False),
        ("IS_INT(10 / LENGTH(id))", {"id": "x"}, True),
    ],
)
def test_depends_really_depends(expression: str, event: dict[str, object], passes: bool) -> None:
    """Each DEPENDS above is one that concrete events decide both ways."""
    full = {**PUSH, "id": "1", **event}
    assert cesql.run(cesql.parse(expression), full).passes_filter is passes  # type: ignore[arg-type]
