"""Unit tests for structural-schema pruning, defaulting and validation of custom resources."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from event_registry.controlplane.machinery.errors import Cause
from event_registry.controlplane.machinery.schemas import SchemaCheck, check_object
from tests.support.controlplane import KNATIVE_CRDS

REFERENCE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "name": {"type": "string"},
        "namespace": {"type": "string"},
    },
}

EVENT_TYPE: dict[str, Any] = {
    "type": "object",
    "description": "EventType represents a type of event that can be consumed from a resource.",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"type": "string"},
                "source": {"type": "string", "format": "uri"},
                "schema": {"type": "string"},
                "description": {"type": "string", "maxLength": 20},
                "reference": REFERENCE,
                "attributes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "required": {"type": "boolean", "default": False},
                            "value": {"type": "string"},
                        },
                    },
                },
            },
        },
        "status": {
            "type": "object",
            "properties": {
                "annotations": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "conditions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "status"],
                        "properties": {
                            "type": {"type": "string"},
                            "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
                            "severity": {"type": "string"},
                        },
                    },
                },
                "observedGeneration": {"type": "integer", "format": "int64"},
            },
        },
    },
}

TRIGGER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {
                "broker": {"type": "string", "default": "default"},
                "filter": {
                    "type": "object",
                    "properties": {
                        "attributes": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                },
                "delivery": {
                    "type": "object",
                    "properties": {
                        "retry": {"type": "integer", "format": "int32", "minimum": 0},
                        "backoffPolicy": {
                            "type": "string",
                            "enum": ["linear", "exponential"],
                            "default": "exponential",
                        },
                        "backoffDelay": {"type": "string", "pattern": "^PT[0-9]+S$"},
                    },
                },
                "subscriber": {
                    "type": "object",
                    "properties": {
                        "ref": REFERENCE,
                        "uri": {"type": "string", "format": "uri"},
                    },
                },
            },
        }
    },
}


def event_type(spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": "et", "namespace": "default"},
        "spec": spec,
        **extra,
    }


def only(check: SchemaCheck) -> Cause:
    assert len(check.causes) == 1, check.causes
    return check.causes[0]


def crd_schema(file: str, version: str) -> dict[str, Any]:
    crd = yaml.safe_load((KNATIVE_CRDS / file).read_text())
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            schema: dict[str, Any] = entry["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"{file} has no version {version}")


# ----------------------------------------------------------------------------- basics


def test_no_schema_keeps_everything_and_copies() -> None:
    obj = event_type({"type": "x", "anything": {"goes": [1]}}, foo=1)
    check = check_object(obj, None)
    assert check.object == obj
    assert check.object is not obj
    assert check.object["spec"]["anything"] is not obj["spec"]["anything"]
    assert check.unknown_fields == ()
    assert check.causes == ()


def test_valid_object_passes_unchanged() -> None:
    obj = event_type({"type": "dev.knative.sample", "source": "https://example.com/x"})
    check = check_object(obj, EVENT_TYPE)
    assert check.object == obj
    assert check.unknown_fields == ()
    assert check.causes == ()


def test_input_and_schema_are_never_mutated() -> None:
    obj = event_type(
        {"bogus": 1, "attributes": [{"name": "type", "extra": True}], "type": 3},
        status={"observedGeneration": None},
    )
    before = copy.deepcopy(obj)
    schema_before = copy.deepcopy(TRIGGER)
    check_object(obj, EVENT_TYPE)
    check = check_object(obj, TRIGGER)
    assert obj == before
    assert schema_before == TRIGGER
    check.object["spec"]["attributes"][0]["name"] = "changed"
    assert obj["spec"]["attributes"][0]["name"] == "type"


# ---------------------------------------------------------------------------- pruning


def test_top_level_unknown_field_is_pruned_but_meta_fields_kept() -> None:
    obj = event_type({"type": "t"}, foo={"a": 1})
    obj["metadata"]["someUnknownMetaField"] = "kept"
    check = check_object(obj, EVENT_TYPE)
    assert "foo" not in check.object
    assert check.object["apiVersion"] == "eventing.knative.dev/v1beta2"
    assert check.object["kind"] == "EventType"
    assert check.object["metadata"]["someUnknownMetaField"] == "kept"
    assert check.unknown_fields == ("foo",)
    assert check.causes == ()


def test_nested_unknown_fields_are_pruned_in_document_order() -> None:
    obj = event_type(
        {
            "zeta": 1,
            "type": "t",
            "reference": {"name": "b", "uid": "123"},
            "attributes": [{"name": "a"}, {"name": "b", "bar": 2, "baz": 3}],
        },
        extra=True,
    )
    check = check_object(obj, EVENT_TYPE)
    assert check.unknown_fields == (
        "spec.zeta",
        "spec.reference.uid",
        "spec.attributes[1].bar",
        "spec.attributes[1].baz",
        "extra",
    )
    assert check.object["spec"] == {
        "type": "t",
        "reference": {"name": "b"},
        "attributes": [{"name": "a", "required": False}, {"name": "b", "required": False}],
    }


def test_preserve_unknown_fields_keeps_everything_below() -> None:
    annotations = {"anything": {"nested": [1, {"deep": True}]}, "x": "y"}
    obj = event_type({"type": "t"}, status={"annotations": annotations, "unknown": 1})
    check = check_object(obj, EVENT_TYPE)
    assert check.object["status"]["annotations"] == annotations
    assert check.unknown_fields == ("status.unknown",)


def test_preserve_unknown_fields_still_prunes_and_defaults_listed_properties() -> None:
    obj = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "t"},
        "spec": {
            "experimental": {"kept": True},
            "delivery": {"retry": 3, "timeout": "PT1S"},
            "subscriber": {"ref": {"kind": "Service", "name": "s", "bogus": 1}},
            "filter": {"attributes": {"type": "dev.knative.foo", "anything": {"x": 1}}},
        },
    }
    check = check_object(obj, TRIGGER)
    spec = check.object["spec"]
    assert spec["experimental"] == {"kept": True}
    assert spec["delivery"] == {"retry": 3, "backoffPolicy": "exponential"}
    assert spec["subscriber"]["ref"] == {"kind": "Service", "name": "s"}
    assert spec["filter"]["attributes"] == {"type": "dev.knative.foo", "anything": {"x": 1}}
    assert spec["broker"] == "default"
    assert check.unknown_fields == ("spec.delivery.timeout", "spec.subscriber.ref.bogus")
    assert check.causes == ()


def test_additional_properties_schema_is_a_map() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "sinks": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {"uri": {"type": "string"}},
                        },
                    },
                    "extensions": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }
        },
    }
    obj = {
        "spec": {
            "sinks": {"a": {"uri": "http://a", "junk": 1}, "b": {"uri": "http://b"}},
            "extensions": {"good": "x", "bad": 5},
        }
    }
    check = check_object(obj, schema)
    assert check.object["spec"]["sinks"] == {"a": {"uri": "http://a"}, "b": {"uri": "http://b"}}
    assert check.unknown_fields == ("spec.sinks.a.junk",)
    cause = only(check)
    assert cause.field == "spec.extensions.bad"
    assert cause.reason == "FieldValueTypeInvalid"


def test_additional_properties_true_keeps_everything() -> None:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "additionalProperties": True}},
    }
    obj = {"spec": {"a": {"b": [1, 2]}, "c": None}}
    check = check_object(obj, schema)
    assert check.object == obj
    assert check.unknown_fields == ()


def test_embedded_resource_keeps_type_and_object_meta() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "template": {
                        "type": "object",
                        "x-kubernetes-embedded-resource": True,
                        "properties": {"spec": {"type": "object"}},
                    }
                },
            }
        },
    }
    template = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"a": "b"}},
        "spec": {},
        "data": {"k": "v"},
    }
    check = check_object({"spec": {"template": template}}, schema)
    assert check.object["spec"]["template"] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"a": "b"}},
        "spec": {},
    }
    assert check.unknown_fields == ("spec.template.data",)
    assert check.causes == ()

    wrong = check_object({"spec": {"template": {"apiVersion": "v1", "kind": 7}}}, schema)
    assert only(wrong).field == "spec.template.kind"


def test_root_meta_fields_are_not_validated_by_the_crd_schema() -> None:
    schema = {
        "type": "object",
        "required": ["metadata", "spec"],
        "properties": {
            "metadata": {"type": "string"},
            "kind": {"type": "integer"},
            "spec": {"type": "object"},
        },
    }
    check = check_object({"kind": "EventType", "metadata": {"name": "x"}, "spec": {}}, schema)
    assert check.causes == ()
    missing = check_object({"kind": "EventType"}, schema)
    assert missing.causes == (Cause("spec", "FieldValueRequired", "Required value"),)


# ------------------------------------------------------------------------- defaulting


def test_defaults_fill_absent_fields_and_nested_defaults() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "default": {},
                "properties": {
                    "delivery": {
                        "type": "object",
                        "default": {"retry": 1},
                        "properties": {
                            "retry": {"type": "integer"},
                            "backoffPolicy": {"type": "string", "default": "linear"},
                        },
                    },
                    "mode": {"type": "string", "default": "Reference"},
                },
            }
        },
    }
    check = check_object({"kind": "X"}, schema)
    assert check.object["spec"] == {
        "delivery": {"retry": 1, "backoffPolicy": "linear"},
        "mode": "Reference",
    }
    kept = check_object({"spec": {"mode": "Resource", "delivery": {"retry": 5}}}, schema)
    assert kept.object["spec"] == {
        "mode": "Resource",
        "delivery": {"retry": 5, "backoffPolicy": "linear"},
    }


def test_defaults_are_deep_copies() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"tags": {"type": "array", "default": ["a"], "items": {}}},
            }
        },
    }
    first = check_object({"spec": {}}, schema)
    first.object["spec"]["tags"].append("b")
    second = check_object({"spec": {}}, schema)
    assert second.object["spec"]["tags"] == ["a"]
    assert schema["properties"]["spec"]["properties"]["tags"]["default"] == ["a"]


def test_defaults_apply_inside_list_items() -> None:
    check = check_object(event_type({"type": "t", "attributes": [{"name": "a"}]}), EVENT_TYPE)
    assert check.object["spec"]["attributes"] == [{"name": "a", "required": False}]


def test_defaulting_happens_before_validation() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["mode"],
                "properties": {"mode": {"type": "string", "default": "Reference"}},
            }
        },
    }
    assert check_object({"spec": {}}, schema).causes == ()


def test_null_in_non_nullable_field_gets_default() -> None:
    check = check_object({"spec": {"broker": None}}, TRIGGER)
    assert check.object["spec"]["broker"] == "default"
    assert check.causes == ()


# --------------------------------------------------------------------------- nullable


NULLABLE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "maybe": {"type": "string", "nullable": True},
                "never": {"type": "string"},
            },
        }
    },
}


def test_nullable_accepts_null() -> None:
    check = check_object({"spec": {"maybe": None}}, NULLABLE)
    assert check.object["spec"] == {"maybe": None}
    assert check.causes == ()


def test_null_in_non_nullable_field_without_default_is_dropped_silently() -> None:
    check = check_object({"spec": {"never": None}}, NULLABLE)
    assert check.object["spec"] == {}
    assert check.unknown_fields == ()
    assert check.causes == ()


def test_nullable_type_error_names_only_the_declared_type() -> None:
    cause = only(check_object({"spec": {"maybe": 3}}, NULLABLE))
    assert cause == Cause(
        "spec.maybe",
        "FieldValueTypeInvalid",
        'Invalid value: "integer": spec.maybe in body must be of type string: "integer"',
    )


def test_null_list_item_is_a_type_error() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"names": {"type": "array", "items": {"type": "string"}}},
            }
        },
    }
    cause = only(check_object({"spec": {"names": ["a", None]}}, schema))
    assert cause.field == "spec.names[1]"
    assert cause.message.endswith('must be of type string: "null"')


# ------------------------------------------------------------------------- validation


def test_missing_required_fields_name_the_missing_property() -> None:
    obj = event_type({"attributes": [{"value": "v"}]}, status={"conditions": [{"type": "Ready"}]})
    check = check_object(obj, EVENT_TYPE)
    assert check.causes == (
        Cause("spec.attributes[0].name", "FieldValueRequired", "Required value"),
        Cause("spec.type", "FieldValueRequired", "Required value"),
        Cause("status.conditions[0].status", "FieldValueRequired", "Required value"),
    )


def test_wrong_type_mirrors_apiserver_wording() -> None:
    cause = only(
        check_object(event_type({"type": "t"}, status={"observedGeneration": "x"}), EVENT_TYPE)
    )
    assert cause == Cause(
        "status.observedGeneration",
        "FieldValueTypeInvalid",
        'Invalid value: "string": status.observedGeneration in body must be of type integer: '
        '"string"',
    )


def test_wrong_type_for_object_field() -> None:
    cause = only(check_object(event_type("not-an-object"), EVENT_TYPE))  # type: ignore[arg-type]
    assert cause.field == "spec"
    assert cause.message.endswith('spec in body must be of type object: "string"')


def test_integral_float_is_an_integer() -> None:
    obj = event_type({"type": "t"}, status={"observedGeneration": 2.0})
    assert check_object(obj, EVENT_TYPE).causes == ()
    fractional = event_type({"type": "t"}, status={"observedGeneration": 2.5})
    assert only(check_object(fractional, EVENT_TYPE)).message.endswith('integer: "number"')


def test_enum_reports_supported_values() -> None:
    obj = event_type({"type": "t"}, status={"conditions": [{"type": "Ready", "status": "Maybe"}]})
    cause = only(check_object(obj, EVENT_TYPE))
    assert cause == Cause(
        "status.conditions[0].status",
        "FieldValueNotSupported",
        'Unsupported value: "Maybe": supported values: "True", "False", "Unknown"',
    )


def test_non_string_enum_values_are_quoted() -> None:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"n": {"enum": [1, 2]}}}},
    }
    cause = only(check_object({"spec": {"n": 3}}, schema))
    assert cause.message == 'Unsupported value: 3: supported values: "1", "2"'


def test_trigger_enum_and_pattern_and_minimum() -> None:
    obj = {
        "spec": {
            "delivery": {"retry": -1, "backoffPolicy": "random", "backoffDelay": "10s"},
        }
    }
    check = check_object(obj, TRIGGER)
    assert check.causes == (
        Cause(
            "spec.delivery.backoffDelay",
            "FieldValueInvalid",
            "Invalid value: \"10s\": spec.delivery.backoffDelay in body should match '^PT[0-9]+S$'",
        ),
        Cause(
            "spec.delivery.backoffPolicy",
            "FieldValueNotSupported",
            'Unsupported value: "random": supported values: "linear", "exponential"',
        ),
        Cause(
            "spec.delivery.retry",
            "FieldValueInvalid",
            "Invalid value: -1: spec.delivery.retry in body should be greater than or equal to 0",
        ),
    )


BOUNDS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "low": {"type": "integer", "minimum": 1, "exclusiveMinimum": True},
                "high": {"type": "number", "maximum": 10, "exclusiveMaximum": True},
                "cap": {"type": "integer", "maximum": 10},
                "short": {"type": "string", "minLength": 2, "maxLength": 4},
                "list": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "uniqueItems": True,
                    "items": {"type": "string"},
                },
                "props": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 2,
                    "additionalProperties": {"type": "string"},
                },
                "step": {"type": "integer", "multipleOf": 5},
            },
        }
    },
}


@pytest.mark.parametrize(
    ("spec", "field", "reason", "message"),
    [
        (
            {"low": 1},
            "spec.low",
            "FieldValueInvalid",
            "Invalid value: 1: spec.low in body should be greater than 1",
        ),
        (
            {"high": 10},
            "spec.high",
            "FieldValueInvalid",
            "Invalid value: 10: spec.high in body should be less than 10",
        ),
        (
            {"cap": 11},
            "spec.cap",
            "FieldValueInvalid",
            "Invalid value: 11: spec.cap in body should be less than or equal to 10",
        ),
        (
            {"short": "a"},
            "spec.short",
            "FieldValueInvalid",
            'Invalid value: "a": spec.short in body should be at least 2 chars long',
        ),
        (
            {"short": "abcde"},
            "spec.short",
            "FieldValueTooLong",
            "Too long: may not be more than 4 bytes",
        ),
        (
            {"list": []},
            "spec.list",
            "FieldValueInvalid",
            "Invalid value: 0: spec.list in body should have at least 1 items",
        ),
        (
            {"list": ["a", "b", "c"]},
            "spec.list",
            "FieldValueTooMany",
            "Too many: 3: must have at most 2 items",
        ),
        (
            {"list": ["a", "a"]},
            "spec.list",
            "FieldValueInvalid",
            'Invalid value: "": spec.list in body shouldn\'t contain duplicates',
        ),
        (
            {"props": {}},
            "spec.props",
            "FieldValueInvalid",
            "Invalid value: 0: spec.props in body should have at least 1 properties",
        ),
        (
            {"props": {"a": "1", "b": "2", "c": "3"}},
            "spec.props",
            "FieldValueTooMany",
            "Too many: 3: must have at most 2 items",
        ),
        (
            {"step": 7},
            "spec.step",
            "FieldValueInvalid",
            "Invalid value: 7: spec.step in body should be a multiple of 5",
        ),
    ],
)
def test_value_constraints(spec: dict[str, Any], field: str, reason: str, message: str) -> None:
    assert only(check_object({"spec": spec}, BOUNDS)) == Cause(field, reason, message)


def test_value_constraints_accept_valid_values() -> None:
    spec = {
        "low": 2,
        "high": 9.5,
        "cap": 10,
        "short": "abcd",
        "list": ["a", "b"],
        "props": {"a": "1"},
        "step": 10,
    }
    assert check_object({"spec": spec}, BOUNDS).causes == ()


def test_numeric_exclusive_bounds_are_converted_to_draft4() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"n": {"type": "integer", "exclusiveMinimum": 0}},
            }
        },
    }
    assert check_object({"spec": {"n": 1}}, schema).causes == ()
    assert only(check_object({"spec": {"n": 0}}, schema)).message.endswith("greater than 0")


# ---------------------------------------------------------------------------- formats

URI_SCHEMA = EVENT_TYPE


@pytest.mark.parametrize(
    "source",
    ["https://github.com/knative/eventing", "urn:event:source", "/apis/v1/namespaces/x", "/"],
)
def test_uri_format_accepts_absolute_uris_and_absolute_paths(source: str) -> None:
    assert check_object(event_type({"type": "t", "source": source}), URI_SCHEMA).causes == ()


@pytest.mark.parametrize("source", ["github.com", "", "relative/path", "http://bad host/", "/%zz"])
def test_uri_format_rejects_relative_references(source: str) -> None:
    cause = only(check_object(event_type({"type": "t", "source": source}), URI_SCHEMA))
    assert cause.field == "spec.source"
    assert cause.reason == "FieldValueTypeInvalid"
    assert cause.message == (
        f'Invalid value: "{source}": spec.source in body must be of type uri: "{source}"'
    )


def test_uri_is_only_checked_when_the_schema_says_format_uri() -> None:
    obj = event_type({"type": "t", "schema": "github.com"})
    assert check_object(obj, EVENT_TYPE).causes == ()


def string_format_schema(fmt: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"v": {"type": "string", "format": fmt}}}
        },
    }


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date-time", "2024-05-01T10:20:30Z", "2024-05-01 10:20:30"),
        ("date-time", "2024-05-01T10:20:30.123+02:00", "2024-05-01T25:00:00Z"),
        ("date", "2024-02-29", "2023-02-29"),
        ("byte", "aGVsbG8=", "not base64!"),
        ("email", "dev@knative.dev", "knative.dev"),
        ("hostname", "broker-ingress.knative-eventing.svc", "bad_host!"),
        ("ipv4", "10.0.0.1", "10.0.0.256"),
        ("ipv6", "fe80::1", "10.0.0.1"),
        ("cidr", "10.0.0.0/8", "10.0.0.0"),
        ("mac", "00:00:5e:00:53:01", "00:00:5e:00:53"),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567"),
        ("duration", "1h30m", "90 parsecs"),
    ],
)
def test_string_formats(fmt: str, good: str, bad: str) -> None:
    schema = string_format_schema(fmt)
    assert check_object({"spec": {"v": good}}, schema).causes == ()
    cause = only(check_object({"spec": {"v": bad}}, schema))
    assert cause.field == "spec.v"
    assert f"must be of type {fmt}" in cause.message


def test_unknown_formats_are_ignored() -> None:
    schema = string_format_schema("color-of-the-sky")
    assert check_object({"spec": {"v": "anything"}}, schema).causes == ()


def test_int32_format_bounds_integers() -> None:
    ok = check_object({"spec": {"delivery": {"retry": 2**31 - 1}}}, TRIGGER)
    assert ok.causes == ()
    cause = only(check_object({"spec": {"delivery": {"retry": 2**31}}}, TRIGGER))
    assert cause.field == "spec.delivery.retry"
    assert cause.message.endswith("must be of type int32")


# ----------------------------------------------------------------------- int-or-string

INT_OR_STRING: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {"port": {"x-kubernetes-int-or-string": True}},
        }
    },
}


@pytest.mark.parametrize("port", [8080, "http", "50%"])
def test_int_or_string_accepts_both(port: object) -> None:
    assert check_object({"spec": {"port": port}}, INT_OR_STRING).causes == ()


@pytest.mark.parametrize(("port", "actual"), [(True, "boolean"), (1.5, "number"), ([], "array")])
def test_int_or_string_rejects_other_types(port: object, actual: str) -> None:
    cause = only(check_object({"spec": {"port": port}}, INT_OR_STRING))
    assert cause == Cause(
        "spec.port",
        "FieldValueTypeInvalid",
        f'Invalid value: "{actual}": spec.port in body must be of type integer,string: "{actual}"',
    )


def test_int_or_string_with_explicit_any_of() -> None:
    schema = copy.deepcopy(INT_OR_STRING)
    schema["properties"]["spec"]["properties"]["port"]["anyOf"] = [
        {"type": "integer"},
        {"type": "string", "pattern": "^[0-9]+%$"},
    ]
    assert check_object({"spec": {"port": "50%"}}, schema).causes == ()
    cause = only(check_object({"spec": {"port": "http"}}, schema))
    assert cause.field == "spec.port"
    assert cause.reason == "FieldValueInvalid"
    assert "must validate at least one schema (anyOf)" in cause.message


# ------------------------------------------------------------------- ordering, caching


def test_causes_are_sorted_by_path_and_deduplicated() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "allOf": [{"required": ["b"]}, {"required": ["b"]}],
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}},
                        },
                    },
                    "a": {"type": "string"},
                },
            }
        },
    }
    items = [{"name": "x"}] * 2 + [{}] * 9
    check = check_object({"spec": {"items": items, "a": 1}}, schema)
    fields = [cause.field for cause in check.causes]
    assert fields == [
        "spec.a",
        "spec.b",
        *[f"spec.items[{index}].name" for index in range(2, 11)],
    ]


def test_a_changed_schema_is_not_served_from_a_stale_cache() -> None:
    schema = copy.deepcopy(NULLABLE)
    assert check_object({"spec": {"never": "x"}}, schema).causes == ()
    schema["properties"]["spec"]["properties"]["never"]["type"] = "integer"
    assert only(check_object({"spec": {"never": "x"}}, schema)).field == "spec.never"


# ------------------------------------------------------------------- real Knative CRDs


@pytest.mark.knative_crds
def test_real_eventtype_crd_v1beta2() -> None:
    schema = crd_schema("eventtype.yaml", "v1beta2")
    obj = event_type(
        {
            "type": "dev.knative.source.github.push",
            "source": "https://github.com/knative/eventing",
            "broker": "default",
            "reference": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "b"},
            "unknownSpecField": 1,
        },
        status={
            "annotations": {"free": {"form": True}},
            "conditions": [{"type": "Ready", "status": "True", "extra": "x"}],
            "observedGeneration": 1,
        },
    )
    check = check_object(obj, schema)
    assert check.unknown_fields == ("spec.unknownSpecField", "status.conditions[0].extra")
    assert check.object["status"]["annotations"] == {"free": {"form": True}}
    assert check.causes == ()


@pytest.mark.knative_crds
def test_real_eventtype_crd_v1beta3_validation_paths() -> None:
    schema = crd_schema("eventtype.yaml", "v1beta3")
    obj = event_type(
        {"attributes": [{"name": "type", "value": "x"}, {"required": "yes"}]},
        status={"conditions": [{"type": "Ready"}], "observedGeneration": "one"},
    )
    check = check_object(obj, schema)
    assert [(cause.field, cause.reason) for cause in check.causes] == [
        ("spec.attributes[1].name", "FieldValueRequired"),
        ("spec.attributes[1].required", "FieldValueTypeInvalid"),
        ("status.conditions[0].status", "FieldValueRequired"),
        ("status.observedGeneration", "FieldValueTypeInvalid"),
    ]
    assert check.causes[1].message == (
        'Invalid value: "string": spec.attributes[1].required in body must be of type '
        'boolean: "string"'
    )


@pytest.mark.knative_crds
def test_real_trigger_crd_keeps_unknown_spec_fields() -> None:
    schema = crd_schema("trigger.yaml", "v1")
    obj = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "t"},
        "spec": {
            "broker": "default",
            "newFeature": {"on": True},
            "filter": {"attributes": {"type": "dev.knative.foo"}},
            "subscriber": {"ref": {"kind": "Service", "name": "svc", "bogus": 1}},
        },
    }
    check = check_object(obj, schema)
    assert check.object["spec"]["newFeature"] == {"on": True}
    assert check.unknown_fields == ("spec.subscriber.ref.bogus",)
    assert check.causes == ()
