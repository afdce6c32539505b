"""Field ownership and the apply merge (machinery/structured.py, applying.py, managedfields.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.controlplane.machinery import applying, fieldsets, managedfields, structured
from event_registry.controlplane.machinery.managedfields import Entry, Managed, Manager
from event_registry.controlplane.machinery.shapes import root_shape

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "image": {"type": "string"},
                "args": {"type": "array", "items": {"type": "string"}},
                "tags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-list-type": "set",
                },
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                },
                "selector": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "x-kubernetes-map-type": "atomic",
                },
            },
        }
    },
}
SHAPE = root_shape(SCHEMA)
VERSION = "example.com/v1"


def _object(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": VERSION,
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": spec,
    }


def _no_other_versions(_version: str, _new: object) -> None:
    return None


def _apply(
    live: object, config: dict[str, Any], managed: Managed, name: str, *, force: bool = False
) -> tuple[Any, Managed]:
    return applying.apply(
        live,
        config,
        SHAPE,
        managed,
        Manager.of(name, "Apply", VERSION),
        VERSION,
        force=force,
        view=_no_other_versions,
        now="2026-01-01T00:00:00Z",
    )


def _owned(managed: Managed, name: str) -> set[str]:
    entry = next(entry for manager, entry in managed.items() if manager.name == name)
    return {fieldsets.path_text(path) for path in entry.fields}


def test_an_applier_owns_the_leaves_it_sets_and_never_the_identity() -> None:
    obj, managed = _apply(None, _object(replicas=1, ports=[{"name": "http", "port": 80}]), {}, "a")
    assert obj["spec"]["ports"] == [{"name": "http", "port": 80}]
    assert _owned(managed, "a") == {
        ".spec.replicas",
        '.spec.ports[name="http"]',
        '.spec.ports[name="http"].name',
        '.spec.ports[name="http"].port',
    }


def test_keyed_list_entries_of_two_appliers_merge_and_each_keeps_its_own() -> None:
    obj, managed = _apply(None, _object(ports=[{"name": "http", "port": 80}]), {}, "a")
    obj, managed = _apply(obj, _object(ports=[{"name": "grpc", "port": 90}]), managed, "b")
    assert [port["name"] for port in obj["spec"]["ports"]] == ["http", "grpc"]
    bare = _object()
    del bare["spec"]
    obj, managed = _apply(obj, bare, managed, "a")  # a stops applying its port
    assert obj["spec"]["ports"] == [{"name": "grpc", "port": 90}]
    assert not any(manager.name == "a" for manager in managed)


def test_changing_a_field_another_applier_owns_is_a_conflict_unless_forced() -> None:
    obj, managed = _apply(None, _object(replicas=1), {}, "a")
    obj, managed = _apply(obj, _object(replicas=1), managed, "b")  # same value: shared
    assert ".spec.replicas" in _owned(managed, "a")
    assert ".spec.replicas" in _owned(managed, "b")
    with pytest.raises(applying.Conflicts) as raised:
        _apply(obj, _object(replicas=2), managed, "c")
    assert raised.value.message == (
        'Apply failed with 2 conflicts: conflicts with "a":\n- .spec.replicas\n'
        'conflicts with "b":\n- .spec.replicas'
    )
    obj, managed = _apply(obj, _object(replicas=2), managed, "c", force=True)
    assert obj["spec"]["replicas"] == 2
    assert {manager.name for manager in managed} == {"c"}


def test_a_field_no_longer_applied_goes_unless_someone_else_owns_it() -> None:
    obj, managed = _apply(None, _object(replicas=1, image="x"), {}, "a")
    obj, managed = _apply(obj, _object(image="x"), managed, "b")
    obj, managed = _apply(obj, _object(), managed, "a")
    assert obj["spec"] == {"image": "x"}


def test_an_updater_takes_the_fields_it_changes_from_appliers() -> None:
    obj, managed = _apply(None, _object(replicas=1, image="x"), {}, "a")
    new = {**obj, "spec": {**obj["spec"], "replicas": 3}}
    managed = applying.track_update(
        obj,
        new,
        SHAPE,
        managed,
        Manager.of("kubectl-edit", "Update", VERSION),
        view=_no_other_versions,
        now="2026-01-01T00:00:01Z",
    )
    assert _owned(managed, "a") == {".spec.image"}
    assert _owned(managed, "kubectl-edit") == {".spec.replicas"}
    with pytest.raises(applying.Conflicts) as raised:
        _apply(new, _object(replicas=1, image="x"), managed, "a")
    assert raised.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using example.com/v1: '
        ".spec.replicas"
    )


def test_a_create_owns_new_maps_themselves_and_no_identity_fields() -> None:
    created = _object(replicas=1)
    created["metadata"]["labels"] = {"app": "w"}
    managed = applying.track_update(
        None,
        created,
        SHAPE,
        {},
        Manager.of("kubectl-create", "Update", VERSION),
        view=_no_other_versions,
        now="2026-01-01T00:00:00Z",
    )
    [entry] = managedfields.encode(managed)
    assert entry["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {".": {}, "f:replicas": {}},
    }
    assert entry["operation"] == "Update"
    assert entry["manager"] == "kubectl-create"


def test_sets_merge_by_value_and_atomic_values_replace() -> None:
    live = _object(tags=["a", "b"], args=["x", "y"], selector={"k": "1", "j": "2"})
    merged = structured.merge(
        live, _object(tags=["c", "a"], args=["z"], selector={"k": "2"}), SHAPE
    )
    assert merged["spec"]["tags"] == ["c", "a", "b"] or merged["spec"]["tags"] == ["b", "c", "a"]
    assert merged["spec"]["args"] == ["z"]
    assert merged["spec"]["selector"] == {"k": "2"}


def test_a_keyed_element_without_its_key_is_refused() -> None:
    with pytest.raises(structured.StructureError, match="omits key field 'name'"):
        structured.fields_of(_object(ports=[{"port": 1}]), SHAPE)
    with pytest.raises(structured.StructureError, match="duplicate entries"):
        structured.fields_of(_object(ports=[{"name": "a"}, {"name": "a"}]), SHAPE)


def test_owner_references_merge_by_uid_and_finalizers_as_a_set() -> None:
    live = _object()
    live["metadata"]["ownerReferences"] = [{"uid": "1", "name": "one"}]
    live["metadata"]["finalizers"] = ["a"]
    config = _object()
    config["metadata"]["ownerReferences"] = [{"uid": "2", "name": "two"}]
    config["metadata"]["finalizers"] = ["b"]
    merged = structured.merge(live, config, SHAPE)
    assert [ref["uid"] for ref in merged["metadata"]["ownerReferences"]] == ["1", "2"]
    assert merged["metadata"]["finalizers"] == ["a", "b"]


def test_managed_fields_round_trip_and_order() -> None:
    managed: Managed = {
        Manager.of("z", "Update", VERSION): Entry(
            fieldsets.FieldSet.of([("f:spec", "f:x")]), VERSION, "2026-01-01T00:00:02Z"
        ),
        Manager.of("y", "Apply", VERSION): Entry(
            fieldsets.FieldSet.of([("f:spec", "f:y")]), VERSION, "2026-01-01T00:00:03Z"
        ),
        Manager.of("a", "Update", VERSION, "status"): Entry(
            fieldsets.FieldSet.of([("f:status", "f:y")]), VERSION, "2026-01-01T00:00:01Z"
        ),
    }
    encoded = managedfields.encode(managed)
    assert [entry["manager"] for entry in encoded] == ["y", "a", "z"]
    assert encoded[1]["subresource"] == "status"
    assert managedfields.decode(encoded) == managed
    assert managedfields.is_reset([])
    assert managedfields.is_reset([{}])
    assert not managedfields.is_reset(None)
    assert not managedfields.is_reset(encoded)


def test_stored_lists_without_identities_are_compared_as_one_value() -> None:
    old = _object(ports=[{"port": 1}])
    new = _object(ports=[{"port": 2}], tags=["a", "a"])
    comparison = structured.compare(old, new, SHAPE)
    assert {fieldsets.path_text(path) for path in comparison.modified} == {".spec.ports"}
    assert {fieldsets.path_text(path) for path in comparison.added} == {
        ".spec.tags",
        '.spec.tags[="a"]',
    }


def test_more_than_ten_updaters_fold_the_oldest_into_ancient_changes() -> None:
    managed: Managed = {
        Manager.of(f"m{index:02}", "Update", VERSION): Entry(
            fieldsets.FieldSet.of([("f:spec", f"f:f{index}")]),
            VERSION,
            f"2026-01-01T00:00:{index:02}Z",
        )
        for index in range(12)
    }
    managed[Manager.of("applier", "Apply", VERSION)] = Entry(
        fieldsets.FieldSet.of([("f:spec", "f:x")]), VERSION, "2026-01-01T00:00:00Z"
    )
    capped = applying.cap_update_managers(managed)
    names = sorted(manager.name for manager in capped if manager.operation == "Update")
    assert names == ["ancient-changes", *(f"m{index:02}" for index in range(3, 12))]
    bucket = capped[Manager.of("ancient-changes", "Update", VERSION)]
    assert _owned(capped, "ancient-changes") == {".spec.f0", ".spec.f1", ".spec.f2"}
    assert bucket.time == "2026-01-01T00:00:02Z"
    assert Manager.of("applier", "Apply", VERSION) in capped


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("ab", max_size=2))
_PORTS = st.lists(
    st.fixed_dictionaries({"name": st.sampled_from("abcd"), "port": st.integers(1, 3)}),
    max_size=4,
    unique_by=lambda port: port["name"],
)
_SPECS = st.fixed_dictionaries(
    {},
    optional={
        "replicas": st.integers(0, 3),
        "tags": st.lists(st.sampled_from("xyz"), unique=True, max_size=3),
        "args": st.lists(_SCALARS, max_size=3),
        "ports": _PORTS,
        "selector": st.dictionaries(st.sampled_from("kl"), st.text("ab", max_size=2)),
        "extra": st.dictionaries(st.sampled_from("pq"), _SCALARS, max_size=2),
    },
)


@given(live=_SPECS, config=_SPECS)
def test_merge_compare_and_fields_agree(live: dict[str, Any], config: dict[str, Any]) -> None:
    live_object, config_object = _object(**live), _object(**config)
    merged = structured.merge(live_object, config_object, SHAPE)
    assert structured.merge(merged, config_object, SHAPE) == merged  # applying again: no-op
    assert not structured.compare(merged, merged, SHAPE).changed
    applied = structured.fields_of(config_object, SHAPE)
    # every field the configuration sets has the configuration's value in the result
    assert not structured.compare(config_object, merged, SHAPE).modified & applied
    # and removing them leaves none of them behind
    stripped = structured.remove(merged, applied, SHAPE)
    assert not structured.compare(None, stripped, SHAPE).added & applied
