"""CESQL v1 tokens, as the ANTLR lexer of the spec (``cesql/CESQLLexer.g4``) splits them.

Words are runs of ASCII letters, digits and underscores; the parser decides whether a word
is a keyword, an attribute or a function name. A sign is its own token: whether ``-1`` is
a literal or a subtraction depends on where it stands, which only the parser knows. String
literals keep their text as the cloudevents sdk-go reads it: ``\\'`` (``\\"`` in double
quotes) becomes the quote, every other backslash stays, and a doubled quote stays doubled.
Only space, tab, CR and LF separate tokens. Any other character is a ``CesqlSyntaxError``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import CesqlSyntaxError

_WORD_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_DIGITS = frozenset("0123456789")
_SPACES = frozenset(" \t\r\n")
_SYMBOLS = ("!=", "<>", "<=", ">=", "(", ")", ",", "=", "<", ">", "+", "-", "*", "/", "%")


class TokenKind(enum.Enum):
    WORD = "word"
    INTEGER = "integer"
    STRING = "string"
    SYMBOL = "symbol"
    END = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    """The word, digits or symbol as written; for a string, its value."""
    start: int
    end: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(source)
    while position < length:
        character = source[position]
        if character in _SPACES:
            position += 1
        elif character in _WORD_CHARACTERS:
            end = position
            while end < length and source[end] in _WORD_CHARACTERS:
                end += 1
            word = source[position:end]
            kind = TokenKind.INTEGER if set(word) <= _DIGITS else TokenKind.WORD
            tokens.append(Token(kind, word, position, end))
            position = end
        elif character in "'\"":
            tokens.append(_string(source, position))
            position = tokens[-1].end
        else:
            symbol = next((s for s in _SYMBOLS if source.startswith(s, position)), None)
            if symbol is None:
                raise CesqlSyntaxError(f"unexpected character {character!r}", position)
            tokens.append(Token(TokenKind.SYMBOL, symbol, position, position + len(symbol)))
            position += len(symbol)
    tokens.append(Token(TokenKind.END, "", length, length))
    return tokens


def _string(source: str, start: int) -> Token:
    quote = source[start]
    position = start + 1
    length = len(source)
    while position < length:
        character = source[position]
        escaped = character == "\\" and position + 1 < length
        if escaped or source.startswith(quote * 2, position):
            position += 2
        elif character == quote:
            raw = source[start + 1 : position]
            return Token(TokenKind.STRING, raw.replace("\\" + quote, quote), start, position + 1)
        else:
            position += 1
    raise CesqlSyntaxError("unterminated string literal", start)
