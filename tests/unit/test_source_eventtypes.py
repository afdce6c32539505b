"""What a source produces (controllers/source_eventtypes.py): source kinds from CRDs, expected
EventTypes from status or spec, the diff from what exists, and the manifests written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.controllers import source_eventtypes as produced
from event_registry.controlplane.knative import definitions
from event_registry.controlplane.machinery import names
from event_registry.knative import vocabulary as kn

BROKER_REF = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}


def kind_of(crd: dict[str, Any]) -> produced.SourceKind:
    found = produced.source_kind(crd)
    assert found is not None
    return found


GITHUB = kind_of(definitions.GITHUB_SOURCE)
PING = kind_of(definitions.PING_SOURCE)
API_SERVER = kind_of(definitions.API_SERVER_SOURCE)


def github_source(
    events: list[str], sink: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "sources.knative.dev/v1alpha1",
        "kind": "GitHubSource",
        "metadata": {"namespace": "default", "name": "gh", "uid": "uid-1"},
        "spec": {
            "eventTypes": events,
            "ownerAndRepository": "my-other-user/my-other-repo",
            "sink": sink if sink is not None else {"ref": BROKER_REF},
        },
        **extra,
    }


def user_crd(annotation: str | None = None, **labels: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": "widgets.example.com",
        "labels": {kn.SOURCE_DUCK_LABEL: "true", **labels},
    }
    if annotation is not None:
        metadata["annotations"] = {kn.EVENT_TYPES_ANNOTATION: annotation}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "WidgetSource", "plural": "widgetsources"},
            "versions": [
                {"name": "v1alpha1", "served": True, "storage": False},
                {"name": "v1", "served": True, "storage": True},
            ],
        },
    }


# source kinds --------------------------------------------------------------------------------


def test_builtin_source_crds_are_source_kinds_with_their_declared_types() -> None:
    assert (GITHUB.api_version, GITHUB.kind, GITHUB.plural) == (
        "sources.knative.dev/v1alpha1",
        "GitHubSource",
        "githubsources",
    )
    assert PING.version == "v1"  # the storage version, not the deprecated v1beta2
    assert [d.type for d in PING.declared] == ["dev.knative.sources.ping"]
    assert "dev.knative.source.github.push" in GITHUB.declared_by_type()


def test_a_crd_is_a_source_kind_only_with_the_duck_label_and_the_annotation() -> None:
    assert produced.source_kind(user_crd('[{"type": "com.example.widget"}]')) is not None
    assert produced.source_kind(user_crd(None)) is None
    unlabelled = user_crd("[]")
    unlabelled["metadata"]["labels"][kn.SOURCE_DUCK_LABEL] = "false"
    assert produced.source_kind(unlabelled) is None
    assert produced.source_kind(definitions.BROKER) is None


def test_a_user_crd_is_watched_in_its_storage_version() -> None:
    found = kind_of(user_crd('[{"type": "com.example.widget", "schema": "https://s"}]'))
    assert found.api_version == "example.com/v1"
    assert found.declared == (produced.Declared("com.example.widget", "https://s", ""),)


@pytest.mark.parametrize("annotation", ["not json", '{"type": "x"}', "[1, 2]"])
def test_an_unreadable_annotation_loses_only_the_declarations(annotation: str) -> None:
    found = kind_of(user_crd(annotation))
    assert found.declared == ()
    if annotation != "[1, 2]":
        assert kn.EVENT_TYPES_ANNOTATION in found.annotation_error


# expected EventTypes ---------------------------------------------------------------------------


def types_of(expected: tuple[produced.Expected, ...]) -> list[tuple[str, str]]:
    return [(e.type, e.source) for e in expected]


def test_github_source_with_a_broker_sink_produces_one_eventtype_per_event() -> None:
    expected = produced.expected_event_types(
        github_source(["push", "pull_request"]), GITHUB, derive=True
    )
    origin = "https://github.com/my-other-user/my-other-repo"
    assert types_of(expected) == [
        ("dev.knative.source.github.push", origin),
        ("dev.knative.source.github.pull_request", origin),
    ]
    assert expected[0].description == "GitHub push webhook event"
    assert expected[0].spec()["reference"] == {**BROKER_REF, "namespace": "default"}


def test_reported_ce_attributes_win_over_the_spec_and_an_empty_list_means_none() -> None:
    reported = {"ceAttributes": [{"type": "dev.knative.source.github.issues", "source": "s"}]}
    source = github_source(["push"], status=reported)
    assert types_of(produced.expected_event_types(source, GITHUB, derive=True)) == [
        ("dev.knative.source.github.issues", "s")
    ]
    silent = github_source(["push"], status={"ceAttributes": []})
    assert produced.expected_event_types(silent, GITHUB, derive=True) == ()


def test_without_derive_only_reported_attributes_count_as_in_knative() -> None:
    assert produced.expected_event_types(github_source(["push"]), GITHUB, derive=False) == ()


@pytest.mark.parametrize(
    "sink",
    [
        {"uri": "http://example.com"},
        {"ref": {"apiVersion": "messaging.knative.dev/v1", "kind": "Channel", "name": "c"}},
        {"ref": {"apiVersion": "v1", "kind": "Broker", "name": "b"}},
        {},
    ],
)
def test_sinks_other_than_a_broker_produce_nothing(sink: dict[str, Any]) -> None:
    assert produced.expected_event_types(github_source(["push"], sink), GITHUB, derive=True) == ()


def test_a_source_being_deleted_produces_nothing() -> None:
    source = github_source(["push"])
    source["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert produced.expected_event_types(source, GITHUB, derive=True) == ()


def test_ping_and_api_server_sources_derive_what_their_controllers_report() -> None:
    ping = {
        "metadata": {"namespace": "ns", "name": "p", "uid": "u"},
        "spec": {"sink": {"ref": BROKER_REF}},
    }
    assert types_of(produced.expected_event_types(ping, PING, derive=True)) == [
        ("dev.knative.sources.ping", "/apis/v1/namespaces/ns/pingsources/p")
    ]
    api: dict[str, Any] = {
        "metadata": {"namespace": "ns", "name": "a"},
        "spec": {"sink": {"ref": BROKER_REF}},
    }
    assert [
        t for t, _ in types_of(produced.expected_event_types(api, API_SERVER, derive=True))
    ] == [
        "dev.knative.apiserver.ref.add",
        "dev.knative.apiserver.ref.delete",
        "dev.knative.apiserver.ref.update",
    ]
    api["spec"]["mode"] = "Resource"
    resource_types = produced.expected_event_types(api, API_SERVER, derive=True)
    assert {t for t, _ in types_of(resource_types)} == {
        "dev.knative.apiserver.resource.add",
        "dev.knative.apiserver.resource.delete",
        "dev.knative.apiserver.resource.update",
    }


def test_a_user_source_kind_derives_its_annotation_types_from_its_own_path() -> None:
    kind = kind_of(user_crd('[{"type": "com.example.widget", "description": "A widget"}]'))
    source = {"metadata": {"namespace": "ns", "name": "w"}, "spec": {"sink": {"ref": BROKER_REF}}}
    (only,) = produced.expected_event_types(source, kind, derive=True)
    assert (only.type, only.source, only.description) == (
        "com.example.widget",
        "/apis/example.com/v1/namespaces/ns/widgetsources/w",
        "A widget",
    )


def test_repeated_attributes_are_expected_once() -> None:
    expected = produced.expected_event_types(github_source(["push", "push"]), GITHUB, derive=True)
    assert len(expected) == 1


# diff ------------------------------------------------------------------------------------------


def existing(expected: produced.Expected, name: str) -> dict[str, Any]:
    return {"metadata": {"namespace": "default", "name": name}, "spec": expected.spec()}


def test_diff_creates_missing_deletes_extras_and_keeps_what_matches() -> None:
    push, pr, issues = produced.expected_event_types(
        github_source(["push", "pull_request", "issues"]), GITHUB, derive=True
    )
    change = produced.diff([existing(push, "a"), existing(issues, "b")], [push, pr])
    assert change.create == (pr,)
    assert change.delete == ("b",)
    assert produced.diff([existing(push, "a")], [push]).empty


def test_a_changed_spec_is_replaced_and_a_duplicate_removed() -> None:
    (push,) = produced.expected_event_types(github_source(["push"]), GITHUB, derive=True)
    described = existing(push, "old")
    described["spec"]["description"] = "something else"
    change = produced.diff([described, existing(push, "x1"), existing(push, "x2")], [push])
    assert change.create == ()
    assert change.delete == ("old", "x2")


def test_a_reference_without_namespace_equals_one_in_the_eventtype_namespace() -> None:
    (push,) = produced.expected_event_types(github_source(["push"]), GITHUB, derive=True)
    written = existing(push, "a")
    del written["spec"]["reference"]["namespace"]
    assert produced.diff([written], [push]).empty


# ownership and manifests -------------------------------------------------------------------------


def test_manifest_is_a_v1beta2_eventtype_owned_and_labelled_by_the_source() -> None:
    source = github_source(["pull_request"])
    (pr,) = produced.expected_event_types(source, GITHUB, derive=True)
    body = produced.manifest(pr, source, GITHUB)
    assert body["apiVersion"] == "eventing.knative.dev/v1beta2"
    assert body["metadata"]["name"].startswith("dev.knative.source.github.pullrequest-")
    assert body["metadata"]["labels"] == {kn.SOURCE_NAME_LABEL: "gh"}
    assert body["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "sources.knative.dev/v1alpha1",
            "kind": "GitHubSource",
            "name": "gh",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert produced.registered_by(body, "gh", "uid-1")
    assert not produced.registered_by(body, "gh", "uid-2")
    assert not produced.registered_by(body, "other", "uid-1")
    generated = produced.manifest(pr, source, GITHUB, generate=True)
    assert generated["metadata"]["generateName"] == body["metadata"]["name"] + "-"


def test_names_are_deterministic_valid_and_differ_by_source_and_spec() -> None:
    (push,) = produced.expected_event_types(github_source(["push"]), GITHUB, derive=True)
    name = produced.event_type_name(push, "uid-1")
    assert name == produced.event_type_name(push, "uid-1")
    assert name != produced.event_type_name(push, "uid-2")
    assert names.dns1123_subdomain_errors(name) == []
    assert len(name) <= 63


@pytest.mark.parametrize(
    ("type_", "prefix"),
    [
        ("dev.knative.source.github.pull_request", "dev.knative.source.github.pullrequest"),
        ("org.bitbucket.repo:fork", "org.bitbucket.repofork"),
        ("..-Weird..TYPE-", "weird.type"),
        ("€€€", "eventtype"),
        ("a" * 100, "a" * 57),
    ],
)
def test_name_prefix_is_a_dns_subdomain_from_the_type(type_: str, prefix: str) -> None:
    assert produced.name_prefix(type_) == prefix
    assert (
        names.dns1123_subdomain_errors(
            produced.event_type_name(produced.Expected(type_, "", ()), "u")
        )
        == []
    )


def test_the_annotation_round_trips_as_the_definitions_write_it() -> None:
    annotation = definitions.PING_SOURCE["metadata"]["annotations"][kn.EVENT_TYPES_ANNOTATION]
    entries, error = produced.declared_event_types(annotation)
    assert error == ""
    assert entries[0].type == json.loads(annotation)[0]["type"]


SPECS = [
    produced.Expected(
        f"dev.example.{t}",
        s,
        tuple(sorted({**BROKER_REF, "name": b, "namespace": "default"}.items())),
    )
    for t in ("a", "b")
    for s in ("https://one", "https://two")
    for b in ("default", "dev")
]


@given(
    current=st.lists(st.sampled_from(SPECS), max_size=12),
    expected=st.lists(st.sampled_from(SPECS), max_size=8, unique=True),
)
def test_carrying_out_a_diff_leaves_exactly_the_expected_set(
    current: list[produced.Expected], expected: list[produced.Expected]
) -> None:
    existing_ = [
        {"metadata": {"namespace": "default", "name": f"et-{i}"}, "spec": e.spec()}
        for i, e in enumerate(current)
    ]
    change = produced.diff(existing_, expected)
    kept = [
        produced.as_expected(e) for e in existing_ if e["metadata"]["name"] not in change.delete
    ]
    after = kept + list(change.create)
    assert sorted(after, key=repr) == sorted(expected, key=repr)  # each once, nothing else
    assert produced.diff(
        [
            {"metadata": {"namespace": "default", "name": str(i)}, "spec": e.spec()}
            for i, e in enumerate(after)
        ],
        expected,
    ).empty
