"""CESQL evaluation over sets of outcomes: one evaluator for concrete events and for the
partial knowledge an EventType gives.

The semantics are those of the cloudevents sdk-go CESQL v1 implementation that Knative's
``cesql`` filter runs ("fail fast" error handling of spec section 4.1): operands are
evaluated left to right, the first error stops the operation, which returns its zero value
with that error; ``AND``/``OR`` short-circuit, ``IN`` stops at the first equal element. Where
sdk-go and the spec's TCK disagree (``NOT 10``: sdk-go casts 10 to true and answers false,
the TCK expects a cast error) this follows sdk-go, since it decides what Knative delivers.

Concrete evaluation (``cesql.run``) is this evaluator with every attribute known, so each
set holds exactly one outcome. It never raises for any tree ``parsing.parse`` returns, and
its recursion is bounded by the tree's height (long ``IN`` sets and argument lists loop).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from . import functions, values
from .syntax import (
    EQUALITY_OPERATORS,
    LOGIC_OPERATORS,
    ORDER_OPERATORS,
    Attribute,
    Binary,
    Call,
    Exists,
    Expression,
    In,
    Like,
    Literal,
    Negate,
    Not,
)
from .values import (
    EITHER,
    FALSE,
    TRUE,
    AnyOf,
    ErrorKind,
    Failed,
    Known,
    Outcome,
    Piece,
    Possible,
    ValueKind,
)

REQUIRED_ATTRIBUTES = frozenset({"id", "source", "specversion", "type"})
"""Context attributes every valid CloudEvent has (``EXISTS`` is always true for them)."""


class Environment(Protocol):
    """What evaluation knows about the event."""

    def attribute(self, name: str) -> Possible: ...

    def exists(self, name: str) -> Possible: ...


@dataclass(frozen=True, slots=True)
class Event:
    """A concrete event: attribute name → value (str, int or bool)."""

    attributes: Mapping[str, bool | int | str]

    def attribute(self, name: str) -> Possible:
        if name not in self.attributes:
            return values.failed(ErrorKind.MISSING_ATTRIBUTE, ValueKind.BOOLEAN)
        return values.only(known(self.attributes[name]))

    def exists(self, name: str) -> Possible:
        return values.only(values.boolean(name in self.attributes))


def known(value: bool | int | str) -> Known:
    if isinstance(value, bool):
        return values.boolean(value)
    if isinstance(value, int):
        return values.integer(value)
    return values.string(value)


def evaluate(expression: Expression, environment: Environment) -> Possible:
    match expression:
        case Literal(kind=kind, value=value):
            return values.only(Known(kind, value))
        case Attribute(name=name):
            return environment.attribute(name)
        case Exists(name=name):
            return environment.exists(name)
        case Not(operand=operand):
            return _not(evaluate(operand, environment))
        case Negate(operand=operand):
            return _cast_then(
                evaluate(operand, environment), ValueKind.INTEGER, _negate, ValueKind.INTEGER
            )
        case Binary(operator=operator, left=left, right=right):
            return _binary(operator, evaluate(left, environment), evaluate(right, environment))
        case Like(operand=operand, pattern=pattern, negated=negated):
            matched = _cast_then(
                evaluate(operand, environment), ValueKind.STRING, _like(pattern), ValueKind.BOOLEAN
            )
            return _not(matched) if negated else matched
        case In(operand=operand, items=items, negated=negated):
            elements = [evaluate(item, environment) for item in items]
            found = values.then(
                evaluate(operand, environment),
                lambda left: _in(left, elements),
                ValueKind.BOOLEAN,
            )
            return _not(found) if negated else found
        case Call(name=name, arguments=arguments):
            function = functions.resolve(name, len(arguments))
            if function is None:
                return values.failed(ErrorKind.MISSING_FUNCTION, ValueKind.BOOLEAN)
            evaluated = [evaluate(argument, environment) for argument in arguments]
            return _call(function, evaluated)
    raise AssertionError(f"not a CESQL expression: {expression!r}")


def _cast_then(possible: Possible, target: ValueKind, step: _Step, returns: ValueKind) -> Possible:
    return values.then(
        possible,
        lambda piece: values.then(values.cast(piece, target), step, returns),
        returns,
    )


class _Step(Protocol):
    def __call__(self, piece: Piece, /) -> Possible: ...


def _not(possible: Possible) -> Possible:
    return _cast_then(
        possible,
        ValueKind.BOOLEAN,
        lambda b: values.only(values.boolean(not _flag(b))),
        ValueKind.BOOLEAN,
    )


def _negate(piece: Piece) -> Possible:
    if isinstance(piece, AnyOf):
        return values.only(piece)
    return values.only(values.integer(-int(piece.value)))


def _binary(operator: str, left: Possible, right: Possible) -> Possible:
    if operator in LOGIC_OPERATORS:
        return _logic(operator, left, right)
    if operator in EQUALITY_OPERATORS:
        equal = operator == "="
        return values.then(
            left,
            lambda lv: values.then(right, lambda rv: _equal(lv, rv, equal), ValueKind.BOOLEAN),
            ValueKind.BOOLEAN,
        )
    returns = ValueKind.BOOLEAN if operator in ORDER_OPERATORS else ValueKind.INTEGER
    return values.then(
        left,
        lambda lv: values.then(
            right,
            lambda rv: _cast_then(
                values.only(lv),
                ValueKind.INTEGER,
                lambda li: _cast_then(
                    values.only(rv),
                    ValueKind.INTEGER,
                    lambda ri: _arithmetic(operator, li, ri),
                    returns,
                ),
                returns,
            ),
            returns,
        ),
        returns,
    )


def _logic(operator: str, left: Possible, right: Possible) -> Possible:
    def after_left(lv: Piece) -> Possible:
        if operator == "AND" and lv == FALSE:
            return values.only(FALSE)
        if operator == "OR" and lv == TRUE:
            return values.only(TRUE)
        return _cast_then(
            right,
            ValueKind.BOOLEAN,
            lambda rv: values.only(_combine(operator, _flag(lv), _flag(rv))),
            ValueKind.BOOLEAN,
        )

    return _cast_then(left, ValueKind.BOOLEAN, after_left, ValueKind.BOOLEAN)


def _flag(piece: Piece) -> bool:
    """A Boolean piece's value (Booleans are always listed, never ``AnyOf``)."""
    assert isinstance(piece, Known)
    return bool(piece.value)


def _combine(operator: str, left: bool, right: bool) -> Known:
    if operator == "AND":
        return values.boolean(left and right)
    if operator == "OR":
        return values.boolean(left or right)
    return values.boolean(left != right)


def _equal(left: Piece, right: Piece, equal: bool) -> Possible:
    """sdk-go's ``=``: the left operand is cast to the right one's type (spec section 3.7)."""
    return values.then(
        values.cast(left, right.kind),
        lambda cast: _same(cast, right, equal),
        ValueKind.BOOLEAN,
    )


def _same(left: Piece, right: Piece, equal: bool) -> Possible:
    if isinstance(left, AnyOf) or isinstance(right, AnyOf):
        return EITHER
    return values.only(values.boolean((left.value == right.value) == equal))


def _arithmetic(operator: str, left: Piece, right: Piece) -> Possible:
    if operator in ORDER_OPERATORS:
        if isinstance(left, AnyOf) or isinstance(right, AnyOf):
            return EITHER
        return values.only(values.boolean(_order(operator, int(left.value), int(right.value))))
    divides = operator in ("/", "%")
    if isinstance(left, AnyOf) or isinstance(right, AnyOf):
        result = values.only(AnyOf(ValueKind.INTEGER))
        if divides and (isinstance(right, AnyOf) or right.value == 0):
            result |= values.failed(ErrorKind.MATH, ValueKind.INTEGER)
        return result
    x, y = int(left.value), int(right.value)
    if divides and y == 0:
        return values.failed(ErrorKind.MATH, ValueKind.INTEGER)
    if operator == "+":
        return values.only(values.integer(x + y))
    if operator == "-":
        return values.only(values.integer(x - y))
    if operator == "*":
        return values.only(values.integer(x * y))
    quotient = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)  # rounds towards 0
    if operator == "/":
        return values.only(values.integer(quotient))
    return values.only(values.integer(x - y * quotient))


def _order(operator: str, x: int, y: int) -> bool:
    if operator == "<":
        return x < y
    if operator == "<=":
        return x <= y
    if operator == ">":
        return x > y
    return x >= y


def _like(pattern: str) -> _Step:
    tokens = _pattern_tokens(pattern)
    matches_all = bool(tokens) and all(token is None for token in tokens)

    def step(piece: Piece) -> Possible:
        if isinstance(piece, AnyOf):
            return values.only(TRUE) if matches_all else EITHER
        return values.only(values.boolean(_wildcard_match(str(piece.value), tokens)))

    return step


def _pattern_tokens(pattern: str) -> list[str | None]:
    """The pattern as a list: a character to match literally, ``""`` for ``_`` (any one
    character) or ``None`` for ``%`` (any run). ``\\%`` and ``\\_`` are the literal characters;
    a backslash before anything else is itself (spec section 3.4.3)."""
    tokens: list[str | None] = []
    index = 0
    while index < len(pattern):
        character = pattern[index]
        if character == "\\" and pattern[index + 1 : index + 2] in ("%", "_"):
            tokens.append(pattern[index + 1])
            index += 2
            continue
        tokens.append(None if character == "%" else "" if character == "_" else character)
        index += 1
    return tokens


def _wildcard_match(text: str, tokens: list[str | None]) -> bool:
    """Greedy matching with backtracking to the last ``%``: O(len(text) * len(tokens))."""
    t = p = 0
    star = -1
    resume = 0
    while t < len(text):
        if p < len(tokens) and tokens[p] is not None and tokens[p] in ("", text[t]):
            t += 1
            p += 1
        elif p < len(tokens) and tokens[p] is None:
            star, resume = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            resume += 1
            t = resume
        else:
            return False
    return all(token is None for token in tokens[p:])


def _in(left: Piece, elements: list[Possible]) -> Possible:
    """sdk-go's IN: elements in order, each cast to the left operand's type; the first equal
    one answers true, the first error stops. A loop, not recursion: sets may be long."""
    results: set[Outcome] = set()
    searching = True  # some path has found no equal element yet
    for element in elements:
        if not searching:
            break
        searching = False
        for outcome in element:
            if isinstance(outcome, Failed):
                results.add(Failed(outcome.error, FALSE))
                continue
            for cast in values.cast(outcome, left.kind):
                if isinstance(cast, Failed):
                    results.add(Failed(cast.error, FALSE))
                    continue
                for found in _same(left, cast, equal=True):
                    if found == TRUE:
                        results.add(TRUE)
                    else:
                        searching = True
    if searching:
        results.add(FALSE)
    return values.widen(results)


_COMBINATIONS_KEPT = 256
"""Argument combinations a call enumerates before it treats varying arguments as unknown."""


def _call(function: functions.Function, arguments: list[Possible]) -> Possible:
    """Arguments evaluated and cast in order; the first error gives the function's zero value.
    The argument sets' product is enumerated, unless too large: then an argument that may take
    several values counts as any value of its parameter type (less sharp, still never wrong)."""
    zero = values.ZERO[function.returns]
    results: set[Outcome] = set()
    choices: list[list[Piece]] = []
    for index, argument in enumerate(arguments):
        pieces: set[Piece] = set()
        for outcome in argument:
            if isinstance(outcome, Failed):
                results.add(Failed(outcome.error, zero))
                continue
            for cast in values.cast(outcome, function.parameter(index)):
                if isinstance(cast, Failed):
                    results.add(Failed(cast.error, zero))
                else:
                    pieces.add(cast)
        if not pieces:
            return values.widen(results)  # every path stopped at this argument
        choices.append(sorted(pieces, key=repr))
    if math.prod(len(pieces) for pieces in choices) > _COMBINATIONS_KEPT:
        choices = [_collapsed(pieces, function.parameter(i)) for i, pieces in enumerate(choices)]
    for combination in itertools.product(*choices):
        results.update(function.run(combination))
    return values.widen(results)


def _collapsed(pieces: list[Piece], parameter: ValueKind | None) -> list[Piece]:
    if len(pieces) == 1 or parameter not in (ValueKind.INTEGER, ValueKind.STRING):
        return pieces
    return [AnyOf(parameter)]
