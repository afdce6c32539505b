"""Knative's webhook refusals: :mod:`event_registry.controlplane.knative.denying`."""

from __future__ import annotations

from event_registry.controlplane.knative import denying
from event_registry.controlplane.machinery import errors

PREFIX = (
    'admission webhook "validation.webhook.eventing.knative.dev" denied the request: '
    "validation failed: "
)


def test_one_cause_reads_message_then_path() -> None:
    denial = denying.denial([errors.Cause("spec.broker", "FieldValueRequired", "missing field(s)")])
    assert denial.code == 400
    assert denial.reason == "BadRequest"
    assert denial.message == PREFIX + "missing field(s): spec.broker"


def test_causes_with_one_message_are_merged_and_lines_are_sorted() -> None:
    causes = [
        errors.Cause("spec.brokerRef", "FieldValueInvalid", "expected exactly one, got both"),
        errors.Cause("spec.subscriber.ref.name", "FieldValueRequired", "missing field(s)"),
        errors.Cause("spec.broker", "FieldValueInvalid", "expected exactly one, got both"),
        errors.Cause("spec.subscriber.ref.kind", "FieldValueRequired", "missing field(s)"),
    ]
    assert denying.field_error_text(causes) == (
        "expected exactly one, got both: spec.broker, spec.brokerRef\n"
        "missing field(s): spec.subscriber.ref.kind, spec.subscriber.ref.name"
    )


def test_the_status_keeps_the_field_causes() -> None:
    cause = errors.Cause("spec.type", "FieldValueRequired", "missing field(s)")
    status = denying.denial([cause]).to_status()
    assert status["code"] == 400
    assert status["details"] == {"causes": [cause.to_dict()]}


def test_details_follow_their_line_as_knative_prints_them() -> None:
    causes = [
        errors.Cause(
            "spec",
            "FieldValueInvalid",
            'Immutable fields changed (-old +new): type: -"a" +"b"',
        ),
        errors.Cause(
            "spec.namespace",
            "FieldValueForbidden",
            "must not set the field(s): only name, apiVersion and kind are supported fields "
            "when feature.CrossNamespaceEventLinks is disabled",
        ),
    ]
    assert denying.field_error_text(causes) == (
        'Immutable fields changed (-old +new): spec\ntype: -"a" +"b"\n'
        "must not set the field(s): spec.namespace\n"
        "only name, apiVersion and kind are supported fields when "
        "feature.CrossNamespaceEventLinks is disabled"
    )
