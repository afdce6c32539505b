"""Field sets and their FieldsV1 encoding (machinery/fieldsets.py)."""

from __future__ import annotations

import pytest

from event_registry.controlplane.machinery import fieldsets
from event_registry.controlplane.machinery.fieldsets import FieldsError, FieldSet


def _set(*paths: tuple[str, ...]) -> FieldSet:
    return FieldSet.of(paths)


def test_a_member_with_members_below_is_marked_with_a_dot() -> None:
    fields = _set(
        ("f:metadata", "f:labels"),
        ("f:metadata", "f:labels", "f:app"),
        ("f:data", "f:key"),
    )
    assert fieldsets.encode(fields) == {
        "f:data": {"f:key": {}},
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
    }


def test_elements_are_ordered_fields_keys_values_indices() -> None:
    fields = _set(
        ("f:spec", "i:10"),
        ("f:spec", "i:9"),
        ("f:spec", 'v:"b"'),
        ("f:spec", 'k:{"name":"a"}'),
        ("f:spec", "f:z"),
        ("f:spec", "f:a"),
    )
    encoded = fieldsets.encode(fields)
    assert list(encoded["f:spec"]) == ["f:a", "f:z", 'k:{"name":"a"}', 'v:"b"', "i:9", "i:10"]


def test_decode_inverts_encode() -> None:
    fields = _set(
        ("f:spec",),
        ("f:spec", "f:ports", 'k:{"name":"http","port":80}'),
        ("f:spec", "f:ports", 'k:{"name":"http","port":80}', "f:protocol"),
        ("f:metadata", "f:finalizers", 'v:"x"'),
    )
    assert fieldsets.decode(fieldsets.encode(fields)) == fields


def test_keys_are_canonical_whatever_the_order_sent() -> None:
    decoded = fieldsets.decode({"f:spec": {'k:{"port":80, "name":"http"}': {}}})
    assert decoded == _set(("f:spec", 'k:{"name":"http","port":80}'))


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"x:spec": {}},
        {"f:spec": []},
        {"k:[1]": {}},
        {"v:not json": {}},
        {"i:one": {}},
        {".": {}},
        {"f:spec": {".": {"f:x": {}}}},
    ],
)
def test_malformed_fields_are_refused(document: object) -> None:
    with pytest.raises(FieldsError):
        fieldsets.decode(document)


def test_paths_are_worded_as_kube_apiserver_words_them() -> None:
    path = ("f:spec", "f:ports", 'k:{"name":"http","port":80}', "f:protocol")
    assert fieldsets.path_text(path) == '.spec.ports[name="http",port=80].protocol'
    assert fieldsets.path_text(("f:metadata", "f:finalizers", 'v:"a"')) == (
        '.metadata.finalizers[="a"]'
    )
    assert fieldsets.path_text(("f:items", "i:3")) == ".items[3]"


def test_set_algebra_and_subtrees() -> None:
    left = _set(("f:a",), ("f:b", "f:c"), ("f:b", "f:d"))
    right = _set(
        ("f:b", "f:c"),
    )
    assert left - right == _set(("f:a",), ("f:b", "f:d"))
    assert left & right == right
    assert left.has_prefix(("f:b",))
    assert not left.has_prefix(("f:a",))
    assert left.without_subtrees([("f:b",)]) == _set(("f:a",))
