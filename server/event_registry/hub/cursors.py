"""Subscription cursors: opaque, authenticated names of positions in the registry's changes.

A position is :data:`POSITION_BYTES` bytes (what they mean is :mod:`.positions`'s business:
resourceVersions and state digests of the watched kinds). Handed out as is, two positions
would tell a caller how many changes happened in between in namespaces it cannot read; so a
cursor seals the position with a secret key, using HMAC-SHA256 as a pseudorandom function
(PRF) in the SIV construction (deterministic authenticated encryption, Rogaway and
Shrimpton)::

    k_iv     = HMAC(key, "event-registry cursor iv")
    k_stream = HMAC(key, "event-registry cursor stream")
    plain    = position (40 bytes) ‖ salt (4 bytes)
    iv       = HMAC(k_iv, plain)[:16]
    stream   = HMAC(k_stream, iv ‖ 0x00) ‖ HMAC(k_stream, iv ‖ 0x01)   (counter mode)
    sealed   = plain XOR stream[:44]
    cursor   = urlsafe base64 of iv ‖ sealed, unpadded: 80 characters

Opening a cursor recomputes ``plain`` from ``iv`` and ``sealed`` and accepts it only when
``HMAC(k_iv, plain)[:16]`` equals ``iv`` (compared in constant time).

Guarantees, for anyone without the key (HMAC-SHA256 being a PRF):

- a cursor looks like 60 random bytes: no resourceVersion, no order, no distance between two
  positions can be read from it; the only thing two cursors reveal is whether their plaintexts
  are equal. :meth:`CursorCipher.seal` uses salt 0, so the cursor of a change is the same for
  every subscriber that sees that change (clients may match cursors they exchanged);
  ``unlinkable=True`` draws a random salt, so two such cursors of the same position differ
  (up to a 2^-32 chance) and cannot be matched with each other or with the change's cursor;
- any cursor not sealed with this key, or modified in any bit, is rejected
  (:class:`Unauthentic`) except with probability 2^-128 per attempt;
- there is no nonce to repeat: the IV is derived from the plaintext.

A cursor sealed with another key is indistinguishable from a forged one; what that means
(an error, or a position from before a restart) is the hub's decision. Processes that share
the key (``--cursor-key-file``: replicas, workers, restarts) open each other's cursors.
:func:`subkey` derives further keys from the same secret for other uses (never the sealing
keys themselves).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

POSITION_BYTES = 40
SALT_BYTES = 4
IV_BYTES = 16
PLAIN_BYTES = POSITION_BYTES + SALT_BYTES
CURSOR_LENGTH = (IV_BYTES + PLAIN_BYTES) * 4 // 3
MIN_KEY_BYTES = 16

_LINKABLE_SALT = bytes(SALT_BYTES)
_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{CURSOR_LENGTH}}}")
_PREVIOUS_SHAPE = re.compile(r"[A-Za-z0-9_-]{40}")
"""Cursors of earlier versions (a process's epoch and sequence number, 30 bytes sealed)."""


class Malformed(ValueError):
    """Not even shaped like a cursor."""


class Unauthentic(ValueError):
    """Shaped like a cursor, but not sealed with this key (or modified since)."""


def of_an_earlier_version(cursor: str) -> bool:
    """Shaped like a cursor of an earlier version of the registry (before an upgrade)."""
    return _PREVIOUS_SHAPE.fullmatch(cursor) is not None


def new_key() -> bytes:
    """A random key: cursors sealed with it open only in this process."""
    return secrets.token_bytes(32)


def key_from_secret(secret: bytes) -> bytes:
    """The key from a shared secret (surrounding whitespace ignored, e.g. a final newline)."""
    return _checked(secret.strip())


def _checked(key: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"a cursor key needs at least {MIN_KEY_BYTES} bytes of secret, got {len(key)}"
        )
    return key


def _prf(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, hashlib.sha256)


def subkey(key: bytes, label: str) -> bytes:
    """A key for ``label`` derived from a cursor key (independent of the sealing keys)."""
    return _prf(_checked(key), f"event-registry {label}".encode())


class CursorCipher:
    """Seals positions into cursors and opens them again, with one key."""

    def __init__(self, key: bytes) -> None:
        key = _checked(key)
        self._iv_key = _prf(key, b"event-registry cursor iv")
        self._stream_key = _prf(key, b"event-registry cursor stream")

    def seal(self, position: bytes, *, unlinkable: bool = False) -> str:
        if len(position) != POSITION_BYTES:
            raise ValueError(f"a position is {POSITION_BYTES} bytes")
        salt = secrets.token_bytes(SALT_BYTES) if unlinkable else _LINKABLE_SALT
        plain = position + salt
        iv = _prf(self._iv_key, plain)[:IV_BYTES]
        sealed = _xor(plain, self._stream(iv))
        return base64.urlsafe_b64encode(iv + sealed).decode("ascii")

    def open(self, cursor: str) -> bytes:
        """The position of a cursor this key sealed; Malformed or Unauthentic otherwise."""
        if not _SHAPE.fullmatch(cursor):
            raise Malformed(f"a cursor is {CURSOR_LENGTH} characters of urlsafe base64")
        raw = base64.urlsafe_b64decode(cursor)
        iv, sealed = raw[:IV_BYTES], raw[IV_BYTES:]
        plain = _xor(sealed, self._stream(iv))
        if not hmac.compare_digest(iv, _prf(self._iv_key, plain)[:IV_BYTES]):
            raise Unauthentic("the cursor was not sealed with this key")
        return plain[:POSITION_BYTES]

    def _stream(self, iv: bytes) -> bytes:
        blocks = -(-PLAIN_BYTES // hashlib.sha256().digest_size)
        return b"".join(_prf(self._stream_key, iv + bytes([i])) for i in range(blocks))


def _xor(data: bytes, pad: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(pad[: len(data)], "big")).to_bytes(
        len(data), "big"
    )
