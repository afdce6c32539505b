"""Subscription cursors: opaque, authenticated names of positions in the hub's log.

A position is an epoch (random per hub, so per process) and a sequence number that counts
the changes of every namespace. Handed out as is, two sequence numbers would tell a caller
how many changes happened in between in namespaces it cannot read; so a cursor seals the
position with a secret key, using HMAC-SHA256 as a pseudorandom function (PRF) in the SIV
construction (deterministic authenticated encryption, Rogaway and Shrimpton)::

    k_iv     = HMAC(key, "event-registry cursor iv")
    k_stream = HMAC(key, "event-registry cursor stream")
    plain    = epoch (4 bytes) ‖ seq (6 bytes, big-endian) ‖ salt (4 bytes)
    iv       = HMAC(k_iv, plain)[:16]
    sealed   = plain XOR HMAC(k_stream, iv)[:14]
    cursor   = urlsafe base64 of iv ‖ sealed, unpadded: 40 characters

Opening a cursor recomputes ``plain`` from ``iv`` and ``sealed`` and accepts it only when
``HMAC(k_iv, plain)[:16]`` equals ``iv`` (compared in constant time).

Guarantees, for anyone without the key (HMAC-SHA256 being a PRF):

- a cursor looks like 30 random bytes: no sequence number, no order, no distance between two
  positions can be read from it; the only thing two cursors reveal is whether their plaintexts
  are equal. :meth:`CursorCipher.seal` uses salt 0, so the cursor of a change is the same for
  every subscriber that sees that change (clients may match cursors they exchanged);
  ``unlinkable=True`` draws a random salt, so two such cursors of the same position differ
  (up to a 2^-32 chance) and cannot be matched with each other or with the change's cursor;
- any cursor not sealed with this key, or modified in any bit, is rejected
  (:class:`Unauthentic`) except with probability 2^-128 per attempt;
- there is no nonce to repeat: the IV is derived from the plaintext.

A cursor sealed with another key is indistinguishable from a forged one; what that means
(an error, or a position from before a restart) is the hub's decision. Sequence numbers must
fit in 48 bits (2.8e14 changes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

EPOCH_BYTES = 4
SEQ_BYTES = 6
SALT_BYTES = 4
IV_BYTES = 16
PLAIN_BYTES = EPOCH_BYTES + SEQ_BYTES + SALT_BYTES
CURSOR_LENGTH = (IV_BYTES + PLAIN_BYTES) * 4 // 3
MIN_KEY_BYTES = 16

_LINKABLE_SALT = bytes(SALT_BYTES)
_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{CURSOR_LENGTH}}}")


class Malformed(ValueError):
    """Not even shaped like a cursor."""


class Unauthentic(ValueError):
    """Shaped like a cursor, but not sealed with this key (or modified since)."""


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


class CursorCipher:
    """Seals positions into cursors and opens them again, with one key."""

    def __init__(self, key: bytes) -> None:
        key = _checked(key)
        self._iv_key = _prf(key, b"event-registry cursor iv")
        self._stream_key = _prf(key, b"event-registry cursor stream")

    def seal(self, epoch: bytes, seq: int, *, unlinkable: bool = False) -> str:
        if len(epoch) != EPOCH_BYTES:
            raise ValueError(f"an epoch is {EPOCH_BYTES} bytes")
        if not 0 <= seq < 1 << (8 * SEQ_BYTES):
            raise ValueError(f"a sequence number fits in {8 * SEQ_BYTES} bits")
        salt = secrets.token_bytes(SALT_BYTES) if unlinkable else _LINKABLE_SALT
        plain = epoch + seq.to_bytes(SEQ_BYTES, "big") + salt
        iv = _prf(self._iv_key, plain)[:IV_BYTES]
        sealed = _xor(plain, _prf(self._stream_key, iv))
        return base64.urlsafe_b64encode(iv + sealed).decode("ascii")

    def open(self, cursor: str) -> tuple[bytes, int]:
        """(epoch, seq) of a cursor this key sealed; Malformed or Unauthentic otherwise."""
        if not _SHAPE.fullmatch(cursor):
            raise Malformed(f"a cursor is {CURSOR_LENGTH} characters of urlsafe base64")
        raw = base64.urlsafe_b64decode(cursor)
        iv, sealed = raw[:IV_BYTES], raw[IV_BYTES:]
        plain = _xor(sealed, _prf(self._stream_key, iv))
        if not hmac.compare_digest(iv, _prf(self._iv_key, plain)[:IV_BYTES]):
            raise Unauthentic("the cursor was not sealed with this key")
        epoch, seq = plain[:EPOCH_BYTES], plain[EPOCH_BYTES : EPOCH_BYTES + SEQ_BYTES]
        return epoch, int.from_bytes(seq, "big")


def _xor(data: bytes, pad: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(pad[: len(data)], "big")).to_bytes(
        len(data), "big"
    )
