"""Sealed subscription cursors: they round-trip, reveal nothing, and refuse any change."""

from __future__ import annotations

import base64
import itertools
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.hub import cursors
from event_registry.hub.cursors import CursorCipher

KEY = b"k" * 32
EPOCH = b"\x01\x02\x03\x04"
ALPHABET = string.ascii_letters + string.digits + "-_"
MAX_SEQ = (1 << 48) - 1


def raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor)


def differing_bits(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


@given(
    epoch=st.binary(min_size=4, max_size=4),
    seq=st.integers(min_value=0, max_value=MAX_SEQ),
    unlinkable=st.booleans(),
)
def test_a_sealed_position_opens_to_itself(epoch: bytes, seq: int, unlinkable: bool) -> None:
    cipher = CursorCipher(KEY)
    cursor = cipher.seal(epoch, seq, unlinkable=unlinkable)
    assert re.fullmatch(r"[A-Za-z0-9_-]{40}", cursor)
    assert cipher.open(cursor) == (epoch, seq)


def test_the_cursor_of_a_position_is_the_same_every_time() -> None:
    assert CursorCipher(KEY).seal(EPOCH, 7) == CursorCipher(KEY).seal(EPOCH, 7)


def test_unlinkable_cursors_of_one_position_differ_and_still_open() -> None:
    cipher = CursorCipher(KEY)
    sealed = {cipher.seal(EPOCH, 7, unlinkable=True) for _ in range(50)}
    assert len(sealed) == 50
    assert cipher.seal(EPOCH, 7) not in sealed
    assert {cipher.open(cursor) for cursor in sealed} == {(EPOCH, 7)}


def test_cursors_of_consecutive_positions_share_no_visible_structure() -> None:
    cipher = CursorCipher(KEY)
    sealed = [cipher.seal(EPOCH, seq) for seq in range(1000, 1200)]
    assert len({len(cursor) for cursor in sealed}) == 1
    for before, after in itertools.pairwise(sealed):
        # 240 bits each: about half differ, as between two random strings (mean 120, sd 7.7)
        assert 60 < differing_bits(raw(before), raw(after)) < 180, (before, after)
        assert before[:6] != after[:6]
        assert after[-6:] != before[-6:]


def test_a_cursor_does_not_contain_its_position() -> None:
    cipher = CursorCipher(KEY)
    for seq in (0, 1, 255, 123_456):
        opened = raw(cipher.seal(EPOCH, seq))
        assert seq.to_bytes(6, "big") not in opened
        assert EPOCH not in opened


@pytest.mark.parametrize("index", range(40))
def test_changing_any_character_is_detected(index: int) -> None:
    cipher = CursorCipher(KEY)
    cursor = cipher.seal(EPOCH, 42)
    for replacement in ALPHABET:
        if replacement == cursor[index]:
            continue
        tampered = cursor[:index] + replacement + cursor[index + 1 :]
        with pytest.raises(cursors.Unauthentic):
            cipher.open(tampered)


def test_a_cursor_of_another_key_is_unauthentic() -> None:
    cursor = CursorCipher(KEY).seal(EPOCH, 42)
    with pytest.raises(cursors.Unauthentic):
        CursorCipher(b"another key of 32 bytes........!").open(cursor)


def test_random_strings_of_the_right_shape_are_unauthentic() -> None:
    cipher = CursorCipher(KEY)
    for text in ("A" * 40, "_" * 40, base64.urlsafe_b64encode(bytes(30)).decode()):
        with pytest.raises(cursors.Unauthentic):
            cipher.open(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage!!",
        "A" * 39,
        "A" * 41,
        "A" * 39 + "=",
        "A" * 39 + "+",
        "A" * 40 + "\n",
        base64.urlsafe_b64encode(b"abcd:12").decode().rstrip("="),  # the old format
    ],
)
def test_anything_not_shaped_like_a_cursor_is_malformed(text: str) -> None:
    with pytest.raises(cursors.Malformed):
        CursorCipher(KEY).open(text)


def test_positions_that_do_not_fit_are_refused() -> None:
    cipher = CursorCipher(KEY)
    with pytest.raises(ValueError, match="48 bits"):
        cipher.seal(EPOCH, MAX_SEQ + 1)
    with pytest.raises(ValueError, match="48 bits"):
        cipher.seal(EPOCH, -1)
    with pytest.raises(ValueError, match="4 bytes"):
        cipher.seal(b"abc", 1)


def test_a_key_from_a_secret_file_ignores_the_final_newline() -> None:
    secret = b"correct horse battery staple"
    assert cursors.key_from_secret(secret + b"\n") == secret
    cursor = CursorCipher(cursors.key_from_secret(secret + b"\r\n")).seal(EPOCH, 3)
    assert CursorCipher(cursors.key_from_secret(secret)).open(cursor) == (EPOCH, 3)


@pytest.mark.parametrize("secret", [b"", b"  \n", b"short secret\n"])
def test_a_short_secret_is_refused(secret: bytes) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        cursors.key_from_secret(secret)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CursorCipher(secret)


def test_new_keys_are_random() -> None:
    assert cursors.new_key() != cursors.new_key()
    assert len(cursors.new_key()) == 32
