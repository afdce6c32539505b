"""Kubernetes label and field selectors: parsed once, matched many times.

Guarantees:

* :func:`parse_label_selector` accepts exactly the language of
  ``k8s.io/apimachinery/pkg/labels.Parse`` (``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``,
  ``k notin (a,b)``, ``k``, ``!k``, ``k>1``, ``k<1``; comma-separated; blanks around tokens
  ignored) and rejects everything else with :class:`~.errors.BadRequest` carrying the
  message the apiserver sends, e.g. ``unable to parse requirement: found '', expected:
  identifier``. Keys must be qualified names and values label values (see :mod:`.names`).
* :func:`parse_field_selector` follows ``k8s.io/apimachinery/pkg/fields.ParseSelector``
  (``f=v``, ``f==v``, ``f!=v``; ``\\,``, ``\\=`` and ``\\\\`` escape values) and then rejects
  any field outside ``supported`` with ``field label not supported: <field>``.
* Parsing is the only step that can fail; the resulting selectors are immutable, hashable
  and their ``matches`` never raises for a mapping of strings.
* Absence semantics are upstream's: ``!=`` and ``notin`` match an absent label; ``=``,
  ``in``, ``>``, ``<`` and existence do not. A field absent from the field mapping reads
  as ``""``.
* ``None``, ``""`` (and, for labels, blank text) select everything.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import BadRequest
from .names import label_value_errors, qualified_name_errors

__all__ = [
    "FieldOperator",
    "FieldRequirement",
    "FieldSelector",
    "LabelOperator",
    "LabelRequirement",
    "LabelSelector",
    "object_fields",
    "parse_field_selector",
    "parse_label_selector",
]

LabelOperator = Literal["=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt"]
FieldOperator = Literal["=", "==", "!="]
_FIELD_OPERATORS: dict[str, FieldOperator] = {"!=": "!=", "==": "==", "=": "="}
_FIELD_OPERATOR_RE = re.compile("!=|==|=")

_INT64_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``, ``None`` where it would fail."""
    if _INT64_RE.fullmatch(text) is None:
        return None
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


# ---------------------------------------------------------------------------------------------
# Label selectors


@dataclass(frozen=True)
class LabelRequirement:
    """One requirement of a label selector; ``values`` is sorted and free of duplicates."""

    key: str
    operator: LabelOperator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        value = labels.get(self.key)
        if op in ("=", "==", "in"):
            return value is not None and value in self.values
        if op in ("!=", "notin"):
            return value is None or value not in self.values
        # "gt" / "lt": both sides must be 64-bit integers.
        if value is None or len(self.values) != 1:
            return False
        have, want = _parse_int64(value), _parse_int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if op == "gt" else have < want

    def __str__(self) -> str:
        op = self.operator
        if op == "exists":
            return self.key
        if op == "!":
            return f"!{self.key}"
        joined = ",".join(self.values)
        if op in ("in", "notin"):
            return f"{self.key} {op} ({joined})"
        symbol = {"gt": ">", "lt": "<"}.get(op, op)
        return f"{self.key}{symbol}{joined}"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of :class:`LabelRequirement`, sorted by key; empty selects everything."""

    requirements: tuple[LabelRequirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)

    def exact_value(self, key: str) -> str | None:
        """The single value ``key`` must have (``k=v``, ``k==v``, ``k in (v)``), if required.

        As upstream ``RequiresExactMatch``, only the first requirement on ``key`` is consulted.
        """
        for requirement in self.requirements:
            if requirement.key == key:
                if requirement.operator in ("=", "==", "in") and len(requirement.values) == 1:
                    return requirement.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


class _Tok(enum.Enum):
    END = enum.auto()
    CLOSE_PAREN = enum.auto()
    COMMA = enum.auto()
    NOT = enum.auto()
    DOUBLE_EQUALS = enum.auto()
    EQUALS = enum.auto()
    GREATER = enum.auto()
    IDENT = enum.auto()
    IN = enum.auto()
    LESS = enum.auto()
    NOT_EQUALS = enum.auto()
    NOT_IN = enum.auto()
    OPEN_PAREN = enum.auto()


_SYMBOLS: dict[str, _Tok] = {
    ")": _Tok.CLOSE_PAREN,
    ",": _Tok.COMMA,
    "!": _Tok.NOT,
    "==": _Tok.DOUBLE_EQUALS,
    "=": _Tok.EQUALS,
    ">": _Tok.GREATER,
    "<": _Tok.LESS,
    "!=": _Tok.NOT_EQUALS,
    "(": _Tok.OPEN_PAREN,
}
_KEYWORDS: dict[str, _Tok] = {"in": _Tok.IN, "notin": _Tok.NOT_IN}
_SPECIAL = frozenset("=!(),<>")
_BLANK = frozenset(" \t\r\n")
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"
_OPERATOR_OF_TOKEN: dict[_Tok, LabelOperator] = {
    _Tok.IN: "in",
    _Tok.NOT_IN: "notin",
    _Tok.EQUALS: "=",
    _Tok.DOUBLE_EQUALS: "==",
    _Tok.NOT_EQUALS: "!=",
    _Tok.GREATER: "gt",
    _Tok.LESS: "lt",
}


def _lex(text: str) -> list[tuple[_Tok, str]]:
    """Tokens of ``text`` as upstream's lexer produces them, ending with ``END``."""
    items: list[tuple[_Tok, str]] = []
    pos, size = 0, len(text)
    while True:
        while pos < size and text[pos] in _BLANK:
            pos += 1
        if pos >= size:
            items.append((_Tok.END, ""))
            return items
        if text[pos] in _SPECIAL:
            pair = text[pos : pos + 2]
            literal = pair if pair in ("!=", "==") else text[pos]
            items.append((_SYMBOLS[literal], literal))
            pos += len(literal)
            continue
        start = pos
        while pos < size and text[pos] not in _SPECIAL and text[pos] not in _BLANK:
            pos += 1
        word = text[start:pos]
        items.append((_KEYWORDS.get(word, _Tok.IDENT), word))


class _ParseError(Exception):
    pass


def _go_quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _aggregate(messages: list[str]) -> str:
    """Upstream ``utilerrors.NewAggregate(...).Error()``: one message, or ``[a, b]``."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


class _LabelParser:
    """Recursive descent over the token list, mirroring upstream ``labels.Parser``."""

    def __init__(self, text: str) -> None:
        self._items = _lex(text)
        self._position = 0

    def _lookahead(self, values: bool) -> tuple[_Tok, str]:
        tok, literal = self._items[self._position]
        if values and tok in (_Tok.IN, _Tok.NOT_IN):
            tok = _Tok.IDENT
        return tok, literal

    def _consume(self, values: bool) -> tuple[_Tok, str]:
        item = self._lookahead(values)
        self._position += 1
        return item

    def parse(self) -> list[LabelRequirement]:
        requirements: list[LabelRequirement] = []
        while True:
            tok, literal = self._lookahead(values=True)
            if tok == _Tok.END:
                return requirements
            if tok not in (_Tok.IDENT, _Tok.NOT):
                raise _ParseError(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self._requirement())
            except _ParseError as error:
                raise _ParseError(f"unable to parse requirement: {error}") from None
            tok, literal = self._consume(values=True)
            if tok == _Tok.END:
                return requirements
            if tok != _Tok.COMMA:
                raise _ParseError(f"found '{literal}', expected: ',' or 'end of string'")
            tok, literal = self._lookahead(values=True)
            if tok not in (_Tok.IDENT, _Tok.NOT):
                raise _ParseError(f"found '{literal}', expected: identifier after ','")

    def _requirement(self) -> LabelRequirement:
        negated = False
        tok, key = self._consume(values=True)
        if tok == _Tok.NOT:
            negated = True
            tok, key = self._consume(values=True)
        if tok != _Tok.IDENT:
            raise _ParseError(f"found '{key}', expected: identifier")
        key_errors = qualified_name_errors(key)
        if key_errors:
            raise _ParseError(f"<nil>: Invalid value: {_go_quote(key)}: {'; '.join(key_errors)}")
        if negated:
            return LabelRequirement(key, "!")
        if self._lookahead(values=True)[0] in (_Tok.END, _Tok.COMMA):
            return LabelRequirement(key, "exists")

        tok, literal = self._consume(values=False)
        operator = _OPERATOR_OF_TOKEN.get(tok)
        if operator is None:
            raise _ParseError(f"found '{literal}', expected: {_BINARY_OPERATORS}")
        values = self._set_values() if operator in ("in", "notin") else self._exact_value()
        return _new_requirement(key, operator, tuple(sorted(values)))

    def _set_values(self) -> set[str]:
        tok, literal = self._consume(values=True)
        if tok != _Tok.OPEN_PAREN:
            raise _ParseError(f"found '{literal}' expected: '('")
        tok, literal = self._lookahead(values=True)
        if tok == _Tok.CLOSE_PAREN:
            self._consume(values=True)
            return {""}
        if tok not in (_Tok.IDENT, _Tok.COMMA):
            raise _ParseError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self._identifier_list()
        self._consume(values=True)  # the ")" the list stopped at
        return values

    def _identifier_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, literal = self._consume(values=True)
            if tok == _Tok.IDENT:
                values.add(literal)
                following, following_literal = self._lookahead(values=True)
                if following == _Tok.CLOSE_PAREN:
                    return values
                if following != _Tok.COMMA:
                    raise _ParseError(f"found '{following_literal}', expected: ',' or ')'")
            elif tok == _Tok.COMMA:
                # Empty entries, as in "(,a)", "(a,)" or "(a,,b)", stand for the empty value.
                if not values:
                    values.add("")
                following = self._lookahead(values=True)[0]
                if following == _Tok.CLOSE_PAREN:
                    values.add("")
                    return values
                if following == _Tok.COMMA:
                    values.add("")
            else:
                raise _ParseError(f"found '{literal}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        tok, literal = self._lookahead(values=True)
        if tok in (_Tok.END, _Tok.COMMA):
            return {""}
        tok, literal = self._consume(values=True)
        if tok != _Tok.IDENT:
            raise _ParseError(f"found '{literal}', expected: identifier")
        return {literal}


def _new_requirement(
    key: str, operator: LabelOperator, values: tuple[str, ...]
) -> LabelRequirement:
    """Upstream ``NewRequirement``'s checks on values, with its aggregated message."""
    errors: list[str] = []
    if operator in ("gt", "lt"):
        for index, value in enumerate(values):
            if _parse_int64(value) is None:
                errors.append(
                    f"values[{index}]: Invalid value: {_go_quote(value)}: "
                    "for 'Gt', 'Lt' operators, the value must be an integer"
                )
    for index, value in enumerate(values):
        value_errors = label_value_errors(value)
        if value_errors:
            errors.append(
                f"values[{index}][{key}]: Invalid value: {_go_quote(value)}: "
                + "; ".join(value_errors)
            )
    if errors:
        raise _ParseError(_aggregate(errors))
    return LabelRequirement(key, operator, values)


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a ``labelSelector``; ``None`` and blank text select everything.

    Raises :class:`~.errors.BadRequest` with the apiserver's message on any syntax error,
    invalid key or invalid value.
    """
    if text is None or not text.strip():
        return LabelSelector()
    try:
        requirements = _LabelParser(text).parse()
    except _ParseError as error:
        raise BadRequest(str(error)) from None
    return LabelSelector(tuple(sorted(requirements, key=lambda requirement: requirement.key)))


# ---------------------------------------------------------------------------------------------
# Field selectors


def _escape_field_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


@dataclass(frozen=True)
class FieldRequirement:
    """``field <operator> value`` with the value unescaped."""

    field: str
    operator: FieldOperator
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        equal = fields.get(self.field, "") == self.value
        return not equal if self.operator == "!=" else equal

    def __str__(self) -> str:
        symbol = "!=" if self.operator == "!=" else "="
        return f"{self.field}{symbol}{_escape_field_value(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of :class:`FieldRequirement`; empty selects everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(requirement.matches(fields) for requirement in self.requirements)

    def exact_value(self, field: str) -> str | None:
        """The value of the first ``field=value`` (or ``==``) requirement, for index lookups."""
        for requirement in self.requirements:
            if requirement.field == field and requirement.operator != "!=":
                return requirement.value
        return None

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


def _split_terms(text: str) -> list[str]:
    """Split on commas not preceded by an escaping backslash; escapes are kept."""
    terms: list[str] = []
    start = 0
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:index])
            start = index + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, FieldOperator, str] | None:
    """Split at the first operator; ``!=`` and ``==`` win over ``=`` at the same position."""
    found = _FIELD_OPERATOR_RE.search(term)
    if found is None:
        return None
    operator = _FIELD_OPERATORS[found.group()]
    return term[: found.start()], operator, term[found.end() :]


def _unescape_field_value(value: str) -> str:
    if "\\" not in value and "," not in value and "=" not in value:
        return value
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise BadRequest(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            # Go formats the rune with %v, i.e. as its code point.
            raise BadRequest(
                f"invalid field selector: unescapedRune character in value: {ord(char)}"
            )
        else:
            out.append(char)
    if escaped:
        raise BadRequest("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(text: str | None, *, supported: Collection[str]) -> FieldSelector:
    """Parse a ``fieldSelector``; ``None`` and ``""`` select everything.

    Raises :class:`~.errors.BadRequest` on a term without an operator, on a bad escape and on
    any field not in ``supported`` (``field label not supported: <field>``). Terms are
    checked in sorted order, as upstream, so the first reported problem is the same.
    """
    if not text:
        return FieldSelector()
    requirements: list[FieldRequirement] = []
    for term in sorted(_split_terms(text)):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{term}'")
        field, operator, raw_value = split
        requirements.append(FieldRequirement(field, operator, _unescape_field_value(raw_value)))
    for requirement in requirements:
        if requirement.field not in supported:
            raise BadRequest(f"field label not supported: {requirement.field}")
    return FieldSelector(tuple(requirements))


def object_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    """The selectable fields every object has: ``metadata.name`` and ``metadata.namespace``.

    Missing or non-string values read as ``""``, as an unset field does upstream.
    """
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        metadata = {}
    name = metadata.get("name")
    namespace = metadata.get("namespace")
    return {
        "metadata.name": name if isinstance(name, str) else "",
        "metadata.namespace": namespace if isinstance(namespace, str) else "",
    }
