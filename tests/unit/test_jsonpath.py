"""Tests for the JSONPath subset used by CRD ``additionalPrinterColumns``."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.controlplane.machinery.jsonpath import (
    And,
    Compare,
    Const,
    Descendants,
    Exists,
    Filter,
    Index,
    JsonPath,
    JsonPathError,
    Key,
    Not,
    Or,
    Query,
    Slice,
    Union,
    Wildcard,
    find,
    parse,
)

# --------------------------------------------------------------------------- fixtures

BROKER: dict[str, Any] = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Broker",
    "metadata": {
        "name": "default",
        "namespace": "demo",
        "creationTimestamp": "2026-11-26T23:54:24Z",
        "generation": 2,
        "labels": {
            "app.kubernetes.io/name": "broker",
            "eventing.knative.dev/broker.class": "MTChannelBasedBroker",
        },
    },
    "spec": {"delivery": {"retry": 3, "backoffDelay": "PT0.2S"}},
    "status": {
        "observedGeneration": 2,
        "address": {"url": "http://broker-ingress.knative-eventing.svc.cluster.local/demo/default"},
        "conditions": [
            {"type": "Addressable", "status": "True"},
            {"type": "FilterReady", "status": "Unknown", "reason": "Pending"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-26T23:55:00Z"},
        ],
    },
}

EVENT_TYPE: dict[str, Any] = {
    "apiVersion": "eventing.knative.dev/v1beta3",
    "kind": "EventType",
    "metadata": {"name": "ping", "namespace": "demo"},
    "spec": {
        "reference": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"},
        "description": "ping events",
        "attributes": [
            {"name": "specversion", "value": "1.0", "required": True},
            {"name": "type", "value": "dev.knative.sources.ping", "required": True},
            {"name": "source", "value": "/apis/v1/namespaces/demo/pingsources/ping"},
        ],
    },
    "status": {
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "ReferenceDoesNotExist"},
        ]
    },
}

TRIGGER: dict[str, Any] = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Trigger",
    "metadata": {"name": "display", "namespace": "demo"},
    "spec": {
        "broker": "default",
        "filter": {"attributes": {"type": "dev.knative.sources.ping"}},
        "subscriber": {
            "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "display"}
        },
    },
    "status": {
        "subscriberUri": "http://display.demo.svc.cluster.local",
        "conditions": [{"type": "Ready", "status": "True"}],
    },
}

NUMBERS: dict[str, Any] = {"items": [10, 20, 30, 40, 50]}

PODS: dict[str, Any] = {
    "items": [
        {"name": "a", "cpu": 1, "ratio": 0.5, "tags": ["x"], "ok": True},
        {"name": "b", "cpu": 4, "ratio": 1.5, "ok": False},
        {"name": "c", "cpu": 2.0, "ratio": None},
        {"name": "d", "cpu": "2", "tags": []},
    ]
}


def names(items: list[object]) -> list[object]:
    return [item["name"] for item in items if isinstance(item, dict)]


# --------------------------------------------------------------------------- real expressions


@pytest.mark.parametrize(
    ("expression", "document", "expected"),
    [
        ('.status.conditions[?(@.type=="Ready")].status', BROKER, ["True"]),
        ('.status.conditions[?(@.type=="Ready")].status', EVENT_TYPE, ["False"]),
        ('.status.conditions[?(@.type=="Ready")].reason', EVENT_TYPE, ["ReferenceDoesNotExist"]),
        ('.status.conditions[?(@.type=="Ready")].reason', BROKER, []),
        (".spec.attributes[?(@.name=='type')].value", EVENT_TYPE, ["dev.knative.sources.ping"]),
        (
            ".spec.attributes[?(@.name=='source')].value",
            EVENT_TYPE,
            ["/apis/v1/namespaces/demo/pingsources/ping"],
        ),
        (".metadata.creationTimestamp", BROKER, ["2026-11-26T23:54:24Z"]),
        (".spec.reference.name", EVENT_TYPE, ["default"]),
        (
            ".status.address.url",
            BROKER,
            ["http://broker-ingress.knative-eventing.svc.cluster.local/demo/default"],
        ),
        (".spec.subscriber.ref.name", TRIGGER, ["display"]),
        (".spec.broker", TRIGGER, ["default"]),
        (".spec.filter.attributes.type", TRIGGER, ["dev.knative.sources.ping"]),
        (".status.subscriberUri", TRIGGER, ["http://display.demo.svc.cluster.local"]),
    ],
)
def test_real_printer_column_expressions(
    expression: str, document: dict[str, Any], expected: list[object]
) -> None:
    assert find(parse(expression), document) == expected


def test_real_expression_when_status_is_missing() -> None:
    fresh = {"metadata": {"name": "new"}, "spec": {}}
    assert find(parse('.status.conditions[?(@.type=="Ready")].status'), fresh) == []
    assert find(parse(".status.address.url"), fresh) == []
    assert find(parse(".spec.attributes[?(@.name=='type')].value"), fresh) == []


# --------------------------------------------------------------------------- parse results


def test_parse_builds_steps() -> None:
    assert parse(".a.b").steps == (Key("a"), Key("b"))
    assert parse("['a.b'][0]").steps == (Key("a.b"), Index(0))
    assert parse(".a[*].b").steps == (Key("a"), Wildcard(), Key("b"))
    assert parse(".a[1:3]").steps == (Key("a"), Slice(1, 3, None))
    assert parse("..name").steps == (Descendants(Key("name")),)
    assert parse(".a[0,'x']").steps == (Key("a"), Union((Index(0), Key("x"))))


def test_parse_builds_filters() -> None:
    (_, ready) = parse('.c[?(@.type=="Ready")]').steps
    assert ready == Filter(Compare("==", Query(False, (Key("type"),)), Const("Ready")))
    (_, exists) = parse(".c[?(@.status)]").steps
    assert exists == Filter(Exists(Query(False, (Key("status"),))))
    (_, combined) = parse(".c[?(!@.a && (@.b || $.c))]").steps
    assert combined == Filter(
        And(
            Not(Exists(Query(False, (Key("a"),)))),
            Or(Exists(Query(False, (Key("b"),))), Exists(Query(True, (Key("c"),)))),
        )
    )


def test_leading_dollar_is_optional() -> None:
    assert parse("$.a.b") == parse(".a.b")
    assert parse("$['a']") == parse("['a']")
    assert parse("@.a") == parse(".a")
    assert find(parse("$.status.address.url"), BROKER) == find(parse(".status.address.url"), BROKER)


def test_root_alone_matches_the_document() -> None:
    assert parse("$").steps == ()
    assert find(parse("$"), BROKER) == [BROKER]


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse("  .a.b \n") == parse(".a.b")


def test_jsonpath_is_immutable_hashable_and_keeps_its_text() -> None:
    path = parse(".status.address.url")
    with pytest.raises(dataclasses.FrozenInstanceError):
        path.steps = ()  # type: ignore[misc]
    assert {path: 1}[parse("$.status.address.url")] == 1
    assert str(path) == ".status.address.url"
    assert path.expression == ".status.address.url"
    assert isinstance(path, JsonPath)


def test_parse_is_cached() -> None:
    expression = ".spec.some.cached.path"
    assert parse(expression) is parse(expression)
    assert parse.cache_info().maxsize == 1024


def test_find_accepts_expression_text() -> None:
    assert find(".spec.broker", TRIGGER) == ["default"]


# --------------------------------------------------------------------------- fields and keys


def test_nested_fields() -> None:
    assert find(parse(".a.b.c"), {"a": {"b": {"c": 1}}}) == [1]


def test_field_values_of_every_json_type() -> None:
    doc = {"s": "x", "i": 1, "f": 1.5, "t": True, "n": None, "o": {"k": 1}, "l": [1]}
    for key, value in doc.items():
        assert find(parse(f".{key}"), doc) == [value]


def test_null_value_is_a_match() -> None:
    assert find(parse(".a"), {"a": None}) == [None]
    assert find(parse(".a.b"), {"a": None}) == []


@pytest.mark.parametrize("expression", ["['a.b']", '["a.b"]', ".a\\.b", ".['a.b']"])
def test_keys_with_dots(expression: str) -> None:
    assert find(parse(expression), {"a.b": 1, "a": {"b": 2}}) == [1]


def test_label_keys() -> None:
    labels = parse(".metadata.labels['app.kubernetes.io/name']")
    assert find(labels, BROKER) == ["broker"]
    escaped = parse(".metadata.labels.app\\.kubernetes\\.io/name")
    assert find(escaped, BROKER) == ["broker"]
    assert find(parse('.metadata.labels["eventing.knative.dev/broker.class"]'), BROKER) == [
        "MTChannelBasedBroker"
    ]


def test_quoted_keys_with_escapes_and_specials() -> None:
    doc = {"it's": 1, 'say "hi"': 2, "a]b": 3, "a,b": 4, " ": 5, "": 6}
    assert find(parse("['it\\'s']"), doc) == [1]
    assert find(parse('["it\'s"]'), doc) == [1]
    assert find(parse("['say \"hi\"']"), doc) == [2]
    assert find(parse('["say \\"hi\\""]'), doc) == [2]
    assert find(parse("['a]b']"), doc) == [3]
    assert find(parse("['a,b']"), doc) == [4]
    assert find(parse("[' ']"), doc) == [5]
    assert find(parse("['']"), doc) == [6]


def test_dotted_names_allow_dashes_colons_and_unicode() -> None:
    doc = {"last-applied": {"k:v": {"naïve": 1}}}
    assert find(parse(".last-applied.k:v.naïve"), doc) == [1]


def test_field_on_non_object_matches_nothing() -> None:
    assert find(parse(".a.b"), {"a": [{"b": 1}]}) == []
    assert find(parse(".a.b"), {"a": "text"}) == []
    assert find(parse(".a.b"), {"a": 3}) == []
    assert find(parse(".a"), [1, 2]) == []
    assert find(parse(".a"), None) == []
    assert find(parse(".a"), "a") == []


# --------------------------------------------------------------------------- indexes and slices


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (".items[0]", [10]),
        (".items[4]", [50]),
        (".items[5]", []),
        (".items[-1]", [50]),
        (".items[-5]", [10]),
        (".items[-6]", []),
        (".items[1:3]", [20, 30]),
        (".items[:2]", [10, 20]),
        (".items[3:]", [40, 50]),
        (".items[:]", [10, 20, 30, 40, 50]),
        (".items[-2:]", [40, 50]),
        (".items[::2]", [10, 30, 50]),
        (".items[1::2]", [20, 40]),
        (".items[::-1]", [50, 40, 30, 20, 10]),
        (".items[3:1]", []),
        (".items[10:20]", []),
        (".items[ 1 : 3 ]", [20, 30]),
        (".items[*]", [10, 20, 30, 40, 50]),
        (".items.*", [10, 20, 30, 40, 50]),
        (".items[0,2,-1]", [10, 30, 50]),
        (".items[1:3,0]", [20, 30, 10]),
    ],
)
def test_indexes_and_slices(expression: str, expected: list[object]) -> None:
    assert find(parse(expression), NUMBERS) == expected


def test_index_on_non_list_matches_nothing() -> None:
    assert find(parse(".a[0]"), {"a": {"0": 1}}) == []
    assert find(parse(".a[0]"), {"a": "text"}) == []
    assert find(parse(".a[0:1]"), {"a": "text"}) == []


def test_index_into_nested_lists() -> None:
    assert find(parse("[1][0]"), [[1, 2], [3, 4]]) == [3]


def test_index_then_field() -> None:
    assert find(parse(".status.conditions[0].type"), BROKER) == ["Addressable"]
    assert find(parse(".status.conditions[-1].type"), BROKER) == ["Ready"]


# --------------------------------------------------------------------------- wildcards, unions


def test_wildcard_over_object_values_in_document_order() -> None:
    assert find(parse(".a.*"), {"a": {"x": 1, "y": [2], "z": None}}) == [1, [2], None]
    assert find(parse(".a[*]"), {"a": {"x": 1, "y": 2}}) == [1, 2]


def test_wildcard_then_field() -> None:
    assert find(parse(".status.conditions[*].type"), BROKER) == [
        "Addressable",
        "FilterReady",
        "Ready",
    ]
    assert find(parse(".spec.attributes.*.name"), EVENT_TYPE) == ["specversion", "type", "source"]


def test_wildcard_on_scalars_and_empty_containers() -> None:
    assert find(parse(".a[*]"), {"a": "text"}) == []
    assert find(parse(".a[*]"), {"a": []}) == []
    assert find(parse(".a.*"), {"a": {}}) == []


def test_union_of_keys_keeps_written_order_and_skips_missing() -> None:
    doc = {"a": 1, "b": 2, "c": 3}
    assert find(parse("['c','a','zz']"), doc) == [3, 1]
    assert find(parse("[ 'b' , \"a\" ]"), doc) == [2, 1]


# --------------------------------------------------------------------------- recursive descent


def test_recursive_descent_finds_every_depth_in_document_order() -> None:
    doc = {"name": "top", "a": {"name": "a", "b": [{"name": "b0"}, {"x": {"name": "deep"}}]}}
    assert find(parse("..name"), doc) == ["top", "a", "b0", "deep"]
    assert find(parse("$..name"), doc) == ["top", "a", "b0", "deep"]


def test_recursive_descent_with_nested_matches() -> None:
    doc = {"a": {"a": {"a": 1}}}
    assert find(parse("..a"), doc) == [{"a": {"a": 1}}, {"a": 1}, 1]


def test_recursive_descent_below_a_field() -> None:
    assert find(parse(".status..type"), BROKER) == ["Addressable", "FilterReady", "Ready"]
    assert find(parse(".metadata..name"), BROKER) == ["default"]


def test_recursive_descent_with_wildcard_index_and_filter() -> None:
    doc = {"a": [1, {"b": 2}], "c": {"d": [3]}}
    # Like kube and RFC 9535: the selector's matches under each visited node, parents first.
    assert find(parse("..*"), doc) == [[1, {"b": 2}], {"d": [3]}, 1, {"b": 2}, 2, [3], 3]
    assert find(parse("..[0]"), doc) == [1, 3]
    assert find(parse('..conditions[?(@.status=="True")].type'), BROKER) == [
        "Addressable",
        "Ready",
    ]
    assert find(parse('$..[?(@.type=="Ready")].status'), EVENT_TYPE) == ["False"]


def test_recursive_descent_on_scalar() -> None:
    assert find(parse("..a"), 5) == []


# --------------------------------------------------------------------------- filters


def test_filter_equality_both_quote_styles() -> None:
    conditions = BROKER["status"]["conditions"]
    assert find(parse('.status.conditions[?(@.type=="Ready")]'), BROKER) == [conditions[2]]
    assert find(parse(".status.conditions[?(@.type=='Ready')]"), BROKER) == [conditions[2]]
    assert find(parse('.status.conditions[?(@.type == "Ready")]'), BROKER) == [conditions[2]]
    assert find(parse('.status.conditions[?("Ready"==@.type)]'), BROKER) == [conditions[2]]


def test_filter_not_equal_drops_elements_without_the_field() -> None:
    doc = {"items": [{"name": "a", "k": "x"}, {"name": "b", "k": "y"}, {"name": "c"}]}
    assert names(find(parse('.items[?(@.k!="x")]'), doc)) == ["b"]


def test_filter_on_nested_path() -> None:
    doc = {"items": [{"name": "a", "m": {"n": "x"}}, {"name": "b", "m": {"n": "y"}}, {"name": "c"}]}
    assert names(find(parse('.items[?(@.m.n!="x")]'), doc)) == ["b"]
    assert names(find(parse('.items[?(@.m.n=="x")]'), doc)) == ["a"]
    assert names(find(parse(".items[?(@['m']['n']=='y')]"), doc)) == ["b"]


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("@.cpu > 1", ["b", "c"]),
        ("@.cpu >= 2", ["b", "c"]),
        ("@.cpu < 2", ["a"]),
        ("@.cpu <= 2", ["a", "c"]),
        ("@.cpu == 2", ["c"]),
        ("@.cpu != 2", ["a", "b", "d"]),
        ("@.cpu == 4", ["b"]),
        ("@.ratio > 0.75", ["b"]),
        ("@.ratio < 1e0", ["a"]),
        ("@.ratio > -1", ["a", "b"]),
        ("@.cpu == '2'", ["d"]),
        ("@.cpu > '1'", ["d"]),
        ("@.ok == true", ["a"]),
        ("@.ok == false", ["b"]),
        ("@.ok == 1", []),
        ("@.ratio == null", ["c"]),
        ("@.tags == @.tags", ["a", "d"]),
        ("@.cpu < @.ratio", []),
        ("@.ratio < @.cpu", ["a", "b"]),
    ],
)
def test_filter_comparisons(predicate: str, expected: list[str]) -> None:
    assert names(find(parse(f".items[?({predicate})]"), PODS)) == expected


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("@.tags", ["a", "d"]),
        ("@.ratio", ["a", "b", "c"]),
        ("@.ok", ["a", "b"]),
        ("!@.tags", ["b", "c"]),
        ("@.tags[0]", ["a"]),
        ("@.tags && @.ok", ["a"]),
        ("@.tags || @.ok", ["a", "b", "d"]),
        ("@.cpu > 1 && @.cpu < 4", ["c"]),
        ("@.cpu == 1 || @.cpu == 4", ["a", "b"]),
        ("!(@.cpu == 1 || @.cpu == 4)", ["c", "d"]),
        ("(@.cpu == 1 || @.cpu == 4) && @.ok == false", ["b"]),
        ("@.cpu == 1 || @.cpu == 4 && @.ok == false", ["a", "b"]),
        ("@.name =~ '^[ab]$'", ["a", "b"]),
        ("@.name =~ 'c'", ["c"]),
        ("@.cpu =~ '2'", ["d"]),
        ("@.cpu =~ 2", []),
        ("@.name =~ '('", []),
    ],
)
def test_filter_existence_and_logic(predicate: str, expected: list[str]) -> None:
    assert names(find(parse(f".items[?({predicate})]"), PODS)) == expected


def test_filter_without_parentheses() -> None:
    assert names(find(parse(".items[?@.cpu > 2]"), PODS)) == ["b"]


def test_filter_on_current_item_itself() -> None:
    assert find(parse(".items[?(@ > 25)]"), NUMBERS) == [30, 40, 50]
    assert find(parse('.tags[?(@ == "b")]'), {"tags": ["a", "b", "c", "b"]}) == ["b", "b"]


def test_filter_against_root() -> None:
    doc = {"wanted": "Ready", "conditions": BROKER["status"]["conditions"]}
    assert find(parse(".conditions[?(@.type == $.wanted)].status"), doc) == ["True"]


def test_nested_filters() -> None:
    doc = {
        "groups": [
            {"name": "a", "members": [{"role": "admin"}]},
            {"name": "b", "members": [{"role": "viewer"}]},
        ]
    }
    path = parse('.groups[?(@.members[?(@.role=="admin")])].name')
    assert find(path, doc) == ["a"]


def test_filter_over_object_values() -> None:
    doc = {"m": {"x": {"on": True}, "y": {"on": False}, "z": 1}}
    assert find(parse(".m[?(@.on == true)]"), doc) == [{"on": True}]


def test_filter_on_scalar_matches_nothing() -> None:
    assert find(parse(".a[?(@.b)]"), {"a": "text"}) == []
    assert find(parse(".a[?(@.b)]"), {"a": None}) == []


def test_filter_string_literal_escapes() -> None:
    doc = {"items": [{"v": 'say "hi"'}, {"v": "it's"}, {"v": "tab\there"}]}
    assert find(parse('.items[?(@.v=="say \\"hi\\"")].v'), doc) == ['say "hi"']
    assert find(parse(".items[?(@.v=='it\\'s')].v"), doc) == ["it's"]
    assert find(parse(".items[?(@.v=='tab\\there')].v"), doc) == ["tab\there"]
    assert find(parse(".items[?(@.v==')]')].v"), doc) == []


def test_filter_compares_structures() -> None:
    doc = {"items": [{"v": {"a": [1, True]}}, {"v": {"a": [1, 1]}}, {"v": {"a": [1.0, True]}}]}
    path = parse(".items[?(@.v == $.items[0].v)].v")
    assert find(path, doc) == [{"a": [1, True]}, {"a": [1.0, True]}]


# --------------------------------------------------------------------------- bad syntax


@pytest.mark.parametrize(
    ("expression", "message", "position"),
    [
        ("", "empty", 0),
        ("   ", "empty", 3),
        ("status.phase", "must start with", 0),
        ("{.status}", "without the surrounding '{}'", 0),
        (".", "after '.'", 1),
        (".a.", "after '.'", 3),
        (".a..", "after '..'", 4),
        (".a...b", "'...'", 2),
        (".a b", "unexpected character ' '", 2),
        (".a]", "unexpected character ']'", 2),
        (".a[", "unclosed '['", 2),
        (".a[0", "unclosed '['", 2),
        (".a['x'", "unclosed '['", 2),
        (".a['x", "unterminated string", 3),
        (".a[]", "expected a quoted key", 3),
        (".a[x]", "expected a quoted key", 3),
        (".a[0,]", "expected a quoted key", 5),
        (".a[-]", "digits after '-'", 3),
        (".a[1.5]", "expected ']', found '.'", 4),
        (".a[1:x]", "expected an integer, found 'x'", 5),
        (".a[1:2:0]", "step must not be zero", 8),
        (".a[1:2:3:4]", "expected ']'", 8),
        (".a[0 1]", "expected ']'", 5),
        (".a[?(@.x=1)]", "use '=='", 8),
        (".a[?(@.x==)]", "expected a path or a literal", 10),
        (".a[?(@.x=='y)]", "unterminated string", 10),
        ('.a[?(@.x=="y"]', "expected ')' to close the '(' at position 4, found ']'", 13),
        (".a[?(@.x", "unclosed '('", 4),
        ('.a[?(@.x=="y")', "unclosed '['", 2),
        (".a[?(type=='x')]", "unknown identifier 'type'", 5),
        (".a[?(true)]", "needs a path", 5),
        (".a[?()]", "expected a path or a literal", 5),
        (".a[?(@.x && )]", "expected a path or a literal", 12),
        (".a[?(@.x == -)]", "digits after '-'", 12),
        (".a\\", "backslash", 2),
    ],
)
def test_bad_syntax(expression: str, message: str, position: int) -> None:
    with pytest.raises(JsonPathError) as caught:
        parse(expression)
    error = caught.value
    assert message in str(error)
    assert error.position == position
    assert error.expression == expression
    if expression:
        assert f"at position {position} in JSONPath {expression!r}" in str(error)


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="must start with"):
        parse("status")


def test_find_with_bad_expression_text_raises_jsonpath_error() -> None:
    with pytest.raises(JsonPathError):
        find("status", {})


def test_huge_integer_literal_is_a_syntax_error() -> None:
    with pytest.raises(JsonPathError, match="too long"):
        parse(f".a[{'9' * 5000}]")


# --------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "type", "name", "x.y"]), children, max_size=4)
    ),
    max_leaves=25,
)

EXPRESSIONS = [
    ".a",
    ".a.b",
    "['x.y']",
    ".a[0]",
    ".a[-1]",
    ".a[1:]",
    ".a[::-1]",
    ".*",
    "[*].name",
    "..name",
    "..*",
    "..[0]",
    ".a[0,'b']",
    '.a[?(@.type=="Ready")].name',
    ".a[?(@.name)]",
    ".a[?(@ > 1)]",
    ".a[?(@.b <= 'x' || !@.name)]",
    ".a[?(@.type == $.b)]",
    ".a[?(@.name =~ 'a.*')]",
]


@given(json_values)
def test_find_never_raises_on_any_json(document: object) -> None:
    for expression in EXPRESSIONS:
        result = find(parse(expression), document)
        assert isinstance(result, list)


@given(
    st.text(alphabet=st.sampled_from(list(".$@[]()?*'\"=!<>&|:,-0123456789ab \\~")), max_size=20)
)
def test_parse_only_raises_jsonpath_error(expression: str) -> None:
    path: JsonPath | None = None
    position: int | None = -1
    try:
        path = parse(expression)
    except JsonPathError as error:  # anything else propagates and fails the test
        position = error.position
    if path is None:
        assert position is not None
        assert 0 <= position <= len(expression)
    else:
        find(path, {"a": [1, {"b": "x"}]})


@given(json_values)
def test_root_and_wildcard_agree_with_the_document(document: object) -> None:
    assert find(parse("$"), document) == [document]
    if isinstance(document, dict):
        assert find(parse(".*"), document) == list(document.values())
    elif isinstance(document, list):
        assert find(parse("[*]"), document) == document
        assert find(parse("[:]"), document) == document
