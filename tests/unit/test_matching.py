"""Unit tests for event_registry.domain.matching: three-valued Trigger/EventType matching."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_registry.domain import cesql, matching, models, normalizing
from event_registry.domain.matching import Match

YES, NO, UNKNOWN = Match.YES, Match.NO, Match.UNKNOWN
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knative"
BROKER_REF = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}


def load(filename: str) -> list[dict[str, Any]]:
    with (FIXTURES / filename).open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def fixture_event_types() -> dict[str, models.EventType]:
    found = {}
    for filename in ("eventtype-v1beta1.yaml", "eventtype-v1beta2.yaml", "eventtype-v1beta3.yaml"):
        for raw in load(filename):
            model = normalizing.event_type(raw)
            found[model.meta.name] = model
    return found


def fixture_triggers() -> dict[str, models.Trigger]:
    return {t.meta.name: t for t in map(normalizing.trigger, load("trigger-v1.yaml"))}


EVENT_TYPES = fixture_event_types()
TRIGGERS = fixture_triggers()


def event_type(
    attributes: Mapping[str, str] | None = None,
    *,
    namespace: str = "default",
    broker: str | None = "default",
    required: bool = True,
) -> models.EventType:
    """A v1beta3 EventType declaring ``attributes`` (all required unless told)."""
    spec: dict[str, Any] = {
        "attributes": [
            {"name": name, "value": value, "required": required}
            for name, value in (attributes or {}).items()
        ]
    }
    if broker is not None:
        spec["reference"] = {**BROKER_REF, "name": broker}
    return normalizing.event_type(
        {
            "apiVersion": "eventing.knative.dev/v1beta3",
            "kind": "EventType",
            "metadata": {"name": "et", "namespace": namespace},
            "spec": spec,
        }
    )


def trigger(
    *,
    attributes: Mapping[str, str] | None = None,
    filters: list[Any] | None = None,
    namespace: str = "default",
    broker: str = "default",
) -> models.Trigger:
    spec: dict[str, Any] = {"broker": broker, "subscriber": {"uri": "http://sink"}}
    if attributes is not None:
        spec["filter"] = {"attributes": dict(attributes)}
    if filters is not None:
        spec["filters"] = filters
    return normalizing.trigger(
        {"kind": "Trigger", "metadata": {"name": "t", "namespace": namespace}, "spec": spec}
    )


GITHUB_PR = {
    "type": "com.github.pull_request",
    "source": "github.com",
    "specversion": "1.0",
}


def match(filters: list[Any], attributes: Mapping[str, str] = GITHUB_PR) -> Match:
    return matching.filter_match(trigger(filters=filters), event_type(attributes))


# the fixtures ------------------------------------------------------------------------------

EXPECTED: dict[str, dict[str, Match]] = {
    # trigger -> EventType -> match; every pair not listed is NO
    "my-service-trigger": {"dev.knative.source.github.push-34cnb": YES},
    "pull-requests": {"com.github.pullrequest": YES},
    "github-prefix": {"com.github.pullrequest": YES, "com.github.issues": YES},
    "github-but-issues": {
        "com.github.pullrequest": YES,
        "dev.knative.source.github.push-34cnb": YES,
    },
    "github-or-heartbeat": {
        "com.github.pullrequest": YES,
        "com.github.issues": YES,
        "dev.knative.source.github.push-34cnb": YES,
        "dev.knative.samples.heartbeat": YES,
    },
    # type LIKE 'com.github.%' AND source = 'github.com'
    "cesql-github": {"com.github.pullrequest": YES, "com.github.issues": YES},
    "filters-override": {"com.github.pullrequest": YES},
    "bitbucket-forks": {"org.bitbucket.repofork": YES},
    "catch-all": {
        "com.github.pullrequest": YES,
        "com.github.issues": YES,
        "dev.knative.source.github.push-34cnb": YES,
        "dev.knative.samples.heartbeat": YES,
    },
    "order-created": {"com.example.order.created": YES},
    "acme-orders": {"com.example.order.created": UNKNOWN},
}


def test_expectations_cover_every_fixture() -> None:
    assert set(EXPECTED) == set(TRIGGERS)
    assert {name for row in EXPECTED.values() for name in row} <= set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("trigger_name", "event_type_name"), list(itertools.product(TRIGGERS, EVENT_TYPES))
)
def test_fixture_matrix(trigger_name: str, event_type_name: str) -> None:
    expected = EXPECTED[trigger_name].get(event_type_name, NO)
    assert matching.consumes(TRIGGERS[trigger_name], EVENT_TYPES[event_type_name]) is expected


# legacy filter.attributes ----------------------------------------------------------------------


def test_legacy_exact_match() -> None:
    et = event_type(GITHUB_PR)
    assert matching.consumes(trigger(attributes={"type": "com.github.pull_request"}), et) is YES
    assert (
        matching.consumes(
            trigger(attributes={"type": "com.github.pull_request", "source": "github.com"}), et
        )
        is YES
    )
    assert matching.consumes(trigger(attributes={"type": "com.github.push"}), et) is NO
    assert (
        matching.consumes(
            trigger(attributes={"type": "com.github.pull_request", "source": "gitlab.com"}), et
        )
        is NO
    )


def test_legacy_exact_is_case_sensitive_and_whole_value() -> None:
    et = event_type(GITHUB_PR)
    assert matching.consumes(trigger(attributes={"type": "COM.GITHUB.PULL_REQUEST"}), et) is NO
    assert matching.consumes(trigger(attributes={"type": "com.github"}), et) is NO


def test_legacy_empty_value_means_any() -> None:
    et = event_type(GITHUB_PR)
    assert matching.consumes(trigger(attributes={"type": "", "source": ""}), et) is YES
    assert matching.consumes(trigger(attributes={"subject": ""}), et) is YES
    assert (
        matching.consumes(trigger(attributes={"type": "com.github.pull_request", "id": ""}), et)
        is YES
    )


def test_legacy_without_attributes_matches_everything() -> None:
    assert matching.consumes(trigger(), event_type(GITHUB_PR)) is YES
    assert matching.consumes(trigger(attributes={}), event_type({})) is YES


def test_legacy_unknown_attribute_is_unknown() -> None:
    et = event_type(GITHUB_PR)
    assert matching.consumes(trigger(attributes={"subject": "pr-1"}), et) is UNKNOWN
    assert (
        matching.consumes(
            trigger(attributes={"type": "com.github.pull_request", "myextension": "x"}), et
        )
        is UNKNOWN
    )


def test_legacy_known_mismatch_beats_unknown() -> None:
    et = event_type(GITHUB_PR)
    for attributes in (
        {"subject": "pr-1", "type": "other"},
        {"type": "other", "subject": "pr-1"},
    ):
        assert matching.consumes(trigger(attributes=attributes), et) is NO


def test_legacy_filter_on_v1beta2_fields() -> None:
    et = EVENT_TYPES["com.github.pullrequest"]
    assert (
        matching.filter_match(
            trigger(attributes={"dataschema": "//github.com/schemas/pull_request"}), et
        )
        is YES
    )
    assert matching.filter_match(trigger(attributes={"dataschema": "other"}), et) is NO


# dialects --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"exact": {"type": "com.github.pull_request"}}, YES),
        ({"exact": {"type": "com.github.pull_request", "source": "github.com"}}, YES),
        ({"exact": {"type": "com.github.pull_request", "source": "gitlab.com"}}, NO),
        ({"exact": {"type": "com.github"}}, NO),
        ({"exact": {"subject": "x"}}, UNKNOWN),
        ({"exact": {"subject": "x", "type": "com.github.pull_request"}}, UNKNOWN),
        ({"exact": {"subject": "x", "type": "nope"}}, NO),
        ({"exact": {"specversion": "1.0"}}, YES),
        ({"prefix": {"type": "com.github."}}, YES),
        ({"prefix": {"type": "com.github.pull_request"}}, YES),
        ({"prefix": {"type": "com.gitlab."}}, NO),
        ({"prefix": {"type": "github"}}, NO),
        ({"prefix": {"subject": "pr-"}}, UNKNOWN),
        ({"prefix": {"type": "com.", "source": "git"}}, YES),
        ({"prefix": {"type": "com.", "source": "gitlab"}}, NO),
        ({"suffix": {"type": ".pull_request"}}, YES),
        ({"suffix": {"source": "hub.com"}}, YES),
        ({"suffix": {"type": ".push"}}, NO),
        ({"suffix": {"type": "com.github"}}, NO),
        ({"suffix": {"subject": "-1"}}, UNKNOWN),
        ({"cesql": "type = 'com.github.pull_request'"}, YES),
        ({"cesql": "type = 'com.github.push'"}, NO),
        ({"cesql": "FALSE"}, NO),
        ({"cesql": "subject = 'x'"}, UNKNOWN),
        ({"sql": "type = 'x'"}, UNKNOWN),
        ({}, UNKNOWN),
    ],
)
def test_dialect(entry: dict[str, Any], expected: Match) -> None:
    assert match([entry]) is expected


def test_dialects_compare_whole_strings() -> None:
    # prefix/suffix of the value, not of some other attribute; exact is not a substring test
    assert match([{"exact": {"source": "github"}}]) is NO
    assert match([{"prefix": {"source": "github.com.evil"}}]) is NO
    assert match([{"suffix": {"source": "xgithub.com"}}]) is NO


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"all": [{"exact": {"type": "com.github.pull_request"}}]}, YES),
        (
            {"all": [{"prefix": {"type": "com."}}, {"suffix": {"source": ".com"}}]},
            YES,
        ),
        ({"all": [{"prefix": {"type": "com."}}, {"exact": {"subject": "x"}}]}, UNKNOWN),
        ({"all": [{"exact": {"subject": "x"}}, {"prefix": {"type": "org."}}]}, NO),
        ({"all": []}, YES),
        ({"any": [{"exact": {"type": "nope"}}, {"exact": {"source": "github.com"}}]}, YES),
        ({"any": [{"exact": {"type": "nope"}}, {"exact": {"source": "nope"}}]}, NO),
        ({"any": [{"exact": {"type": "nope"}}, {"exact": {"subject": "x"}}]}, UNKNOWN),
        (
            {"any": [{"exact": {"subject": "x"}}, {"exact": {"type": "com.github.pull_request"}}]},
            YES,
        ),
        ({"any": []}, NO),
        ({"not": {"exact": {"type": "com.github.pull_request"}}}, NO),
        ({"not": {"exact": {"type": "com.github.push"}}}, YES),
        ({"not": {"exact": {"subject": "x"}}}, UNKNOWN),
        ({"not": {"cesql": "true"}}, NO),
        ({"not": {"cesql": "subject = 'x'"}}, UNKNOWN),
        ({"not": {"not": {"prefix": {"type": "com."}}}}, YES),
        (
            {
                "all": [
                    {"any": [{"prefix": {"type": "org."}}, {"suffix": {"type": "_request"}}]},
                    {"not": {"any": [{"exact": {"source": "gitlab.com"}}, {"cesql": "x"}]}},
                ]
            },
            UNKNOWN,
        ),
        (
            {
                "all": [
                    {"any": [{"prefix": {"type": "org."}}, {"suffix": {"type": "_request"}}]},
                    {"not": {"all": [{"exact": {"source": "gitlab.com"}}, {"cesql": "x"}]}},
                ]
            },
            YES,
        ),
        (
            {
                "any": [
                    {"all": [{"cesql": "x"}, {"exact": {"type": "nope"}}]},
                    {"not": {"prefix": {"source": "git"}}},
                ]
            },
            NO,
        ),
    ],
)
def test_nested_expressions(entry: dict[str, Any], expected: Match) -> None:
    assert match([entry]) is expected


def test_entries_of_filters_are_anded() -> None:
    assert match([{"prefix": {"type": "com."}}, {"exact": {"source": "github.com"}}]) is YES
    assert match([{"prefix": {"type": "com."}}, {"exact": {"source": "gitlab.com"}}]) is NO
    assert match([{"cesql": "x"}, {"exact": {"source": "gitlab.com"}}]) is NO
    assert match([{"cesql": "x"}, {"exact": {"source": "github.com"}}]) is UNKNOWN


def test_filters_override_filter() -> None:
    et = event_type(GITHUB_PR)
    rejecting_legacy = {"type": "something.else"}
    accepting_legacy = {"type": "com.github.pull_request"}
    accepting = [{"exact": {"type": "com.github.pull_request"}}]
    rejecting = [{"exact": {"type": "something.else"}}]
    unknown = [{"cesql": "subject = 'x'"}]
    assert matching.consumes(trigger(attributes=rejecting_legacy, filters=accepting), et) is YES
    assert matching.consumes(trigger(attributes=accepting_legacy, filters=rejecting), et) is NO
    assert matching.consumes(trigger(attributes=accepting_legacy, filters=unknown), et) is UNKNOWN


def test_empty_filters_fall_back_to_filter() -> None:
    et = event_type(GITHUB_PR)
    assert matching.consumes(trigger(attributes={"type": "nope"}, filters=[]), et) is NO
    assert (
        matching.consumes(trigger(attributes={"type": "com.github.pull_request"}, filters=[]), et)
        is YES
    )


# CESQL ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("type = 'com.github.pull_request' AND source LIKE '%.com'", YES),
        ("type = 'com.github.push' AND id = 'x'", NO),  # decided without id
        ("id = 'x' AND type = 'com.github.push'", NO),
        ("type = 'com.github.pull_request' AND id = 'x'", UNKNOWN),
        ("id = 'x' OR type = 'com.github.pull_request'", YES),  # id is always there
        ("subject = 'x' OR type = 'com.github.pull_request'", UNKNOWN),  # subject may be missing
        ("EXISTS type AND EXISTS id AND EXISTS specversion", YES),
        ("EXISTS subject", UNKNOWN),
        ("NOT EXISTS specversion", NO),  # pinned by the EventType
        ("type IN ('com.github.push', 'com.github.pull_request')", YES),
        ("LOWER(source) NOT IN ('github.com')", NO),
        ("specversion = '1.0'", YES),
        ("1 / 0 = 0", NO),  # an error fails the filter
        ("type", NO),  # not a Boolean
        ("NOSUCHFUNCTION(type)", NO),
        ("", YES),  # Knative: an empty expression is no filter
    ],
)
def test_cesql_dialect(expression: str, expected: Match) -> None:
    assert match([{"cesql": expression}]) is expected


@pytest.mark.parametrize("expression", ["type =", "type LIKE 1", "my_ext = 'x'", 42, None])
def test_invalid_cesql_matches_nothing_and_says_why(expression: Any) -> None:
    # Knative's webhook refuses these; a Trigger created without admission consumes nothing.
    assert match([{"cesql": expression}]) is NO
    assert match([{"not": {"cesql": expression}}]) is YES
    problems = matching.invalid_cesql(trigger(filters=[{"any": [{"cesql": expression}]}]))
    assert len(problems) == 1
    assert isinstance(problems[0][1], cesql.CesqlSyntaxError)


def test_valid_cesql_has_no_problems() -> None:
    filters = [{"cesql": "type = 'a'"}, {"not": {"cesql": ""}}, {"exact": {"type": "a"}}]
    assert matching.invalid_cesql(trigger(filters=filters)) == []


def test_cesql_templated_and_optional_attributes_are_unknown() -> None:
    et = event_type({**GITHUB_PR, "tenant": "{tenant}", "region": "eu"})
    assert matching.filter_match(trigger(filters=[{"cesql": "tenant = 'acme'"}]), et) is UNKNOWN
    assert matching.filter_match(trigger(filters=[{"cesql": "region = 'eu'"}]), et) is YES
    assert matching.filter_match(trigger(filters=[{"cesql": "EXISTS tenant"}]), et) is UNKNOWN
    optional = event_type({"type": "a", "source": "s", "region": "eu"}, required=False)
    assert matching.filter_match(trigger(filters=[{"cesql": "region = 'eu'"}]), optional) is (
        UNKNOWN
    )


# what an EventType pins ------------------------------------------------------------------------


def test_known_attributes_of_v1beta3() -> None:
    # dataschema and datacontenttype are declared `required: false`: an event may omit them,
    # so a filter on them cannot be decided from the EventType.
    known = matching.known_attributes(EVENT_TYPES["com.example.order.created"])
    assert known == {
        "type": "com.example.order.created",
        "source": "https://shop.example.com/orders",
        "specversion": "1.0",
    }


def test_known_attributes_of_v1beta2() -> None:
    known = matching.known_attributes(EVENT_TYPES["com.github.pullrequest"])
    assert known == {
        "type": "com.github.pull_request",
        "source": "github.com",
        "dataschema": "//github.com/schemas/pull_request",
    }


def test_templated_extension_is_unknown() -> None:
    et = event_type({**GITHUB_PR, "tenant": "{tenant}", "region": "eu-{zone}"})
    assert matching.filter_match(trigger(attributes={"tenant": "acme"}), et) is UNKNOWN
    assert matching.filter_match(trigger(filters=[{"exact": {"tenant": "{tenant}"}}]), et) is (
        UNKNOWN
    )
    assert matching.filter_match(trigger(filters=[{"prefix": {"region": "eu-"}}]), et) is UNKNOWN
    assert matching.filter_match(trigger(filters=[{"suffix": {"region": "}"}}]), et) is UNKNOWN


def test_attribute_without_value_is_unknown() -> None:
    et = EVENT_TYPES["com.example.order.created"]  # declares id, required, without a value
    assert matching.filter_match(trigger(filters=[{"exact": {"id": "42"}}]), et) is UNKNOWN
    assert matching.filter_match(trigger(attributes={"id": "42"}), et) is UNKNOWN


def test_fixture_templated_tenant_with_known_type() -> None:
    et = EVENT_TYPES["com.example.order.created"]
    acme = trigger(namespace="payments", filters=[{"exact": {"type": "com.example.order.created"}}])
    assert matching.consumes(acme, et) is YES
    other_type = trigger(
        namespace="payments",
        filters=[{"exact": {"type": "com.example.order.cancelled", "tenant": "acme"}}],
    )
    assert matching.consumes(other_type, et) is NO


# Broker and namespace ------------------------------------------------------------------------


def test_different_broker_is_no() -> None:
    et = event_type(GITHUB_PR, broker="default")
    assert matching.consumes(trigger(broker="dev"), et) is NO
    assert matching.consumes(trigger(broker="dev", filters=[{"cesql": "x"}]), et) is NO
    assert matching.filter_match(trigger(broker="dev"), et) is YES


def test_different_namespace_is_no() -> None:
    et = event_type(GITHUB_PR, namespace="default")
    assert matching.consumes(trigger(namespace="payments"), et) is NO
    assert matching.consumes(trigger(namespace="default"), et) is YES


def test_event_type_without_broker_is_consumed_by_nobody() -> None:
    et = event_type(GITHUB_PR, broker=None)
    assert matching.consumes(trigger(), et) is NO
    assert matching.consumes(trigger(broker=""), et) is NO


def test_trigger_without_broker_consumes_nothing() -> None:
    assert matching.consumes(trigger(broker=""), event_type(GITHUB_PR)) is NO


def test_event_type_on_broker_of_another_namespace_is_no() -> None:
    raw = {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "metadata": {"name": "et", "namespace": "default"},
        "spec": {"type": "t", "reference": {**BROKER_REF, "namespace": "payments"}},
    }
    et = normalizing.event_type(raw)
    assert matching.consumes(trigger(namespace="default"), et) is NO
    assert matching.consumes(trigger(namespace="payments"), et) is NO


# the Match algebra -------------------------------------------------------------------------------

MATCHES = st.sampled_from(list(Match))


@given(MATCHES)
def test_double_negation(x: Match) -> None:
    assert ~~x is x


@given(MATCHES, MATCHES)
def test_de_morgan(x: Match, y: Match) -> None:
    assert ~(x & y) is (~x | ~y)
    assert ~(x | y) is (~x & ~y)


@given(MATCHES, MATCHES, MATCHES)
def test_and_or_are_commutative_and_associative(x: Match, y: Match, z: Match) -> None:
    assert x & y is y & x
    assert x | y is y | x
    assert (x & y) & z is x & (y & z)
    assert (x | y) | z is x | (y | z)
    assert x & (y | z) is (x & y) | (x & z)


@given(MATCHES)
def test_identities_and_absorbing_elements(x: Match) -> None:
    assert x & YES is x
    assert x | NO is x
    assert x & NO is NO
    assert x | YES is YES
    assert x & x is x
    assert x | x is x


def test_truth_tables() -> None:
    order = {NO: 0, UNKNOWN: 1, YES: 2}  # Kleene: AND is min, OR is max
    for x, y in itertools.product(Match, Match):
        assert x & y is min(x, y, key=order.__getitem__)
        assert x | y is max(x, y, key=order.__getitem__)
    assert ~UNKNOWN is UNKNOWN
    assert ~YES is NO
    assert ~NO is YES


# soundness against concrete events --------------------------------------------------------------

NAMES = ("type", "source", "dataschema", "subject", "tenant")
TEMPLATABLE = ("subject", "tenant")  # extensions only: see the report on templated type/source
VALUES = st.text(alphabet="ab", min_size=1, max_size=3)
CESQL_NAMES = (*NAMES, "id")
CESQL_ATOMS = st.one_of(
    st.builds("{} = '{}'".format, st.sampled_from(CESQL_NAMES), VALUES),
    st.builds("{} LIKE '{}%'".format, st.sampled_from(CESQL_NAMES), VALUES),
    st.builds("{} IN ('{}', '{}')".format, st.sampled_from(CESQL_NAMES), VALUES, VALUES),
    st.builds("EXISTS {}".format, st.sampled_from(CESQL_NAMES)),
    st.builds("LENGTH({}) > {}".format, st.sampled_from(CESQL_NAMES), st.integers(0, 3)),
    st.sampled_from(["TRUE", "FALSE", "1 / 0 = 0", "type ="]),
)
CESQL_EXPRESSIONS: st.SearchStrategy[str] = st.recursive(
    CESQL_ATOMS,
    lambda inner: (
        st.builds("NOT ({})".format, inner)
        | st.builds("({}) {} ({})".format, inner, st.sampled_from(["AND", "OR", "XOR"]), inner)
    ),
    max_leaves=4,
)


def _leaf(dialect: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(NAMES), VALUES, min_size=1, max_size=2).map(
        lambda attributes: {dialect: attributes}
    )


FILTERS: st.SearchStrategy[dict[str, Any]] = st.recursive(
    _leaf("exact")
    | _leaf("prefix")
    | _leaf("suffix")
    | CESQL_EXPRESSIONS.map(lambda expression: {"cesql": expression}),
    lambda children: (
        st.lists(children, max_size=3).map(lambda c: {"all": c})
        | st.lists(children, max_size=3).map(lambda c: {"any": c})
        | children.map(lambda c: {"not": c})
    ),
    max_leaves=8,
)


@st.composite
def declared_attributes(draw: st.DrawFn) -> dict[str, str]:
    declared: dict[str, str] = {}
    for name in NAMES:
        choice = draw(st.sampled_from(["absent", "value", "template"]))
        if choice == "value":
            declared[name] = draw(VALUES)
        elif choice == "template" and name in TEMPLATABLE:
            declared[name] = draw(st.text(alphabet="ab", max_size=2)) + "{x}"
    return declared


def _evaluate(entry: Mapping[str, Any], event: Mapping[str, str]) -> bool:
    """Knative's semantics of one SubscriptionsAPI expression on a concrete event (with the
    registry's choice for an invalid CESQL expression: it passes nothing)."""
    if "exact" in entry:
        return all(event.get(k) == v for k, v in entry["exact"].items())
    if "prefix" in entry:
        return all(event.get(k, "\0").startswith(v) for k, v in entry["prefix"].items())
    if "suffix" in entry:
        return all(event.get(k, "\0").endswith(v) for k, v in entry["suffix"].items())
    if "all" in entry:
        return all(_evaluate(e, event) for e in entry["all"])
    if "any" in entry:
        return any(_evaluate(e, event) for e in entry["any"])
    if "not" in entry:
        return not _evaluate(entry["not"], event)
    try:
        expression = cesql.parse(entry["cesql"])
    except cesql.CesqlSyntaxError:
        return False
    return cesql.run(expression, event).passes_filter


def _mentions(entry: Mapping[str, Any]) -> tuple[set[str], bool]:
    names: set[str] = set()
    has_cesql = False
    for dialect, body in entry.items():
        if dialect in ("exact", "prefix", "suffix"):
            names |= set(body)
        elif dialect in ("all", "any"):
            for nested in body:
                nested_names, nested_cesql = _mentions(nested)
                names |= nested_names
                has_cesql |= nested_cesql
        elif dialect == "not":
            nested_names, nested_cesql = _mentions(body)
            names |= nested_names
            has_cesql |= nested_cesql
        else:
            has_cesql = True
    return names, has_cesql


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declared=declared_attributes(), filters=st.lists(FILTERS, max_size=3), data=st.data())
def test_matching_is_sound_for_concrete_events(
    declared: dict[str, str], filters: list[dict[str, Any]], data: st.DataObject
) -> None:
    """YES: every event of the type passes the filters; NO: none does."""
    et = event_type(declared)
    result = matching.filter_match(trigger(filters=filters), et)
    for _ in range(8):
        event: dict[str, str] = {"id": data.draw(VALUES), "specversion": "1.0"}
        for name in NAMES:
            value = declared.get(name)
            if value is None:
                if name in ("type", "source") or data.draw(st.booleans()):
                    event[name] = data.draw(VALUES)
            elif "{x}" in value:
                event[name] = value.replace("{x}", data.draw(st.text(alphabet="ab", max_size=3)))
            else:
                event[name] = value
        passes = all(_evaluate(entry, event) for entry in filters)
        if result is YES:
            assert passes, event
        elif result is NO:
            assert not passes, event
    mentioned: set[str] = set()
    any_cesql = False
    for entry in filters:
        names, has_cesql = _mentions(entry)
        mentioned |= names
        any_cesql |= has_cesql
    pinned = {name for name, value in declared.items() if "{" not in value}
    if not any_cesql and mentioned <= pinned:
        assert result is not UNKNOWN, "a filter on pinned attributes only is decidable"


@given(FILTERS)
def test_not_inverts_and_nesting_composes(entry: dict[str, Any]) -> None:
    et = event_type({"type": "ab", "source": "ba"})
    single = matching.filter_match(trigger(filters=[entry]), et)
    assert matching.filter_match(trigger(filters=[{"not": entry}]), et) is ~single
    assert matching.filter_match(trigger(filters=[{"all": [entry]}]), et) is single
    assert matching.filter_match(trigger(filters=[{"any": [entry]}]), et) is single
    other = {"exact": {"subject": "a"}}
    both = matching.filter_match(trigger(filters=[entry, other]), et)
    assert both is single & UNKNOWN
    assert matching.filter_match(trigger(filters=[{"all": [entry, other]}]), et) is both
    assert matching.filter_match(trigger(filters=[{"any": [entry, other]}]), et) is (
        single | UNKNOWN
    )
