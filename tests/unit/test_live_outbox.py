"""The subscription outbox against a one-frame-at-a-time model of its rules.

The model is the simplest reading of the guarantees: a list of pending (key, frame) pairs;
a keyed frame queued while ``coalesce_after`` or more are pending first drops the newest
pending frame with that key; more than ``limit`` pending marks the box overflowed. The
outbox queues whole runs (one per burst) and frames them when taken; it must be
indistinguishable from the model for any sequence of puts, takes and discards (a discard
drops every pending frame of one owner). Taken as encoded frames (``take_frames``), the
same frames come out as the wire encoding of what ``take`` would answer.
"""

from __future__ import annotations

from collections.abc import Hashable

from hypothesis import given, settings
from hypothesis import strategies as st

from event_registry.app.live.framing import text_frames
from event_registry.app.live.outbox import Burst, Item, Outbox


class Model:
    def __init__(self, limit: int, coalesce_after: int) -> None:
        self.frames: list[tuple[Hashable | None, bytes]] = []
        self.owners: list[Hashable] = []
        self.limit = limit
        self.coalesce_after = min(coalesce_after, limit)
        self.overflowed = False

    def put(self, frame: bytes, key: Hashable | None, owner: Hashable = None) -> None:
        if key is not None and len(self.frames) >= self.coalesce_after:
            for index in range(len(self.frames) - 1, -1, -1):
                if self.frames[index][0] == key:
                    del self.frames[index]
                    del self.owners[index]
                    break
        self.frames.append((key, frame))
        self.owners.append(owner)
        if len(self.frames) > self.limit:
            self.overflowed = True

    def take(self, most: int) -> list[bytes]:
        taken, self.frames = self.frames[:most], self.frames[most:]
        self.owners = self.owners[most:]
        return [frame for _, frame in taken]

    def discard(self, owner: Hashable) -> None:
        kept = [i for i, o in enumerate(self.owners) if o != owner]
        self.frames = [self.frames[i] for i in kept]
        self.owners = [self.owners[i] for i in kept]


def run_of(owner: str, objects: list[int], serial: int) -> list[Item]:
    return [
        (f"{owner}:{serial}:{index}:o{obj}".encode(), f"o{obj}")
        for index, obj in enumerate(objects)
    ]


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("run"),
            st.sampled_from(["a", "b"]),
            st.lists(st.integers(0, 5), max_size=12),
        ),
        st.tuples(st.just("control"), st.just(""), st.just([])),
        st.tuples(st.just("discard"), st.sampled_from(["a", "b"]), st.just([])),
        st.tuples(
            st.sampled_from(["take", "take_frames"]),
            st.just(""),
            st.lists(st.integers(1, 9), min_size=1, max_size=1),
        ),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(operations, st.integers(1, 30), st.integers(0, 40))
def test_the_outbox_behaves_like_the_one_frame_model(
    ops: list[tuple[str, str, list[int]]], limit: int, coalesce_after: int
) -> None:
    outbox = Outbox(limit, coalesce_after=coalesce_after)
    model = Model(limit, coalesce_after)
    for serial, (kind, owner, values) in enumerate(ops):
        if kind == "run":
            items = run_of(owner, values, serial)
            outbox.put_run(b"<", b">", Burst(items) if owner == "a" else items, owner)
            for payload, key in items:
                model.put(b"<" + payload + b">", (owner, key), owner)
        elif kind == "control":
            frame = f"control {serial}".encode()
            outbox.put(frame)
            model.put(frame, None)
        elif kind == "discard":
            outbox.discard(owner)
            model.discard(owner)
        elif kind == "take_frames":
            expected = model.take(values[0])
            assert outbox.take_frames(values[0]) == (text_frames(expected), len(expected))
        else:
            assert outbox.take(values[0]) == model.take(values[0])
        assert len(outbox) == len(model.frames)
        assert outbox.overflowed == model.overflowed
    assert outbox.take(10_000) == model.take(10_000)
    assert len(outbox) == 0


def test_a_run_is_framed_in_order_and_split_across_takes() -> None:
    outbox = Outbox(100, coalesce_after=50)
    outbox.put_run(b'{"p":', b"}", [(b"1", "x"), (b"2", "y"), (b"3", "z")], "sub")
    outbox.put(b"ping")
    assert outbox.take(2) == [b'{"p":1}', b'{"p":2}']
    assert len(outbox) == 2
    assert outbox.take(5) == [b'{"p":3}', b"ping"]
    assert outbox.take(5) == []


def test_behind_the_threshold_the_latest_state_of_an_object_replaces_the_pending_one() -> None:
    outbox = Outbox(10, coalesce_after=2)
    outbox.put_run(b"", b"", [(b"a1", "a"), (b"b1", "b")], "sub")
    outbox.put_run(b"", b"", [(b"a2", "a")], "sub")  # two pending: a1 is replaced
    outbox.put_run(b"", b"", [(b"a3", "a")], "other")  # another subscription: kept apart
    assert outbox.take(10) == [b"b1", b"a2", b"a3"]


def test_more_pending_frames_than_the_limit_overflow_and_stay_overflowed() -> None:
    outbox = Outbox(3, coalesce_after=3)
    outbox.put_run(b"", b"", [(b"1", None), (b"2", None), (b"3", None)], "sub")
    assert not outbox.overflowed
    outbox.put(b"4")
    assert outbox.overflowed
    outbox.take(10)
    assert outbox.overflowed


def test_a_shared_burst_is_framed_for_each_prefix_as_its_own_frames() -> None:
    burst = Burst([(b'{"n":1}', "x"), (b'{"n":2}', None)])
    first, second, other = Outbox(10), Outbox(10), Outbox(10)
    for outbox, prefix in ((first, b"<1:"), (second, b"<1:"), (other, b"<22:")):
        outbox.put_run(prefix, b">", burst, "s")
    one = text_frames([b'<1:{"n":1}>', b'<1:{"n":2}>'])
    assert first.take_frames(10) == (one, 2)
    assert other.take_frames(10) == (text_frames([b'<22:{"n":1}>', b'<22:{"n":2}>']), 2)
    burst.forget_frames()
    assert second.take_frames(10) == (one, 2)
