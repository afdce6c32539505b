"""Which manager a write names, and apply's force (controlplane/http/managers.py)."""

from __future__ import annotations

import pytest

from event_registry.controlplane.http import managers
from event_registry.controlplane.machinery.errors import Invalid


def test_the_field_manager_parameter_wins_over_the_user_agent() -> None:
    query = {"fieldManager": "flux"}
    assert managers.manager(query, "kubectl/v1.37.0 (linux/amd64)", "PatchOptions") == "flux"


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        ("kubectl/v1.37.0 (linux/amd64) kubernetes/abc", "kubectl"),
        ("OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"),
        ("lightkube", "lightkube"),
        ("", ""),
        ("x" * 200, "x" * managers.MAX_LENGTH),
    ],
)
def test_without_one_the_user_agent_product_is_the_manager(user_agent: str, expected: str) -> None:
    assert managers.manager({}, user_agent, "CreateOptions") == expected


def test_an_apply_never_takes_its_manager_from_the_user_agent() -> None:
    assert managers.explicit_manager({}, "PatchOptions") == ""


@pytest.mark.parametrize(
    ("name", "reason", "words"),
    [
        ("m" * 129, "FieldValueTooLong", "Too long: may not be more than 128 bytes"),
        ("bad\tname", "FieldValueInvalid", "invalid character U+0009 (at position 3)"),
    ],
)
def test_a_bad_field_manager_is_422_on_the_options(name: str, reason: str, words: str) -> None:
    with pytest.raises(Invalid) as refused:
        managers.explicit_manager({"fieldManager": name}, "UpdateOptions")
    assert refused.value.causes[0].field == "fieldManager"
    assert refused.value.causes[0].reason == reason
    assert words in refused.value.message
    assert refused.value.message.startswith("UpdateOptions is invalid: fieldManager: ")


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("true", True), ("1", True), ("false", False)]
)
def test_force_is_a_boolean_or_absent(value: str | None, expected: bool | None) -> None:
    query = {} if value is None else {"force": value}
    assert managers.force(query) is expected


def test_force_that_is_not_a_boolean_is_refused() -> None:
    with pytest.raises(Invalid, match="force"):
        managers.force({"force": "maybe"})
