"""Which Triggers consume which EventTypes: three-valued matching of Knative filters.

A Trigger consumes an EventType when both are on the same Broker in the same namespace and
the Trigger's filter accepts the events the EventType describes. The answer is ``YES``,
``NO`` or ``UNKNOWN``: an EventType pins only some attributes (type, source, schema, and
non-template v1beta3 attributes), so a filter on anything else (``id``, an extension, a
templated value) cannot be decided and is reported as ``UNKNOWN`` rather than guessed.
``filters`` (new dialects) override ``filter.attributes`` as in Knative; the entries of
``filters`` are ANDed.

A ``cesql`` entry is evaluated by ``cesql.decide`` (MATCHES / NO_MATCH /
DEPENDS_ON_RUNTIME_ATTRIBUTES → YES / NO / UNKNOWN); an expression that does not parse, or
is not a string, is ``NO``: Knative's webhook refuses it, so such a Trigger (created with
admission off) is reported as consuming nothing, and ``invalid_cesql`` says why. (Knative's
dispatcher would skip the entry instead.) An empty expression is no filter, as in Knative.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from . import cesql, models


class Match(enum.Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"

    def __and__(self, other: Match) -> Match:
        if Match.NO in (self, other):
            return Match.NO
        if Match.UNKNOWN in (self, other):
            return Match.UNKNOWN
        return Match.YES

    def __or__(self, other: Match) -> Match:
        if Match.YES in (self, other):
            return Match.YES
        if Match.UNKNOWN in (self, other):
            return Match.UNKNOWN
        return Match.NO

    def __invert__(self) -> Match:
        return {Match.YES: Match.NO, Match.NO: Match.YES, Match.UNKNOWN: Match.UNKNOWN}[self]


def _is_template(value: str) -> bool:
    return "{" in value and "}" in value


def known_attributes(event_type: models.EventType) -> dict[str, str]:
    """Attribute values every event of this type carries.

    Templated values (``{...}``) and attributes marked ``required: false`` are not known:
    an event may carry another value, or none.
    """
    known = {
        a.name: a.value
        for a in event_type.attributes
        if a.value and not a.is_template and (a.required or a.name in _CORE)
    }
    for name, value in (
        ("type", event_type.type),
        ("source", event_type.source),
        ("dataschema", event_type.schema),
    ):
        if value and not _is_template(value) and name not in known:
            optional = event_type.attribute(name)
            if optional is None or optional.required or name in _CORE:
                known[name] = value
    return known


_CORE = frozenset({"type", "source"})


def _compare(known: Mapping[str, str], expected: Any, test: Callable[[str, str], bool]) -> Match:
    if not isinstance(expected, Mapping):
        return Match.UNKNOWN
    result = Match.YES
    for name, value in expected.items():
        if name not in known:
            result &= Match.UNKNOWN
        elif not test(known[name], str(value)):
            return Match.NO
    return result


def _filter(known: Mapping[str, str], entry: Any) -> Match:
    """One ``filters[]`` entry; anything malformed is UNKNOWN (it cannot be decided)."""
    if not isinstance(entry, Mapping):
        return Match.UNKNOWN
    if "exact" in entry:
        return _compare(known, entry["exact"], lambda actual, want: actual == want)
    if "prefix" in entry:
        return _compare(known, entry["prefix"], lambda actual, want: actual.startswith(want))
    if "suffix" in entry:
        return _compare(known, entry["suffix"], lambda actual, want: actual.endswith(want))
    if "all" in entry:
        if not isinstance(entry["all"], list | tuple):
            return Match.UNKNOWN
        result = Match.YES
        for nested in entry["all"]:
            result &= _filter(known, nested)
        return result
    if "any" in entry:
        if not isinstance(entry["any"], list | tuple):
            return Match.UNKNOWN
        result = Match.NO
        for nested in entry["any"]:
            result |= _filter(known, nested)
        return result
    if "not" in entry:
        return ~_filter(known, entry["not"])
    if "cesql" in entry:
        return _cesql(known, entry["cesql"])
    return Match.UNKNOWN  # a dialect this version does not know


_VERDICTS = {
    cesql.Verdict.MATCHES: Match.YES,
    cesql.Verdict.NO_MATCH: Match.NO,
    cesql.Verdict.DEPENDS_ON_RUNTIME_ATTRIBUTES: Match.UNKNOWN,
}


def _cesql(known: Mapping[str, str], expression: Any) -> Match:
    if expression == "":
        return Match.YES
    if not isinstance(expression, str):
        return Match.NO
    return _decided(expression, tuple(sorted(known.items())))


@functools.lru_cache(maxsize=16384)
def _decided(expression: str, known: tuple[tuple[str, str], ...]) -> Match:
    """Cached per expression and pinned attributes: a CESQL verdict costs 30-150 µs."""
    compiled = _compiled(expression)
    if not isinstance(compiled, cesql.Expression):
        return Match.NO
    return _VERDICTS[cesql.decide(compiled, dict(known))]


@functools.lru_cache(maxsize=4096)
def _compiled(expression: str) -> cesql.Expression | cesql.CesqlSyntaxError:
    """Parsed once per distinct expression: matching runs for every Trigger and EventType pair."""
    try:
        return cesql.parse(expression)
    except cesql.CesqlSyntaxError as error:
        return error


def invalid_cesql(trigger: models.Trigger) -> list[tuple[str, cesql.CesqlSyntaxError]]:
    """The Trigger's ``cesql`` expressions that do not parse, each with its syntax error."""
    found = []
    for expression in _cesql_expressions(trigger.filters):
        compiled = _compiled(expression) if isinstance(expression, str) else None
        if compiled is None:
            found.append((repr(expression), cesql.CesqlSyntaxError("not a string", 0)))
        elif isinstance(compiled, cesql.CesqlSyntaxError) and expression != "":
            found.append((expression, compiled))
    return found


def _cesql_expressions(entries: Any) -> Iterator[Any]:
    for entry in entries if isinstance(entries, list | tuple) else ():
        if not isinstance(entry, Mapping):
            continue
        if "cesql" in entry:
            yield entry["cesql"]
        for nested in ("all", "any"):
            yield from _cesql_expressions(entry.get(nested))
        if "not" in entry:
            yield from _cesql_expressions([entry["not"]])


def _legacy(known: Mapping[str, str], attributes: Mapping[str, str]) -> Match:
    result = Match.YES
    for name, value in attributes.items():
        if value == "":
            continue  # "" means any value
        if name not in known:
            result &= Match.UNKNOWN
        elif known[name] != value:
            return Match.NO
    return result


def filter_match(trigger: models.Trigger, event_type: models.EventType) -> Match:
    """How the Trigger's filter treats events of this type (Broker not considered)."""
    known = known_attributes(event_type)
    if trigger.filters:
        result = Match.YES
        for entry in trigger.filters:
            result &= _filter(known, entry)
        return result
    return _legacy(known, trigger.filter_attributes)


def consumes(trigger: models.Trigger, event_type: models.EventType) -> Match:
    """Whether the Trigger receives events of this EventType."""
    if (
        trigger.meta.namespace != event_type.meta.namespace
        or not trigger.broker
        or trigger.broker != event_type.broker
    ):
        return Match.NO
    return filter_match(trigger, event_type)
