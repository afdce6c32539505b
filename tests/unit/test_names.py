"""Unit tests for event_registry.controlplane.machinery.names."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.controlplane.machinery.errors import Cause, invalid_value
from event_registry.controlplane.machinery.names import (
    GENERATED_SUFFIX_ALPHABET,
    NameRule,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    generate_name,
    label_value_errors,
    name_errors,
    path_segment_name_errors,
    qualified_name_errors,
    validate_object_meta,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
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
TOO_MANY_SLASHES_MSG = (
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
    "subdomain prefix and '/' (e.g. 'example.com/MyName')"
)


# --- DNS-1123 subdomain ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["a", "0", "abc", "a-b", "a--b", "a.b", "my-name.example.com", "1.2.3.4", "a" * 253],
)
def test_subdomain_valid(value: str) -> None:
    assert dns1123_subdomain_errors(value) == []


@pytest.mark.parametrize(
    "value",
    ["", "-a", "a-", ".a", "a.", "a..b", "a.-b", "a-.b", "Abc", "a_b", "a b", "é", "a/b", "a\n"],
)
def test_subdomain_invalid_format(value: str) -> None:
    assert dns1123_subdomain_errors(value) == [SUBDOMAIN_MSG]


def test_subdomain_too_long() -> None:
    assert dns1123_subdomain_errors("a" * 254) == ["must be no more than 253 characters"]


def test_subdomain_too_long_and_invalid_reports_both_in_order() -> None:
    assert dns1123_subdomain_errors("A" * 254) == [
        "must be no more than 253 characters",
        SUBDOMAIN_MSG,
    ]


def test_length_is_counted_in_bytes() -> None:
    # 127 two-byte characters: 254 bytes, like Go's len().
    assert dns1123_subdomain_errors("é" * 127)[0] == "must be no more than 253 characters"
    assert dns1123_label_errors("é" * 32)[0] == "must be no more than 63 characters"


# --- DNS-1123 label --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", "9", "my-name", "123-abc", "a" * 63])
def test_label_valid(value: str) -> None:
    assert dns1123_label_errors(value) == []


@pytest.mark.parametrize("value", ["", "-a", "a-", "My-Name", "a_b", "a b", "a.", ".a", "a..b"])
def test_label_invalid_format(value: str) -> None:
    assert dns1123_label_errors(value) == [LABEL_MSG]


def test_label_with_dots_says_so() -> None:
    assert dns1123_label_errors("a.b") == ["must not contain dots"]
    assert dns1123_label_errors("my.name.example") == ["must not contain dots"]


def test_label_too_long() -> None:
    assert dns1123_label_errors("a" * 64) == ["must be no more than 63 characters"]
    assert dns1123_label_errors("a." * 40) == ["must be no more than 63 characters", LABEL_MSG]


def test_label_message_has_upstream_double_space() -> None:
    assert "'my-name',  or '123-abc'" in dns1123_label_errors("X")[0]


# --- qualified names (label and annotation keys) ---------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "a",
        "A",
        "MyName",
        "my.name",
        "123-abc",
        "my_name",
        "a" * 63,
        "example.com/MyName",
        "app.kubernetes.io/name",
        "k8s.io/x",
        ("a" * 63 + ".") * 3 + "a" * 61 + "/" + "b" * 63,
    ],
)
def test_qualified_name_valid(value: str) -> None:
    assert qualified_name_errors(value) == []


@pytest.mark.parametrize("value", ["-a", "a-", "_a", "a_", ".a", "a.", "a b", "a:b", "é"])
def test_qualified_name_invalid_name_part(value: str) -> None:
    assert qualified_name_errors(value) == [NAME_PART_MSG]


def test_qualified_name_empty() -> None:
    assert qualified_name_errors("") == ["name part must be non-empty", NAME_PART_MSG]


def test_qualified_name_name_part_too_long() -> None:
    assert qualified_name_errors("a" * 64) == ["name part must be no more than 63 characters"]


def test_qualified_name_empty_prefix() -> None:
    assert qualified_name_errors("/a") == ["prefix part must be non-empty"]


def test_qualified_name_invalid_prefix() -> None:
    assert qualified_name_errors("Example.com/a") == [f"prefix part {SUBDOMAIN_MSG}"]
    assert qualified_name_errors("a" * 254 + "/a") == [
        "prefix part must be no more than 253 characters"
    ]


def test_qualified_name_empty_name_after_prefix() -> None:
    assert qualified_name_errors("example.com/") == ["name part must be non-empty", NAME_PART_MSG]


def test_qualified_name_too_many_slashes() -> None:
    assert qualified_name_errors("a/b/c") == [TOO_MANY_SLASHES_MSG]


# --- label values ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "a", "MyValue", "my_value", "12345", "a.b-c_d", "x" * 63])
def test_label_value_valid(value: str) -> None:
    assert label_value_errors(value) == []


@pytest.mark.parametrize("value", ["-a", "a-", "_a", ".a", "a b", "a/b", "a=b", "ü"])
def test_label_value_invalid(value: str) -> None:
    assert label_value_errors(value) == [LABEL_VALUE_MSG]


def test_label_value_too_long() -> None:
    assert label_value_errors("x" * 64) == ["must be no more than 63 characters"]
    assert label_value_errors("-" * 64) == ["must be no more than 63 characters", LABEL_VALUE_MSG]


# --- name rules ------------------------------------------------------------------------------


def test_path_segment_names() -> None:
    assert path_segment_name_errors("Any_Thing: goes!") == []
    assert path_segment_name_errors(".") == ["may not be '.'"]
    assert path_segment_name_errors("..") == ["may not be '..'"]
    assert path_segment_name_errors("a/b") == ["may not contain '/'"]
    assert path_segment_name_errors("a%b/") == ["may not contain '/'", "may not contain '%'"]
    assert path_segment_name_errors(".", prefix=True) == []
    assert path_segment_name_errors("a/", prefix=True) == ["may not contain '/'"]


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("subdomain", "a.b", []),
        ("subdomain", "A", [SUBDOMAIN_MSG]),
        ("label", "a.b", ["must not contain dots"]),
        ("label", "ab", []),
        ("path-segment", "A.B_c", []),
        ("path-segment", "a/b", ["may not contain '/'"]),
    ],
)
def test_name_errors_dispatch(rule: NameRule, value: str, expected: list[str]) -> None:
    assert name_errors(value, rule) == expected


@pytest.mark.parametrize(
    ("rule", "prefix"),
    [
        ("subdomain", "foo-"),
        ("subdomain", "foo."),
        ("subdomain", "foo"),
        ("subdomain", "a" * 253),
        ("label", "foo-"),
        ("label", "a" * 63),
    ],
)
def test_generate_name_prefix_valid(rule: NameRule, prefix: str) -> None:
    assert name_errors(prefix, rule, prefix=True) == []


@pytest.mark.parametrize(
    ("rule", "prefix", "expected"),
    [
        ("subdomain", "-foo", [SUBDOMAIN_MSG]),
        ("subdomain", "Foo-", [SUBDOMAIN_MSG]),
        ("subdomain", "foo..", [SUBDOMAIN_MSG]),
        ("subdomain", "foo.-", [SUBDOMAIN_MSG]),
        ("subdomain", "a" * 254, ["must be no more than 253 characters"]),
        ("label", "foo.", ["must not contain dots"]),
        ("label", "a" * 64, ["must be no more than 63 characters"]),
    ],
)
def test_generate_name_prefix_invalid(rule: NameRule, prefix: str, expected: list[str]) -> None:
    assert name_errors(prefix, rule, prefix=True) == expected


# --- validate_object_meta --------------------------------------------------------------------


def test_valid_meta_has_no_causes() -> None:
    meta = {
        "name": "my-broker.v1",
        "namespace": "default",
        "generateName": "my-broker-",
        "labels": {"app.kubernetes.io/name": "broker", "tier": "", "Version": "1.2_3"},
        "annotations": {"Example.COM/Thing": 'any value at all: {"json": true}'},
    }
    assert validate_object_meta(meta, namespaced=True, name_rule="subdomain") == []


def test_empty_meta_has_no_causes() -> None:
    # "name or generateName is required" is the caller's check.
    assert validate_object_meta({}, namespaced=True, name_rule="subdomain") == []


def test_invalid_name_per_rule() -> None:
    assert validate_object_meta({"name": "Bad"}, namespaced=False, name_rule="subdomain") == [
        invalid_value("metadata.name", "Bad", SUBDOMAIN_MSG)
    ]
    assert validate_object_meta({"name": "a.b"}, namespaced=False, name_rule="label") == [
        invalid_value("metadata.name", "a.b", "must not contain dots")
    ]
    assert validate_object_meta({"name": "a.b"}, namespaced=False, name_rule="subdomain") == []
    assert validate_object_meta({"name": "A_B"}, namespaced=False, name_rule="path-segment") == []
    assert validate_object_meta({"name": ".."}, namespaced=False, name_rule="path-segment") == [
        invalid_value("metadata.name", "..", "may not be '..'")
    ]


def test_invalid_name_cause_shape() -> None:
    (cause,) = validate_object_meta({"name": "x" * 254}, namespaced=False, name_rule="subdomain")
    assert cause == Cause(
        "metadata.name",
        "FieldValueInvalid",
        f'Invalid value: "{"x" * 254}": must be no more than 253 characters',
    )


def test_invalid_generate_name() -> None:
    causes = validate_object_meta({"generateName": "Foo-"}, namespaced=False, name_rule="subdomain")
    assert causes == [invalid_value("metadata.generateName", "Foo-", SUBDOMAIN_MSG)]


def test_namespace_checked_only_when_namespaced() -> None:
    meta = {"name": "a", "namespace": "Bad_NS"}
    assert validate_object_meta(meta, namespaced=True, name_rule="subdomain") == [
        invalid_value("metadata.namespace", "Bad_NS", LABEL_MSG)
    ]
    assert validate_object_meta(meta, namespaced=False, name_rule="subdomain") == []
    dotted = {"name": "a", "namespace": "a.b"}
    assert validate_object_meta(dotted, namespaced=True, name_rule="subdomain") == [
        invalid_value("metadata.namespace", "a.b", "must not contain dots")
    ]


def test_invalid_label_key_and_value() -> None:
    meta = {"name": "a", "labels": {"-bad": "ok", "good": "-bad-", "a/b/c": "x" * 64}}
    assert validate_object_meta(meta, namespaced=False, name_rule="subdomain") == [
        invalid_value("metadata.labels", "-bad", NAME_PART_MSG),
        invalid_value("metadata.labels", "-bad-", LABEL_VALUE_MSG),
        invalid_value("metadata.labels", "a/b/c", TOO_MANY_SLASHES_MSG),
        invalid_value("metadata.labels", "x" * 64, "must be no more than 63 characters"),
    ]


def test_annotation_keys_are_case_insensitive_but_otherwise_qualified() -> None:
    ok = {"name": "a", "annotations": {"EXAMPLE.COM/Key": "v"}}
    assert validate_object_meta(ok, namespaced=False, name_rule="subdomain") == []
    bad = {"name": "a", "annotations": {"bad key": "v"}}
    assert validate_object_meta(bad, namespaced=False, name_rule="subdomain") == [
        invalid_value("metadata.annotations", "bad key", NAME_PART_MSG)
    ]


def test_annotation_values_are_free_form() -> None:
    meta = {"name": "a", "annotations": {"k": "-- anything \n at all /=,"}}
    assert validate_object_meta(meta, namespaced=False, name_rule="subdomain") == []


def test_annotations_total_size_limit() -> None:
    at_limit = {"k": "v" * (262144 - 1)}
    assert (
        validate_object_meta(
            {"name": "a", "annotations": at_limit}, namespaced=False, name_rule="subdomain"
        )
        == []
    )
    over = {"k": "v" * 200000, "k2": "v" * 62143}  # 1 + 200000 + 2 + 62143 = 262146
    assert validate_object_meta(
        {"name": "a", "annotations": over}, namespaced=False, name_rule="subdomain"
    ) == [
        Cause(
            "metadata.annotations",
            "FieldValueTooLong",
            "Too long: must have at most 262144 bytes",
        )
    ]


def test_cause_order_follows_upstream() -> None:
    meta = {
        "generateName": "-",
        "name": "-",
        "namespace": "-",
        "labels": {"-": "x"},
        "annotations": {"-": "x"},
    }
    fields = [
        cause.field for cause in validate_object_meta(meta, namespaced=True, name_rule="subdomain")
    ]
    assert fields == [
        "metadata.generateName",
        "metadata.name",
        "metadata.namespace",
        "metadata.labels",
        "metadata.annotations",
    ]


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({"name": 5}, "metadata.name"),
        ({"generateName": ["x"]}, "metadata.generateName"),
        ({"namespace": 1}, "metadata.namespace"),
        ({"labels": ["a"]}, "metadata.labels"),
        ({"labels": {"a": 1}}, "metadata.labels"),
        ({"annotations": "a=b"}, "metadata.annotations"),
        ({"annotations": {"a": None}}, "metadata.annotations"),
    ],
)
def test_wrongly_typed_fields_are_causes_not_crashes(meta: dict[str, Any], field: str) -> None:
    causes = validate_object_meta(meta, namespaced=True, name_rule="subdomain")
    assert [cause.field for cause in causes] == [field]
    assert causes[0].reason == "FieldValueInvalid"


# --- generate_name ---------------------------------------------------------------------------


def test_generate_name_is_prefix_plus_five_alphabet_chars() -> None:
    name = generate_name("broker-", random.Random(1))
    assert name.startswith("broker-")
    assert len(name) == len("broker-") + 5
    assert set(name[len("broker-") :]) <= set(GENERATED_SUFFIX_ALPHABET)


def test_generate_name_alphabet_is_upstreams() -> None:
    assert GENERATED_SUFFIX_ALPHABET == "bcdfghjklmnpqrstvwxz2456789"


def test_generate_name_is_deterministic_with_seeded_random() -> None:
    assert generate_name("x-", random.Random(42)) == generate_name("x-", random.Random(42))


def test_generate_name_varies() -> None:
    rand = random.Random(7)
    names = {generate_name("x-", rand) for _ in range(200)}
    assert len(names) > 190
    assert len({generate_name("x-") for _ in range(50)}) > 45


def test_generate_name_uses_whole_alphabet() -> None:
    rand = random.Random(3)
    seen = set("".join(generate_name("", rand) for _ in range(500)))
    assert seen == set(GENERATED_SUFFIX_ALPHABET)


def test_generate_name_truncates_long_prefix_to_58() -> None:
    name = generate_name("p" * 100, random.Random(0))
    assert len(name) == 63
    assert name.startswith("p" * 58)
    assert name[58] in GENERATED_SUFFIX_ALPHABET


def test_generate_name_keeps_prefix_of_58() -> None:
    name = generate_name("p" * 58, random.Random(0))
    assert len(name) == 63
    assert name[:58] == "p" * 58


def test_generate_name_empty_prefix() -> None:
    name = generate_name("", random.Random(0))
    assert len(name) == 5
    assert dns1123_label_errors(name) == []


_LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_dns_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
_subdomain = st.lists(_dns_label, min_size=1, max_size=12).map(".".join)
_generate_prefix = st.one_of(
    _subdomain,
    _subdomain.map(lambda s: s + "-"),
    _subdomain.map(lambda s: s + "."),
)


@given(prefix=_generate_prefix, seed=st.integers(min_value=0, max_value=2**32))
def test_generated_names_from_valid_prefixes_are_valid_subdomains(prefix: str, seed: int) -> None:
    if name_errors(prefix, "subdomain", prefix=True):
        return  # only prefixes the apiserver would accept
    name = generate_name(prefix, random.Random(seed))
    assert dns1123_subdomain_errors(name) == []
    assert len(name) <= 63


@given(
    prefix=st.from_regex(r"[a-z0-9][-a-z0-9]{0,80}", fullmatch=True),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_generated_names_from_valid_label_prefixes_are_valid_labels(prefix: str, seed: int) -> None:
    if name_errors(prefix, "label", prefix=True):
        return
    assert dns1123_label_errors(generate_name(prefix, random.Random(seed))) == []


@given(st.text())
def test_validators_never_raise(value: str) -> None:
    for check in (
        dns1123_subdomain_errors,
        dns1123_label_errors,
        qualified_name_errors,
        label_value_errors,
    ):
        assert isinstance(check(value), list)


@given(st.text(alphabet=_LABEL_CHARS + "-.", max_size=300))
def test_subdomain_check_agrees_with_label_split(value: str) -> None:
    labels = value.split(".")
    expected_ok = len(value) <= 253 and all(
        label and label[0] != "-" and label[-1] != "-" for label in labels
    )
    assert (dns1123_subdomain_errors(value) == []) == expected_ok


@pytest.mark.parametrize(
    "value",
    ["a" * 200_000 + "-", "a-" * 100_000 + "-", "a." * 100_000 + "-", "a" * 200_000 + "_"],
)
def test_adversarial_inputs_are_linear(value: str) -> None:
    start = time.perf_counter()
    dns1123_subdomain_errors(value)
    dns1123_label_errors(value)
    qualified_name_errors(value)
    label_value_errors(value)
    assert time.perf_counter() - start < 1.0
