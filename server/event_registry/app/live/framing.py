"""WebSocket text frames as bytes, for writing many messages to a socket at once.

Guarantees: :func:`text_frames` returns the RFC 6455 encoding a server sends (FIN set, opcode
text, no mask, no extension bits) of each payload in order, with the shortest length form the
RFC requires (7-bit, 16-bit or 64-bit). Payloads must already be UTF-8 text; nothing is
validated here, so callers pass only bytes they encoded from ``str``.
"""

from __future__ import annotations

from collections.abc import Sequence

_TEXT_FIN = 0x81
_LEN16 = 126
_LEN64 = 127


def header(length: int) -> bytes:
    """The header of one unmasked, final text frame carrying ``length`` payload bytes."""
    if length < _LEN16:
        return bytes((_TEXT_FIN, length))
    if length < 1 << 16:
        return bytes((_TEXT_FIN, _LEN16)) + length.to_bytes(2, "big")
    return bytes((_TEXT_FIN, _LEN64)) + length.to_bytes(8, "big")


def text_frames(payloads: Sequence[bytes]) -> bytes:
    """Every payload as one text frame, concatenated in order (one write for the batch)."""
    parts: list[bytes] = []
    append = parts.append
    for payload in payloads:
        append(header(len(payload)))
        append(payload)
    return b"".join(parts)
