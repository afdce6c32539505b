"""Three-valued CESQL: does a filter accept every, no, or only some events of an EventType?

An EventType pins some attributes (``known``: name → value, strings as they travel in HTTP
binary mode). Every other attribute is unknown: ``id``, ``source``, ``type`` and
``specversion`` are present but may hold any string; anything else (``time``, ``subject``,
extensions, templated values) may be missing or hold any value. Evaluating over sets of
outcomes gives every outcome some event of the type could have; the filter passes an event
only on the outcome Boolean true with no error (Knative: an error or a non-Boolean fails
the filter). So the verdict is:

- ``MATCHES`` when every possible outcome is true: each event of the type passes;
- ``NO_MATCH`` when none is: no event of the type passes (a short-circuit counts: with
  ``type`` pinned to ``b``, ``type = 'a' AND id = 'x'`` is decided without ``id``);
- ``DEPENDS_ON_RUNTIME_ATTRIBUTES`` otherwise, including when only an error that depends on
  an unknown attribute (a missing extension) stands between the event and a match.

The verdict is never wrong, only sometimes less sharp than it could be: sets forget how
unknowns relate (``id = 'x' OR id != 'x'`` is DEPENDS, though always true).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from . import values
from .evaluating import REQUIRED_ATTRIBUTES, evaluate
from .syntax import Expression
from .values import EITHER, TRUE, AnyOf, ErrorKind, Possible, ValueKind

_UNKNOWN_OPTIONAL: Possible = EITHER | {
    AnyOf(ValueKind.INTEGER),
    AnyOf(ValueKind.STRING),
    values.Failed(ErrorKind.MISSING_ATTRIBUTE, values.FALSE),
}


class Verdict(enum.Enum):
    MATCHES = "matches"
    NO_MATCH = "no match"
    DEPENDS_ON_RUNTIME_ATTRIBUTES = "depends on runtime attributes"


@dataclass(frozen=True, slots=True)
class PinnedAttributes:
    """The evaluation environment of an EventType: ``known`` values, the rest unknown."""

    known: Mapping[str, str]

    def attribute(self, name: str) -> Possible:
        if name in self.known:
            return values.only(values.string(self.known[name]))
        if name in REQUIRED_ATTRIBUTES:
            return values.only(AnyOf(ValueKind.STRING))
        return _UNKNOWN_OPTIONAL

    def exists(self, name: str) -> Possible:
        if name in self.known or name in REQUIRED_ATTRIBUTES:
            return values.only(TRUE)
        return EITHER


def verdict(outcomes: Possible) -> Verdict:
    passing = [outcome == TRUE for outcome in outcomes]
    if all(passing):
        return Verdict.MATCHES
    if not any(passing):
        return Verdict.NO_MATCH
    return Verdict.DEPENDS_ON_RUNTIME_ATTRIBUTES


def decide(expression: Expression, known: Mapping[str, str]) -> Verdict:
    """How the filter ``expression`` treats events whose attributes ``known`` pins."""
    return verdict(evaluate(expression, PinnedAttributes(known)))
