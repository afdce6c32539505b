"""Unit tests for event_registry.cluster.listwatching.parse_watch_line: one watch line → one event.

A line is an event (ADDED, MODIFIED, DELETED, BOOKMARK) or raises a ClusterError: the Status
an ERROR line carries (Expired for 410, which makes the reflector relist), or ``BadWatchLine``
for anything that is not a watch event. Nothing else ever escapes, whatever the bytes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.cluster import errors
from event_registry.cluster.listwatching import WatchEvent, parse_watch_line
from tests.support.raw_objects import event_type_raw


def line(document: Any) -> bytes:
    return json.dumps(document).encode() + b"\n"


def expired_status() -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "too old resource version: 12 (345)",
        "reason": "Expired",
        "code": 410,
    }


# events -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["ADDED", "MODIFIED", "DELETED"])
def test_an_object_event_carries_its_object(event_type: str) -> None:
    raw = event_type_raw("et", "42")
    event = parse_watch_line(line({"type": event_type, "object": raw}))
    assert event == WatchEvent(event_type, raw)
    assert event.resource_version == "42"


def test_a_bookmark_carries_only_the_resource_version() -> None:
    bookmark = {
        "kind": "EventType",
        "apiVersion": "eventing.knative.dev/v1beta2",
        "metadata": {
            "resourceVersion": "1234",
            "annotations": {"k8s.io/initial-events-end": "true"},
        },
    }
    event = parse_watch_line(line({"type": "BOOKMARK", "object": bookmark}))
    assert event.type == "BOOKMARK"
    assert event.resource_version == "1234"


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param({}, id="no-metadata"),
        pytest.param({"metadata": None}, id="null-metadata"),
        pytest.param({"metadata": {}}, id="empty-metadata"),
        pytest.param({"metadata": {"resourceVersion": None}}, id="null-version"),
    ],
)
def test_an_object_without_a_resource_version_has_an_empty_one(obj: dict[str, Any]) -> None:
    assert parse_watch_line(line({"type": "MODIFIED", "object": obj})).resource_version == ""


@pytest.mark.parametrize("metadata", ["1", ["resourceVersion"], 5])
def test_metadata_that_is_not_an_object_has_no_resource_version(metadata: Any) -> None:
    event = parse_watch_line(line({"type": "ADDED", "object": {"metadata": metadata}}))
    assert event.resource_version == ""


def test_a_numeric_resource_version_reads_as_text() -> None:
    event = parse_watch_line(
        line({"type": "ADDED", "object": {"metadata": {"resourceVersion": 7}}})
    )
    assert event.resource_version == "7"


def test_surrounding_whitespace_and_extra_fields_are_ignored() -> None:
    raw = event_type_raw("et")
    document = {"type": "ADDED", "object": raw, "extra": [1, 2]}
    assert parse_watch_line(b"  " + line(document) + b"\r\n") == WatchEvent("ADDED", raw)


# errors the stream carries ----------------------------------------------------------------------


def test_an_expired_error_line_raises_expired() -> None:
    with pytest.raises(errors.Expired) as raised:
        parse_watch_line(line({"type": "ERROR", "object": expired_status()}))
    assert (raised.value.code, raised.value.reason) == (410, "Expired")
    assert raised.value.message == "too old resource version: 12 (345)"


def test_an_error_line_raises_the_status_it_carries() -> None:
    status = {
        "kind": "Status",
        "code": 500,
        "reason": "InternalError",
        "message": "etcd is sad",
        "details": {"causes": [{"reason": "Timeout", "message": "slow"}]},
    }
    with pytest.raises(errors.ClusterError) as raised:
        parse_watch_line(line({"type": "ERROR", "object": status}))
    assert type(raised.value) is errors.ClusterError
    assert (raised.value.code, raised.value.reason, raised.value.message) == (
        500,
        "InternalError",
        "etcd is sad",
    )
    assert raised.value.causes == [{"reason": "Timeout", "message": "slow"}]


def test_an_error_line_without_a_code_is_a_500_of_unknown_reason() -> None:
    with pytest.raises(errors.ClusterError) as raised:
        parse_watch_line(line({"type": "ERROR", "object": {"message": "gone wrong"}}))
    assert type(raised.value) is errors.ClusterError
    assert (raised.value.code, raised.value.reason, raised.value.message) == (
        500,
        "Unknown",
        "gone wrong",
    )


@pytest.mark.parametrize(
    "status",
    [
        pytest.param({"code": "not a number"}, id="code-text"),
        pytest.param({"code": [410]}, id="code-list"),
        pytest.param({"code": 1e400}, id="code-infinite"),
        pytest.param({"code": 410, "details": ["causes"]}, id="details-list"),
        pytest.param({"code": 410, "details": {"causes": 3}}, id="causes-number"),
    ],
)
def test_a_malformed_error_status_still_raises_a_cluster_error(status: dict[str, Any]) -> None:
    with pytest.raises(errors.ClusterError):
        parse_watch_line(line({"type": "ERROR", "object": status}))


# lines that are not watch events -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_line", "message"),
    [
        pytest.param(b'{"type": "ADDED", "object": {', "undecodable watch line", id="truncated"),
        pytest.param(b"not json", "undecodable watch line", id="text"),
        pytest.param(b"", "undecodable watch line", id="empty"),
        pytest.param(b"\xff\xfe{}", "undecodable watch line", id="not-utf8"),
        pytest.param(b"[]", "watch line without an object", id="list"),
        pytest.param(b'"ADDED"', "watch line without an object", id="string"),
        pytest.param(b"null", "watch line without an object", id="null"),
        pytest.param(b'{"type": "ADDED"}', "watch line without an object", id="no-object"),
        pytest.param(
            b'{"type": "ADDED", "object": null}', "watch line without an object", id="null-object"
        ),
        pytest.param(
            b'{"type": "ADDED", "object": [1]}', "watch line without an object", id="list-object"
        ),
        pytest.param(
            b'{"type": "ERROR", "object": "boom"}', "watch line without an object", id="error-text"
        ),
        pytest.param(b'{"object": {}}', "unknown watch event type ''", id="no-type"),
        pytest.param(
            b'{"type": "added", "object": {}}', "unknown watch event type 'added'", id="lowercase"
        ),
        pytest.param(
            b'{"type": "SYNC", "object": {}}', "unknown watch event type 'SYNC'", id="unknown"
        ),
    ],
)
def test_a_line_that_is_not_a_watch_event_is_a_bad_watch_line(
    raw_line: bytes, message: str
) -> None:
    with pytest.raises(errors.ClusterError) as raised:
        parse_watch_line(raw_line)
    assert type(raised.value) is errors.ClusterError
    assert (raised.value.code, raised.value.reason) == (0, "BadWatchLine")
    assert raised.value.message.startswith(message)
    assert str(raised.value).startswith("BadWatchLine (0): ")


def test_an_undecodable_line_chains_the_decoding_error() -> None:
    with pytest.raises(errors.ClusterError) as raised:
        parse_watch_line(b"{")
    assert isinstance(raised.value.__cause__, ValueError)


# any bytes at all ------------------------------------------------------------------------------

WATCH_KEYS = st.sampled_from(
    ["type", "object", "code", "reason", "message", "details", "causes", "metadata"]
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=5)
    | st.sampled_from(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(WATCH_KEYS | st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=12,
)


ERROR_LINES = st.dictionaries(WATCH_KEYS, JSON, max_size=5).map(
    lambda status: {"type": "ERROR", "object": status}
)
LINES = st.one_of(
    (JSON | ERROR_LINES).map(lambda document: json.dumps(document).encode()), st.binary()
)


@given(LINES)
def test_any_line_is_an_event_or_a_cluster_error(raw_line: bytes) -> None:
    try:
        event = parse_watch_line(raw_line)
    except errors.ClusterError:
        return
    assert event.type in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK")
    assert event.object == json.loads(raw_line)["object"]
    assert isinstance(event.resource_version, str)


@given(st.sampled_from(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]), JSON)
def test_an_event_round_trips(event_type: str, obj: Any) -> None:
    obj_with_version = {"metadata": {"resourceVersion": "9"}, "x": obj}
    document = {"type": event_type, "object": obj_with_version}
    assert parse_watch_line(line(document)) == WatchEvent(event_type, obj_with_version)
