"""The built-in functions of CESQL v1 (string, math and casting), as sdk-go resolves them.

A function is found by upper-cased name and argument count: a fixed-arity definition first,
then a variadic one whose fixed part fits (``CONCAT`` takes zero or more arguments,
``CONCAT_WS`` one or more). Any other call is a MissingFunctionError at evaluation time, not
a syntax error. ``IS_STRING`` is not defined: neither the spec nor sdk-go (so Knative) has it.

Each function maps argument pieces, already cast to its parameter types, to the outcomes it
can have; given ``AnyOf`` an argument, it answers with every result it could give, and
every error it could raise. Lengths and positions count characters, as the spec says
(sdk-go counts UTF-8 bytes, so the two differ on non-ASCII text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import values
from .values import EITHER, INT_MAX, INT_MIN, AnyOf, ErrorKind, Known, Piece, Possible, ValueKind

_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Unicode White_Space: what TRIM removes (Python's ``str.strip()`` would remove more)."""


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    parameters: tuple[ValueKind | None, ...]
    """Fixed parameter types (``None``: any type, not cast)."""
    variadic: ValueKind | None
    returns: ValueKind
    run: Callable[[Sequence[Piece]], Possible]
    is_variadic: bool = False

    def parameter(self, index: int) -> ValueKind | None:
        return self.parameters[index] if index < len(self.parameters) else self.variadic


def resolve(name: str, arity: int) -> Function | None:
    for function in _BY_NAME.get(name, ()):
        if not function.is_variadic and len(function.parameters) == arity:
            return function
    for function in _BY_NAME.get(name, ()):
        if function.is_variadic and len(function.parameters) <= arity:
            return function
    return None


def _known(pieces: Sequence[Piece]) -> list[bool | int | str] | None:
    """The arguments' values if all are known (after casting they have the declared kinds)."""
    known = [piece.value for piece in pieces if isinstance(piece, Known)]
    return known if len(known) == len(pieces) else None


def _text(pieces: Sequence[Piece]) -> list[str] | None:
    known = _known(pieces)
    return None if known is None else [str(value) for value in known]


def _unknown(returns: ValueKind, *errors: ErrorKind) -> Possible:
    outcomes = EITHER if returns is ValueKind.BOOLEAN else values.only(AnyOf(returns))
    for error in errors:
        outcomes |= values.failed(error, returns)
    return outcomes


def _string_function(transform: Callable[[str], str]) -> Callable[[Sequence[Piece]], Possible]:
    def run(pieces: Sequence[Piece]) -> Possible:
        known = _text(pieces)
        if known is None:
            return _unknown(ValueKind.STRING)
        return values.only(values.string(transform(known[0])))

    return run


def _length(pieces: Sequence[Piece]) -> Possible:
    known = _text(pieces)
    return (
        _unknown(ValueKind.INTEGER) if known is None else values.only(values.integer(len(known[0])))
    )


def _concat(pieces: Sequence[Piece]) -> Possible:
    known = _text(pieces)
    return (
        _unknown(ValueKind.STRING) if known is None else values.only(values.string("".join(known)))
    )


def _concat_ws(pieces: Sequence[Piece]) -> Possible:
    known = _text(pieces)
    if known is None:
        return _unknown(ValueKind.STRING)
    return values.only(values.string(known[0].join(known[1:])))


def _may_be_negative(piece: Piece) -> bool:
    return isinstance(piece, AnyOf) or int(piece.value) < 0


def _left_or_right(from_left: bool) -> Callable[[Sequence[Piece]], Possible]:
    def run(pieces: Sequence[Piece]) -> Possible:
        text, count = pieces
        if isinstance(text, AnyOf) or isinstance(count, AnyOf):
            errors = (ErrorKind.FUNCTION_EVALUATION,) if _may_be_negative(count) else ()
            return _unknown(ValueKind.STRING, *errors)
        string, length = str(text.value), int(count.value)
        if length < 0:
            return values.only(values.Failed(ErrorKind.FUNCTION_EVALUATION, text))
        kept = string[:length] if from_left else string[max(len(string) - length, 0) :]
        return values.only(values.string(kept))

    return run


def _substring(pieces: Sequence[Piece]) -> Possible:
    known = _known(pieces)
    if known is None:
        return _unknown(ValueKind.STRING, ErrorKind.FUNCTION_EVALUATION)
    string, position = str(known[0]), int(known[1])
    length = int(known[2]) if len(known) == 3 else None
    if position == 0:
        return values.only(values.string(""))
    if not -len(string) <= position <= len(string) or (length is not None and length < 0):
        return values.failed(ErrorKind.FUNCTION_EVALUATION, ValueKind.STRING)
    begin = len(string) + position if position < 0 else position - 1
    end = len(string) if length is None else min(len(string), begin + length)
    return values.only(values.string(string[begin:end]))


def _abs(pieces: Sequence[Piece]) -> Possible:
    (number,) = pieces
    if isinstance(number, AnyOf):
        return values.only(number) | values.only(
            values.Failed(ErrorKind.MATH, values.integer(INT_MAX))
        )
    if number.value == INT_MIN:
        return values.only(values.Failed(ErrorKind.MATH, values.integer(INT_MAX)))
    return values.only(values.integer(abs(int(number.value))))


def _cast_to(kind: ValueKind) -> Callable[[Sequence[Piece]], Possible]:
    return lambda pieces: values.cast(pieces[0], kind)


def _can_cast_to(kind: ValueKind) -> Callable[[Sequence[Piece]], Possible]:
    return lambda pieces: values.can_cast(pieces[0], kind)


_S, _I = ValueKind.STRING, ValueKind.INTEGER
_BUILT_IN = (
    Function("LENGTH", (_S,), None, _I, _length),
    Function("CONCAT", (), _S, _S, _concat, is_variadic=True),
    Function("CONCAT_WS", (_S,), _S, _S, _concat_ws, is_variadic=True),
    Function("LOWER", (_S,), None, _S, _string_function(str.lower)),
    Function("UPPER", (_S,), None, _S, _string_function(str.upper)),
    Function("TRIM", (_S,), None, _S, _string_function(lambda s: s.strip(_WHITESPACE))),
    Function("LEFT", (_S, _I), None, _S, _left_or_right(from_left=True)),
    Function("RIGHT", (_S, _I), None, _S, _left_or_right(from_left=False)),
    Function("SUBSTRING", (_S, _I), None, _S, _substring),
    Function("SUBSTRING", (_S, _I, _I), None, _S, _substring),
    Function("ABS", (_I,), None, _I, _abs),
    Function("INT", (None,), None, _I, _cast_to(ValueKind.INTEGER)),
    Function("BOOL", (None,), None, ValueKind.BOOLEAN, _cast_to(ValueKind.BOOLEAN)),
    Function("STRING", (None,), None, _S, _cast_to(ValueKind.STRING)),
    Function("IS_INT", (None,), None, ValueKind.BOOLEAN, _can_cast_to(ValueKind.INTEGER)),
    Function("IS_BOOL", (None,), None, ValueKind.BOOLEAN, _can_cast_to(ValueKind.BOOLEAN)),
)
_BY_NAME: dict[str, tuple[Function, ...]] = {}
for _function in _BUILT_IN:
    _BY_NAME[_function.name] = (*_BY_NAME.get(_function.name, ()), _function)
