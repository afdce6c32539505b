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
ALPHABET = string.ascii_letters + string.digits + "-_"
LENGTH = cursors.CURSOR_LENGTH


def position(n: int) -> bytes:
    """A position whose first bytes say something (a resourceVersion would)."""
    return n.to_bytes(8, "big") + bytes(cursors.POSITION_BYTES - 8)


def raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor)


def differing_bits(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


@given(
    data=st.binary(min_size=cursors.POSITION_BYTES, max_size=cursors.POSITION_BYTES),
    unlinkable=st.booleans(),
)
def test_a_sealed_position_opens_to_itself(data: bytes, unlinkable: bool) -> None:
    cipher = CursorCipher(KEY)
    cursor = cipher.seal(data, unlinkable=unlinkable)
    assert LENGTH == 80
    assert re.fullmatch(r"[A-Za-z0-9_-]{80}", cursor)
    assert cipher.open(cursor) == data


def test_the_cursor_of_a_position_is_the_same_every_time() -> None:
    assert CursorCipher(KEY).seal(position(7)) == CursorCipher(KEY).seal(position(7))


def test_unlinkable_cursors_of_one_position_differ_and_still_open() -> None:
    cipher = CursorCipher(KEY)
    sealed = {cipher.seal(position(7), unlinkable=True) for _ in range(50)}
    assert len(sealed) == 50
    assert cipher.seal(position(7)) not in sealed
    assert {cipher.open(cursor) for cursor in sealed} == {position(7)}


def test_cursors_of_consecutive_positions_share_no_visible_structure() -> None:
    cipher = CursorCipher(KEY)
    sealed = [cipher.seal(position(seq)) for seq in range(1000, 1200)]
    assert len({len(cursor) for cursor in sealed}) == 1
    for before, after in itertools.pairwise(sealed):
        # 480 bits each: about half differ, as between two random strings (mean 240, sd 11)
        assert 160 < differing_bits(raw(before), raw(after)) < 320, (before, after)
        assert before[:6] != after[:6]
        assert after[-6:] != before[-6:]


def test_a_cursor_does_not_contain_its_position() -> None:
    cipher = CursorCipher(KEY)
    for seq in (0, 1, 255, 123_456):
        opened = raw(cipher.seal(position(seq)))
        assert seq.to_bytes(8, "big") not in opened
        assert bytes(8) not in opened


@pytest.mark.parametrize("index", range(LENGTH))
def test_changing_any_character_is_detected(index: int) -> None:
    cipher = CursorCipher(KEY)
    cursor = cipher.seal(position(42))
    for replacement in ALPHABET:
        if replacement == cursor[index]:
            continue
        tampered = cursor[:index] + replacement + cursor[index + 1 :]
        with pytest.raises(cursors.Unauthentic):
            cipher.open(tampered)


def test_a_cursor_of_another_key_is_unauthentic() -> None:
    cursor = CursorCipher(KEY).seal(position(42))
    with pytest.raises(cursors.Unauthentic):
        CursorCipher(b"another key of 32 bytes........!").open(cursor)


def test_random_strings_of_the_right_shape_are_unauthentic() -> None:
    cipher = CursorCipher(KEY)
    for text in ("A" * LENGTH, "_" * LENGTH, base64.urlsafe_b64encode(bytes(60)).decode()):
        with pytest.raises(cursors.Unauthentic):
            cipher.open(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage!!",
        "A" * 79,
        "A" * 81,
        "A" * 79 + "=",
        "A" * 79 + "+",
        "A" * 80 + "\n",
        "A" * 40,  # the length of cursors before they named cluster positions
        base64.urlsafe_b64encode(b"abcd:12").decode().rstrip("="),  # the first format
    ],
)
def test_anything_not_shaped_like_a_cursor_is_malformed(text: str) -> None:
    with pytest.raises(cursors.Malformed):
        CursorCipher(KEY).open(text)


def test_positions_that_do_not_fit_are_refused() -> None:
    cipher = CursorCipher(KEY)
    with pytest.raises(ValueError, match="40 bytes"):
        cipher.seal(bytes(39))
    with pytest.raises(ValueError, match="40 bytes"):
        cipher.seal(bytes(41))


def test_subkeys_differ_by_label_and_from_the_key() -> None:
    assert cursors.subkey(KEY, "a") == cursors.subkey(KEY, "a")
    assert len({cursors.subkey(KEY, "a"), cursors.subkey(KEY, "b"), KEY}) == 3


def test_a_key_from_a_secret_file_ignores_the_final_newline() -> None:
    secret = b"correct horse battery staple"
    assert cursors.key_from_secret(secret + b"\n") == secret
    cursor = CursorCipher(cursors.key_from_secret(secret + b"\r\n")).seal(position(3))
    assert CursorCipher(cursors.key_from_secret(secret)).open(cursor) == position(3)


@pytest.mark.parametrize("secret", [b"", b"  \n", b"short secret\n"])
def test_a_short_secret_is_refused(secret: bytes) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        cursors.key_from_secret(secret)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CursorCipher(secret)


def test_new_keys_are_random() -> None:
    assert cursors.new_key() != cursors.new_key()
    assert len(cursors.new_key()) == 32
