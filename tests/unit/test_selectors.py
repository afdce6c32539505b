"""Unit tests for event_registry.controlplane.machinery.selectors."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.controlplane.machinery.errors import BadRequest
from event_registry.controlplane.machinery.selectors import (
    FieldOperator,
    FieldRequirement,
    FieldSelector,
    LabelRequirement,
    LabelSelector,
    object_fields,
    parse_field_selector,
    parse_label_selector,
)

META_FIELDS = frozenset({"metadata.name", "metadata.namespace"})

NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
    "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def matches(selector: str, labels: dict[str, str]) -> bool:
    return parse_label_selector(selector).matches(labels)


def label_error(selector: str) -> str:
    with pytest.raises(BadRequest) as info:
        parse_label_selector(selector)
    assert info.value.code == 400
    return info.value.message


def field_error(selector: str, supported: frozenset[str] = META_FIELDS) -> str:
    with pytest.raises(BadRequest) as info:
        parse_field_selector(selector, supported=supported)
    assert info.value.code == 400
    return info.value.message


# --- label selectors: empty ------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", " ", "\t\n "])
def test_empty_label_selector_matches_everything(text: str | None) -> None:
    selector = parse_label_selector(text)
    assert selector.is_empty
    assert selector.matches({})
    assert selector.matches({"a": "b"})
    assert selector == LabelSelector()


def test_non_empty_label_selector_is_not_empty() -> None:
    assert not parse_label_selector("a").is_empty


# --- label selectors: operators --------------------------------------------------------------


@pytest.mark.parametrize("op", ["=", "=="])
def test_equals(op: str) -> None:
    assert matches(f"app{op}web", {"app": "web"})
    assert matches(f"app{op}web", {"app": "web", "other": "x"})
    assert not matches(f"app{op}web", {"app": "db"})
    assert not matches(f"app{op}web", {})
    assert not matches(f"app{op}web", {"App": "web"})


def test_equals_empty_value() -> None:
    assert matches("app=", {"app": ""})
    assert not matches("app=", {"app": "x"})
    assert not matches("app=", {})
    assert matches("app=,b", {"app": "", "b": "1"})


def test_not_equals_matches_when_absent() -> None:
    assert matches("app!=web", {"app": "db"})
    assert matches("app!=web", {})
    assert not matches("app!=web", {"app": "web"})


def test_in() -> None:
    selector = "env in (prod,staging)"
    assert matches(selector, {"env": "prod"})
    assert matches(selector, {"env": "staging"})
    assert not matches(selector, {"env": "dev"})
    assert not matches(selector, {})


def test_notin_matches_when_absent() -> None:
    selector = "env notin (prod,staging)"
    assert matches(selector, {"env": "dev"})
    assert matches(selector, {})
    assert not matches(selector, {"env": "prod"})


def test_exists_and_not_exists() -> None:
    assert matches("app", {"app": ""})
    assert matches("app", {"app": "x"})
    assert not matches("app", {})
    assert matches("!app", {})
    assert matches("!app", {"other": "x"})
    assert not matches("!app", {"app": ""})


def test_greater_and_less_than() -> None:
    assert matches("replicas>3", {"replicas": "4"})
    assert not matches("replicas>3", {"replicas": "3"})
    assert matches("replicas<3", {"replicas": "-10"})
    assert not matches("replicas<3", {"replicas": "3"})
    assert not matches("replicas>3", {})
    assert not matches("replicas>3", {"replicas": "many"})
    assert not matches("replicas>3", {"replicas": "1_0"})
    assert not matches("replicas>3", {"replicas": str(2**63)})


def test_requirements_are_anded() -> None:
    selector = "app=web,tier!=db,env in (prod),!legacy,owner"
    labels = {"app": "web", "tier": "fe", "env": "prod", "owner": "me"}
    assert matches(selector, labels)
    assert not matches(selector, {**labels, "legacy": "1"})
    assert not matches(selector, {**labels, "tier": "db"})
    del labels["owner"]
    assert not matches(selector, labels)


def test_contradiction_matches_nothing() -> None:
    assert not matches("a=b,a!=b", {"a": "b"})
    assert not matches("a=b,a!=b", {})


# --- label selectors: syntax details ---------------------------------------------------------


def test_whitespace_tolerant() -> None:
    selector = parse_label_selector("  app = web ,\ttier != db , env  in  ( prod , dev ) , ! x ")
    assert selector == parse_label_selector("app=web,tier!=db,env in (prod,dev),!x")
    assert selector.matches({"app": "web", "env": "dev"})


def test_in_without_space_before_paren() -> None:
    assert matches("env in(prod)", {"env": "prod"})
    assert matches("env notin(prod)", {"env": "dev"})


def test_keywords_as_keys_and_values() -> None:
    assert matches("in in (in,notin)", {"in": "notin"})
    assert matches("notin=in", {"notin": "in"})


def test_empty_set_members() -> None:
    assert parse_label_selector("x in ()").requirements == (LabelRequirement("x", "in", ("",)),)
    assert parse_label_selector("x in (,a)").requirements[0].values == ("", "a")
    assert parse_label_selector("x in (a,)").requirements[0].values == ("", "a")
    assert parse_label_selector("x in (a,,b)").requirements[0].values == ("", "a", "b")
    assert matches("x in (a,)", {"x": ""})
    assert not matches("x notin ()", {"x": ""})


def test_values_are_sorted_and_deduplicated() -> None:
    requirement = parse_label_selector("x in (c,a,b,a)").requirements[0]
    assert requirement.values == ("a", "b", "c")


def test_requirements_sorted_by_key() -> None:
    selector = parse_label_selector("b=1,a,!c")
    assert [r.key for r in selector.requirements] == ["a", "b", "c"]


def test_prefixed_keys_and_rich_values() -> None:
    selector = "app.kubernetes.io/name=My_App-1.0,example.com/flag"
    assert matches(selector, {"app.kubernetes.io/name": "My_App-1.0", "example.com/flag": ""})


def test_str_round_trips() -> None:
    text = "a=1,b==2,c!=3,d in (x,y),e notin (z),f,!g,h>4,i<5"
    selector = parse_label_selector(text)
    assert str(selector) == "a=1,b==2,c!=3,d in (x,y),e notin (z),f,!g,h>4,i<5"
    assert parse_label_selector(str(selector)) == selector


def test_selectors_are_hashable_values() -> None:
    assert hash(parse_label_selector("a=b")) == hash(parse_label_selector(" a = b "))
    assert parse_label_selector("a=b") != parse_label_selector("a=c")


def test_label_exact_value() -> None:
    selector = parse_label_selector("app=web,tier in (fe),env in (a,b),x!=y,z")
    assert selector.exact_value("app") == "web"
    assert selector.exact_value("tier") == "fe"
    assert selector.exact_value("env") is None
    assert selector.exact_value("x") is None
    assert selector.exact_value("z") is None
    assert selector.exact_value("missing") is None


# --- label selectors: errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a,", "found '', expected: identifier after ','"),
        ("a,,b", "found ',', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("(a)", "found '(', expected: !, identifier, or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("!!a", "unable to parse requirement: found '!', expected: identifier"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("a in (b))", "found ')', expected: ',' or 'end of string'"),
        ("a==!", "unable to parse requirement: found '!', expected: identifier"),
        ("a>=1", "unable to parse requirement: found '=', expected: identifier"),
        ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
    ],
)
def test_label_syntax_errors(text: str, message: str) -> None:
    assert label_error(text) == message


def test_invalid_label_key() -> None:
    assert label_error("-a=b") == (
        f'unable to parse requirement: <nil>: Invalid value: "-a": {NAME_PART_MSG}'
    )


def test_invalid_label_key_joins_messages() -> None:
    message = label_error("/")
    assert message == (
        'unable to parse requirement: <nil>: Invalid value: "/": prefix part must be non-empty; '
        f"name part must be non-empty; {NAME_PART_MSG}"
    )


def test_invalid_label_key_checked_for_exists_too() -> None:
    assert label_error("a_").startswith('unable to parse requirement: <nil>: Invalid value: "a_"')
    assert label_error("!a_").startswith('unable to parse requirement: <nil>: Invalid value: "a_"')


def test_invalid_label_value() -> None:
    assert label_error("a=b/c") == (
        f'unable to parse requirement: values[0][a]: Invalid value: "b/c": {LABEL_VALUE_MSG}'
    )


def test_invalid_label_value_too_long() -> None:
    value = "v" * 64
    assert label_error(f"a in ({value})") == (
        f'unable to parse requirement: values[0][a]: Invalid value: "{value}": '
        "must be no more than 63 characters"
    )


def test_several_invalid_values_are_aggregated() -> None:
    assert label_error("a in (ok,-x,y-)") == (
        "unable to parse requirement: ["
        f'values[0][a]: Invalid value: "-x": {LABEL_VALUE_MSG}, '
        f'values[2][a]: Invalid value: "y-": {LABEL_VALUE_MSG}]'
    )


def test_gt_lt_need_integers() -> None:
    assert label_error("a>b") == (
        'unable to parse requirement: values[0]: Invalid value: "b": '
        "for 'Gt', 'Lt' operators, the value must be an integer"
    )
    # A negative bound is an integer but not a valid label value.
    assert label_error("a<-1") == (
        f'unable to parse requirement: values[0][a]: Invalid value: "-1": {LABEL_VALUE_MSG}'
    )


def test_non_ascii_is_rejected() -> None:
    assert label_error("é=a").startswith('unable to parse requirement: <nil>: Invalid value: "é"')
    assert label_error("a=é").startswith("unable to parse requirement: values[0][a]")


@given(st.text(max_size=40))
def test_label_parser_never_raises_anything_but_bad_request(text: str) -> None:
    try:
        selector = parse_label_selector(text)
    except BadRequest:
        return
    assert parse_label_selector(str(selector)) == selector
    selector.matches({})


_key = st.from_regex(r"[a-z]([-a-z0-9_.]{0,8}[a-z0-9])?", fullmatch=True)
_value = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?)?", fullmatch=True)


@given(labels=st.dictionaries(_key, _value, max_size=6), key=_key, value=_value)
def test_equals_and_not_equals_are_complements(
    labels: dict[str, str], key: str, value: str
) -> None:
    assert matches(f"{key}={value}", labels) != matches(f"{key}!={value}", labels)
    assert matches(f"{key} in ({value})", labels) != matches(f"{key} notin ({value})", labels)
    assert matches(key, labels) != matches(f"!{key}", labels)


def test_large_selector_parses_quickly() -> None:
    text = "a in (" + ",".join(f"v{i}" for i in range(50_000)) + ")"
    start = time.perf_counter()
    selector = parse_label_selector(text)
    assert time.perf_counter() - start < 2.0
    assert selector.matches({"a": "v49999"})


# --- field selectors -------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", ",", ",,"])
def test_empty_field_selector_matches_everything(text: str | None) -> None:
    selector = parse_field_selector(text, supported=META_FIELDS)
    assert selector.is_empty
    assert selector.matches({})
    assert selector == FieldSelector()


@pytest.mark.parametrize("op", ["=", "=="])
def test_field_equals(op: FieldOperator) -> None:
    selector = parse_field_selector(f"metadata.name{op}foo", supported=META_FIELDS)
    assert not selector.is_empty
    assert selector.matches({"metadata.name": "foo"})
    assert not selector.matches({"metadata.name": "bar"})
    assert not selector.matches({})
    assert selector.requirements == (FieldRequirement("metadata.name", op, "foo"),)


def test_field_not_equals() -> None:
    selector = parse_field_selector("metadata.namespace!=kube-system", supported=META_FIELDS)
    assert selector.matches({"metadata.namespace": "default"})
    assert selector.matches({})
    assert not selector.matches({"metadata.namespace": "kube-system"})


def test_absent_field_reads_as_empty() -> None:
    selector = parse_field_selector("metadata.namespace=", supported=META_FIELDS)
    assert selector.matches({})
    assert selector.matches({"metadata.namespace": ""})
    assert not selector.matches({"metadata.namespace": "x"})


def test_field_requirements_are_anded_and_sorted() -> None:
    selector = parse_field_selector("metadata.namespace=ns,metadata.name!=b", supported=META_FIELDS)
    assert [r.field for r in selector.requirements] == ["metadata.name", "metadata.namespace"]
    assert selector.matches({"metadata.name": "a", "metadata.namespace": "ns"})
    assert not selector.matches({"metadata.name": "b", "metadata.namespace": "ns"})
    assert not selector.matches({"metadata.name": "a", "metadata.namespace": "other"})


def test_field_value_escapes() -> None:
    selector = parse_field_selector(r"metadata.name=a\,b\=c\\d", supported=META_FIELDS)
    assert selector.requirements[0].value == "a,b=c\\d"
    assert selector.matches({"metadata.name": "a,b=c\\d"})
    assert str(selector) == r"metadata.name=a\,b\=c\\d"


def test_escaped_comma_does_not_split_terms() -> None:
    # One term whose value holds an escaped comma and then an unescaped "=": an error upstream.
    assert field_error(r"metadata.name=a\,metadata.namespace=b") == (
        "invalid field selector: unescapedRune character in value: 61"
    )
    selector = parse_field_selector(
        r"metadata.name=a\,b,metadata.namespace=c", supported=META_FIELDS
    )
    assert selector.exact_value("metadata.name") == "a,b"
    assert selector.exact_value("metadata.namespace") == "c"


def test_field_values_keep_other_characters_and_whitespace() -> None:
    selector = parse_field_selector("metadata.name= a b!", supported=META_FIELDS)
    assert selector.exact_value("metadata.name") == " a b!"


def test_field_exact_value() -> None:
    selector = parse_field_selector("metadata.name==n,metadata.namespace!=x", supported=META_FIELDS)
    assert selector.exact_value("metadata.name") == "n"
    assert selector.exact_value("metadata.namespace") is None
    assert selector.exact_value("spec.other") is None
    assert parse_field_selector(None, supported=META_FIELDS).exact_value("metadata.name") is None


def test_field_exact_value_first_of_duplicates() -> None:
    selector = parse_field_selector("metadata.name=b,metadata.name=a", supported=META_FIELDS)
    assert selector.exact_value("metadata.name") == "a"
    assert not selector.matches({"metadata.name": "a"})


def test_custom_supported_fields() -> None:
    selector = parse_field_selector("spec.type=x", supported={"spec.type"})
    assert selector.matches({"spec.type": "x"})


def test_unsupported_field() -> None:
    assert field_error("spec.foo=1") == "field label not supported: spec.foo"
    assert field_error("metadata.name=a,spec.foo!=1") == "field label not supported: spec.foo"
    assert field_error("=a") == "field label not supported: "
    assert field_error(" metadata.name=a") == "field label not supported:  metadata.name"
    assert field_error("metadata.name=a", frozenset()) == "field label not supported: metadata.name"


def test_first_unsupported_in_sorted_order_is_reported() -> None:
    assert field_error("z.b=1,a.b=2") == "field label not supported: a.b"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("a!b", "invalid selector: 'a!b'; can't understand 'a!b'"),
        (" ", "invalid selector: ' '; can't understand ' '"),
        (r"metadata.name=a\b", "invalid field selector: invalid escape sequence: \\b"),
        ("metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
        ("metadata.name=a=b", "invalid field selector: unescapedRune character in value: 61"),
        ("metadata.name==a=b", "invalid field selector: unescapedRune character in value: 61"),
        (r"metadata.name=a\,c=d", "invalid field selector: unescapedRune character in value: 61"),
    ],
)
def test_field_syntax_errors(text: str, message: str) -> None:
    assert field_error(text) == message


def test_syntax_errors_win_over_unsupported_fields() -> None:
    assert field_error("spec.x=1,zzz").startswith("invalid selector:")


def test_operator_precedence_in_terms() -> None:
    assert parse_field_selector("metadata.name!=a", supported=META_FIELDS).requirements == (
        FieldRequirement("metadata.name", "!=", "a"),
    )
    assert parse_field_selector("metadata.name==a", supported=META_FIELDS).requirements == (
        FieldRequirement("metadata.name", "==", "a"),
    )
    # "=!" is "=" followed by a value starting with "!".
    assert parse_field_selector("metadata.name=!a", supported=META_FIELDS).requirements == (
        FieldRequirement("metadata.name", "=", "!a"),
    )


def test_field_str_round_trips() -> None:
    selector = parse_field_selector(
        r"metadata.name!=x\=y,metadata.namespace==n", supported=META_FIELDS
    )
    assert parse_field_selector(str(selector), supported=META_FIELDS).requirements == tuple(
        FieldRequirement(r.field, "=" if r.operator == "==" else r.operator, r.value)
        for r in selector.requirements
    )


@given(st.text(alphabet="ab=!,\\ ", max_size=30))
def test_field_parser_never_raises_anything_but_bad_request(text: str) -> None:
    try:
        selector = parse_field_selector(text, supported={"a", "b", "ab"})
    except BadRequest:
        return
    assert all(r.field in {"a", "b", "ab"} for r in selector.requirements)
    selector.matches({"a": "b"})


@given(value=st.text(max_size=20))
def test_any_value_can_be_escaped(value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
    selector = parse_field_selector(f"metadata.name={escaped}", supported=META_FIELDS)
    assert selector.exact_value("metadata.name") == value
    assert selector.matches({"metadata.name": value})


def test_long_field_selector_without_operator_fails_fast() -> None:
    start = time.perf_counter()
    with pytest.raises(BadRequest):
        parse_field_selector("a" * 1_000_000, supported=META_FIELDS)
    assert time.perf_counter() - start < 1.0


# --- object_fields ---------------------------------------------------------------------------


def test_object_fields() -> None:
    obj = {"metadata": {"name": "n", "namespace": "ns", "labels": {"a": "b"}}, "spec": {}}
    assert object_fields(obj) == {"metadata.name": "n", "metadata.namespace": "ns"}


def test_object_fields_cluster_scoped_and_malformed() -> None:
    assert object_fields({"metadata": {"name": "n"}}) == {
        "metadata.name": "n",
        "metadata.namespace": "",
    }
    assert object_fields({}) == {"metadata.name": "", "metadata.namespace": ""}
    assert object_fields({"metadata": None}) == {"metadata.name": "", "metadata.namespace": ""}
    assert object_fields({"metadata": {"name": 3}}) == {
        "metadata.name": "",
        "metadata.namespace": "",
    }


def test_object_fields_with_field_selector() -> None:
    selector = parse_field_selector("metadata.name=a,metadata.namespace=ns", supported=META_FIELDS)
    assert selector.matches(object_fields({"metadata": {"name": "a", "namespace": "ns"}}))
    assert not selector.matches(object_fields({"metadata": {"name": "a"}}))
