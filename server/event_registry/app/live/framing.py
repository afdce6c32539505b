"""WebSocket text frames as bytes, for writing many messages to a socket at once.

Guarantees: :func:`text_frames` returns the RFC 6455 encoding a server sends (FIN set, opcode
text, no mask, no extension bits) of each payload in order, with the shortest length form the
RFC requires (7-bit, 16-bit or 64-bit); :func:`run_frames` encodes ``prefix + payload +
suffix`` for each payload the same way, without building the messages first (one join per
batch: fan-out writes the same run to thousands of clients). Payloads must already be UTF-8
text; nothing is validated here, so callers pass only bytes they encoded from ``str``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, repeat

_TEXT_FIN = 0x81
_LEN16 = 126
_LEN64 = 127
_CACHED_HEADERS = 4096
"""Most headers kept (by length): fan-out frames the same few lengths again and again."""


def header(length: int) -> bytes:
    """The header of one unmasked, final text frame carrying ``length`` payload bytes."""
    if length < _LEN16:
        return bytes((_TEXT_FIN, length))
    if length < 1 << 16:
        return bytes((_TEXT_FIN, _LEN16)) + length.to_bytes(2, "big")
    return bytes((_TEXT_FIN, _LEN64)) + length.to_bytes(8, "big")


class _Headers(dict[int, bytes]):
    """Headers by length, the first ``_CACHED_HEADERS`` lengths asked kept."""

    def __missing__(self, length: int) -> bytes:
        found = header(length)
        if len(self) < _CACHED_HEADERS:
            self[length] = found
        return found


_headers = _Headers()


def cached_header(length: int) -> bytes:
    """:func:`header`, remembered for the first ``_CACHED_HEADERS`` lengths asked."""
    return _headers[length]


def run_frames(prefix: bytes, payloads: Sequence[bytes], suffix: bytes) -> bytes:
    """``prefix + payload + suffix`` for every payload as one text frame, concatenated in
    order: the same bytes as ``text_frames([prefix + p + suffix for p in payloads])``."""
    extra = len(prefix) + len(suffix)
    headers = map(_headers.__getitem__, map(extra.__add__, map(len, payloads)))
    return b"".join(chain.from_iterable(zip(headers, repeat(prefix), payloads, repeat(suffix))))


def text_frames(payloads: Sequence[bytes]) -> bytes:
    """Every payload as one text frame, concatenated in order (one write for the batch)."""
    parts: list[bytes] = []
    append = parts.append
    for payload in payloads:
        append(_headers[len(payload)])
        append(payload)
    return b"".join(parts)
