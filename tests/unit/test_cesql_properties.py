"""Properties of domain/cesql: parsing never fails with anything but CesqlSyntaxError, the
printer round-trips, and the three-valued verdict for an EventType never contradicts the
concrete evaluation of an event of that type."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_registry.domain import cesql
from event_registry.domain.cesql import syntax, values
from event_registry.domain.cesql.deciding import PinnedAttributes
from event_registry.domain.cesql.evaluating import Event, evaluate
from event_registry.domain.cesql.parsing import MAX_DEPTH, height
from event_registry.domain.cesql.values import ValueKind

CESQL_ALPHABET = "abcxyzABCINOTLKE019_ '\"\\()=<>!+-*/%,\t\n"
REQUIRED = ("id", "source", "specversion", "type")
NAMES = (*REQUIRED, "subject", "myext", "count")
FUNCTIONS: tuple[str, ...] = (
    "LENGTH",
    "CONCAT",
    "CONCAT_WS",
    "LOWER",
    "UPPER",
    "TRIM",
    "LEFT",
    "RIGHT",
)
FUNCTIONS += ("SUBSTRING", "ABS", "INT", "BOOL", "STRING", "IS_INT", "IS_BOOL", "NOPE")
STRINGS = st.sampled_from(["", "a", "ab", "A b", "true", "FALSE", "5", "-3", "+7", "x%"])
INTEGERS = st.sampled_from([0, 1, -1, 2, 5, values.INT_MAX, values.INT_MIN])
OPERATORS = sorted(
    syntax.LOGIC_OPERATORS
    | syntax.EQUALITY_OPERATORS
    | syntax.ORDER_OPERATORS
    | syntax.ARITHMETIC_OPERATORS
)


@given(st.text())
def test_any_text_parses_or_is_a_syntax_error(text: str) -> None:
    _parse_or_syntax_error(text)


@given(st.text(alphabet=CESQL_ALPHABET, max_size=40))
def test_cesql_like_text_parses_or_is_a_syntax_error(text: str) -> None:
    expression = _parse_or_syntax_error(text)
    if expression is not None:
        cesql.decide(expression, {"type": "a"})
        cesql.run(expression, {"id": "1", "source": "s", "specversion": "1.0", "type": "t"})


def _parse_or_syntax_error(text: str) -> syntax.Expression | None:
    try:
        return cesql.parse(text)
    except cesql.CesqlSyntaxError as error:
        problem = error
    assert 0 <= problem.position <= len(text)
    assert problem.reason
    return None


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    for text in (
        "(" * 10_000 + "1" + ")" * 10_000,
        "NOT " * 10_000 + "TRUE",
        "1" + " + 1" * 10_000,
    ):
        with pytest.raises(cesql.CesqlSyntaxError, match="nested deeper"):
            cesql.parse(text)
    chain = " OR ".join(["type = 'a'"] * (MAX_DEPTH - 1))
    assert cesql.decide(cesql.parse(chain), {"type": "a"}) is cesql.Verdict.MATCHES


def test_long_sets_and_argument_lists_are_evaluated_without_recursion() -> None:
    long_set = cesql.parse("type IN (" + ", ".join(f"'t{i}'" for i in range(5000)) + ", 'a')")
    assert cesql.decide(long_set, {"type": "a"}) is cesql.Verdict.MATCHES
    assert cesql.decide(long_set, {"type": "b"}) is cesql.Verdict.NO_MATCH
    assert cesql.decide(long_set, {}) is cesql.Verdict.DEPENDS_ON_RUNTIME_ATTRIBUTES
    many = cesql.parse("CONCAT(" + ", ".join(["myext"] * 5000) + ") = 'x'")  # 4^5000 cases
    assert cesql.decide(many, {}) is cesql.Verdict.DEPENDS_ON_RUNTIME_ATTRIBUTES
    assert cesql.decide(many, {"myext": "y"}) is cesql.Verdict.NO_MATCH
    event = {"id": "1", "source": "s", "specversion": "1.0", "type": "t", "myext": "x"}
    assert cesql.run(many, event).passes_filter is False


def _literal() -> st.SearchStrategy[syntax.Expression]:
    return st.one_of(
        st.booleans().map(lambda b: syntax.Literal(ValueKind.BOOLEAN, b)),
        INTEGERS.map(lambda i: syntax.Literal(ValueKind.INTEGER, i)),
        STRINGS.map(lambda s: syntax.Literal(ValueKind.STRING, s)),
    )


def _leaves() -> st.SearchStrategy[syntax.Expression]:
    return st.one_of(
        _literal(),
        st.sampled_from(NAMES).map(syntax.Attribute),
        st.sampled_from(NAMES).map(syntax.Exists),
    )


def _compound(
    inner: st.SearchStrategy[syntax.Expression],
) -> st.SearchStrategy[syntax.Expression]:
    patterns = st.text(alphabet="ab%_\\", max_size=4).filter(lambda p: not p.endswith("\\"))
    return st.one_of(
        st.builds(syntax.Not, inner),
        st.builds(syntax.Negate, inner),
        st.builds(syntax.Binary, st.sampled_from(OPERATORS), inner, inner),
        st.builds(syntax.Like, inner, patterns, st.booleans()),
        st.builds(
            syntax.In, inner, st.lists(inner, min_size=1, max_size=3).map(tuple), st.booleans()
        ),
        st.builds(syntax.Call, st.sampled_from(FUNCTIONS), st.lists(inner, max_size=3).map(tuple)),
    )


EXPRESSIONS = st.recursive(_leaves(), _compound, max_leaves=10)


@given(EXPRESSIONS)
def test_render_parses_back_to_the_same_tree(expression: syntax.Expression) -> None:
    assert height(expression) <= MAX_DEPTH
    assert cesql.parse(cesql.render(expression)) == expression


@st.composite
def event_types_and_events(draw: st.DrawFn) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Attributes an EventType pins, and events of that type (pinned values as strings)."""
    pinned = {name: draw(STRINGS) for name in NAMES if name != "id" and draw(st.booleans())}
    events = []
    for _ in range(4):
        event: dict[str, Any] = {}
        for name in NAMES:
            if name in pinned:
                event[name] = pinned[name]
            elif name in REQUIRED:
                event[name] = draw(STRINGS)
            elif draw(st.booleans()):
                event[name] = draw(st.one_of(STRINGS, INTEGERS, st.booleans()))
        events.append(event)
    return pinned, events


def _covers(possible: values.Possible, outcome: values.Outcome) -> bool:
    if isinstance(outcome, values.Failed):
        return any(isinstance(o, values.Failed) and o.error is outcome.error for o in possible)
    assert isinstance(outcome, values.Known)
    return outcome in possible or values.AnyOf(outcome.kind) in possible


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS, event_types_and_events())
def test_verdict_agrees_with_every_concrete_event(
    expression: syntax.Expression, case: tuple[dict[str, str], list[dict[str, Any]]]
) -> None:
    pinned, events = case
    possible = evaluate(expression, PinnedAttributes(pinned))
    verdict = cesql.decide(expression, pinned)
    for event in events:
        (outcome,) = evaluate(expression, Event(event))
        assert _covers(possible, outcome), (event, outcome, possible)
        passes = cesql.run(expression, event).passes_filter
        if verdict is cesql.Verdict.MATCHES:
            assert passes, event
        elif verdict is cesql.Verdict.NO_MATCH:
            assert not passes, event


@given(EXPRESSIONS)
def test_fully_known_events_are_decided(expression: syntax.Expression) -> None:
    """With every attribute pinned, nothing is left to the runtime."""
    pinned = dict.fromkeys(NAMES, "a")
    verdict = cesql.decide(expression, pinned)
    assert verdict is not cesql.Verdict.DEPENDS_ON_RUNTIME_ATTRIBUTES
    assert (verdict is cesql.Verdict.MATCHES) == cesql.run(expression, pinned).passes_filter


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9" * 5000, None),  # Python's int() refuses this many digits: never reached
        ("0" * 5000 + "1", 1),
        ("-0", 0),
        ("+0012", 12),
        ("-2147483648", values.INT_MIN),
        ("2147483648", None),
        ("", None),
        ("+", None),
        ("1_0", None),  # Go's ParseInt with base 10 takes no underscores
        (" 1", None),
        ("\u0661", None),  # an Arabic-Indic digit: ASCII digits only
    ],
)
def test_string_to_integer_is_gos_parse_int(text: str, value: int | None) -> None:
    assert values.parse_integer(text) == value
    result = cesql.run(cesql.parse("INT(x)"), {"x": text})
    assert (result.value, result.error) == (
        (0, cesql.ErrorKind.CAST) if value is None else (value, None)
    )


def test_huge_integer_literal_is_a_syntax_error() -> None:
    with pytest.raises(cesql.CesqlSyntaxError, match="does not fit in 32 bits"):
        cesql.parse("x = " + "9" * 5000)
