"""Unit tests for event_registry.domain.access: the tokens file and the scopes it grants.

The basics (a valid file, the shapes that are refused, Principal's permissions, OPEN and
NOBODY) are in test_readiness_and_filtering.py; here: what each refusal says, the namespace
names a file may grant, reading kind by kind (``kubernetes`` mode), and the property the
response cache relies on: two principals share a scope key exactly when they can read the
same kinds in the same namespaces.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from event_registry.domain import access
from event_registry.domain.access import InvalidTokenFile, Principal

TOKEN = "s3cr3t-token"


def one_token(namespaces: Any, **entry: Any) -> dict[str, Any]:
    return {"tokens": [{"token": TOKEN, "namespaces": namespaces, **entry}]}


def test_the_documented_example() -> None:
    document = yaml.safe_load(
        """
tokens:
  - token: "s3cr3t-token-for-team-a"
    name: team-a
    namespaces: {team-a: [read, write], shared: [read]}
"""
    )
    team_a = access.principals_from_tokens(document)["s3cr3t-token-for-team-a"]
    assert team_a == Principal("team-a", frozenset({"team-a", "shared"}), frozenset({"team-a"}))
    assert team_a.can_write("team-a")
    assert team_a.can_read("shared")
    assert not team_a.can_write("shared")
    assert not team_a.can_read("team-b")
    assert team_a.scope_key == "shared,team-a"


@pytest.mark.parametrize(
    ("permissions", "readable", "writable"),
    [
        (["read"], True, False),
        (["write"], True, True),
        (["read", "write"], True, True),
        (["write", "write"], True, True),
        ([], True, False),
        (None, True, False),
    ],
)
def test_permissions_of_a_namespace(
    permissions: list[str] | None, readable: bool, writable: bool
) -> None:
    principal = access.principals_from_tokens(one_token({"ns": permissions}))[TOKEN]
    assert principal.can_read("ns") is readable
    assert principal.can_write("ns") is writable
    assert not principal.can_read("other")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("team-a", "team-a"), ("", "token-0"), (None, "token-0"), (42, "42")],
)
def test_a_principal_is_named_or_numbered(name: object, expected: str) -> None:
    principal = access.principals_from_tokens(one_token({}, name=name))[TOKEN]
    assert principal.name == expected


def test_a_numeric_yaml_namespace_key_is_its_text() -> None:
    document = yaml.safe_load(f"tokens: [{{token: {TOKEN}, namespaces: {{123: [write]}}}}]")
    assert access.principals_from_tokens(document)[TOKEN].writable == frozenset({"123"})


def test_tokens_are_kept_verbatim() -> None:
    document = {"tokens": [{"token": " spaced token ", "namespaces": {}}]}
    assert list(access.principals_from_tokens(document)) == [" spaced token "]


# what each refusal says --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(None, "expected a mapping with a 'tokens' list", id="null"),
        pytest.param({"tokens": None}, "expected a mapping with a 'tokens' list", id="no-list"),
        pytest.param({"tokens": [7]}, "tokens[0]: needs a string 'token'", id="entry"),
        pytest.param(
            {"tokens": [{"token": None}]}, "tokens[0]: needs a string 'token'", id="token"
        ),
        pytest.param(
            {"tokens": [{"token": "short"}]},
            "tokens[0]: tokens must be at least 8 characters",
            id="short",
        ),
        pytest.param(
            {"tokens": [{"token": TOKEN, "namespaces": None}]},
            "tokens[0]: needs a 'namespaces' mapping",
            id="no-namespaces",
        ),
        pytest.param(
            one_token({"ns": "read"}),
            "tokens[0].namespaces.ns: expected a list of 'read'/'write'",
            id="permission-text",
        ),
        pytest.param(
            one_token({"ns": ["read", 1]}),
            "tokens[0].namespaces.ns: expected a list of 'read'/'write'",
            id="permission-number",
        ),
        pytest.param(
            one_token({"ns": ["Read"]}),
            "tokens[0].namespaces.ns: unknown permission",
            id="permission-case",
        ),
        pytest.param(
            {
                "tokens": [
                    {"token": TOKEN, "namespaces": {}},
                    {"token": "another-token", "namespaces": {}},
                    {"token": TOKEN, "namespaces": {}},
                ]
            },
            "tokens[2]: duplicate token",
            id="duplicate",
        ),
    ],
)
def test_each_refusal_says_what_and_where(document: object, message: str) -> None:
    with pytest.raises(InvalidTokenFile) as raised:
        access.principals_from_tokens(document)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("namespace", "why"),
    [
        *[
            (namespace, f"{str(namespace)!r} is not a lowercase RFC 1123 label")
            for namespace in ("a,b", "*", "Default", "team.a", "-a", "a-", " a", "ü", None, True)
        ],
        ("", "a name is required"),
        ("a" * 64, "must be no more than 63 characters"),
    ],
)
def test_a_namespace_must_be_a_namespace_name(namespace: object, why: str) -> None:
    with pytest.raises(InvalidTokenFile) as raised:
        access.principals_from_tokens(one_token({namespace: ["read"]}))
    assert str(raised.value).startswith(f"tokens[0].namespaces.{namespace}: {why}")


def test_the_longest_namespace_name_is_accepted() -> None:
    principal = access.principals_from_tokens(one_token({"a" * 63: ["read"]}))[TOKEN]
    assert principal.can_read("a" * 63)


def test_a_namespace_that_would_collide_in_the_scope_key_is_refused() -> None:
    """{"a,b"} would share the scope key "a,b" with {"a", "b"}, and so its cached responses."""
    document = {
        "tokens": [
            {"token": "reader-of-a-and-b", "namespaces": {"a": ["read"], "b": ["read"]}},
            {"token": "reader-of-a-comma-b", "namespaces": {"a,b": ["read"]}},
        ]
    }
    with pytest.raises(InvalidTokenFile, match=r"tokens\[1\]\.namespaces\.a,b"):
        access.principals_from_tokens(document)


# properties --------------------------------------------------------------------------------------

NAMESPACE_NAMES = st.sampled_from(["a", "b", "a,b", "*", "default", "kube-system", ""]) | st.text(
    max_size=5
)
PERMISSIONS = st.none() | st.lists(st.sampled_from(["read", "write"]), max_size=2)
ENTRIES = st.fixed_dictionaries(
    {"namespaces": st.dictionaries(NAMESPACE_NAMES, PERMISSIONS, max_size=3)},
    optional={"name": st.none() | st.text(max_size=5)},
)


@given(st.lists(ENTRIES, max_size=4))
def test_scope_keys_tell_apart_exactly_the_principals_that_see_different_namespaces(
    entries: list[dict[str, Any]],
) -> None:
    document = {
        "tokens": [{"token": f"token-number-{i}", **entry} for i, entry in enumerate(entries)]
    }
    try:
        principals = list(access.principals_from_tokens(document).values())
    except InvalidTokenFile:
        return
    for one in principals:
        assert one.writable is not None
        assert one.readable is not None
        assert one.writable <= one.readable, "write implies read"
        for other in principals:
            assert (one.scope_key == other.scope_key) == (one.readable == other.readable)
        assert one.scope_key != access.OPEN.scope_key


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["tokens", "token", "name", "namespaces", "read"])
            | st.text(max_size=4),
            children,
            max_size=3,
        )
    ),
    max_leaves=15,
)


@given(JSON)
def test_any_document_gives_principals_or_an_invalid_token_file(document: object) -> None:
    try:
        principals = access.principals_from_tokens(document)
    except InvalidTokenFile as error:
        refusal = str(error)
    else:
        assert all(isinstance(principal, Principal) for principal in principals.values())
        return
    assert re.match(r"expected a mapping|tokens\[\d+\]", refusal)


# reading kind by kind ----------------------------------------------------------------------------


def test_a_principal_reads_each_kind_where_it_was_granted() -> None:
    principal = access.reading_per_kind(
        "bob", {"EventType": frozenset({"a", "b"}), "Broker": None}, None
    )
    assert principal.readable is None  # Brokers everywhere: every namespace is visible
    assert principal.can_read("a", "EventType")
    assert not principal.can_read("c", "EventType")
    assert principal.can_read("c", "Broker")
    assert not principal.can_read("a", "Trigger")  # a kind left out: nowhere
    assert principal.visible(["a", "b", "c"], "EventType") == ["a", "b"]
    assert principal.visible(["a", "b", "c"], "Trigger") == []
    assert principal.visible(["a", "b", "c"]) == ["a", "b", "c"]


def test_a_namespace_is_visible_where_any_kind_is_readable() -> None:
    principal = access.reading_per_kind(
        "bob", {"EventType": frozenset({"a"}), "Trigger": frozenset({"b"})}, None
    )
    assert principal.readable == frozenset({"a", "b"})
    assert principal.visible(["a", "b", "c"]) == ["a", "b"]


def test_every_kind_alike_is_the_tokens_mode_principal() -> None:
    same = frozenset({"a"})
    alike = access.reading_per_kind(
        "bob", {"EventType": same, "Broker": same, "Trigger": same}, None
    )
    assert alike == Principal("bob", same, None)
    assert alike.scope_key == "a"
    everywhere = access.reading_per_kind(
        "bob", {"EventType": None, "Broker": None, "Trigger": None}, None
    )
    assert everywhere.scope_key == access.OPEN.scope_key == "*"


def test_tokens_and_open_principals_read_every_kind_of_a_readable_namespace() -> None:
    team_a = Principal("team-a", frozenset({"a"}), frozenset({"a"}))
    for kind in access.KINDS:
        assert team_a.can_read("a", kind)
        assert not team_a.can_read("b", kind)
        assert access.OPEN.can_read("b", kind)
        assert not access.NOBODY.can_read("a", kind)


READ_SETS = st.none() | st.frozensets(st.sampled_from(["a", "b", "c"]), max_size=3)
PER_KIND = st.fixed_dictionaries(dict.fromkeys(access.KINDS, READ_SETS))


@given(st.lists(PER_KIND, min_size=1, max_size=4))
def test_scope_keys_tell_apart_exactly_the_principals_that_read_different_kinds(
    grants: list[dict[access.Kind, frozenset[str] | None]],
) -> None:
    principals = [access.reading_per_kind("p", grant, None) for grant in grants]
    for one, grant in zip(principals, grants, strict=True):
        for kind in access.KINDS:
            assert one.readable_of(kind) == grant[kind]
        for other in principals:
            same = all(one.readable_of(k) == other.readable_of(k) for k in access.KINDS)
            assert (one.scope_key == other.scope_key) == same


@given(PER_KIND, PER_KIND)
def test_reads_within_is_kind_by_kind_inclusion(
    mine: dict[access.Kind, frozenset[str] | None],
    theirs: dict[access.Kind, frozenset[str] | None],
) -> None:
    one = access.reading_per_kind("p", mine, None)
    other = access.reading_per_kind("p", theirs, None)
    everywhere = ["a", "b", "c", "elsewhere"]
    expected = all(
        other.can_read(ns, kind)
        for kind in access.KINDS
        for ns in everywhere
        if one.can_read(ns, kind)
    )
    assert one.reads_within(other) is expected
    assert one.reads_within(other, frozenset({"a"})) is all(
        other.can_read("a", kind) for kind in access.KINDS if one.can_read("a", kind)
    )
