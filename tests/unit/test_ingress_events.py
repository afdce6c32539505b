"""Requests → CloudEvents (ingress.events): the three content modes, and every way not to be one."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.ingress.events import BATCH, STRUCTURED, NotACloudEvent, SeenEvent, parse

BINARY = {
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-type": "com.example.push",
    "ce-source": "/repo",
}
EVENT = {"specversion": "1.0", "id": "1", "type": "com.example.push", "source": "/repo"}


def test_binary_mode() -> None:
    headers = {
        **BINARY,
        "ce-dataschema": "https://schemas/push",
        "content-type": "application/json",
    }
    assert parse(headers, b'{"a": 1}') == [
        SeenEvent("com.example.push", "/repo", "1.0", "https://schemas/push")
    ]


def test_structured_mode_with_a_charset() -> None:
    headers = {"content-type": f"{STRUCTURED}; charset=utf-8"}
    body = json.dumps({**EVENT, "data": {"a": 1}}).encode()
    assert parse(headers, body) == [SeenEvent("com.example.push", "/repo", "1.0")]


def test_batch_mode() -> None:
    body = json.dumps([EVENT, {**EVENT, "id": "2", "type": "com.example.pr"}]).encode()
    events = parse({"content-type": BATCH}, body)
    assert [e.type for e in events] == ["com.example.push", "com.example.pr"]


def test_spec_0_3_events_are_accepted() -> None:
    assert parse({**BINARY, "ce-specversion": "0.3"}, b"")[0].specversion == "0.3"


@pytest.mark.parametrize(
    ("headers", "body", "says"),
    [
        ({"content-type": "application/json"}, b'{"a": 1}', "ce-specversion"),
        ({}, b"garbage", "not a CloudEvent"),
        ({k: v for k, v in BINARY.items() if k != "ce-specversion"}, b"", "ce-specversion"),
        ({k: v for k, v in BINARY.items() if k != "ce-source"}, b"", "source"),
        ({**BINARY, "ce-type": ""}, b"", "type"),
        ({**BINARY, "ce-time": "yesterday"}, b"", "binary mode"),
        ({**BINARY, "ce-Bad_Name": "x"}, b"", "bad_name"),
        ({"content-type": STRUCTURED}, b"garbage", "structured mode"),
        ({"content-type": STRUCTURED}, b"[1]", "structured mode"),
        ({"content-type": STRUCTURED}, b"\xff\xfe", "structured mode"),
        (
            {"content-type": STRUCTURED},
            json.dumps({**EVENT, "specversion": "2.0"}).encode(),
            "specversion",
        ),
        ({"content-type": STRUCTURED}, json.dumps({**EVENT, "type": 5}).encode(), "type"),
        ({"content-type": STRUCTURED}, json.dumps({**EVENT, "time": 5}).encode(), "structured"),
        ({"content-type": STRUCTURED}, b"[" * 100_000, "structured mode"),
        ({"content-type": BATCH}, b"[]", "non-empty JSON array"),
        ({"content-type": BATCH}, b"{}", "non-empty JSON array"),
        ({"content-type": BATCH}, b"[1]", "batch item 0"),
        ({"content-type": BATCH}, json.dumps([EVENT, {"id": "2"}]).encode(), "batch item 1"),
    ],
)
def test_what_is_not_a_cloudevent_says_why(headers: dict[str, str], body: bytes, says: str) -> None:
    with pytest.raises(NotACloudEvent, match="not a CloudEvent") as raised:
        parse(headers, body)
    assert says in str(raised.value)


headers_strategy = st.dictionaries(
    st.sampled_from(["content-type", *BINARY, "ce-time", "ce-x"]),
    st.one_of(st.sampled_from([STRUCTURED, BATCH, "1.0", "0.3"]), st.text(max_size=20)),
)


@given(
    headers_strategy,
    st.binary(max_size=200)
    | st.builds(
        lambda v: json.dumps(v).encode(),
        st.recursive(
            st.none() | st.text() | st.integers(),
            lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        ),
    ),
)
def test_any_request_is_events_or_not_a_cloudevent(headers: dict[str, str], body: bytes) -> None:
    try:
        events = parse(headers, body)
    except NotACloudEvent:
        return
    assert events
    assert all(e.type and e.source for e in events)
