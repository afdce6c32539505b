"""CESQL values, errors and casts, over sets of possible outcomes.

Every CESQL expression evaluates to one *outcome*: a value (``Known``) or an error
(``Failed``, which still carries the value the spec says to return with it). To decide a
filter before an event exists, the evaluator works on ``Possible``: the set of outcomes an
expression may have. ``AnyOf(kind)`` stands for every Integer or every String value at once
(Booleans are always listed, there are only two). A concrete event gives singletons; an
EventType that leaves attributes unknown gives larger sets. The one rule every function here
keeps: a ``Possible`` never leaves out an outcome the concrete evaluation could reach.

Integers are 32-bit two's complement and wrap on overflow, like the cloudevents sdk-go
implementation Knative uses.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_WIDEN_ABOVE = 16
"""Known values of one kind a set keeps before it is widened to ``AnyOf`` that kind."""


class ValueKind(enum.Enum):
    BOOLEAN = "Boolean"
    INTEGER = "Integer"
    STRING = "String"


class ErrorKind(enum.Enum):
    """The error types of CESQL v1 section 3.3 (names as in the TCK)."""

    PARSE = "parse"
    MATH = "math"
    CAST = "cast"
    MISSING_ATTRIBUTE = "missingAttribute"
    MISSING_FUNCTION = "missingFunction"
    FUNCTION_EVALUATION = "functionEvaluation"
    GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class Known:
    """One value. ``kind`` is part of equality so ``True`` and ``1`` stay apart in sets."""

    kind: ValueKind
    value: bool | int | str


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Every value of ``kind`` (Integer or String), none of them an error."""

    kind: ValueKind


@dataclass(frozen=True, slots=True)
class Failed:
    """An error, with the value returned alongside it."""

    error: ErrorKind
    value: Known


Piece = Known | AnyOf
Outcome = Known | AnyOf | Failed
Possible = frozenset[Outcome]

TRUE = Known(ValueKind.BOOLEAN, True)
FALSE = Known(ValueKind.BOOLEAN, False)
EITHER: Possible = frozenset({TRUE, FALSE})
ZERO = {
    ValueKind.BOOLEAN: FALSE,
    ValueKind.INTEGER: Known(ValueKind.INTEGER, 0),
    ValueKind.STRING: Known(ValueKind.STRING, ""),
}


def boolean(value: bool) -> Known:
    return TRUE if value else FALSE


def integer(value: int) -> Known:
    return Known(ValueKind.INTEGER, wrap(value))


def string(value: str) -> Known:
    return Known(ValueKind.STRING, value)


def only(outcome: Outcome) -> Possible:
    return frozenset({outcome})


def failed(error: ErrorKind, kind: ValueKind) -> Possible:
    return only(Failed(error, ZERO[kind]))


def wrap(value: int) -> int:
    """``value`` as a 32-bit two's complement integer (overflow wraps, as in Go)."""
    return (value - INT_MIN) % 2**32 + INT_MIN


def kind_of(piece: Piece) -> ValueKind:
    return piece.kind


def widen(outcomes: Iterable[Outcome]) -> Possible:
    """The union of ``outcomes``, with too many Integers or Strings replaced by ``AnyOf``."""
    result = frozenset(outcomes)
    if len(result) <= _WIDEN_ABOVE and not any(isinstance(o, AnyOf) for o in result):
        return result
    for kind in (ValueKind.INTEGER, ValueKind.STRING):
        if AnyOf(kind) in result:
            result = frozenset(o for o in result if not (isinstance(o, Known) and o.kind is kind))
        elif sum(1 for o in result if isinstance(o, Known) and o.kind is kind) > _WIDEN_ABOVE:
            kept = (o for o in result if not (isinstance(o, Known) and o.kind is kind))
            result = frozenset((*kept, AnyOf(kind)))
    return result


def then(possible: Possible, step: Callable[[Piece], Possible], zero: ValueKind) -> Possible:
    """Fail-fast sequencing: errors pass through (with the zero value of ``zero``), values go on."""
    if len(possible) == 1:
        (outcome,) = possible
        if not isinstance(outcome, Failed):
            return step(outcome)
    results: list[Outcome] = []
    for outcome in possible:
        if isinstance(outcome, Failed):
            results.append(Failed(outcome.error, ZERO[zero]))
        else:
            results.extend(step(outcome))
    return widen(results)


def cast(piece: Piece, target: ValueKind | None) -> Possible:
    """CESQL v1 section 3.7 casts; ``None`` is the Any type (no cast)."""
    if target is None or piece.kind is target:
        return only(piece)
    if isinstance(piece, AnyOf):
        return _cast_any(piece.kind, target)
    value = piece.value
    if target is ValueKind.STRING:
        if isinstance(value, bool):
            return only(string("true" if value else "false"))
        return only(string(str(value)))
    if target is ValueKind.INTEGER:
        if isinstance(value, bool):
            return only(integer(1 if value else 0))
        assert isinstance(value, str)
        parsed = parse_integer(value)
        return (
            failed(ErrorKind.CAST, ValueKind.INTEGER) if parsed is None else only(integer(parsed))
        )
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "false"):
            return only(boolean(lowered == "true"))
        return failed(ErrorKind.CAST, ValueKind.BOOLEAN)
    return only(boolean(value != 0))


def _cast_any(source: ValueKind, target: ValueKind) -> Possible:
    if target is ValueKind.STRING:
        return only(AnyOf(ValueKind.STRING))
    if target is ValueKind.BOOLEAN:
        extra = (
            failed(ErrorKind.CAST, ValueKind.BOOLEAN) if source is ValueKind.STRING else frozenset()
        )
        return EITHER | extra
    return frozenset({AnyOf(ValueKind.INTEGER), Failed(ErrorKind.CAST, ZERO[ValueKind.INTEGER])})


def parse_integer(text: str) -> int | None:
    """A base-10 32-bit integer with an optional sign, or None (Go's ``ParseInt(s, 10, 32)``)."""
    if not _INTEGER_TEXT.fullmatch(text):
        return None
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 10:
        return None  # never fits; int() would refuse beyond 4300 digits anyway
    value = -int(digits) if text.startswith("-") else int(digits)
    return value if INT_MIN <= value <= INT_MAX else None


def can_cast(piece: Piece, target: ValueKind) -> Possible:
    """Whether casting ``piece`` succeeds, as Booleans."""
    return widen(FALSE if isinstance(o, Failed) else TRUE for o in cast(piece, target))
