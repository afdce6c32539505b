"""Unit tests for event_registry.controlplane.machinery.patching."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.controlplane.machinery.errors import BadRequest, Invalid, UnsupportedMediaType
from event_registry.controlplane.machinery.patching import (
    APPLY_PATCH,
    JSON_PATCH,
    LIST_STRATEGIES,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    ListStrategy,
    apply_patch,
    json_merge_patch,
)

CR_STRATEGIC_MESSAGE = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)


def merge(document: dict[str, Any], patch: object) -> dict[str, Any]:
    return apply_patch(document, MERGE_PATCH, patch, strategic=False)


def json_patch(document: dict[str, Any], patch: object) -> dict[str, Any]:
    return apply_patch(document, JSON_PATCH, patch, strategic=False)


def smp(document: dict[str, Any], patch: object) -> dict[str, Any]:
    return apply_patch(document, STRATEGIC_MERGE_PATCH, patch, strategic=True)


def namespace(**metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a", **metadata},
        "spec": {"finalizers": ["kubernetes"]},
    }


# --- content types -------------------------------------------------------------------------


def test_constants() -> None:
    assert MERGE_PATCH == "application/merge-patch+json"
    assert JSON_PATCH == "application/json-patch+json"
    assert STRATEGIC_MERGE_PATCH == "application/strategic-merge-patch+json"
    assert APPLY_PATCH == "application/apply-patch+yaml"


@pytest.mark.parametrize("strategic", [True, False])
def test_unknown_content_type_is_415(strategic: bool) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        apply_patch({"a": 1}, "application/json", {"a": 2}, strategic=strategic)
    assert caught.value.code == 415
    assert "accepted media types include" in caught.value.message
    assert (STRATEGIC_MERGE_PATCH in caught.value.message) is strategic


def test_strategic_merge_patch_for_custom_resources_is_415() -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        apply_patch({"spec": {}}, STRATEGIC_MERGE_PATCH, {"spec": {"a": 1}}, strategic=False)
    assert caught.value.message == CR_STRATEGIC_MESSAGE
    assert caught.value.to_status()["reason"] == "UnsupportedMediaType"


@pytest.mark.parametrize("strategic", [True, False])
def test_server_side_apply_is_415(strategic: bool) -> None:
    with pytest.raises(UnsupportedMediaType, match="server-side apply"):
        apply_patch({}, APPLY_PATCH, {"a": 1}, strategic=strategic)


def test_content_type_case_and_whitespace_are_ignored() -> None:
    result = apply_patch({"a": 1}, " Application/Merge-Patch+JSON ", {"b": 2}, strategic=False)
    assert result == {"a": 1, "b": 2}


# --- RFC 7386 merge patch ------------------------------------------------------------------

RFC7386_APPENDIX_A: list[tuple[object, object, object]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7386_APPENDIX_A)
def test_rfc7386_appendix_a(target: object, patch: object, expected: object) -> None:
    target_before, patch_before = copy.deepcopy(target), copy.deepcopy(patch)
    assert json_merge_patch(target, patch) == expected
    assert target == target_before
    assert patch == patch_before


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        case
        for case in RFC7386_APPENDIX_A
        if isinstance(case[0], dict) and isinstance(case[1], dict)
    ],
)
def test_rfc7386_object_cases_through_apply_patch(
    target: dict[str, Any], patch: object, expected: object
) -> None:
    assert merge(target, patch) == expected


@pytest.mark.parametrize("patch", [["c"], None, "bar", 3, True])
def test_merge_patch_must_be_an_object(patch: object) -> None:
    with pytest.raises(BadRequest, match="merge patch must be a JSON object"):
        merge({"a": "b"}, patch)


def test_merge_patch_label_add_and_remove() -> None:
    document = namespace(labels={"team": "a", "tier": "web"})
    added = merge(document, {"metadata": {"labels": {"owner": "x"}}})
    assert added["metadata"]["labels"] == {"team": "a", "tier": "web", "owner": "x"}
    removed = merge(document, {"metadata": {"labels": {"team": None}}})
    assert removed["metadata"]["labels"] == {"tier": "web"}
    assert document["metadata"]["labels"] == {"team": "a", "tier": "web"}


def test_merge_patch_result_does_not_alias_patch() -> None:
    patch: dict[str, Any] = {"spec": {"items": [1, 2]}}
    result = merge({}, patch)
    result["spec"]["items"].append(3)
    assert patch == {"spec": {"items": [1, 2]}}


# --- RFC 6902 JSON patch -------------------------------------------------------------------


def test_json_patch_add() -> None:
    document = {"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1, 3]}}
    result = json_patch(
        document,
        [
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "add", "path": "/spec/list/1", "value": 2},
            {"op": "add", "path": "/spec/list/-", "value": 4},
        ],
    )
    assert result == {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"list": [1, 2, 3, 4]}}
    assert document == {"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1, 3]}}


def test_json_patch_remove() -> None:
    result = json_patch(
        {"a": {"b": 1, "c": 2}, "l": [1, 2, 3]},
        [{"op": "remove", "path": "/a/b"}, {"op": "remove", "path": "/l/0"}],
    )
    assert result == {"a": {"c": 2}, "l": [2, 3]}


def test_json_patch_replace() -> None:
    result = json_patch({"a": {"b": 1}}, [{"op": "replace", "path": "/a/b", "value": [9]}])
    assert result == {"a": {"b": [9]}}


def test_json_patch_move() -> None:
    result = json_patch({"a": {"b": 1}, "c": {}}, [{"op": "move", "from": "/a/b", "path": "/c/d"}])
    assert result == {"a": {}, "c": {"d": 1}}


def test_json_patch_copy() -> None:
    result = json_patch({"a": {"b": [1]}}, [{"op": "copy", "from": "/a/b", "path": "/a/c"}])
    assert result == {"a": {"b": [1], "c": [1]}}
    result["a"]["c"].append(2)
    assert result["a"]["b"] == [1]


def test_json_patch_test_success() -> None:
    document = {"metadata": {"resourceVersion": "7"}, "x": 1}
    result = json_patch(
        document,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
            {"op": "replace", "path": "/x", "value": 2},
        ],
    )
    assert result == {"metadata": {"resourceVersion": "7"}, "x": 2}


def test_json_patch_failed_test_is_invalid_and_changes_nothing() -> None:
    document = {"metadata": {"resourceVersion": "7"}, "x": 1}
    with pytest.raises(Invalid) as caught:
        json_patch(
            document,
            [
                {"op": "replace", "path": "/x", "value": 2},
                {"op": "test", "path": "/metadata/resourceVersion", "value": "8"},
            ],
        )
    assert caught.value.code == 422
    assert caught.value.message == "testing value /metadata/resourceVersion failed: test failed"
    assert document == {"metadata": {"resourceVersion": "7"}, "x": 1}


def test_json_patch_test_distinguishes_json_types() -> None:
    with pytest.raises(Invalid):
        json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": True}])


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "remove", "path": "/missing"},
            'remove operation does not apply: doc is missing path: "/missing": missing value',
        ),
        (
            {"op": "replace", "path": "/missing", "value": 1},
            "replace operation does not apply: doc is missing key: /missing: missing value",
        ),
        (
            {"op": "add", "path": "/missing/child", "value": 1},
            'add operation does not apply: doc is missing path: "/missing/child": missing value',
        ),
        (
            {"op": "add", "path": "/list/9", "value": 1},
            'add operation does not apply: doc is missing path: "/list/9": missing value',
        ),
        (
            {"op": "add", "path": "/list/x", "value": 1},
            'add operation does not apply: doc is missing path: "/list/x": missing value',
        ),
        (
            {"op": "add", "path": "/text/x", "value": 1},
            'add operation does not apply: doc is missing path: "/text/x": missing value',
        ),
        (
            {"op": "move", "from": "/missing", "path": "/a"},
            "move operation does not apply: doc is missing from path: /missing: missing value",
        ),
        (
            {"op": "copy", "from": "/missing", "path": "/a"},
            "copy operation does not apply: doc is missing from path: /missing: missing value",
        ),
        (
            {"op": "test", "path": "/missing", "value": 1},
            "testing value /missing failed: test failed",
        ),
        (
            {"op": "move", "from": "/text", "path": "/text/inside"},
            "move operation does not apply: doc is missing destination path: /text/inside: "
            "missing value",
        ),
        (
            {"op": "copy", "from": "/text", "path": "/missing/child"},
            "copy operation does not apply: doc is missing destination path: /missing/child: "
            "missing value",
        ),
    ],
)
def test_json_patch_operation_failures_are_invalid_in_kube_apiserver_words(
    operation: dict[str, Any], message: str
) -> None:
    # kube-apiserver's JSON patch library's words; never a Python type such as <class 'str'>
    with pytest.raises(Invalid) as caught:
        json_patch({"list": [1], "text": "s"}, [operation])
    assert caught.value.message == message
    assert [cause.to_dict() for cause in caught.value.causes] == [
        {"reason": "UnexpectedServerResponse", "message": message, "field": ""}
    ]
    assert "<class" not in str(caught.value.to_status())


def test_json_patch_result_must_be_an_object() -> None:
    with pytest.raises(Invalid, match="must be a JSON object"):
        json_patch({"a": 1}, [{"op": "replace", "path": "", "value": [1]}])


@pytest.mark.parametrize(
    "patch",
    [
        {"op": "add", "path": "/a", "value": 1},
        "nope",
        None,
        ["add"],
        [{"path": "/a", "value": 1}],
        [{"op": "frobnicate", "path": "/a"}],
        [{"op": 5, "path": "/a"}],
        [{"op": "add", "value": 1}],
        [{"op": "add", "path": "a", "value": 1}],
        [{"op": "add", "path": 5, "value": 1}],
        [{"op": "add", "path": "/a~2", "value": 1}],
        [{"op": "add", "path": "/a"}],
        [{"op": "replace", "path": "/a"}],
        [{"op": "move", "path": "/b"}],
        [{"op": "copy", "path": "/b", "from": 3}],
        [{"op": "test", "path": "/a"}],
    ],
)
def test_malformed_json_patch_is_bad_request(patch: object) -> None:
    with pytest.raises(BadRequest):
        json_patch({"a": 1}, patch)


def test_json_patch_does_not_mutate_or_alias_patch() -> None:
    patch: list[Any] = [{"op": "add", "path": "/a", "value": {"b": [1]}}]
    before = copy.deepcopy(patch)
    result = json_patch({}, patch)
    result["a"]["b"].append(2)
    assert patch == before


def test_empty_json_patch_is_a_copy() -> None:
    document = {"a": {"b": 1}}
    result = json_patch(document, [])
    assert result == document
    assert result is not document
    assert result["a"] is not document["a"]


# --- strategic merge patch -----------------------------------------------------------------


def test_list_strategies_table() -> None:
    assert LIST_STRATEGIES[("metadata", "finalizers")] == ListStrategy("merge")
    assert LIST_STRATEGIES[("spec", "finalizers")] == ListStrategy("merge")
    assert LIST_STRATEGIES[("metadata", "ownerReferences")] == ListStrategy("merge", "uid")
    assert LIST_STRATEGIES[("metadata", "managedFields")] == ListStrategy("replace")


def test_smp_maps_merge_and_null_deletes_a_label() -> None:
    document = namespace(labels={"team": "a", "tier": "web"}, annotations={"x": "1"})
    result = smp(document, {"metadata": {"labels": {"team": None, "env": "prod"}}})
    assert result["metadata"]["labels"] == {"tier": "web", "env": "prod"}
    assert result["metadata"]["annotations"] == {"x": "1"}
    assert document["metadata"]["labels"] == {"team": "a", "tier": "web"}


def test_smp_configmap_data() -> None:
    configmap = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}
    result = smp(configmap, {"data": {"a": None, "c": "3"}, "metadata": {"labels": {"l": "v"}}})
    assert result == {
        "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": {"l": "v"}},
        "data": {"b": "2", "c": "3"},
    }


def test_smp_null_for_missing_key_and_nested_nulls_are_dropped() -> None:
    result = smp({"data": {}}, {"data": {"gone": None}, "new": {"a": None, "b": 1}})
    assert result == {"data": {}, "new": {"b": 1}}


def test_smp_patch_replace_replaces_the_map() -> None:
    document = namespace(labels={"team": "a", "tier": "web"})
    result = smp(document, {"metadata": {"labels": {"$patch": "replace", "only": "me"}}})
    assert result["metadata"]["labels"] == {"only": "me"}
    assert result["metadata"]["name"] == "team-a"


def test_smp_patch_delete_deletes_the_map() -> None:
    document = namespace(labels={"team": "a"}, annotations={"x": "1"})
    result = smp(document, {"metadata": {"labels": {"$patch": "delete"}}})
    assert "labels" not in result["metadata"]
    assert result["metadata"]["annotations"] == {"x": "1"}


def test_smp_patch_delete_of_missing_map_is_a_no_op() -> None:
    assert smp({"a": 1}, {"b": {"$patch": "delete"}}) == {"a": 1}


def test_smp_top_level_replace() -> None:
    assert smp({"a": 1, "b": 2}, {"$patch": "replace", "c": 3}) == {"c": 3}


def test_smp_unknown_patch_directive_is_bad_request() -> None:
    with pytest.raises(BadRequest, match=r"\$patch"):
        smp({"data": {}}, {"data": {"$patch": "explode"}})


def test_smp_retain_keys() -> None:
    document = {"spec": {"a": 1, "b": 2, "c": 3}}
    result = smp(document, {"spec": {"$retainKeys": ["a", "d"], "d": 4}})
    assert result == {"spec": {"a": 1, "d": 4}}


def test_smp_retain_keys_must_cover_patch_keys() -> None:
    with pytest.raises(Invalid, match="retainKeys"):
        smp({"spec": {}}, {"spec": {"$retainKeys": ["a"], "b": 1}})


def test_smp_retain_keys_must_be_string_list() -> None:
    with pytest.raises(BadRequest):
        smp({"spec": {}}, {"spec": {"$retainKeys": "a"}})


def test_smp_primitive_lists_replace_by_default() -> None:
    result = smp({"spec": {"args": ["a", "b"]}}, {"spec": {"args": ["c", "a"]}})
    assert result == {"spec": {"args": ["c", "a"]}}


def test_smp_finalizers_merge_as_set() -> None:
    document = namespace(finalizers=["a.io/one", "b.io/two"])
    result = smp(document, {"metadata": {"finalizers": ["b.io/two", "c.io/three"]}})
    assert result["metadata"]["finalizers"] == ["a.io/one", "b.io/two", "c.io/three"]
    # As in kube-apiserver, an item new to the list precedes the stored items it is not
    # ordered against.
    spec = smp(document, {"spec": {"finalizers": ["other"]}})
    assert spec["spec"]["finalizers"] == ["other", "kubernetes"]
    spec = smp(document, {"spec": {"finalizers": ["kubernetes", "other"]}})
    assert spec["spec"]["finalizers"] == ["kubernetes", "other"]


def test_smp_finalizers_set_element_order_adds_and_orders() -> None:
    document = namespace(finalizers=["a", "b"])
    result = smp(
        document,
        {"metadata": {"$setElementOrder/finalizers": ["c", "a", "b"], "finalizers": ["c"]}},
    )
    assert result["metadata"]["finalizers"] == ["c", "a", "b"]
    assert "$setElementOrder/finalizers" not in result["metadata"]


def test_smp_finalizers_set_element_order_keeps_server_only_items() -> None:
    document = namespace(finalizers=["a", "server", "b"])
    result = smp(document, {"metadata": {"$setElementOrder/finalizers": ["b", "a"]}})
    assert result["metadata"]["finalizers"] == ["server", "b", "a"]


def test_smp_finalizers_delete_from_primitive_list() -> None:
    document = namespace(finalizers=["a", "b", "c"])
    result = smp(
        document,
        {
            "metadata": {
                "$setElementOrder/finalizers": ["a", "c"],
                "$deleteFromPrimitiveList/finalizers": ["b"],
            }
        },
    )
    assert result["metadata"]["finalizers"] == ["a", "c"]
    assert document["metadata"]["finalizers"] == ["a", "b", "c"]


def test_smp_finalizers_add_delete_and_reorder_together() -> None:
    document = namespace(finalizers=["a", "b"])
    patch = {
        "metadata": {
            "$setElementOrder/finalizers": ["c", "a"],
            "$deleteFromPrimitiveList/finalizers": ["b"],
            "finalizers": ["c"],
        }
    }
    result = smp(document, patch)
    assert result["metadata"]["finalizers"] == ["c", "a"]
    assert not any(key.startswith("$") for key in result["metadata"])


def test_smp_set_element_order_creates_missing_list() -> None:
    result = smp(
        {"metadata": {"name": "n"}},
        {"metadata": {"$setElementOrder/finalizers": ["y", "x"], "finalizers": ["y", "x"]}},
    )
    assert result == {"metadata": {"name": "n", "finalizers": ["y", "x"]}}


def test_smp_set_element_order_must_match_patch_list() -> None:
    with pytest.raises(BadRequest, match="setElementOrder"):
        smp(
            namespace(finalizers=["a"]),
            {"metadata": {"$setElementOrder/finalizers": ["a"], "finalizers": ["z"]}},
        )


def test_smp_finalizers_null_deletes_list() -> None:
    result = smp(namespace(finalizers=["a"]), {"metadata": {"finalizers": None}})
    assert "finalizers" not in result["metadata"]


def test_smp_directive_values_must_be_lists() -> None:
    with pytest.raises(BadRequest):
        smp(namespace(), {"metadata": {"$setElementOrder/finalizers": "a"}})
    with pytest.raises(BadRequest):
        smp(namespace(), {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}})


def owner(uid: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": name, "uid": uid, **extra}


def test_smp_owner_references_merge_by_uid() -> None:
    document = namespace(ownerReferences=[owner("u1", "one"), owner("u2", "two")])
    result = smp(
        document,
        {"metadata": {"ownerReferences": [{"uid": "u2", "controller": True}, owner("u3", "new")]}},
    )
    assert result["metadata"]["ownerReferences"] == [
        owner("u1", "one"),
        owner("u2", "two", controller=True),
        owner("u3", "new"),
    ]


def test_smp_owner_references_delete_element() -> None:
    document = namespace(ownerReferences=[owner("u1", "one"), owner("u2", "two")])
    result = smp(document, {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "u1"}]}})
    assert result["metadata"]["ownerReferences"] == [owner("u2", "two")]


def test_smp_owner_references_replace_directive() -> None:
    document = namespace(ownerReferences=[owner("u1", "one")])
    result = smp(
        document,
        {"metadata": {"ownerReferences": [{"$patch": "replace"}, owner("u9", "nine")]}},
    )
    assert result["metadata"]["ownerReferences"] == [owner("u9", "nine")]


def test_smp_owner_references_set_element_order() -> None:
    document = namespace(ownerReferences=[owner("u1", "one"), owner("u2", "two")])
    result = smp(
        document,
        {"metadata": {"$setElementOrder/ownerReferences": [{"uid": "u2"}, {"uid": "u1"}]}},
    )
    assert [ref["uid"] for ref in result["metadata"]["ownerReferences"]] == ["u2", "u1"]


def test_smp_owner_references_need_merge_key() -> None:
    with pytest.raises(BadRequest, match="uid"):
        smp(namespace(ownerReferences=[]), {"metadata": {"ownerReferences": [{"name": "x"}]}})


def test_smp_managed_fields_replaced() -> None:
    document = namespace(managedFields=[{"manager": "a"}, {"manager": "b"}])
    result = smp(document, {"metadata": {"managedFields": [{"manager": "c"}]}})
    assert result["metadata"]["managedFields"] == [{"manager": "c"}]


def test_smp_type_change_replaces_value() -> None:
    result = smp({"a": {"b": 1}, "c": [1]}, {"a": "text", "c": {"d": 1, "$patch": "replace"}})
    assert result == {"a": "text", "c": {"d": 1}}


def test_smp_directives_removed_from_new_subtrees() -> None:
    result = smp(
        {},
        {
            "metadata": {
                "$setElementOrder/finalizers": ["a"],
                "finalizers": ["a"],
                "labels": {"$retainKeys": ["x"], "x": "1"},
                "annotations": {"$patch": "delete"},
            }
        },
    )
    assert result == {"metadata": {"finalizers": ["a"], "labels": {"x": "1"}}}


@pytest.mark.parametrize("patch", [["a"], None, "s", 1])
def test_smp_must_be_an_object(patch: object) -> None:
    with pytest.raises(BadRequest):
        smp({}, patch)


def test_smp_never_mutates_inputs() -> None:
    document = namespace(finalizers=["a"], ownerReferences=[owner("u1", "one")], labels={"x": "1"})
    patch = {
        "metadata": {
            "$setElementOrder/finalizers": ["b", "a"],
            "finalizers": ["b"],
            "ownerReferences": [{"uid": "u1", "controller": True}],
            "labels": {"x": None},
        }
    }
    document_before, patch_before = copy.deepcopy(document), copy.deepcopy(patch)
    result = smp(document, patch)
    assert document == document_before
    assert patch == patch_before
    result["metadata"]["ownerReferences"][0]["name"] = "changed"
    assert document == document_before
    assert patch == patch_before


# --- properties ----------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=3), json_values, max_size=4)


@given(json_objects)
def test_empty_merge_patch_is_identity(document: dict[str, Any]) -> None:
    before = copy.deepcopy(document)
    result = merge(document, {})
    assert result == document
    assert document == before


@given(json_objects)
def test_empty_strategic_patch_is_identity(document: dict[str, Any]) -> None:
    assert smp(document, {}) == document


def _without_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value


def _merge_diff(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """A merge patch turning ``source`` into ``target`` (target must hold no null map values)."""
    patch: dict[str, Any] = {key: None for key in source if key not in target}
    for key, value in target.items():
        if key in source and source[key] == value:
            continue
        if isinstance(value, dict) and isinstance(source.get(key), dict):
            patch[key] = _merge_diff(source[key], value)
        else:
            patch[key] = value
    return patch


@given(json_objects, json_objects)
def test_merge_patch_from_diff_reaches_target(
    source: dict[str, Any], target: dict[str, Any]
) -> None:
    clean = _without_nulls(target)
    assert isinstance(clean, dict)
    patch = _merge_diff(source, clean)
    source_before, patch_before = copy.deepcopy(source), copy.deepcopy(patch)
    assert merge(source, patch) == clean
    assert source == source_before
    assert patch == patch_before


@given(json_objects, json_objects)
def test_merge_patch_never_mutates_inputs(document: dict[str, Any], patch: dict[str, Any]) -> None:
    document_before, patch_before = copy.deepcopy(document), copy.deepcopy(patch)
    merge(document, patch)
    assert document == document_before
    assert patch == patch_before


@given(json_objects, json_values)
def test_strategic_patch_raises_only_api_errors(document: dict[str, Any], patch: object) -> None:
    document_before, patch_before = copy.deepcopy(document), copy.deepcopy(patch)
    with contextlib.suppress(BadRequest, Invalid):
        smp(document, patch)
    assert document == document_before
    assert patch == patch_before


operations = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus"]),
        "path": st.sampled_from(["", "/a", "/a/0", "/b", "/b/c", "/-", "x"]),
    },
    optional={"value": json_values, "from": st.sampled_from(["/a", "/b", "/zz"])},
)


@given(json_objects, st.lists(operations, max_size=4))
def test_json_patch_raises_only_api_errors(
    document: dict[str, Any], patch: list[dict[str, Any]]
) -> None:
    document_before, patch_before = copy.deepcopy(document), copy.deepcopy(patch)
    try:
        result = json_patch(document, patch)
    except (BadRequest, Invalid):
        pass
    else:
        assert isinstance(result, dict)
    assert document == document_before
    assert patch == patch_before


smp_keys = st.sampled_from(
    [
        "$patch",
        "$retainKeys",
        "$setElementOrder/finalizers",
        "$deleteFromPrimitiveList/finalizers",
        "$setElementOrder/ownerReferences",
        "finalizers",
        "ownerReferences",
        "uid",
        "a",
    ]
)
smp_scalars = st.none() | st.sampled_from(["replace", "delete", "merge", "a", "u1", "finalizers"])
smp_values = st.recursive(
    smp_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(smp_keys, children, max_size=4)
    ),
    max_leaves=16,
)
smp_objects = st.dictionaries(st.sampled_from(["metadata", "spec", "a"]), smp_values, max_size=3)


@given(smp_objects, smp_objects)
def test_strategic_directives_raise_only_api_errors(
    document: dict[str, Any], patch: dict[str, Any]
) -> None:
    document_before, patch_before = copy.deepcopy(document), copy.deepcopy(patch)
    try:
        result = smp(document, patch)
    except (BadRequest, Invalid):
        pass
    else:
        assert isinstance(result, dict)
        if not _directive_keys(document):
            assert not _directive_keys(result)
    assert document == document_before
    assert patch == patch_before


def _directive_keys(value: object) -> list[str]:
    if isinstance(value, dict):
        own = [key for key in value if key.startswith("$")]
        return own + [found for item in value.values() for found in _directive_keys(item)]
    if isinstance(value, list):
        return [found for item in value for found in _directive_keys(item)]
    return []
