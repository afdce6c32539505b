"""The CESQL v1 syntax tree, and a printer whose output parses back to the same tree.

Names are normalised at parse time: attribute names lowercase, function names uppercase
(keywords and identifiers are case-insensitive in CESQL). Parentheses leave no node: the
tree's shape already says how the expression groups, and ``render`` parenthesises every
operation so that it reads back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from .values import ValueKind

LOGIC_OPERATORS = frozenset({"AND", "OR", "XOR"})
EQUALITY_OPERATORS = frozenset({"=", "!=", "<>"})
ORDER_OPERATORS = frozenset({"<", "<=", ">", ">="})
ARITHMETIC_OPERATORS = frozenset({"+", "-", "*", "/", "%"})


@dataclass(frozen=True, slots=True)
class Literal:
    kind: ValueKind
    value: bool | int | str


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str


@dataclass(frozen=True, slots=True)
class Exists:
    name: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expression


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Expression


@dataclass(frozen=True, slots=True)
class Binary:
    operator: str
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Like:
    operand: Expression
    pattern: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class In:
    operand: Expression
    items: tuple[Expression, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    arguments: tuple[Expression, ...]


Expression = Literal | Attribute | Exists | Not | Negate | Binary | Like | In | Call


def render(expression: Expression) -> str:
    """CESQL text for ``expression``: ``parse(render(e)) == e`` for every tree ``parse`` makes
    whose strings hold no backslash (CESQL cannot write every string containing one, e.g. a
    trailing backslash)."""
    match expression:
        case Literal(kind=ValueKind.STRING, value=str(text)):
            return quote(text)
        case Literal(kind=ValueKind.BOOLEAN, value=flag):
            return "TRUE" if flag else "FALSE"
        case Literal(value=number):
            return str(number)
        case Attribute(name=name):
            return name
        case Exists(name=name):
            return f"(EXISTS {name})"
        case Not(operand=operand):
            return f"(NOT {render(operand)})"
        case Negate(operand=operand):
            return f"(- {render(operand)})"
        case Binary(operator=operator, left=left, right=right):
            return f"({render(left)} {operator} {render(right)})"
        case Like(operand=operand, pattern=pattern, negated=negated):
            return f"({render(operand)}{' NOT' if negated else ''} LIKE {quote(pattern)})"
        case In(operand=operand, items=items, negated=negated):
            listed = ", ".join(render(item) for item in items)
            return f"({render(operand)}{' NOT' if negated else ''} IN ({listed}))"
        case Call(name=name, arguments=arguments):
            return f"{name}({', '.join(render(argument) for argument in arguments)})"
    raise AssertionError(f"not a CESQL expression: {expression!r}")


def quote(text: str) -> str:
    """A string literal for ``text``: single-quoted, or double-quoted when that reads back
    exactly (parsing turns ``\\'`` into ``'`` and keeps every other backslash)."""
    if "\\" not in text:
        return "'" + text.replace("'", "\\'") + "'"
    return '"' + text.replace('"', '\\"') + '"'
