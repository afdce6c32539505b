"""A parser for the full CESQL v1 grammar (``cesql/CESQLParser.g4`` of the spec).

Precedence follows the grammar, tightest first: function calls, ``NOT`` and unary ``-``
(they take one operand: an atom, a call, ``EXISTS``, a parenthesised expression or another
unary operation), ``LIKE``, ``IN``, ``* / %``, ``+ -``, comparisons, and ``AND``/``OR``/``XOR``
together on the loosest level, grouping to the right (``a AND b OR c`` is ``a AND (b OR c)``,
as ANTLR reads the grammar's ``<assoc=right>``). The other binary operators group to the left.

Two choices where the spec's lexer and its EBNF part ways: a sign directly followed by
digits is an integer literal only where an operand is expected (the ANTLR lexer would make
``5-3`` a syntax error; here it is a subtraction, so every expression Knative accepts parses
the same, and a few more parse); and integer literals must fit 32 bits.

``parse`` raises ``CesqlSyntaxError`` and nothing else, whatever the text: nesting deeper
than ``MAX_DEPTH`` is a syntax error too, so no input can exhaust the stack.
"""

from __future__ import annotations

from .errors import CesqlSyntaxError
from .lexing import Token, TokenKind, tokenize
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
from .values import ValueKind, parse_integer

MAX_DEPTH = 64
"""Deepest nesting of operations accepted (the evaluator recurses once per level)."""

KEYWORDS = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "IN", "EXISTS", "TRUE", "FALSE"})
_LOGIC, _COMPARISON, _ADDITIVE, _MULTIPLICATIVE, _IN, _LIKE, _UNARY = 10, 20, 30, 40, 50, 60, 70
_BINDING = {
    **dict.fromkeys(LOGIC_OPERATORS, _LOGIC),
    **dict.fromkeys(EQUALITY_OPERATORS | ORDER_OPERATORS, _COMPARISON),
    "+": _ADDITIVE,
    "-": _ADDITIVE,
    "*": _MULTIPLICATIVE,
    "/": _MULTIPLICATIVE,
    "%": _MULTIPLICATIVE,
}
_ATTRIBUTE_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_FUNCTION_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ_")


def parse(source: str) -> Expression:
    """The syntax tree of ``source``; ``CesqlSyntaxError`` if it is not CESQL v1."""
    parser = _Parser(tokenize(source))
    if parser.peek().kind is TokenKind.END:
        raise CesqlSyntaxError("empty expression", 0)
    expression = parser.expression(_LOGIC, 0)
    parser.expect_end()
    if height(expression) > MAX_DEPTH:
        raise CesqlSyntaxError(f"expression nested deeper than {MAX_DEPTH}", 0)
    return expression


def height(expression: Expression) -> int:
    """Levels of operations in ``expression`` (an atom is 1), counted without recursion."""
    tallest = 0
    stack = [(expression, 1)]
    while stack:
        node, level = stack.pop()
        tallest = max(tallest, level)
        stack.extend((child, level + 1) for child in children(node))
    return tallest


def children(expression: Expression) -> tuple[Expression, ...]:
    match expression:
        case Not(operand=operand) | Negate(operand=operand) | Like(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)
        case In(operand=operand, items=items):
            return (operand, *items)
        case Call(arguments=arguments):
            return arguments
    return ()


def _keyword(token: Token) -> str | None:
    if token.kind is TokenKind.WORD and token.text.upper() in KEYWORDS:
        return token.text.upper()
    return None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0

    def peek(self, ahead: int = 0) -> Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self._index += 1
        return token

    def expect_symbol(self, symbol: str) -> Token:
        token = self.peek()
        if token.kind is not TokenKind.SYMBOL or token.text != symbol:
            raise _unexpected(token, f"'{symbol}'")
        return self.advance()

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind is not TokenKind.END:
            raise _unexpected(token, "an operator or the end of the expression")

    def expression(self, minimum: int, depth: int) -> Expression:
        if depth > MAX_DEPTH:
            raise CesqlSyntaxError(f"expression nested deeper than {MAX_DEPTH}", self.peek().start)
        left = self.operand(depth)
        while True:
            token = self.peek()
            keyword = _keyword(token)
            negated = keyword == "NOT" and _keyword(self.peek(1)) in ("LIKE", "IN")
            postfix = _keyword(self.peek(1)) if negated else keyword
            if postfix == "LIKE" and minimum <= _LIKE:
                self._index += 2 if negated else 1
                pattern = self.peek()
                if pattern.kind is not TokenKind.STRING:
                    raise _unexpected(pattern, "a string literal (the LIKE pattern)")
                self.advance()
                left = Like(left, pattern.text, negated)
            elif postfix == "IN" and minimum <= _IN:
                self._index += 2 if negated else 1
                left = In(left, self.items(depth + 1), negated)
            elif (operator := self.binary_operator(token)) and _BINDING[operator] >= minimum:
                self.advance()
                binding = _BINDING[operator]
                right_minimum = binding if operator in LOGIC_OPERATORS else binding + 1
                left = Binary(operator, left, self.expression(right_minimum, depth + 1))
            else:
                return left

    def binary_operator(self, token: Token) -> str | None:
        if token.kind is TokenKind.SYMBOL and token.text in _BINDING:
            return token.text
        keyword = _keyword(token)
        return keyword if keyword in LOGIC_OPERATORS else None

    def items(self, depth: int) -> tuple[Expression, ...]:
        self.expect_symbol("(")
        found = [self.expression(_LOGIC, depth)]
        while self.peek().text == "," and self.peek().kind is TokenKind.SYMBOL:
            self.advance()
            found.append(self.expression(_LOGIC, depth))
        self.expect_symbol(")")
        return tuple(found)

    def operand(self, depth: int) -> Expression:
        token = self.peek()
        keyword = _keyword(token)
        if token.kind is TokenKind.SYMBOL and token.text in ("-", "+"):
            following = self.peek(1)
            if following.kind is TokenKind.INTEGER and following.start == token.end:
                self._index += 2
                return _integer(token.text + following.text, token)
            if token.text == "-":
                self.advance()
                return Negate(self.expression(_UNARY, depth + 1))
        if keyword == "NOT":
            self.advance()
            return Not(self.expression(_UNARY, depth + 1))
        if keyword == "EXISTS":
            self.advance()
            name = self.peek()
            if name.kind is not TokenKind.WORD or not _is_attribute(name):
                raise _unexpected(name, "an attribute name after EXISTS")
            self.advance()
            return Exists(name.text.lower())
        if keyword in ("TRUE", "FALSE"):
            self.advance()
            return Literal(ValueKind.BOOLEAN, keyword == "TRUE")
        if token.kind is TokenKind.INTEGER:
            self.advance()
            return _integer(token.text, token)
        if token.kind is TokenKind.STRING:
            self.advance()
            return Literal(ValueKind.STRING, token.text)
        if token.kind is TokenKind.SYMBOL and token.text == "(":
            self.advance()
            inner = self.expression(_LOGIC, depth + 1)
            self.expect_symbol(")")
            return inner
        if token.kind is TokenKind.WORD and keyword is None:
            return self.word(token, depth)
        raise _unexpected(token, "an operand")

    def word(self, token: Token, depth: int) -> Expression:
        following = self.peek(1)
        called = following.kind is TokenKind.SYMBOL and following.text == "("
        if called and set(token.text.upper()) <= _FUNCTION_CHARACTERS and token.text[0] != "_":
            self.advance()
            self.advance()
            arguments: list[Expression] = []
            if not (self.peek().kind is TokenKind.SYMBOL and self.peek().text == ")"):
                arguments.append(self.expression(_LOGIC, depth + 1))
                while self.peek().kind is TokenKind.SYMBOL and self.peek().text == ",":
                    self.advance()
                    arguments.append(self.expression(_LOGIC, depth + 1))
            self.expect_symbol(")")
            return Call(token.text.upper(), tuple(arguments))
        if not _is_attribute(token):
            raise CesqlSyntaxError(
                f"{token.text!r} is neither an attribute name (letters and digits) "
                "nor a function name followed by '('",
                token.start,
            )
        self.advance()
        return Attribute(token.text.lower())


def _is_attribute(token: Token) -> bool:
    return _keyword(token) is None and set(token.text.lower()) <= _ATTRIBUTE_CHARACTERS


def _integer(text: str, token: Token) -> Literal:
    value = parse_integer(text)
    if value is None:
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise CesqlSyntaxError(f"integer literal {shown} does not fit in 32 bits", token.start)
    return Literal(ValueKind.INTEGER, value)


def _unexpected(token: Token, wanted: str) -> CesqlSyntaxError:
    found = token.kind.value if token.kind is TokenKind.END else repr(token.text)
    if token.kind is TokenKind.STRING:
        found = "a string literal"
    return CesqlSyntaxError(f"expected {wanted}, found {found}", token.start)
