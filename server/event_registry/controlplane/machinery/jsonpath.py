"""The Kubernetes JSONPath subset used by CRD ``additionalPrinterColumns[].jsonPath``.

An expression is written the way kubectl and kube-apiserver take it, without the
surrounding ``{}``: ``.status.conditions[?(@.type=="Ready")].status``. Guarantees:

* :func:`parse` either returns an immutable, hashable :class:`JsonPath` or raises
  :class:`JsonPathError` whose message names the problem and its character position.
  Results are cached (``functools.lru_cache``), which is safe because they are immutable.
  Two spellings of one path compare equal (``parse("$.a") == parse(".a")``).
* :func:`find` never raises on any JSON document (dicts, lists, str, int, float, bool,
  ``None``): a missing key, an out-of-range index or a step applied to the wrong kind
  of value simply matches nothing. Matches come back in document order (list order,
  then object insertion order; for ``..`` the matches under each visited node in turn,
  parents before children, as kube and RFC 9535 order them) and are the document's own
  objects, not copies.

Syntax: a leading ``$`` (or ``@``) is optional; ``.name`` (backslash escapes a
terminator, as in ``.metadata.labels.app\\.kubernetes\\.io/name``); ``['key']`` and
``["key"]``; ``[0]``, ``[-1]``; slices ``[start:stop:step]``; ``*`` as ``.*`` or
``[*]`` over list items and object values; unions ``[0,2]``/``['a','b']``; recursive
descent ``..name``, ``..*``, ``..[0]``; filters ``[?(...)]`` over list items (and
object values) with ``@``/``$`` paths, string/number/``true``/``false``/``null``
literals, ``== != < <= > >=``, ``=~`` (regular-expression search), existence
(``[?(@.status)]``), ``!``, ``&&``, ``||`` and parentheses.

Filter semantics follow kube's ``client-go/util/jsonpath`` where it is defined: an
element whose compared path matches nothing is dropped (for ``!=`` too); ``==`` and
``!=`` compare JSON values (numbers by value, ``true`` is not ``1``); ordering compares
two numbers or two strings and is false for any other pairing. Where kube reports an
error (an index out of range, a filter over a non-list) this module matches nothing.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = [
    "And",
    "Compare",
    "Const",
    "Descendants",
    "Exists",
    "Filter",
    "Index",
    "JsonPath",
    "JsonPathError",
    "Key",
    "Not",
    "Or",
    "Query",
    "Slice",
    "Union",
    "Wildcard",
    "find",
    "parse",
]


class JsonPathError(ValueError):
    """A JSONPath expression that does not parse; says what is wrong and where."""

    def __init__(self, message: str, expression: str = "", position: int | None = None) -> None:
        self.reason = message
        self.expression = expression
        self.position = position
        if position is None:
            text = message
        else:
            text = f"{message} at position {position} in JSONPath {expression!r}"
        super().__init__(text)


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Key:
    """``.name`` / ``['name']``: the value under one key of an object."""

    name: str


@dataclass(frozen=True, slots=True)
class Index:
    """``[n]``: one list item; negative counts from the end."""

    index: int


@dataclass(frozen=True, slots=True)
class Slice:
    """``[start:stop:step]``: list items with Python slice semantics."""

    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``*`` / ``[*]``: every list item or object value."""


@dataclass(frozen=True, slots=True)
class Union:
    """``[a,b,...]``: the matches of each selector, in the order written."""

    selectors: tuple[Selector, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    """``[?(predicate)]``: the list items (or object values) the predicate accepts."""

    predicate: Predicate


@dataclass(frozen=True, slots=True)
class Descendants:
    """``..selector``: the selector applied to a value and all its descendants."""

    selector: Selector


@dataclass(frozen=True, slots=True)
class Const:
    """A literal inside a filter."""

    value: str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Query:
    """A path inside a filter, from ``@`` (the element) or ``$`` (the document root)."""

    from_root: bool
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right``; true when any pair of left and right values satisfies ``op``."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Exists:
    """A bare path in a filter: true when the path matches at least one value."""

    query: Query


@dataclass(frozen=True, slots=True)
class And:
    left: Predicate
    right: Predicate


@dataclass(frozen=True, slots=True)
class Or:
    left: Predicate
    right: Predicate


@dataclass(frozen=True, slots=True)
class Not:
    operand: Predicate


Selector: TypeAlias = Key | Index | Slice | Wildcard | Union | Filter
Step: TypeAlias = Selector | Descendants
Operand: TypeAlias = Const | Query
Predicate: TypeAlias = Compare | Exists | And | Or | Not


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A compiled expression: the steps applied, in order, to the document root.

    ``expression`` is the source text, kept for messages; it takes no part in equality.
    """

    steps: tuple[Step, ...]
    expression: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.expression


# --------------------------------------------------------------------------- parser

_WHITESPACE = frozenset(" \t\r\n")
# Characters that end a dotted name (kube's isTerminator), plus, inside a filter, the
# characters of operators, parentheses and quotes.
_NAME_TERMINATORS = frozenset(".,[]$@{}") | _WHITESPACE
_FILTER_NAME_TERMINATORS = _NAME_TERMINATORS | frozenset("=!<>&|()'\"~")
_COMPARISON_OPERATORS = ("==", "!=", "=~", "<=", ">=", "<", ">")
_DIGITS = frozenset("0123456789")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS: dict[str, bool | None] = {"true": True, "false": False, "null": None}
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.end = len(text)

    # ------------------------------------------------------------------ helpers

    def fail(self, message: str, position: int | None = None) -> JsonPathError:
        return JsonPathError(message, self.text, self.pos if position is None else position)

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < self.end else ""

    def at(self, literal: str) -> bool:
        return self.text.startswith(literal, self.pos, self.end)

    def skip_space(self) -> None:
        while self.pos < self.end and self.text[self.pos] in _WHITESPACE:
            self.pos += 1

    def expect(self, literal: str, what: str) -> None:
        if not self.at(literal):
            found = repr(self.peek()) if self.pos < self.end else "end of expression"
            raise self.fail(f"expected {what}, found {found}")
        self.pos += len(literal)

    # ------------------------------------------------------------------ paths

    def parse(self) -> JsonPath:
        while self.pos < self.end and self.text[self.pos] in _WHITESPACE:
            self.pos += 1
        while self.end > self.pos and self.text[self.end - 1] in _WHITESPACE:
            self.end -= 1
        if self.pos == self.end:
            raise self.fail("empty JSONPath expression")
        if self.peek() == "{":
            raise self.fail("unexpected '{': write the path without the surrounding '{}'")
        if self.peek() in ("$", "@"):
            self.pos += 1
        elif self.peek() not in (".", "["):
            raise self.fail("a JSONPath must start with '.', '[' or '$'")
        steps = self.steps(in_filter=False)
        if self.pos < self.end:
            raise self.fail(f"unexpected character {self.peek()!r}")
        return JsonPath(steps, self.text)

    def steps(self, *, in_filter: bool) -> tuple[Step, ...]:
        steps: list[Step] = []
        while self.pos < self.end:
            if self.at(".."):
                start = self.pos
                self.pos += 2
                if self.peek() == ".":
                    raise self.fail("too many dots: '...' is not a JSONPath operator", start)
                if self.pos >= self.end:
                    raise self.fail("expected a name, '*' or '[' after '..'")
                steps.append(Descendants(self.selector_after_dot(in_filter=in_filter)))
            elif self.peek() == ".":
                self.pos += 1
                if self.pos >= self.end:
                    raise self.fail("expected a name, '*' or '[' after '.'")
                steps.append(self.selector_after_dot(in_filter=in_filter))
            elif self.peek() == "[":
                steps.append(self.bracket())
            elif in_filter:
                break
            else:
                raise self.fail(f"unexpected character {self.peek()!r}")
        return tuple(steps)

    def selector_after_dot(self, *, in_filter: bool) -> Selector:
        """What follows ``.`` or ``..``: a name, ``*``, or a bracket (``.['a']``)."""
        if self.peek() == "[":
            return self.bracket()
        start = self.pos
        name = self.name(in_filter=in_filter)
        if self.text[start : self.pos] == "*":
            return Wildcard()
        return Key(name)

    def name(self, *, in_filter: bool) -> str:
        terminators = _FILTER_NAME_TERMINATORS if in_filter else _NAME_TERMINATORS
        start = self.pos
        chars: list[str] = []
        while self.pos < self.end:
            char = self.text[self.pos]
            if char == "\\":
                if self.pos + 1 >= self.end:
                    raise self.fail("a backslash must escape a character")
                chars.append(self.text[self.pos + 1])
                self.pos += 2
            elif char in terminators:
                break
            else:
                chars.append(char)
                self.pos += 1
        if self.pos == start:
            found = repr(self.peek()) if self.pos < self.end else "end of expression"
            raise self.fail(f"expected a field name, found {found}")
        return "".join(chars)

    def bracket(self) -> Selector:
        open_at = self.pos
        self.pos += 1  # '['
        self.skip_space()
        if self.pos >= self.end:
            raise self.fail("unclosed '['", open_at)
        if self.peek() == "?":
            self.pos += 1
            predicate = self.or_expression()
            self.skip_space()
            self.close_bracket(open_at)
            return Filter(predicate)
        selectors = [self.bracket_item()]
        self.skip_space()
        while self.peek() == ",":
            self.pos += 1
            self.skip_space()
            selectors.append(self.bracket_item())
            self.skip_space()
        self.close_bracket(open_at)
        return selectors[0] if len(selectors) == 1 else Union(tuple(selectors))

    def close_bracket(self, open_at: int) -> None:
        if self.pos >= self.end:
            raise self.fail("unclosed '['", open_at)
        self.expect("]", "']'")

    def bracket_item(self) -> Selector:
        char = self.peek()
        if char in ("'", '"'):
            return Key(self.string())
        if char == "*":
            self.pos += 1
            return Wildcard()
        if char in (":", "-") or char in _DIGITS:
            return self.index_or_slice()
        found = repr(char) if char else "end of expression"
        raise self.fail(
            f"expected a quoted key, an index, a slice, '*' or a '?(...)' filter in brackets, "
            f"found {found}"
        )

    def index_or_slice(self) -> Selector:
        parts: list[int | None] = [self.optional_integer()]
        while self.peek() == ":" and len(parts) < 3:
            self.pos += 1
            self.skip_space()
            parts.append(self.optional_integer())
        if len(parts) == 1:
            value = parts[0]
            assert value is not None  # bracket_item only calls us on ':', '-' or a digit
            return Index(value)
        parts.extend([None] * (3 - len(parts)))
        start, stop, step = parts
        if step == 0:
            raise self.fail("slice step must not be zero")
        return Slice(start, stop, step)

    def optional_integer(self) -> int | None:
        self.skip_space()
        match = _INTEGER.match(self.text, self.pos, self.end)
        if match is None:
            if self.peek() == "-":
                raise self.fail("expected digits after '-'")
            if self.peek() not in (":", "]", ",", ""):
                raise self.fail(f"expected an integer, found {self.peek()!r}")
            return None
        self.pos = match.end()
        self.skip_space()
        return self.integer(match.group(), match.start())

    def integer(self, text: str, position: int) -> int:
        try:
            return int(text)
        except ValueError:  # more digits than int() accepts
            raise self.fail("number too long", position) from None

    def string(self) -> str:
        start = self.pos
        quote = self.text[self.pos]
        self.pos += 1
        chars: list[str] = []
        while self.pos < self.end:
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < self.end:
                escaped = self.text[self.pos + 1]
                chars.append(_STRING_ESCAPES.get(escaped, escaped))
                self.pos += 2
            elif char == quote:
                self.pos += 1
                return "".join(chars)
            else:
                chars.append(char)
                self.pos += 1
        raise self.fail("unterminated string", start)

    # ------------------------------------------------------------------ filters

    def or_expression(self) -> Predicate:
        left = self.and_expression()
        self.skip_space()
        while self.at("||"):
            self.pos += 2
            left = Or(left, self.and_expression())
            self.skip_space()
        return left

    def and_expression(self) -> Predicate:
        left = self.unary()
        self.skip_space()
        while self.at("&&"):
            self.pos += 2
            left = And(left, self.unary())
            self.skip_space()
        return left

    def unary(self) -> Predicate:
        self.skip_space()
        if self.peek() == "!" and self.peek(1) != "=":
            self.pos += 1
            return Not(self.unary())
        if self.peek() == "(":
            open_at = self.pos
            self.pos += 1
            inner = self.or_expression()
            self.skip_space()
            if self.pos >= self.end:
                raise self.fail("unclosed '('", open_at)
            self.expect(")", f"')' to close the '(' at position {open_at}")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        left_at = self.pos
        left = self.operand()
        self.skip_space()
        op = next((op for op in _COMPARISON_OPERATORS if self.at(op)), None)
        if op is None:
            if self.peek() == "=":
                raise self.fail("use '==' to compare for equality")
            if isinstance(left, Const):
                raise self.fail("a filter needs a path ('@...') or a comparison", left_at)
            return Exists(left)
        self.pos += len(op)
        right = self.operand()
        return Compare(op, left, right)

    def operand(self) -> Operand:
        self.skip_space()
        char = self.peek()
        if char in ("@", "$"):
            self.pos += 1
            return Query(char == "$", self.steps(in_filter=True))
        if char in ("'", '"'):
            return Const(self.string())
        if char == "-" or char in _DIGITS:
            match = _NUMBER.match(self.text, self.pos, self.end)
            if match is None:
                raise self.fail("expected digits after '-'")
            self.pos = match.end()
            text = match.group()
            if match.group(1) is None and match.group(2) is None:
                return Const(self.integer(text, match.start()))
            return Const(float(text))
        match = _IDENTIFIER.match(self.text, self.pos, self.end)
        if match is not None:
            word = match.group()
            if word in _KEYWORDS:
                self.pos = match.end()
                return Const(_KEYWORDS[word])
            raise self.fail(f"unknown identifier {word!r} (paths start with '@' or '$')")
        if not char:
            raise self.fail("expected a path or a literal, found end of expression")
        raise self.fail(f"expected a path or a literal, found {char!r}")


@functools.lru_cache(maxsize=1024)
def parse(expression: str) -> JsonPath:
    """Compile ``expression``; raises :class:`JsonPathError` on bad syntax. Cached."""
    return _Parser(expression).parse()


# --------------------------------------------------------------------------- evaluation


def find(path: JsonPath | str, data: object) -> list[object]:
    """Every value ``path`` selects in ``data``, in document order; never raises."""
    compiled = parse(path) if isinstance(path, str) else path
    return _run(compiled.steps, [data], data)


def _run(steps: tuple[Step, ...], nodes: list[object], root: object) -> list[object]:
    for step in steps:
        if not nodes:
            break
        selected: list[object] = []
        for node in nodes:
            _select(step, node, root, selected)
        nodes = selected
    return nodes


def _children(node: object) -> list[object]:
    if isinstance(node, Mapping):
        return list(node.values())
    if isinstance(node, list | tuple):
        return list(node)
    return []


def _walk(node: object) -> Iterator[object]:
    """``node`` and all its descendants, pre-order (parents before children)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(_children(current)))


def _select(step: Step, node: object, root: object, out: list[object]) -> None:
    if isinstance(step, Key):
        if isinstance(node, Mapping) and step.name in node:
            out.append(node[step.name])
    elif isinstance(step, Index):
        if isinstance(node, list | tuple) and -len(node) <= step.index < len(node):
            out.append(node[step.index])
    elif isinstance(step, Slice):
        if isinstance(node, list | tuple):
            out.extend(node[step.start : step.stop : step.step])
    elif isinstance(step, Wildcard):
        out.extend(_children(node))
    elif isinstance(step, Union):
        for selector in step.selectors:
            _select(selector, node, root, out)
    elif isinstance(step, Filter):
        out.extend(child for child in _children(node) if _test(step.predicate, child, root))
    else:
        for descendant in _walk(node):
            _select(step.selector, descendant, root, out)


def _values(operand: Operand, current: object, root: object) -> list[object]:
    if isinstance(operand, Const):
        return [operand.value]
    return _run(operand.steps, [root if operand.from_root else current], root)


def _test(predicate: Predicate, current: object, root: object) -> bool:
    if isinstance(predicate, Compare):
        lefts = _values(predicate.left, current, root)
        if not lefts:
            return False
        rights = _values(predicate.right, current, root)
        return any(_compare(predicate.op, a, b) for a in lefts for b in rights)
    if isinstance(predicate, Exists):
        return bool(_values(predicate.query, current, root))
    if isinstance(predicate, And):
        return _test(predicate.left, current, root) and _test(predicate.right, current, root)
    if isinstance(predicate, Or):
        return _test(predicate.left, current, root) or _test(predicate.right, current, root)
    return not _test(predicate.operand, current, root)


def _is_number(value: object) -> bool:
    return _as_number(value) is not None


def _json_equal(a: object, b: object) -> bool:
    if _is_number(a) or _is_number(b):
        return _is_number(a) and _is_number(b) and a == b
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)) or a.keys() != b.keys():
            return False
        return all(_json_equal(a[key], b[key]) for key in a)
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        if not (isinstance(a, list | tuple) and isinstance(b, list | tuple)):
            return False
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    return type(a) is type(b) and a == b


def _as_number(value: object) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _compare(op: str, a: object, b: object) -> bool:
    if op == "==":
        return _json_equal(a, b)
    if op == "!=":
        return not _json_equal(a, b)
    if op == "=~":
        if not (isinstance(a, str) and isinstance(b, str)):
            return False
        try:
            return re.search(b, a) is not None
        except re.error:
            return False
    x, y = _as_number(a), _as_number(b)
    if x is not None and y is not None:
        return _ORDERINGS[op](x, y)
    if isinstance(a, str) and isinstance(b, str):
        return _ORDERINGS[op](a, b)
    return False


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
