"""Batched text frames are byte for byte what the websockets library writes, one by one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from event_registry.app.live.framing import cached_header, header, run_frames, text_frames


def reference(payload: bytes) -> bytes:
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65_535, 65_536, 70_000])
def test_every_length_form_matches_websockets(length: int) -> None:
    payload = b"x" * length
    assert header(length) + payload == reference(payload)


@given(st.lists(st.text(max_size=300), max_size=20))
def test_a_batch_parses_back_into_the_same_messages(texts: list[str]) -> None:
    payloads = [text.encode() for text in texts]
    wire = text_frames(payloads)
    assert wire == b"".join(reference(payload) for payload in payloads)
    reader = StreamReader()
    reader.feed_data(wire)
    reader.feed_eof()
    parsed = []
    for _ in payloads:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            while True:
                next(parser)
        except StopIteration as done:
            frame = done.value
        assert frame.opcode is Opcode.TEXT
        assert frame.fin
        parsed.append(bytes(frame.data).decode())
    assert parsed == texts


@given(
    st.binary(max_size=200),
    st.lists(st.text(max_size=300), max_size=12),
    st.binary(max_size=3),
)
def test_a_run_is_framed_as_its_messages_would_be(
    prefix: bytes, texts: list[str], suffix: bytes
) -> None:
    payloads = [text.encode() for text in texts]
    expected = text_frames([prefix + payload + suffix for payload in payloads])
    assert run_frames(prefix, payloads, suffix) == expected


@pytest.mark.parametrize("length", [0, 125, 126, 65_535, 65_536])
def test_a_remembered_header_is_the_header(length: int) -> None:
    assert cached_header(length) == header(length)
    assert cached_header(length) == header(length)
